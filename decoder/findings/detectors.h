// Every detector, one per file in decoder/findings/.  Add the declaration here
// and the call in registry.cpp.
#pragma once

#include "finding.h"
#include "../core/model.h"

#include <vector>

namespace lt {

void detect_blocked(const Model& model, std::vector<Finding>& out);   // blocked.cpp

} // namespace lt
