// The wait-for graph at the end of the trace, from the recorded history:
// thread `from` is blocked on lock `lock` and cannot go on until thread `to`
// releases it (`hold` is the index of that hold in Lock::holds), or, for a
// reader on a writer-preferring rwlock, until the queued writer `to` has had
// its turn (`hold` == SIZE_MAX).  Only locks with owners (mutex, rwlock,
// probe) take part, and joins: `from` waits in a join (timed ones included,
// while they have not returned) until `to` ends (`lock` is then the joined
// thread's entry, `hold` SIZE_MAX), and one-time
// initialisations: `from` waits in pthread_once/call_once for `to`, which runs
// the init routine; a binary semaphore used as a lock (sem_locks.cpp) waits for
// the thread that took its unit (`taken` is where).  Futex words, condvars and
// other semaphores have no owners.
//
// With a live view (Model::live) the graph also has the waits no hook sees:
// a thread the history shows running sleeps now in a futex wait on a glibc
// mutex (glibc's own locks, such as the dynamic loader's that dlopen takes,
// are locked inside libc) whose __owner names another traced thread, itself
// asleep: `live_addr` is the word, `lock` and `hold` are SIZE_MAX.  A malloc
// arena's lock names no owner: the edge goes to the one other thread whose
// live stack is inside malloc or free, when it is asleep and the only one.
#pragma once

#include "detectors.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lt {
// Helpers private to the detectors (kept apart from the commands' own helpers).
namespace fx {

struct WaitEdge {
    uint32_t from;   // thread index
    uint32_t to;     // thread index
    size_t lock;     // index into Model::locks
    size_t hold;     // index into Lock::holds, or SIZE_MAX (queued writer)
    EventIx taken = kNoEvent;  // a semaphore used as a lock: where `to` took its unit
    uint64_t live_addr = 0; // a wait seen only in the live view: the glibc mutex's address
};

std::vector<WaitEdge> wait_for_edges(const Model& m);

// The words of a live edge: where `from` waits now and on whose lock.
Text live_edge_sentence(const Model& m, const WaitEdge& e);
// "the malloc arena lock 0x... (main_arena)" for an arena's lock word of the live view.
Text malloc_arena_ref(const Model& m, uint64_t addr);
// Where a thread is now per the live view (finding.h, Piece::Kind::live_call).
Text live_call_ref(int32_t tid, std::string before = " in ");
// What the live view says a thread the history shows running is doing, as
// ", which is blocked in read() on fd 5, a unix socket ..."; empty when
// there is no live view or the thread is not waiting in a system call.
Text live_doing(const Model& m, uint32_t thread);

// The open holds of `lock` at the end that conflict with a wait in `mode` by
// `thread` (its own holds included).
std::vector<size_t> conflicting_holds(const Lock& lock, uint32_t thread, Mode mode);

} // namespace fx
using namespace fx;
} // namespace lt
