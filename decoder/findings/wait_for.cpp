#include "wait_for.h"
#include "common.h"

#include <algorithm>

namespace lt {
namespace fx {

std::vector<size_t> conflicting_holds(const Lock& L, uint32_t thread, Mode mode)
{
    std::vector<size_t> out;
    for (size_t hi : L.holders_at_end()) {
        const Hold& h = L.holds[hi];
        bool conflict = mode != kModeRead || h.mode != kModeRead;
        // A reader re-taking a read lock it holds is not blocked by itself.
        if (h.thread == thread && mode == kModeRead && h.mode == kModeRead) conflict = false;
        if (conflict) out.push_back(hi);
    }
    return out;
}

std::vector<WaitEdge> wait_for_edges(const Model& m)
{
    std::vector<WaitEdge> edges;
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked || t.lock == SIZE_MAX) continue;
        const Lock& L = m.locks[t.lock];
        const Event& want = m.events[t.blocked_on];
        if (L.is_thread()) {
            // A join waits for the joined thread, until it ends.
            const ThreadState* joined = m.thread_by_pthread(L.addr, want.time_ns);
            if (joined && joined->status != ThreadStatus::exited && !(want.flags & (LT_FL_TIMED | LT_FL_TRY)))
                edges.push_back({t.thread, joined->thread, t.lock, SIZE_MAX});
            continue;
        }
        if (L.prim == LT_PRIM_ONCE) {
            // The first call still in progress runs the init routine; later
            // ones wait for it (the first call's own thread included: a
            // recursive pthread_once never returns).
            for (const Wait& w : L.waits)
                if (w.outcome == WaitOutcome::still_waiting) {
                    if (w.begin != t.blocked_on)  // else t runs the routine: blocked inside it
                        edges.push_back({t.thread, w.thread, t.lock, SIZE_MAX});
                    break;
                }
            continue;
        }
        if (want.type != LT_EV_ATTEMPT || (want.flags & LT_FL_TIMED)) continue;  // a timed wait ends by itself
        if (L.prim == LT_PRIM_SEM) {
            // A thread that waits again on a unit it took itself waits for
            // another thread's post (the unit is then a signal): no edge.
            for (const SemHolder& h : sem_lock(m, L).holders)
                if (h.thread != t.thread) edges.push_back({t.thread, h.thread, t.lock, SIZE_MAX, h.acquired});
            continue;
        }
        if (!L.has_owners()) continue;
        Mode mode = (want.flags & LT_FL_READ) ? kModeRead : kModeWrite;
        std::vector<size_t> holds = conflicting_holds(L, t.thread, mode);
        // A process-shared mutex whose word names another owner: the hold this
        // thread seems to have (inherited across fork) is another process's.
        if (L.prim == LT_PRIM_MUTEX && (uint32_t(want.addr2) & kMutexPshared) && mx_owner(want) != 0 &&
            mx_owner(want) != t.tid)
            holds.erase(std::remove_if(holds.begin(), holds.end(),
                                       [&](size_t hi) { return L.holds[hi].thread == t.thread; }),
                        holds.end());
        for (size_t hi : holds) edges.push_back({t.thread, L.holds[hi].thread, t.lock, hi});
        if (!holds.empty() || mode != kModeRead || L.prim != LT_PRIM_RWLOCK) continue;
        // A blocked reader with no writer holding the lock: on a writer-preferring
        // rwlock it queues behind the writers that are waiting.
        bool prefers_writers = rw_flags(want) != 0 || (rw_wrlocked(want) && !rw_wrphase(want));
        if (!prefers_writers) continue;
        for (const ThreadState& u : m.threads) {
            if (u.thread == t.thread || u.status != ThreadStatus::blocked || u.lock != t.lock) continue;
            const Event& uw = m.events[u.blocked_on];
            if (uw.type == LT_EV_ATTEMPT && !(uw.flags & LT_FL_READ) && !(uw.flags & LT_FL_TIMED))
                edges.push_back({t.thread, u.thread, t.lock, SIZE_MAX});
        }
    }
    return edges;
}

} // namespace fx
} // namespace lt
