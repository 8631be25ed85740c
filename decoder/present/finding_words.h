// The words of a finding: its summary paragraph and one line per piece of
// evidence, with threads, locks and code sites named from the symbols.  The
// detectors state what they found; every command that shows a finding (report
// text and JSON, pack, timeline exports) takes its words from here, so they
// all say the same thing.
#pragma once

#include "core/model.h"
#include "core/symbols.h"
#include "findings/finding.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

// Evidence's thread, time, stack and event words all come from its event.
struct EvidenceWords {
    int32_t thread = 0;                 // tid
    uint64_t time_ns = 0;               // absolute CLOCK_MONOTONIC time of the event
    std::string event;                  // "wrlock attempt on 0x... (blocks)"
    uint32_t stack_id = 0;              // 0 = none; else Trace::stack(stack_id)
    uint32_t event_index = UINT32_MAX;  // index into Model::events, UINT32_MAX if none
};

struct FindingWords {
    std::string summary;                // one paragraph, paste-able in a bug report
    std::vector<EvidenceWords> evidence;
};

FindingWords finding_words(const Model& m, Symbolizer& sym, const Finding& f);

// Words with references spelled out: threads as `thread 1234 "worker"`
// (thread_label), locks as `mutex 0x55... (accounts)` (lock_label), sites as
// "transfer (demo_bank.c:52)", times as "+1.234567s".
std::string spell(const Model& m, Symbolizer& sym, const Text& text);

} // namespace lt
