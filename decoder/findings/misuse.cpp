// Misuse of the lock API, each its own kind (all `error`):
//   unlock-not-held      an unlock of a lock that no thread held
//   unlock-not-owner     an unlock of a lock held by another thread (EPERM from
//                        an error-checking mutex, or silently accepted by glibc)
//   owner-exited         a thread ended while holding a lock
//   destroy-while-in-use destroy of a lock held or waited on (EBUSY, or accepted)
//   invalid-lock         use of a destroyed lock, or EINVAL/EDEADLK/EPERM/
//                        ENOTRECOVERABLE from the real acquire or wait
// A thread whose own ring lost events may have taken the lock in the part that
// is gone: its unlocks are then reported as warnings that say so.
#include "common.h"
#include "lock_validity.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

namespace lt {

namespace {

std::string errno_name(int err)
{
    if (err == INT_MIN) return "errno " + std::to_string(err);  // untrusted: -INT_MIN overflows
    if (err < 0) err = -err;
    const char* n = strerrorname_np(err);
    return n ? n : "errno " + std::to_string(err);
}

// The RELEASE_FAILED that answers the RELEASE at L.events[pos], if any.
EventIx release_outcome(const Model& m, const Lock& L, size_t pos)
{
    const Event& r = m.events[L.events[pos]];
    for (size_t k = pos + 1; k < L.events.size(); k++) {
        const Event& e = m.events[L.events[k]];
        if (e.thread != r.thread) continue;
        return e.type == LT_EV_RELEASE_FAILED ? L.events[k] : kNoEvent;
    }
    return kNoEvent;
}

// Holds of L by other threads open at event ix.
std::vector<const Hold*> others_holding(const Lock& L, EventIx ix, uint32_t thread)
{
    std::vector<const Hold*> out;
    for (const Hold& h : L.holds)
        if (h.thread != thread && h.acquired < ix && (h.released == kNoEvent || h.released > ix)) out.push_back(&h);
    return out;
}

// After another thread unlocked it at ix, is each owner's next call on L a
// lock (it knows it no longer holds it), rather than an unlock or its end?
bool owners_relock(const Model& m, const Lock& L, const std::vector<const Hold*>& owners, EventIx ix)
{
    if (owners.empty()) return false;
    for (const Hold* h : owners) {
        bool relocked = false;
        for (EventIx k : L.events) {
            if (k <= ix || m.events[k].thread != h->thread) continue;
            uint16_t t = m.events[k].type;
            relocked = (t == LT_EV_ATTEMPT || t == LT_EV_ACQUIRED) && !(m.events[k].flags & LT_FL_INTERNAL);
            break;
        }
        if (!relocked) return false;
    }
    return true;
}

struct Group {
    Finding f;
    size_t count = 0;
};

void add_unique(std::vector<int32_t>& v, int32_t x)
{
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// One bad unlock, as the first of its group: who unlocked, whose lock it was,
// what glibc did with it (`res`, the RELEASE_FAILED that answered it, if any).
struct BadUnlock {
    EventIx ix;
    const Event* res;
    std::vector<const Hold*> others;  // holds of other threads open at the unlock
    bool to_other, handoff;
};

void open_bad_unlock(const Model& m, const Lock& L, const BadUnlock& u, const std::string& kind, Finding& f)
{
    const Event& e = m.events[u.ix];
    f.kind = kind;
    // A thread whose ring lost older events may have locked it in the part that is gone.
    f.severity = m.threads[e.thread].history_complete ? (u.handoff ? Finding::warning : Finding::error)
                                                      : Finding::info;
    f.locks.push_back(L.addr);
    std::string outcome = u.res ? "glibc refused it with " + errno_name(u.res->result)
                                : "glibc accepted it silently (undefined behaviour)";
    f.summary = thread_ref(e.thread) + " unlocked " + lock_ref(L) + " at " + time_ref(e.time_ns) + site_ref(u.ix);
    if (u.to_other) {
        Text holder = u.others.empty() ? thread_ref_tid(m, mx_owner(e)) : thread_ref(u.others.front()->thread);
        f.summary += ", but that lock was held by " + holder +
                     (u.others.empty() ? "" : " (since " + time_ref(u.others.front()->begin_ns) + ")") +
                     ", not by the unlocking thread; " + outcome + ".";
        if (u.handoff)
            f.summary += " The owner locks it again after such unlocks instead of unlocking it: the program "
                         "hands the mutex between threads like a binary semaphore. glibc's normal mutex tolerates "
                         "this, but POSIX leaves it undefined (error-checking, robust and PI mutexes refuse "
                         "it); a semaphore says what is meant.";
        else if (!u.res)
            f.summary += " The lock is now free while its owner still believes it holds it, so two "
                         "threads can enter the critical section.";
        for (const Hold* h : u.others) {
            add_unique(f.threads, m.threads[h->thread].tid);
            f.evidence.push_back(make_evidence(h->acquired, "the owner took it here"));
        }
    } else {
        f.summary += " although no thread held it according to the recorded history; " + outcome + ".";
        if (!u.res && L.prim == LT_PRIM_MUTEX)
            f.summary += " glibc's user count of the mutex now wraps, and a later lock may be let in "
                         "while another thread is inside.";
    }
    if (!m.threads[e.thread].history_complete)
        f.summary += " This thread's ring lost older events, so it may have taken the lock before the gap.";
}

void bad_unlocks(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    std::map<std::string, Group> groups;  // by kind
    // Is this mutex handed between threads by design?  Once an owner has
    // locked it again after another thread's unlock, the program evidently
    // uses it as a binary semaphore, and its other such unlocks (the last
    // one, which no relock follows, say) are the same protocol.
    bool handoff_protocol = false;
    if (L.prim == LT_PRIM_MUTEX)
        for (size_t pos : L.unmatched_releases) {
            EventIx ix = L.events[pos];
            const Event& e = m.events[ix];
            if (e.flags & LT_FL_INTERNAL || release_outcome(m, L, pos) != kNoEvent) continue;
            if (owners_relock(m, L, others_holding(L, ix, e.thread), ix)) handoff_protocol = true;
        }
    for (size_t pos : L.unmatched_releases) {
        EventIx ix = L.events[pos];
        const Event& e = m.events[ix];
        if (e.flags & LT_FL_INTERNAL) continue;  // libc's own cond-wait bookkeeping
        EventIx res_ix = release_outcome(m, L, pos);
        const Event* res = res_ix == kNoEvent ? nullptr : &m.events[res_ix];
        // EINVAL: the object is not a lock at all; invalid-lock speaks for it.
        if (res && (res->result == EINVAL || res->result == -EINVAL)) continue;
        BadUnlock u{ix, res, others_holding(L, ix, e.thread), false, false};
        u.to_other = !u.others.empty() || (res && res->result == EPERM && L.prim == LT_PRIM_MUTEX &&
                                           mx_owner(e) != 0 && mx_owner(e) != e.tid);
        std::string kind = u.to_other ? "unlock-not-owner" : "unlock-not-held";
        u.handoff = u.to_other && !res && L.prim == LT_PRIM_MUTEX && !u.others.empty() &&
                    (handoff_protocol || owners_relock(m, L, u.others, ix));
        Group& g = groups[u.handoff ? kind + "/handoff" : kind];
        if (g.count++ == 0) open_bad_unlock(m, L, u, kind, g.f);
        add_unique(g.f.threads, e.tid);
        if (g.count <= 4) {
            g.f.evidence.push_back(make_evidence(ix, u.to_other ? "unlock by a thread that is not the owner"
                                                                : "unlock of a lock nobody holds"));
            if (res) g.f.evidence.push_back(make_evidence(res_ix));
        }
    }
    for (auto& [kind, g] : groups) {
        if (g.count > 1)
            g.f.summary += " It happened " + std::to_string(g.count) + " times on this lock.";
        out.push_back(std::move(g.f));
    }
}

void owner_exited(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    std::vector<uint32_t> reported;  // one finding per thread (a recursive mutex has a hold per level)
    for (size_t hi : L.holders_at_end()) {
        const Hold& h = L.holds[hi];
        const ThreadState& owner = m.threads[h.thread];
        if (owner.status != ThreadStatus::exited || h.internal) continue;
        if (std::find(reported.begin(), reported.end(), h.thread) != reported.end()) continue;
        reported.push_back(h.thread);
        // Released since by someone else (an unlock-not-owner): not held any more.
        bool stolen = false;
        for (size_t pos : L.unmatched_releases)
            if (L.events[pos] > h.acquired && m.events[L.events[pos]].thread != h.thread) stolen = true;
        if (stolen) continue;
        Finding f;
        f.kind = "owner-exited";
        f.severity = Finding::error;
        f.locks.push_back(L.addr);
        f.threads.push_back(owner.tid);
        f.summary = thread_ref(h.thread) + " took " + (h.mode == kModeRead ? "a read lock on " : "") +
                    lock_ref(L) + " at " + time_ref(h.begin_ns) + site_ref(h.acquired) +
                    " and ended without releasing it: nobody can unlock it any more.";
        f.evidence.push_back(make_evidence(h.acquired, "taken here, never released"));
        if (owner.last_event != kNoEvent) f.evidence.push_back(make_evidence(owner.last_event, "the owner's last event"));
        Text victims;
        for (const ThreadState& t : m.threads) {
            if (t.status != ThreadStatus::blocked || t.lock_addr != L.addr || t.lock_prim != L.prim) continue;
            f.threads.push_back(t.tid);
            victims += (victims.empty() ? "" : ", ") + thread_ref(t.thread);
            f.evidence.push_back(make_evidence(t.blocked_on, "waits for the lock of the exited thread"));
        }
        if (!victims.empty()) f.summary += " " + victims + " wait(s) for it forever.";
        // A robust mutex is built for this: the next lock returns EOWNERDEAD
        // and hands it over.  Only a thread still blocked on it is a problem.
        bool robust = L.prim == LT_PRIM_MUTEX && (uint32_t(m.events[h.acquired].addr2) & kMutexRobust);
        if (robust && victims.empty()) {
            f.severity = Finding::info;
            f.summary += " It is a robust mutex, so this is recoverable: the next lock returns EOWNERDEAD and hands "
                         "it over.";
        }
        if (owner.end_unrecorded) {
            // Its last calls (an unlock in a cleanup handler, say) may simply
            // not be on record: an error only if someone is left waiting.
            f.severity = std::max(f.severity, victims.empty() ? Finding::info : Finding::warning);
            f.summary += " Caution: the thread table says this thread ended, but its ring has no exit record: "
                         "recording stopped before the thread did (for instance it was cancelled while inside the "
                         "recorder), so an unlock after its last recorded event would not show.";
        }
        f.summary += history_gap_note(m);
        out.push_back(std::move(f));
    }
}

bool is_invalid_errno(int r)
{
    if (r == INT_MIN) return false;
    if (r < 0) r = -r;
    return r == EINVAL || r == EDEADLK || r == EPERM || r == ENOTRECOVERABLE;
}

// Waits on condition variable C still open at its DESTROY (event ix) that no
// signal or broadcast sent before the destroy accounts for.  POSIX allows
// destroying a condvar once every waiter has been woken, even if they have
// not yet returned (glibc's destroy waits for them to leave): those are not
// "in use".  Each signal wakes at most one of the waiters that had begun
// before it, oldest first; a broadcast wakes all of them.
std::vector<const Wait*> cond_waiters_not_woken(const Model& m, const Lock& C, EventIx ix)
{
    std::vector<const Wait*> open;
    for (const Wait& w : C.waits)
        if (w.begin < ix && (w.end == kNoEvent || w.end > ix)) open.push_back(&w);
    if (open.empty()) return open;
    std::vector<bool> woken(open.size(), false);
    for (EventIx wx : C.events) {
        if (wx >= ix) break;
        const Event& x = m.events[wx];
        if (x.type != LT_EV_WAKE) continue;
        bool broadcast = x.flags & LT_FL_BROADCAST;
        for (size_t k = 0; k < open.size(); k++) {
            if (woken[k] || open[k]->begin > wx) continue;
            woken[k] = true;
            if (!broadcast) break;
        }
    }
    std::vector<const Wait*> out;
    for (size_t k = 0; k < open.size(); k++)
        if (!woken[k]) out.push_back(open[k]);
    return out;
}

// True when thread `thread`, at event ix, holds mutex L only through the
// re-take of a condition wait that was cancelled: it is running the
// cancellation cleanup handlers, which POSIX calls with the mutex re-acquired.
bool in_cancel_cleanup(const Model& m, const Lock& L, EventIx ix, uint32_t thread)
{
    for (const Hold& h : L.holds) {
        if (h.thread != thread || !h.internal || h.acquired > ix || (h.released != kNoEvent && h.released < ix))
            continue;
        // The cond wait's WAIT_END is the thread's event just before the re-take.
        for (EventIx k = h.acquired, seen = 0; k-- > 0 && seen < 64; seen++) {
            const Event& x = m.events[k];
            if (x.thread != thread) continue;
            if (x.prim == LT_PRIM_COND && x.type == LT_EV_WAIT_END)
                return x.result == ECANCELED && x.addr2 == L.addr;
            break;
        }
    }
    return false;
}

bool errno_is(int r, int e) { return r == e || r == -e; }

// One finding per lock and kind, opened by the first event and then counted.
struct Tally {
    Finding f;
    size_t n = 0;
    void add(const Model& m, EventIx ix, const Text& why)
    {
        add_unique(f.threads, m.events[ix].tid);
        if (f.evidence.size() < 6) f.evidence.push_back(make_evidence(ix, why));
    }
};

// Whether thread t is in list v, and put it in (on) or take it out (!on).
bool toggle(std::vector<uint32_t>& v, uint32_t t, bool on)
{
    auto it = std::find(v.begin(), v.end(), t);
    const bool was = it != v.end();
    if (on && !was) v.push_back(t);
    if (!on && was) v.erase(it);
    return was;
}

// The life of one lock, read in order: init, destroy, uses and failed calls.
// Each kind of misuse is one finding per lock, opened by its first event and
// then counted; `emit` adds them to the output at the end.
class LockLife {
public:
    LockLife(const Model& m, const Lock& L, std::vector<Finding>& out) : m(m), L(L), out(out) {}

    void step(size_t pos)
    {
        EventIx ix = L.events[pos];
        const Event& e = m.events[ix];
        check_garbage(ix, e);
        switch (e.type) {
        case LT_EV_INIT:
            destroyed = false;
            init_ix = ix;
            unrecoverable_ix = kNoEvent;
            owner_died_holder.clear();
            break;
        case LT_EV_DESTROY: on_destroy(pos, ix, e); break;
        case LT_EV_DESTROY_FAILED: destroyed = false; break;
        case LT_EV_ATTEMPT:
        case LT_EV_WAIT_BEGIN:
            toggle(attempting, e.thread, true);
            if (destroyed && e.prim != LT_PRIM_FUTEX) use_after_destroy(ix);
            break;
        case LT_EV_RELEASE:
        case LT_EV_WAKE:
            if (e.type == LT_EV_RELEASE && toggle(owner_died_holder, e.thread, false) && !(e.flags & LT_FL_INTERNAL))
                unrecoverable_ix = ix;
            if (destroyed && e.prim != LT_PRIM_FUTEX) use_after_destroy(ix);
            break;
        case LT_EV_ACQUIRED:
            // The shim may record an uncontended acquire as a lone ACQUIRED:
            // that is a use too, when no ATTEMPT of it was counted already.
            if (!toggle(attempting, e.thread, false) && destroyed && e.prim != LT_PRIM_FUTEX) use_after_destroy(ix);
            if (e.prim == LT_PRIM_MUTEX && errno_is(e.result, EOWNERDEAD)) toggle(owner_died_holder, e.thread, true);
            break;
        case LT_EV_CONSISTENT:
            if (e.result == 0) toggle(owner_died_holder, e.thread, false);
            break;
        case LT_EV_FAILED:
        case LT_EV_TIMEDOUT:
        case LT_EV_WAIT_END:
        case LT_EV_RELEASE_FAILED:
            if (e.type != LT_EV_RELEASE_FAILED) toggle(attempting, e.thread, false);
            on_failure(ix, e);
            break;
        default:
            break;
        }
    }

    void emit()
    {
        if (nbusy) {
            if (nbusy > 1) busy.summary += " It happened " + std::to_string(nbusy) + " times.";
            out.push_back(std::move(busy));
        }
        emit(inval, "invalid-lock", Finding::error, " invalid uses in all.");
        emit(badtime, "bad-timeout", Finding::info, " such calls in all.");
        emit(unrecov, "robust-unrecoverable", Finding::info, " calls refused in all.");
    }

private:
    const Model& m;
    const Lock& L;
    std::vector<Finding>& out;
    bool destroyed = false;
    EventIx destroy_ix = kNoEvent, init_ix = kNoEvent;
    Finding busy;
    Tally inval, badtime, unrecov;
    size_t nbusy = 0;
    bool garbage_seen = false;
    std::vector<uint32_t> attempting;        // threads between ATTEMPT/WAIT_BEGIN and its outcome
    std::vector<uint32_t> owner_died_holder; // took it with EOWNERDEAD, not yet made consistent
    EventIx unrecoverable_ix = kNoEvent;     // unlock that left the robust mutex unrecoverable

    void emit(Tally& t, const char* kind, Finding::Severity sev, const char* many)
    {
        if (!t.n) return;
        t.f.kind = kind;
        t.f.severity = sev;
        t.f.locks.push_back(L.addr);
        if (t.n > 1) t.f.summary += " " + std::to_string(t.n) + many;
        out.push_back(std::move(t.f));
    }

    void use_after_destroy(EventIx ix)
    {
        const Event& e = m.events[ix];
        if (inval.n++ == 0) {
            inval.f.summary = thread_ref(e.thread) + " used " + lock_ref(L) + " at " + time_ref(e.time_ns) +
                              site_ref(ix) + " after it was destroyed at " + time_ref(m.events[destroy_ix].time_ns) +
                              " by " + thread_ref(m.events[destroy_ix].thread) + " (use after destroy).";
            inval.f.evidence.push_back(make_evidence(destroy_ix, "destroyed here"));
        }
        inval.add(m, ix, "used after destroy");
    }

    // Memory that does not look like a lock, at its first such use.
    void check_garbage(EventIx ix, const Event& e)
    {
        if (garbage_seen || destroyed || e.prim == LT_PRIM_FUTEX || !lock_word_implausible(e)) return;
        std::string why = implausible_lock_word(e);
        if (why.empty()) return;
        garbage_seen = true;
        Text life = init_ix == kNoEvent
                        ? "no init was recorded for it: it was never initialized (or its memory was "
                          "overwritten before the trace began)"
                        : "it was initialized at " + time_ref(m.events[init_ix].time_ns) +
                              " and its memory has been overwritten since";
        if (inval.n++ == 0)
            inval.f.summary = thread_ref(e.thread) + " used " + lock_ref(L) + " at " + time_ref(e.time_ns) +
                              site_ref(ix) + ", but " + why + "; " + life +
                              ". glibc's behaviour on such an object is undefined: calls may fail with "
                              "EINVAL, hang, or let two threads in.";
        inval.add(m, ix, "not a valid lock: " + why);
    }

    // A destroy while the lock is held or waited on, per the history, or refused.
    void on_destroy(size_t pos, EventIx ix, const Event& e)
    {
        std::vector<const Hold*> held = others_holding(L, ix, UINT32_MAX);
        std::vector<const Wait*> waiting;
        if (L.prim == LT_PRIM_COND) {
            waiting = cond_waiters_not_woken(m, L, ix);
        } else {
            for (const Wait& w : L.waits)
                if (w.begin < ix && (w.end == kNoEvent || w.end > ix)) waiting.push_back(&w);
        }
        const EventIx next = pos + 1 < L.events.size() ? L.events[pos + 1] : kNoEvent;
        bool failed = next != kNoEvent && m.events[next].type == LT_EV_DESTROY_FAILED &&
                      m.events[next].thread == e.thread;
        if ((!held.empty() || !waiting.empty() || failed) && nbusy++ == 0)
            open_busy(ix, e, held, waiting, failed ? next : kNoEvent);
        destroyed = !failed;
        destroy_ix = ix;
    }

    void open_busy(EventIx ix, const Event& e, const std::vector<const Hold*>& held,
                   const std::vector<const Wait*>& waiting, EventIx refused)
    {
        busy.kind = "destroy-while-in-use";
        busy.severity = Finding::error;
        busy.locks.push_back(L.addr);
        busy.summary = thread_ref(e.thread) + " destroyed " + lock_ref(L) + " at " + time_ref(e.time_ns) +
                       site_ref(ix) + " while it was in use";
        if (!held.empty()) busy.summary += " (held by " + thread_ref(held.front()->thread) + ")";
        if (!waiting.empty())
            busy.summary += " (" + std::to_string(waiting.size()) + " thread(s) waiting on it" +
                            (L.prim == LT_PRIM_COND ? ", not woken by any signal or broadcast" : "") + ")";
        const ThreadState& destroyer = m.threads[e.thread];
        bool stuck = L.prim == LT_PRIM_COND && destroyer.last_event == ix &&
                     destroyer.status != ThreadStatus::exited && !(m.trace && m.trace->process_ended());
        busy.summary += refused != kNoEvent
                            ? "; glibc refused with " + errno_name(m.events[refused].result) +
                                  ", which suggests the program frees or reuses the memory anyway."
                        : stuck ? "; the destroy never returned: glibc's pthread_cond_destroy waits for "
                                  "the waiters to leave, and nothing will wake them."
                                : "; glibc accepted it, and the lock's memory may now be reused under "
                                  "the threads that still use it.";
        add_unique(busy.threads, e.tid);
        for (const Hold* h : held) {
            add_unique(busy.threads, m.threads[h->thread].tid);
            busy.evidence.push_back(make_evidence(h->acquired, "held from here"));
        }
        for (const Wait* w : waiting) {
            if (busy.evidence.size() >= 6) break;
            add_unique(busy.threads, m.threads[w->thread].tid);
            busy.evidence.push_back(make_evidence(w->begin, "waiting from here"));
        }
        busy.evidence.push_back(make_evidence(ix, "destroyed while in use"));
        if (refused != kNoEvent) busy.evidence.push_back(make_evidence(refused));
    }

    // A call that failed with an errno that says the lock or its use is wrong.
    void on_failure(EventIx ix, const Event& e)
    {
        if (e.type == LT_EV_RELEASE_FAILED && e.result == EPERM) return;  // unlock-not-owner speaks for it
        if (e.prim == LT_PRIM_FUTEX || !is_invalid_errno(e.result)) return;
        if ((destroyed || garbage_seen) && inval.n) {  // the bad lock is already counted: add its outcome only
            inval.add(m, ix, "failed with " + errno_name(e.result));
            return;
        }
        if (bad_timeout(ix, e) || unrecoverable(ix, e)) return;
        std::string what = errno_name(e.result);
        if (errno_is(e.result, EDEADLK)) {
            if (relock_in_cancel_cleanup(ix, e)) return;
            what += " (the thread already holds this error-checking lock: a relock that would deadlock)";
        } else if (errno_is(e.result, EINVAL)) {
            what += " (the lock is not a valid, initialized lock: destroyed, never initialized, or overwritten)";
        } else if (errno_is(e.result, EPERM)) {
            what += e.prim == LT_PRIM_COND ? " (the thread passed a mutex it does not hold to the condition wait)"
                                           : " (the calling thread does not own the lock)";
        }
        if (inval.n++ == 0)
            inval.f.summary = thread_ref(e.thread) + "'s call on " + lock_ref(L) + " at " + time_ref(e.time_ns) +
                              site_ref(ix) + " failed with " + what +
                              ", and a program that ignores it goes on unprotected.";
        inval.add(m, ix, "failed with " + errno_name(e.result));
    }

    // EINVAL from a timed call on a lock that looks fine: the timeout
    // (tv_nsec out of range) or the clock was refused, not the lock.  The
    // shim records the clock id but not the timespec.
    bool bad_timeout(EventIx ix, const Event& e)
    {
        if (!(e.flags & LT_FL_TIMED) || !errno_is(e.result, EINVAL)) return false;
        bool bad_clock = e.arg > 1;  // only CLOCK_REALTIME and CLOCK_MONOTONIC are accepted
        if (badtime.n++ == 0)
            badtime.f.summary =
                thread_ref(e.thread) + "'s timed call on " + lock_ref(L) + " at " + time_ref(e.time_ns) +
                site_ref(ix) + " failed with EINVAL: " +
                (bad_clock ? "it asked for clock " + std::to_string(e.arg) +
                                 ", which the lock calls do not support (only CLOCK_REALTIME and "
                                 "CLOCK_MONOTONIC)."
                           : "the lock itself looks valid, so glibc refused the timeout (tv_nsec outside "
                             "0..999999999, or negative); the trace does not record the timespec itself.") +
                " The call did not wait and did not take the lock.";
        badtime.add(m, ix, bad_clock ? "unsupported clock" : "invalid timeout");
        return true;
    }

    // ENOTRECOVERABLE after an EOWNERDEAD owner unlocked without
    // pthread_mutex_consistent: the robust protocol doing what the program
    // asked for.
    bool unrecoverable(EventIx ix, const Event& e)
    {
        if (!errno_is(e.result, ENOTRECOVERABLE) || unrecoverable_ix == kNoEvent) return false;
        if (unrecov.n++ == 0) {
            unrecov.f.summary =
                lock_ref(L) + " is a robust mutex whose owner died; " + thread_ref(m.events[unrecoverable_ix].thread) +
                " took it with EOWNERDEAD and unlocked it at " + time_ref(m.events[unrecoverable_ix].time_ns) +
                site_ref(unrecoverable_ix) +
                " without calling pthread_mutex_consistent, which makes it permanently unusable; later "
                "locks fail with ENOTRECOVERABLE, as POSIX specifies.";
            unrecov.f.evidence.push_back(make_evidence(unrecoverable_ix, "unlocked while inconsistent"));
        }
        unrecov.add(m, ix, "failed with ENOTRECOVERABLE");
        return true;
    }

    // Not misuse: the handler checks the re-take; an error-checking mutex
    // answers EDEADLK where a normal one would hang.
    bool relock_in_cancel_cleanup(EventIx ix, const Event& e)
    {
        if (!in_cancel_cleanup(m, L, ix, e.thread)) return false;
        Finding f;
        f.kind = "relock-in-cancel-cleanup";
        f.severity = Finding::info;
        f.locks.push_back(L.addr);
        f.threads.push_back(e.tid);
        f.summary = thread_ref(e.thread) + " locked " + lock_ref(L) + " at " + time_ref(e.time_ns) + site_ref(ix) +
                    " in a cancellation cleanup handler, while its cancelled condition wait had already "
                    "re-taken the mutex (as POSIX requires before the handlers run); this error-checking "
                    "mutex refused with EDEADLK instead of deadlocking.";
        f.evidence.push_back(make_evidence(ix, "relock refused with EDEADLK"));
        out.push_back(std::move(f));
        return true;
    }
};

void lifecycle(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    LockLife life(m, L, out);
    for (size_t pos = 0; pos < L.events.size(); pos++) life.step(pos);
    life.emit();
}

} // namespace

void detect_misuse(const Model& m, std::vector<Finding>& out)
{
    for (const Lock& L : m.locks) {
        if (L.has_owners()) {
            bad_unlocks(m, L, out);
            owner_exited(m, L, out);
        }
        lifecycle(m, L, out);
    }
}

} // namespace lt
