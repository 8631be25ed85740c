// Binary semaphores used as locks (common.h: sem_lock).  CPython's
// threading.Lock and many C programs' locks are a sem_t set up with the value
// 1: a thread takes the unit with sem_wait/sem_trywait/sem_timedwait and gives
// it back with sem_post.  Read that way, the thread that took the unit and has
// not posted yet holds the lock, a wait on it waits for that thread, and
// deadlock cycles run through it.
//
// Only the semaphore's current life counts (from its last sem_init/sem_open):
// Python lock objects freed and allocated again at one address are different
// semaphores.  One post by a thread that holds no unit makes it a signal, not
// a lock (Python's Condition waits on a fresh lock that the notifier posts).
#include "common.h"

#include <algorithm>

namespace lt {
namespace fx {

SemLock sem_lock(const Model& m, const Lock& S)
{
    SemLock r;
    if (S.prim != LT_PRIM_SEM) return r;
    // Its life began at its last successful sem_init or sem_open.
    size_t from = 0;
    bool binary = false;
    for (size_t k = S.events.size(); k-- > 0;) {
        const Event& init = m.events[S.events[k]];
        if (init.type != LT_EV_INIT || init.result != 0) continue;
        if (init.arg != 1) return r;
        from = k;
        binary = true;
        break;
    }
    // Without its sem_init on record (lost to the ring, or before tracing
    // began) the value is unknown: a unit taken and given back by one thread
    // is then the only sign of a lock, and a gap in the history ends it.
    if (!binary && !m.history_complete) return r;
    bool paired = false;
    for (size_t k = from; k < S.events.size(); k++) {
        const Event& e = m.events[S.events[k]];
        if (e.type == LT_EV_DESTROY) {
            r.holders.clear();
        } else if (e.type == LT_EV_ACQUIRED) {
            r.holders.push_back({e.thread, S.events[k]});
            if (r.holders.size() > 1) return SemLock{};  // two units out: counting, not a lock
        } else if (e.type == LT_EV_RELEASE) {
            auto it = std::find_if(r.holders.begin(), r.holders.end(),
                                   [&](const SemHolder& h) { return h.thread == e.thread; });
            if (it == r.holders.end()) return SemLock{};  // posted by a thread that took nothing: a signal
            r.holders.erase(it);
            paired = true;
        }
    }
    r.lock_like = binary || paired;
    if (!r.lock_like) r.holders.clear();
    return r;
}

} // namespace fx
} // namespace lt
