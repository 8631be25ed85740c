// What the pictures show (export --format perfetto / html), computed once from
// the model: per-thread hold and wait intervals, wake -> woken arrows, the
// findings with their evidence, and the trace's marks.  Times are nanoseconds
// relative to the trace start.
#pragma once

#include "core/model.h"
#include "core/symbols.h"
#include "findings/finding.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt::exporter {

struct Slice {
    uint32_t thread;        // index into Model::threads
    uint64_t begin, end;    // relative ns; end = model end for open intervals
    bool wait;              // false: a hold
    bool open;              // still held / still waiting when the trace ended
    uint32_t lock;          // index into TimelineData::locks
    Mode mode;
    WaitOutcome outcome;    // waits only
    EventIx first_event;    // ACQUIRED (hold) or the before-event (wait)
    uint8_t depth;          // holds: how many of the thread's holds enclose this one (max 3)
};

// One arrow: a wake (futex/cond wake, sem post, unlock handing over) and the
// wait it ended, where the history shows which one that was.
struct Flow {
    uint32_t from_thread, to_thread;
    uint64_t from_time, to_time;
    uint32_t lock;
};

struct LockInfo {
    uint64_t addr;
    uint8_t prim;
    std::string label;      // "mutex 0x... (accounts_lock)"
};

struct EvidenceMark {
    int32_t tid;
    uint32_t thread;        // index into Model::threads, UINT32_MAX if unknown
    uint64_t time;          // relative ns
    std::string event;
    std::string where;      // innermost symbolized frame
};

struct FindingInfo {
    std::string kind, severity, summary;
    std::vector<uint32_t> locks;   // indices into locks (addresses not seen in events are dropped)
    std::vector<std::string> lock_addrs;
    std::vector<int32_t> threads;  // tids
    std::vector<EvidenceMark> evidence;
};

struct MarkInfo {
    uint64_t time;          // relative ns
    std::string kind;       // "user", "watchdog", "snapshot"
};

struct TimelineData {
    int32_t pid = 0;
    std::string program;    // exe path
    uint64_t duration = 0;  // relative ns of the model end
    uint64_t hang_at = 0;   // the moment the last thread blocked for good (0 if none blocked)
    std::vector<ThreadState> threads;
    std::vector<LockInfo> locks;
    std::vector<Slice> slices;
    std::vector<Flow> flows;
    std::vector<FindingInfo> findings;
    std::vector<MarkInfo> marks;
};

TimelineData build_timeline(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings);

} // namespace lt::exporter
