// The life of one lock, read in order (init, destroy, uses and failed calls),
// for the misuse detector (misuse.cpp):
//   destroy-while-in-use      (error) destroy of a lock held or waited on
//   invalid-lock              (error) use after destroy, memory that is not a
//                             lock, EINVAL/EDEADLK/EPERM from the real call
//   bad-timeout               (info) EINVAL from a timed call on a valid lock
//   robust-unrecoverable      (info) ENOTRECOVERABLE after an owner-died
//                             unlock without pthread_mutex_consistent
//   relock-in-cancel-cleanup  (info) EDEADLK from a cleanup handler's relock
#include "misuse.h"
#include "lock_validity.h"

#include <algorithm>
#include <cerrno>
#include <climits>

namespace lt {

namespace {

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
        // A use after destroy that only the event order shows, in a trace
        // that lost events (rings wrapped, or read while being written), may
        // be a new life whose init went with them: info, unless glibc itself
        // refused a call on it (EINVAL) or the memory was not a lock.
        const bool unsure = uad_unsure && !inval_proven;
        if (unsure && inval.n)
            inval.f.summary += " Some events of this run were lost, so an init that gave this memory a new "
                               "lock may be among them.";
        emit(inval, "invalid-lock", unsure ? Finding::info : Finding::error, " invalid uses in all.");
        emit(badtime, "bad-timeout", Finding::info, " such calls in all.");
        emit(unrecov, "robust-unrecoverable", Finding::info, " calls refused in all.");
    }

private:
    const Model& m;
    const Lock& L;
    std::vector<Finding>& out;
    bool destroyed = false;
    bool uad_unsure = false;    // a use after destroy seen in a history with lost events
    bool inval_proven = false;  // glibc refused a call (EINVAL), or the memory was no lock
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
        if (!m.history_complete) uad_unsure = true;
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
        inval_proven = true;
    }

    // A destroy while the lock is held or waited on, per the history, or refused.
    void on_destroy(size_t pos, EventIx ix, const Event& e)
    {
        std::vector<const Hold*> held = others_holding(L, ix, UINT32_MAX);
        std::vector<const Wait*> waiting;
        if (L.prim == LT_PRIM_COND) {
            waiting = cond_waiters_not_woken(m, L, ix);
        } else if (L.prim == LT_PRIM_BARRIER) {
            // Once one thread has passed, glibc lets it destroy the barrier
            // while the others are still leaving (destroy waits for them);
            // their wait ends are simply not recorded yet.
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
            inval_proven = true;  // glibc itself refused a call on it
            return;
        }
        if (bad_timeout(ix, e) || unrecoverable(ix, e)) return;
        inval_proven = true;
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

} // namespace

void fx::lock_life(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    if (L.is_thread()) return;  // joins: a thread is no lock, its join's errors are the program's answer
    LockLife life(m, L, out);
    for (size_t pos = 0; pos < L.events.size(); pos++) life.step(pos);
    life.emit();
}

} // namespace lt
