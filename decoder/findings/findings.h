// Entry point of the findings layer.  Each detector is a function
// `void detect_<name>(const Model&, std::vector<Finding>&)` declared in
// detectors.h and listed in registry.cpp.
#pragma once

#include "finding.h"
#include "../core/model.h"

#include <string>
#include <vector>

namespace lt {

// Runs every detector; findings come back most severe first (stable within a
// severity, in detector order).
std::vector<Finding> find_all(const Model& model);

// The process as a whole (verdict.cpp).  `state`: "hung" (a finding shows a
// thread that can never go on), "idle" (threads wait for work nobody owes
// them, and another thread can still send it), "running" (no such wait), or
// "exited" (it exited normally).  `sure`, for a hung one: "certain" (the
// recorded lock state proves it: a wait-for cycle, a lock held by nobody, a
// counter overflow), "likely", or "unsure" (a killed process whose stuck waits
// were younger than its finished ones: the kill may have cut them short).
struct ProcessVerdict {
    std::string state;
    std::string sure = "certain";
    std::string why;
};
ProcessVerdict judge_process(const Model& model, const std::vector<Finding>& findings);

} // namespace lt
