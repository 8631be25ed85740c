// `blocked` (info): every thread blocked at the end of the trace, on what, since when.
// A thread in a join is blocked for as long as the joined thread runs: the
// finding follows the joins to the thread at the end of the chain and says
// what that one is doing.
#include "common.h"
#include "wait_for.h"

namespace lt {

namespace {

Text join_chain(const Model& m, const ThreadState& t)
{
    Text chain;
    const ThreadState* at = &t;
    for (int hop = 0; hop < 16 && at->status == ThreadStatus::blocked && m.locks[at->lock].is_thread(); hop++) {
        const ThreadState* joined = m.thread_by_pthread(at->lock_addr, m.events[at->blocked_on].time_ns);
        if (!joined)
            return chain + (hop ? Text(", which") : Text()) +
                   " waits in a join for a thread with no record in this trace";
        chain += (hop ? Text(", which") : Text()) + " waits in a join for " + thread_ref(joined->thread);
        at = joined;
    }
    if (at == &t) return chain;
    if (at->status == ThreadStatus::exited) return chain + ", which has ended";
    if (at->status == ThreadStatus::running) {
        Text doing = live_doing(m, at->thread);  // running per the record; the live view may say where it waits
        return chain + (doing.empty() ? Text(", which is running") : doing);
    }
    if (m.locks[at->lock].is_thread()) return chain;  // a loop of joins: each waits for the next
    return chain + ", which is blocked on " + prim_name(at->lock_prim) + " " + hex(at->lock_addr) +
           site_ref(at->blocked_on) + " since " + time_ref(at->since_ns);
}

// The holders of the lock a thread waits for that the history shows running,
// and what the live view says they are doing: a holder blocked in read() on a
// socket, or asleep on a lock glibc took inside the C library.
Text holder_chain(const Model& m, const ThreadState& t)
{
    const Lock& L = m.locks[t.lock];
    if (!m.live || !L.has_owners()) return Text();
    const Event& want = m.events[t.blocked_on];
    Text chain;
    for (size_t hi : conflicting_holds(L, t.thread, (want.flags & LT_FL_READ) ? kModeRead : kModeWrite)) {
        uint32_t holder = L.holds[hi].thread;
        if (holder == t.thread || m.threads[holder].status != ThreadStatus::running) continue;
        Text doing = live_doing(m, holder);
        if (!doing.empty()) chain += ", held by " + thread_ref(holder) + doing;
    }
    return chain;
}

} // namespace

void detect_blocked(const Model& model, std::vector<Finding>& out)
{
    for (const ThreadState& t : model.threads) {
        if (t.status != ThreadStatus::blocked)
            continue;
        Finding f;
        f.kind = "blocked";
        f.severity = Finding::info;
        f.threads.push_back(t.tid);
        if (model.locks[t.lock].is_thread()) {
            f.summary =
                thread_ref(t.thread) + " is blocked since " + time_ref(t.since_ns) + ": it" + join_chain(model, t);
        } else {
            f.locks.push_back(t.lock_addr);
            f.summary = thread_ref(t.thread) + " is blocked on " + lock_ref(model.locks[t.lock]) + " since " + time_ref(t.since_ns) + holder_chain(model, t);
        }
        f.evidence.push_back(make_evidence(t.blocked_on));
        out.push_back(std::move(f));
    }
}

} // namespace lt
