// What `report` says about a trace, as facts, built once: the findings with
// their words, the blocked threads, every lock's summary.  Text and JSON are
// two renderings of this one structure (report_text.cpp, report_json.cpp), so
// they cannot disagree: every length that depends on whether the process
// still runs (a wait, an open hold) is measured here, not by a renderer.
#pragma once

#include "core/model.h"
#include "core/probes_sidecar.h"
#include "core/symbols.h"
#include "findings/finding.h"
#include "findings/findings.h"
#include "present/finding_words.h"
#include "present/present.h"

#include <string>
#include <vector>

namespace lt {

// Wakes, signals or posts on an object after a wait on it began.
struct WakeCount {
    uint64_t events = 0;
    uint64_t woken = 0;  // threads the wake calls said they woke
};

struct BlockedThread {
    const ThreadState* thread;
    const Lock* lock;
    const Event* attempt;              // the call that blocks
    const Event* sleeps_in = nullptr;  // a futex sleep or park inside that call, if recorded
    uint32_t stack_id = 0;             // where it sleeps if recorded there, else the call's
    uint64_t waited_ns = 0;            // to the open end (Report::open)
    std::vector<const Hold*> holders;  // who holds the lock now (objects with owners only)
    WakeCount wakes;                   // since the wait began (objects without owners)
};

struct LockSummary {
    const Lock* lock;
    size_t open_waits = 0;             // waits still waiting at the end
    std::vector<const Hold*> holders;  // holds open at the end
    // The longest hold.  The model measures an open hold to the last recorded
    // event; while the process runs it has lasted until now (or until packed),
    // like a blocked thread's wait, and may outlast every closed one.
    const Hold* longest = nullptr;     // null: never held
    uint64_t longest_ns = 0;
};

struct Report {
    const Trace* trace;
    const Model* model;
    Symbolizer* symbols;
    const std::vector<Finding>* findings;
    std::vector<FindingWords> words;   // one per finding
    ProbesSidecar probes;              // a raw trace's probe list, if there is one
    OpenEnd open;                      // where open waits and holds are measured to
    size_t errors = 0, warnings = 0;
    ProcessVerdict verdict;            // hung, idle, running or exited, and how sure
    std::vector<BlockedThread> blocked;
    std::vector<LockSummary> locks;    // in the model's order
};

Report build_report(const Trace& trace, const Model& model, Symbolizer& symbols, const std::vector<Finding>& findings);
// `all_locks`: every lock's summary, not only the 20 most waited on.
std::string report_text(const Report& r, bool all_locks);
std::string report_json(const Report& r);

} // namespace lt
