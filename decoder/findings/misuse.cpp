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

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace lt {

namespace {

std::string errno_name(int err)
{
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

std::string in_fn(const Model& m, EventIx ix)
{
    std::string w = where(m, ix);
    return w.empty() ? w : " in " + w;
}

struct Group {
    Finding f;
    size_t count = 0;
};

void add_unique(std::vector<int32_t>& v, int32_t x)
{
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

void bad_unlocks(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    std::map<std::string, Group> groups;  // by kind
    for (size_t pos : L.unmatched_releases) {
        EventIx ix = L.events[pos];
        const Event& e = m.events[ix];
        if (e.flags & LT_FL_INTERNAL) continue;  // libc's own cond-wait bookkeeping
        EventIx res_ix = release_outcome(m, L, pos);
        const Event* res = res_ix == kNoEvent ? nullptr : &m.events[res_ix];
        std::vector<const Hold*> others = others_holding(L, ix, e.thread);
        bool to_other = !others.empty() || (res && res->result == EPERM && L.prim == LT_PRIM_MUTEX &&
                                            mx_owner(e) != 0 && mx_owner(e) != e.tid);
        std::string kind = to_other ? "unlock-not-owner" : "unlock-not-held";
        Group& g = groups[kind];
        Finding& f = g.f;
        if (g.count++ == 0) {
            f.kind = kind;
            // A thread whose ring lost older events may have locked it in the part that is gone.
            f.severity = m.threads[e.thread].history_complete ? Finding::error : Finding::info;
            f.locks.push_back(L.addr);
            std::string outcome = res ? "glibc refused it with " + errno_name(res->result)
                                      : "glibc accepted it silently (undefined behaviour)";
            if (to_other) {
                std::string holder = others.empty() ? "thread " + std::to_string(mx_owner(e))
                                                    : thread_label(m, others.front()->thread);
                f.summary = thread_label(m, e.thread) + " unlocked " + lock_label(m, L) + " at " + at(m, e.time_ns) + in_fn(m, ix) +
                            ", but that lock was held by " + holder +
                            (others.empty() ? "" : " (since " + at(m, others.front()->begin_ns) + ")") +
                            ", not by the unlocking thread; " + outcome + ".";
                if (!res)
                    f.summary += " The lock is now free while its owner still believes it holds it, so two "
                                 "threads can enter the critical section.";
                for (const Hold* h : others) {
                    add_unique(f.threads, m.threads[h->thread].tid);
                    f.evidence.push_back(make_evidence(m, h->acquired, "the owner took it here"));
                }
            } else {
                f.summary = thread_label(m, e.thread) + " unlocked " + lock_label(m, L) + " at " + at(m, e.time_ns) + in_fn(m, ix) +
                            " although no thread held it according to the recorded history; " + outcome + ".";
                if (!res && L.prim == LT_PRIM_MUTEX)
                    f.summary += " glibc's user count of the mutex now wraps, and a later lock may be let in "
                                 "while another thread is inside.";
            }
            if (!m.threads[e.thread].history_complete)
                f.summary += " This thread's ring lost older events, so it may have taken the lock before the gap.";
        }
        add_unique(f.threads, e.tid);
        if (g.count <= 4) {
            f.evidence.push_back(make_evidence(m, ix, to_other ? "unlock by a thread that is not the owner"
                                                               : "unlock of a lock nobody holds"));
            if (res) f.evidence.push_back(make_evidence(m, res_ix));
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
    for (size_t hi : L.holders_at_end()) {
        const Hold& h = L.holds[hi];
        const ThreadState& owner = m.threads[h.thread];
        if (owner.status != ThreadStatus::exited || h.internal) continue;
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
        f.summary = thread_label(m, h.thread) + " took " + (h.mode == kModeRead ? "a read lock on " : "") +
                    lock_label(m, L) + " at " + at(m, h.begin_ns) + in_fn(m, h.acquired) +
                    " and ended without releasing it: nobody can unlock it any more.";
        f.evidence.push_back(make_evidence(m, h.acquired, "taken here, never released"));
        if (owner.last_event != kNoEvent) f.evidence.push_back(make_evidence(m, owner.last_event, "the owner's last event"));
        std::string victims;
        for (const ThreadState& t : m.threads) {
            if (t.status != ThreadStatus::blocked || t.lock_addr != L.addr || t.lock_prim != L.prim) continue;
            f.threads.push_back(t.tid);
            victims += (victims.empty() ? "" : ", ") + thread_label(m, t.thread);
            f.evidence.push_back(make_evidence(m, t.blocked_on, "waits for the lock of the exited thread"));
        }
        if (!victims.empty()) f.summary += " " + victims + " wait(s) for it forever.";
        f.summary += history_gap_note(m);
        out.push_back(std::move(f));
    }
}

bool is_invalid_errno(int r)
{
    if (r < 0) r = -r;
    return r == EINVAL || r == EDEADLK || r == EPERM || r == ENOTRECOVERABLE;
}

void lifecycle(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    bool destroyed = false;
    EventIx destroy_ix = kNoEvent;
    Finding inval, busy;
    size_t ninval = 0, nbusy = 0;
    for (size_t pos = 0; pos < L.events.size(); pos++) {
        EventIx ix = L.events[pos];
        const Event& e = m.events[ix];
        switch (e.type) {
        case LT_EV_INIT:
            destroyed = false;
            break;
        case LT_EV_DESTROY: {
            // Held or waited on right now, per the history?
            std::vector<const Hold*> held = others_holding(L, ix, UINT32_MAX);
            std::vector<const Wait*> waiting;
            for (const Wait& w : L.waits)
                if (w.begin < ix && (w.end == kNoEvent || w.end > ix)) waiting.push_back(&w);
            bool failed = pos + 1 < L.events.size() && m.events[L.events[pos + 1]].type == LT_EV_DESTROY_FAILED &&
                          m.events[L.events[pos + 1]].thread == e.thread;
            if (!held.empty() || !waiting.empty() || failed) {
                if (nbusy++ == 0) {
                    busy.kind = "destroy-while-in-use";
                    busy.severity = Finding::error;
                    busy.locks.push_back(L.addr);
                    busy.summary = thread_label(m, e.thread) + " destroyed " + lock_label(m, L) + " at " +
                                   at(m, e.time_ns) + in_fn(m, ix) + " while it was in use";
                    if (!held.empty()) busy.summary += " (held by " + thread_label(m, held.front()->thread) + ")";
                    if (!waiting.empty())
                        busy.summary += " (" + std::to_string(waiting.size()) + " thread(s) waiting on it)";
                    busy.summary += failed ? "; glibc refused with " +
                                                 errno_name(m.events[L.events[pos + 1]].result) +
                                                 ", which suggests the program frees or reuses the memory anyway."
                                           : "; glibc accepted it, and the lock's memory may now be reused under "
                                             "the threads that still use it.";
                    add_unique(busy.threads, e.tid);
                    for (const Hold* h : held) {
                        add_unique(busy.threads, m.threads[h->thread].tid);
                        busy.evidence.push_back(make_evidence(m, h->acquired, "held from here"));
                    }
                    busy.evidence.push_back(make_evidence(m, ix, "destroyed while in use"));
                    if (failed) busy.evidence.push_back(make_evidence(m, L.events[pos + 1]));
                }
            }
            destroyed = !failed;
            destroy_ix = ix;
            break;
        }
        case LT_EV_DESTROY_FAILED:
            destroyed = false;
            break;
        case LT_EV_ATTEMPT:
        case LT_EV_RELEASE:
        case LT_EV_WAIT_BEGIN:
        case LT_EV_WAKE:
            if (destroyed && e.prim != LT_PRIM_FUTEX) {
                if (ninval++ == 0) {
                    inval.summary = thread_label(m, e.thread) + " used " + lock_label(m, L) + " at " + at(m, e.time_ns) + in_fn(m, ix) +
                                    " after it was destroyed at " + at(m, m.events[destroy_ix].time_ns) + " by " +
                                    thread_label(m, m.events[destroy_ix].thread) + " (use after destroy).";
                    inval.evidence.push_back(make_evidence(m, destroy_ix, "destroyed here"));
                }
                add_unique(inval.threads, e.tid);
                if (inval.evidence.size() < 6) inval.evidence.push_back(make_evidence(m, ix, "used after destroy"));
            }
            break;
        case LT_EV_FAILED:
        case LT_EV_WAIT_END:
        case LT_EV_RELEASE_FAILED: {
            if (e.type == LT_EV_RELEASE_FAILED && e.result == EPERM) break;  // unlock-not-owner speaks for it
            if (e.prim == LT_PRIM_FUTEX || !is_invalid_errno(e.result)) break;
            if (destroyed && ninval) {  // the use after destroy is already counted: add its outcome only
                if (inval.evidence.size() < 6)
                    inval.evidence.push_back(make_evidence(m, ix, "failed with " + errno_name(e.result)));
                break;
            }
            std::string what = errno_name(e.result);
            if (e.result == EDEADLK || e.result == -EDEADLK)
                what += " (the thread already holds this error-checking lock: a relock that would deadlock)";
            else if (e.result == EINVAL || e.result == -EINVAL)
                what += " (the lock is not a valid, initialized lock: destroyed, never initialized, or overwritten)";
            if (ninval++ == 0)
                inval.summary = thread_label(m, e.thread) + "'s call on " + lock_label(m, L) + " at " + at(m, e.time_ns) + in_fn(m, ix) +
                                " failed with " + what + ", and a program that ignores it goes on unprotected.";
            add_unique(inval.threads, e.tid);
            if (inval.evidence.size() < 6) inval.evidence.push_back(make_evidence(m, ix, "failed with " + errno_name(e.result)));
            break;
        }
        default:
            break;
        }
    }
    if (nbusy) {
        if (nbusy > 1) busy.summary += " It happened " + std::to_string(nbusy) + " times.";
        out.push_back(std::move(busy));
    }
    if (ninval) {
        inval.kind = "invalid-lock";
        inval.severity = Finding::error;
        inval.locks.push_back(L.addr);
        if (ninval > 1) inval.summary += " " + std::to_string(ninval) + " invalid uses in all.";
        out.push_back(std::move(inval));
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
        lifecycle(m, L, out);
    }
}

} // namespace lt
