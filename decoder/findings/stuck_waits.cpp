// Waits still asleep at the end of the trace, and what the history says about
// the wakes that could have reached them (common.h: StuckWait).  lost_wakeup.cpp
// and hang.cpp both read this analysis, so that they split the sleepers the
// same way.
#include "common.h"

#include <algorithm>
#include <cstdio>

namespace lt {
namespace fx {
namespace {

// Waits on `L` that were asleep at time t (begun before, not yet ended).
size_t sleepers_at(const Lock& L, uint64_t t)
{
    size_t n = 0;
    for (const Wait& w : L.waits)
        if (w.begin_ns <= t && (w.end_ns == kOpenEnd || w.end_ns > t)) n++;
    return n;
}

// Threads woken out of `L` after time t are all still making progress: the
// wake that woke them was not part of a bigger hang.
bool woken_ones_moved_on(const Model& m, const Lock& L, uint64_t t)
{
    for (const Wait& w : L.waits) {
        if (w.end_ns == kOpenEnd || w.end_ns < t || w.outcome != WaitOutcome::woken) continue;
        if (m.threads[w.thread].status == ThreadStatus::blocked) return false;
    }
    return true;
}

// The wakes recorded on a sleeper's futex word, sorted by what they mean for it.
struct FutexWakes {
    std::vector<EventIx> reachable_after;  // wakes that could reach it, sent after it slept
    bool indirect_after = false;           // a requeue or wake_op after it slept: may have reached it
    EventIx early = kNoEvent;              // the last matching wake before it slept, if it woke nobody
    std::vector<Evidence> missed;          // wakes after it slept that could not reach it
    std::string why;                       // why the first of those missed
};

FutexWakes sort_futex_wakes(const Model& m, const Lock& L, const Event& w, const std::vector<EventIx>& indirect)
{
    const uint64_t t0 = w.time_ns;
    const bool priv = futex_private(w);
    const uint32_t bits = futex_bitset(w);
    FutexWakes r;
    for (EventIx ix : L.events) {
        const Event& x = m.events[ix];
        if (x.type == LT_EV_REQUEUE || (x.type == LT_EV_WAKE && !futex_is_wake(x))) {
            if (x.time_ns >= t0) r.indirect_after = true;  // requeue / wake_op: may have reached it
            continue;
        }
        if (x.type != LT_EV_WAKE) continue;
        bool match = futex_private(x) == priv && (futex_bitset(x) & bits) != 0;
        if (x.time_ns < t0) {
            if (match) r.early = x.result == 0 ? ix : kNoEvent;  // only the last wake before the sleep matters
        } else if (match) {
            r.reachable_after.push_back(ix);
        } else if (x.result == 0 && futex_private(x) != priv) {
            r.missed.push_back(make_evidence(
                ix, std::string("woke nobody: it was sent ") + (futex_private(x) ? "private" : "shared") +
                        " while the sleeper waits " + (priv ? "private" : "shared") + " (FUTEX_PRIVATE_FLAG mismatch)"));
            if (r.why.empty())
                r.why = "its wake was sent with the other FUTEX_PRIVATE_FLAG setting, which the kernel treats as a "
                        "different futex";
        } else if (x.result == 0) {
            char buf[160];
            snprintf(buf, sizeof buf, "woke nobody: wake bitset 0x%x does not meet the sleeper's bitset 0x%x",
                     futex_bitset(x), bits);
            r.missed.push_back(make_evidence(ix, buf));
            if (r.why.empty()) r.why = "its wake was sent with a bitset that does not match the sleeper's bitset";
        }
    }
    for (EventIx ix : indirect) {
        const Event& x = m.events[ix];
        if (x.addr2 == L.addr && x.time_ns >= t0) r.indirect_after = true;
    }
    return r;
}

// Every wake that could reach the sleeper asked for fewer threads than were
// asleep there, the word had changed (so the sleepers were meant to go), and
// the threads it did wake moved on: the others were simply left behind.
bool wake_count_too_small(const Model& m, const Lock& L, const Event& w, const std::vector<EventIx>& wakes,
                          StuckWait& s)
{
    for (EventIx ix : wakes) {
        const Event& x = m.events[ix];
        if (futex_val(x) >= sleepers_at(L, x.time_ns) || uint32_t(x.state[0]) == futex_val(w)) return false;
    }
    if (!woken_ones_moved_on(m, L, w.time_ns)) return false;
    for (EventIx ix : wakes) {
        const Event& x = m.events[ix];
        char buf[200];
        snprintf(buf, sizeof buf, "asked to wake %u while %zu threads slept on this word", futex_val(x),
                 sleepers_at(L, x.time_ns));
        s.evidence.push_back(make_evidence(ix, buf));
    }
    s.verdict = StuckWait::missed_wake;
    s.why = "the wake count was too small: the last wake asked for fewer threads than were asleep on the word, "
            "the word had already changed, and no later wake came for the rest";
    return true;
}

// Wakes on a word next to L, after t0, that found nobody: likely meant for it.
void wakes_next_door(const Model& m, const Lock& L, uint64_t t0, FutexWakes& r)
{
    for (const Lock& N : m.locks) {
        if (N.prim != LT_PRIM_FUTEX || N.addr == L.addr) continue;
        uint64_t d = N.addr > L.addr ? N.addr - L.addr : L.addr - N.addr;
        if (d > 64) continue;
        for (EventIx ix : N.events) {
            const Event& x = m.events[ix];
            if (x.type != LT_EV_WAKE || x.time_ns < t0 || x.result != 0) continue;
            r.missed.push_back(make_evidence(ix, "woke nobody, " + std::to_string(d) + " bytes away from the word " +
                                                     hex(L.addr) + " where the thread sleeps (wrong word?)"));
            if (r.why.empty())
                r.why = "a wake was sent to " + hex(N.addr) + ", " + std::to_string(d) +
                        " bytes away, and found nobody: it was most likely meant for this word";
        }
    }
}

void analyze_futex(const Model& m, const Lock& L, const Event& w, StuckWait& s,
                   const std::vector<EventIx>& indirect)
{
    FutexWakes r = sort_futex_wakes(m, L, w, indirect);
    if (r.indirect_after) {
        s.verdict = StuckWait::reachable_wake;
        return;
    }
    if (!r.reachable_after.empty()) {
        if (!wake_count_too_small(m, L, w, r.reachable_after, s)) s.verdict = StuckWait::reachable_wake;
        return;
    }
    wakes_next_door(m, L, w.time_ns, r);
    if (!r.missed.empty()) {
        s.verdict = StuckWait::missed_wake;
        s.why = r.why;
        s.evidence = std::move(r.missed);
        return;
    }
    if (r.early != kNoEvent) {
        s.verdict = StuckWait::missed_wake;
        s.only_early_wake = true;
        s.why = "the only wake came at " + time_ref(m.events[r.early].time_ns) +
                ", before the thread went to sleep, and found nobody; none came after";
        s.evidence.push_back(make_evidence(r.early, "sent before the sleeper waited, woke nobody"));
        return;
    }
    s.verdict = StuckWait::no_wake;
}

void analyze_cond(const Model& m, const Lock& C, const Event& w, StuckWait& s)
{
    const uint64_t t0 = w.time_ns;
    std::vector<EventIx> after;
    EventIx early = kNoEvent;
    bool broadcast_after = false;
    for (EventIx ix : C.events) {
        const Event& x = m.events[ix];
        if (x.type != LT_EV_WAKE) continue;
        if (x.time_ns >= t0) {
            after.push_back(ix);
            if (x.flags & LT_FL_BROADCAST) broadcast_after = true;
        } else if (sleepers_at(C, x.time_ns) == 0) {
            early = ix;
        }
    }
    if (broadcast_after) {
        s.verdict = StuckWait::reachable_wake;
        return;
    }
    if (!after.empty()) {
        size_t sleepers = sleepers_at(C, m.events[after.front()].time_ns);
        if (after.size() < sleepers && woken_ones_moved_on(m, C, t0)) {
            s.verdict = StuckWait::missed_wake;
            s.why = "only " + std::to_string(after.size()) + " signal(s) came for " + std::to_string(sleepers) +
                    " waiters and no broadcast: the rest were never woken";
            for (EventIx ix : after) s.evidence.push_back(make_evidence(ix, "wakes at most one waiter"));
            return;
        }
        s.verdict = StuckWait::reachable_wake;
        return;
    }
    if (early != kNoEvent) {
        s.verdict = StuckWait::missed_wake;
        s.only_early_wake = true;
        s.why = "the condition variable was signalled at " + time_ref(m.events[early].time_ns) +
                " while nobody waited on it (a signal is not remembered), and the wait that began later was never "
                "signalled; waits must re-check a predicate under the mutex instead of relying on the signal";
        s.evidence.push_back(make_evidence(early, "signalled while nobody waited"));
        return;
    }
    s.verdict = StuckWait::no_wake;
}

void analyze_sem(const Model& m, const Lock& S, const Event& w, StuckWait& s)
{
    const uint64_t t0 = w.time_ns;
    for (const SemHolder& h : sem_lock(m, S).holders)
        if (h.thread != w.thread) {
            s.verdict = StuckWait::holder_owes;
            return;
        }
    uint64_t posts_before = 0, taken = 0;
    EventIx last_post = kNoEvent;
    for (EventIx ix : S.events) {
        const Event& x = m.events[ix];
        if (x.type == LT_EV_INIT && x.result == 0 && x.time_ns <= t0) {  // a new life: what came before was another semaphore
            posts_before = taken = 0;
            last_post = kNoEvent;
        } else if (x.type == LT_EV_RELEASE) {
            if (x.time_ns >= t0) {
                s.verdict = StuckWait::reachable_wake;
                return;
            }
            posts_before++;
            last_post = ix;
        } else if (x.type == LT_EV_ACQUIRED) {
            taken++;
        }
    }
    if (posts_before == 0) {
        s.verdict = StuckWait::no_wake;
        return;
    }
    s.verdict = StuckWait::missed_wake;
    s.only_early_wake = true;
    s.why = "the semaphore was posted " + std::to_string(posts_before) + " time(s) and " + std::to_string(taken) +
            " wait(s) took a unit; no post came after this wait began, so it is one post short (a missing sem_post)";
    s.evidence.push_back(make_evidence(last_post, "the last post, before the wait began"));
}

} // namespace

uint64_t judged_at(const Model& m) { return m.trace ? m.trace->open_until_ns() : 0; }

bool wait_may_be_in_flight(const Model& m, uint64_t begin_ns, uint64_t at)
{
    if (at == 0) return false;
    // A clock behind the trace: recorded on another boot or machine, so the
    // pid is not that process after all.
    if (at < m.end_ns) return false;
    return at - std::min(at, begin_ns) < kLiveWaitGraceNs;
}

bool unrecorded_acquisition_possible(const Model& m, uint64_t at_ns)
{
    if (!m.trace || m.trace->process_ended()) return false;
    uint64_t end = judged_at(m) ? judged_at(m) : m.end_ns;
    return end - std::min(end, at_ns) < kLiveWaitGraceNs;
}

// A futex wait of pthread_join (seen with LOCKTRACE_LIBC_FUTEX=1): glibc sleeps
// on the joined thread's tid field, inside its struct pthread, expecting the
// tid; the kernel clears the field and wakes it when that thread ends
// (CLONE_CHILD_CLEARTID), so no FUTEX_WAKE is ever recorded for it.  Such a
// sleeper is not a lost wakeup: what holds it up is the thread it joins.
static bool waits_for_thread_end(const Model& m, const Event& e)
{
    if (!m.trace) return false;
    const uint32_t val = futex_val(e);
    const auto& infos = m.trace->threads();
    for (size_t i = 0; i < infos.size() && i < m.threads.size(); i++) {
        const uint64_t self = infos[i].pthread_self;
        if (uint32_t(m.threads[i].tid) == val && self && e.addr >= self && e.addr - self < 4096) return true;
    }
    return false;
}

std::vector<StuckWait> analyze_stuck_waits(const Model& m)
{
    std::vector<StuckWait> out;
    // The process reached a normal exit: threads still asleep then (idle pool
    // workers, watchers, daemon threads) were simply not needed any more.
    if (m.trace && m.trace->process_ended()) return out;
    std::vector<EventIx> indirect;  // requeues and wake_ops, which may move/wake other words
    for (EventIx ix = 0; ix < m.events.size(); ix++) {
        const Event& x = m.events[ix];
        if (x.prim == LT_PRIM_FUTEX && (x.type == LT_EV_REQUEUE || (x.type == LT_EV_WAKE && futex_cmd(x) == 5)))
            indirect.push_back(ix);
    }
    const uint64_t at = judged_at(m);
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked || t.lock == SIZE_MAX) continue;
        // Read live from a busy process: the wake for a wait that has just
        // begun may be on its way (sent, but not yet recorded).
        if (wait_may_be_in_flight(m, t.since_ns, at)) continue;
        const Event& e = m.events[t.blocked_on];
        const Lock& L = m.locks[t.lock];
        StuckWait s;
        s.thread = t.thread;
        s.begin = t.blocked_on;
        s.word = &L;
        if (e.flags & LT_FL_TIMED) continue;  // it will come back by itself
        s.gap_threads = threads_with_gap_after(m, e.time_ns);
        if (e.prim == LT_PRIM_FUTEX && e.type == LT_EV_WAIT_BEGIN && futex_is_wait(e)) {
            if (waits_for_thread_end(m, e)) continue;
            analyze_futex(m, L, e, s, indirect);
        }
        else if (e.prim == LT_PRIM_COND && e.type == LT_EV_WAIT_BEGIN)
            analyze_cond(m, L, e, s);
        else if (e.prim == LT_PRIM_SEM && e.type == LT_EV_ATTEMPT)
            analyze_sem(m, L, e, s);
        else
            continue;
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace fx
} // namespace lt
