// The misuse detector's two halves share these: misuse.cpp (bad unlocks,
// owners that exited holding a lock, and detect_misuse itself) and
// lock_life.cpp (the life of one lock: init, destroy, uses and failed calls).
#pragma once

#include "common.h"

#include <string>
#include <vector>

namespace lt {
namespace fx {

// "EINVAL", or "errno 123" for one the C library does not name.
std::string errno_name(int err);
// Holds of L by threads other than `thread` open at event ix.
std::vector<const Hold*> others_holding(const Lock& L, EventIx ix, uint32_t thread);
void add_unique(std::vector<int32_t>& v, int32_t x);

// destroy-while-in-use, invalid-lock, bad-timeout, robust-unrecoverable and
// relock-in-cancel-cleanup on lock L (lock_life.cpp).
void lock_life(const Model& m, const Lock& L, std::vector<Finding>& out);

} // namespace fx
} // namespace lt
