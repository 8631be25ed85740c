// Every detector, one per file in decoder/findings/.  Add the declaration here
// and the call in registry.cpp.
#pragma once

#include "finding.h"
#include "../core/model.h"

#include <vector>

namespace lt {

void detect_blocked(const Model& model, std::vector<Finding>& out);   // blocked.cpp
void detect_parking_lot(const Model& model, std::vector<Finding>& out);          // parking_lot.cpp
void detect_counter_overflow(const Model& model, std::vector<Finding>& out);     // counter_overflow.cpp
void detect_held_by_nobody(const Model& model, std::vector<Finding>& out);       // held_by_nobody.cpp
void detect_deadlock(const Model& model, std::vector<Finding>& out);             // deadlock.cpp
void detect_misuse(const Model& model, std::vector<Finding>& out);               // misuse.cpp, lock_life.cpp
void detect_lost_wakeup(const Model& model, std::vector<Finding>& out);          // lost_wakeup.cpp
void detect_idle(const Model& model, std::vector<Finding>& out);                 // idle.cpp
void detect_lock_order_inversion(const Model& model, std::vector<Finding>& out); // lock_order_inversion.cpp
// Runs last: it speaks only for sleepers that no error finding above explained.
void detect_hang(const Model& model, std::vector<Finding>& out);                 // hang.cpp

} // namespace lt
