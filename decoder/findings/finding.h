// A finding: one named problem in a trace, with the evidence that proves it.
// Produced by the detectors (decoder/findings/*.cpp), printed by `report`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

struct Evidence {
    int32_t thread = 0;         // tid
    uint64_t time_ns = 0;       // absolute CLOCK_MONOTONIC time of the event
    std::string event;          // human description ("wrlock attempt on 0x... (blocks)")
    uint32_t stack_id = 0;      // 0 = none; else Trace::stack(stack_id)
    uint32_t event_index = UINT32_MAX; // index into Model::events, UINT32_MAX if none
};

struct Finding {
    enum Severity { error = 0, warning = 1, info = 2 };  // ordered: most severe first

    std::string kind;           // stable: "deadlock", "lost-wakeup", "blocked", ...
    Severity severity = info;
    std::vector<uint64_t> locks;   // addresses
    std::vector<int32_t> threads;  // tids
    std::string summary;        // one paragraph, paste-able in a bug report
    std::vector<Evidence> evidence;
};

const char* severity_name(Finding::Severity s);

} // namespace lt
