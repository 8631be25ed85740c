// The user's site of a stack: the frame a finding quotes ("taken in ...") and
// the "taken at" lines show, the first one, inlined or not, in the program's
// own code rather than in a library it calls to take a lock.
#pragma once

#include "core/symbols.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

// A frame of the C library, the C++ or Rust standard library, a known lock
// library (parking_lot, lock_api, abseil, folly, GLib), locktrace itself, or
// one that matches a --skip-frames pattern; also a frame of which nothing is
// known, not even its module.  A frame of a stripped program with neither
// function nor file is the program's own ("prog+0x1234"), not a library's.
bool is_library_frame(const Frame& f, const std::vector<std::string>& skip = {});

// The first frame of `frames` not a library frame; nullptr if there is none.
const Frame* user_frame(const std::vector<Frame>& frames, const std::vector<std::string>& skip = {});

// The user's site of a recorded stack, "transfer(Account&, Account&, long)
// (bank.cpp:54)", "transfer (bank)" or "bank+0x1234" when that is all the
// binary tells; "" if the stack is unknown or lies wholly in libraries.
std::string user_site(Symbolizer& sym, uint32_t stack_id);

} // namespace lt
