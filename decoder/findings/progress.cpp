// Which threads can still go on at the end of the trace (common.h: Progress).
//
// A thread goes on when it runs, sleeps in a timed wait, may have been woken
// already (a wake, post or unlock came after its wait began, or, read live,
// the wait is too young to judge), waits for a lock or a join whose holder or
// joined thread goes on (or whose holder is unknown: the verdict must not
// guess), or waits for a signal (condition variable, semaphore, futex word,
// barrier) while any other thread goes on: nobody has promised to send it, but
// somebody still can.  What is left can never go on: the process is hung there.
// Computed as a fixed point: start from the threads that go on by themselves,
// add the ones their progress frees, until nothing changes.
#include "common.h"
#include "wait_for.h"

#include <algorithm>

namespace lt {
namespace fx {

namespace {

// A release, post or wake on L by another thread after `since`: the lock may
// already have been handed to the sleeper (its ACQUIRED not yet recorded).
bool released_since(const Model& m, const Lock& L, uint32_t thread, uint64_t since)
{
    for (size_t k = L.events.size(); k-- > 0;) {
        const Event& e = m.events[L.events[k]];
        if (e.time_ns < since) break;
        if (e.thread != thread && (e.type == LT_EV_RELEASE || e.type == LT_EV_WAKE || e.type == LT_EV_REQUEUE))
            return true;
    }
    return false;
}

bool waits_for_owner(const Lock& L, const Event& want)
{
    return L.is_thread() || L.prim == LT_PRIM_ONCE || (L.has_owners() && want.type == LT_EV_ATTEMPT);
}

} // namespace

Progress progress(const Model& m)
{
    Progress p;
    const size_t n = m.threads.size();
    p.goes_on.assign(n, false);
    p.stuck.assign(n, false);
    if (m.trace && m.trace->process_ended()) return p;
    const uint64_t at = judged_at(m);
    // Read live, and nothing recorded for a while: the holders that sleep
    // untimed are not about to release anything.
    p.quiet_ns = at > m.end_ns ? at - m.end_ns : 0;
    const bool quiet = at != 0 && p.quiet_ns >= kQuietNs;

    std::vector<StuckWait> waits = analyze_stuck_waits(m);
    std::vector<const StuckWait*> wait_of(n, nullptr);
    for (const StuckWait& s : waits) wait_of[s.thread] = &s;
    std::vector<std::vector<uint32_t>> waits_on(n);  // owners each thread waits for
    for (const WaitEdge& e : wait_for_edges(m)) waits_on[e.from].push_back(e.to);

    enum Kind : uint8_t { ended, free_now, owner, signal };
    std::vector<Kind> kind(n, ended);
    for (const ThreadState& t : m.threads) {
        Kind& k = kind[t.thread];
        if (t.status == ThreadStatus::exited) continue;
        k = free_now;
        if (t.status != ThreadStatus::blocked || t.lock == SIZE_MAX) continue;
        const Event& want = m.events[t.blocked_on];
        const Lock& L = m.locks[t.lock];
        if ((want.flags & (LT_FL_TIMED | LT_FL_TRY)) || wait_may_be_in_flight(m, t.since_ns, at)) continue;
        const StuckWait* s = wait_of[t.thread];
        if (s && s->verdict == StuckWait::reachable_wake) continue;
        if (s && s->verdict == StuckWait::holder_owes) {
            k = owner;  // a semaphore used as a lock (sem_locks.cpp)
        } else if (waits_for_owner(L, want)) {
            if (L.is_thread()) {
                const ThreadState* joined = m.thread_by_pthread(L.addr, want.time_ns);
                if (!joined || joined->status == ThreadStatus::exited) continue;  // the join returns
            } else if (released_since(m, L, t.thread, t.since_ns)) {
                continue;
            }
            // No known owner (lost to the ring, or in the middle of a handover
            // when the trace ended): it may go on, the verdict does not guess.
            if (waits_on[t.thread].empty()) continue;
            k = owner;
        } else {
            k = signal;
        }
    }
    for (uint32_t i = 0; i < n; i++) p.goes_on[i] = kind[i] == free_now;

    // A holder asleep untimed in a live process that has recorded nothing for
    // a while: whoever waits for it does not go on, though others run.
    auto holder_asleep = [&](uint32_t h) { return kind[h] == signal || kind[h] == owner; };
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 0; i < n; i++) {
            if (p.goes_on[i] || kind[i] == ended) continue;
            bool go = false;
            if (kind[i] == owner) {
                for (uint32_t h : waits_on[i])
                    go |= p.goes_on[h] && !(quiet && holder_asleep(h) && h != i);
            } else {
                for (uint32_t j = 0; j < n && !go; j++) go = j != i && p.goes_on[j];
            }
            if (go) p.goes_on[i] = changed = true;
        }
    }
    for (uint32_t i = 0; i < n; i++) p.stuck[i] = kind[i] != ended && !p.goes_on[i];
    return p;
}

} // namespace fx
} // namespace lt
