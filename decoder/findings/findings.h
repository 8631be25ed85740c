// Entry point of the findings layer.  Each detector is a function
// `void detect_<name>(const Model&, std::vector<Finding>&)` declared in
// detectors.h and listed in registry.cpp.
#pragma once

#include "finding.h"
#include "../core/model.h"

#include <vector>

namespace lt {

// Runs every detector; findings come back most severe first (stable within a
// severity, in detector order).
std::vector<Finding> find_all(const Model& model);

} // namespace lt
