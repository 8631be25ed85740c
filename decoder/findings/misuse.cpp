// Misuse of the lock API, each its own kind (all `error`):
//   unlock-not-held      an unlock of a lock that no thread held
//   unlock-not-owner     an unlock of a lock held by another thread (EPERM from
//                        an error-checking mutex, or silently accepted by glibc)
//   owner-exited         a thread ended while holding a lock
//   destroy-while-in-use destroy of a lock held or waited on (EBUSY, or accepted)
//   invalid-lock         use of a destroyed lock, or EINVAL/EDEADLK/EPERM/
//                        ENOTRECOVERABLE from the real acquire or wait
// (the last two, and the info kinds next to them, in lock_life.cpp)
// A thread whose own ring lost events may have taken the lock in the part that
// is gone: its unlocks are then reported as warnings that say so.  A trace
// that keeps held sets (format version 2) settles it: an unlock is bad only
// if the thread's held set did not have the lock (the RELEASE says so), and
// an exited thread still held a lock only if its held set still has it.
#include "misuse.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

namespace lt {
namespace fx {

std::string errno_name(int err)
{
    if (err == INT_MIN) return "errno " + std::to_string(err);  // untrusted: -INT_MIN overflows
    if (err < 0) err = -err;
    const char* n = strerrorname_np(err);
    return n ? n : "errno " + std::to_string(err);
}

// Holds of L by other threads open at event ix.
std::vector<const Hold*> others_holding(const Lock& L, EventIx ix, uint32_t thread)
{
    std::vector<const Hold*> out;
    for (const Hold& h : L.holds)
        if (h.thread != thread && h.acquired < ix && (h.released == kNoEvent || h.released > ix)) out.push_back(&h);
    return out;
}

void add_unique(std::vector<int32_t>& v, int32_t x)
{
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

} // namespace fx

namespace {

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
    // A thread whose ring lost older events may have locked it in the part
    // that is gone, unless its held set proves it did not.
    const bool proven = m.threads[e.thread].history_complete || m.release_unmatched_proven(e);
    f.severity = proven ? (u.handoff ? Finding::warning : Finding::error) : Finding::info;
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
        f.summary += std::string(m.release_unmatched_proven(e) ? " although it did not hold it (its held set, kept for "
                                                                 "the whole run, did not have it)"
                                                               : " although no thread held it according to the "
                                                                 "recorded history") +
                     "; " + outcome + ".";
        if (!u.res && L.prim == LT_PRIM_MUTEX)
            f.summary += " glibc's user count of the mutex now wraps, and a later lock may be let in "
                         "while another thread is inside.";
    }
    if (!proven)
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
        // The held set had it (its ACQUIRED went with the ring's gap), or
        // cannot tell: no finding rests on the gap alone.
        if (m.release_matched_or_unknown(e)) continue;
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

// Another thread asked for L after hold h began and gave up without it (a
// trylock refused, a timeout, an error), or took it: somebody was held up, not just stopped by
// the process's exit.
bool refused_after(const Model& m, const Lock& L, const Hold& h)
{
    for (EventIx ix : L.events) {  // a trylock refused (EBUSY)
        const Event& e = m.events[ix];
        if (e.type == LT_EV_FAILED && e.thread != h.thread && e.time_ns >= h.begin_ns) return true;
    }
    for (const Wait& w : L.waits)
        if (w.thread != h.thread && w.begin_ns >= h.begin_ns && w.outcome != WaitOutcome::still_waiting &&
            w.outcome != WaitOutcome::acquired)
            return true;
    for (const Hold& o : L.holds)
        if (o.thread != h.thread && o.begin_ns > h.begin_ns) return true;
    return false;
}

void owner_exited(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    std::vector<uint32_t> reported;  // one finding per thread (a recursive mutex has a hold per level)
    for (size_t hi : L.holders_at_end()) {
        const Hold& h = L.holds[hi];
        const ThreadState& owner = m.threads[h.thread];
        if (owner.status != ThreadStatus::exited || h.internal) continue;
        // Its held set, kept to its end, must still have it.
        if (m.whole_run && !m.held_now(h.thread, L.addr, L.prim)) continue;
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
        const bool exited = m.trace && m.trace->process_ended();
        if (!victims.empty())
            f.summary += " " + victims + (exited ? " still waited for it when the process exited." : " wait(s) for it forever.");
        // Nobody asked for it before the process exited: the lock went with
        // the process (a runtime's own thread holds one at exit by design).
        // At a normal exit nothing hung: a runtime's own thread may hold a
        // lock then by design (the JVM's VM Thread), and a thread still
        // waiting for it was stopped by the exit like every other.
        if (exited && !refused_after(m, L, h)) {
            f.severity = Finding::info;
            f.summary += victims.empty() ? " No other thread asked for it before the process exited, so nothing "
                                           "was held up."
                                         : " Its normal exit ended the wait(s): nothing hung.";
        }
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
        if (!m.whole_run) f.summary += history_gap_note(m);
        out.push_back(std::move(f));
    }
}

} // namespace

void detect_misuse(const Model& m, std::vector<Finding>& out)
{
    for (const Lock& L : m.locks) {
        if (L.has_owners()) {
            bad_unlocks(m, L, out);
            owner_exited(m, L, out);
        }
        lock_life(m, L, out);
    }
}

} // namespace lt
