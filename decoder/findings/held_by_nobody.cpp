// `held-by-nobody` (error): threads are blocked on a mutex or rwlock that, by
// the recorded history, no thread holds, while the lock word they found says
// it is taken.  This is the "artificial deadlock" left by a corrupted lock
// word (a stray store, a struct copied over a live lock, an unlock that was
// never matched).  The finding points at the last moment the history and the
// word agreed and the first event where they no longer did: the corruption
// happened between the two.
// In a fork child, a lock that another thread of the parent held at the fork
// is no mystery: the child's file lists it (format version 2) with the
// parent's thread and where it took it, and nobody in the child can release
// it; the finding says that instead.
#include "common.h"
#include "wait_for.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace lt {

namespace {

struct HistoryState {
    uint32_t writers = 0, readers = 0;
};

bool has_snapshot(const Event& e)
{
    return e.type == LT_EV_ATTEMPT || e.type == LT_EV_ACQUIRED || e.type == LT_EV_RELEASE ||
           e.type == LT_EV_FAILED || e.type == LT_EV_TIMEDOUT;
}

// Does the word agree with the history at this event?
bool word_agrees(const Lock& L, const Event& e, const HistoryState& h)
{
    if (L.prim == LT_PRIM_MUTEX) return (mx_lock(e) != 0) == (h.writers + h.readers != 0);
    if (L.prim == LT_PRIM_RWLOCK) return rw_wrlocked(e) == (h.writers != 0) && rw_readers(e) == h.readers;
    return true;
}

std::string word_words(const Lock& L, const Event& e)
{
    char buf[200];
    if (L.prim == LT_PRIM_MUTEX) {
        snprintf(buf, sizeof buf, "__lock=%u, __owner=%d", mx_lock(e), mx_owner(e));
    } else {
        snprintf(buf, sizeof buf, "%u readers%s%s, __cur_writer=%d", rw_readers(e),
                 rw_wrlocked(e) ? ", write-locked" : "", rw_wrphase(e) ? ", write phase" : "", rw_cur_writer(e));
    }
    return buf;
}

bool word_says_taken(const Lock& L, const Event& want)
{
    if (L.prim == LT_PRIM_MUTEX) return mx_lock(want) != 0;
    if (L.prim == LT_PRIM_RWLOCK) {
        if (want.flags & LT_FL_READ) return rw_wrlocked(want) || rw_wrphase(want);
        return rw_wrlocked(want) || rw_readers(want) != 0;
    }
    return false;
}

// In a killed process, a thread killed inside its own lock or unlock call
// holds the lock without its ACQUIRED on record (the real lock had returned),
// or still holds it after its RELEASE record (the real unlock had not run):
// its last event is that ATTEMPT or RELEASE of L.  An uncontended acquisition
// records nothing before the real call (one ACQUIRED after it), so any thread
// not waiting elsewhere may hold L unrecorded too, if the kill came soon
// enough after `want` that it had no time to write its ACQUIRED (a thread
// descheduled between the two).  Is the word that `want` found explained by
// such threads (the owner the word names, or as many readers as it counts)?
bool explained_by_calls_in_flight(const Model& m, const Lock& L, const ThreadState& victim, const Event& want)
{
    if (!m.trace || m.trace->process_ended() || judged_at(m) != 0) return false;  // only killed ones
    const bool soon = unrecorded_acquisition_possible(m, want.time_ns);
    auto in_call_on_L = [&](const ThreadState& t, bool read_only) {
        if (t.last_event == kNoEvent || &t == &victim) return false;
        if (soon && t.status == ThreadStatus::running) return true;
        const Event& e = m.events[t.last_event];
        if (e.addr != L.addr || e.prim != L.prim) return false;
        return e.type == LT_EV_RELEASE || (e.type == LT_EV_ATTEMPT && (!read_only || (e.flags & LT_FL_READ)));
    };
    auto named = [&](int32_t tid) {
        const ThreadState* t = tid ? m.thread_by_tid(tid) : nullptr;
        return t && in_call_on_L(*t, false);
    };
    if (L.prim == LT_PRIM_MUTEX) return named(int32_t(mx_owner(want) & 0x3fffffff));
    if (rw_wrlocked(want)) return named(rw_cur_writer(want));
    uint32_t readers = 0;
    for (const ThreadState& t : m.threads) readers += in_call_on_L(t, true) ? 1 : 0;
    return rw_readers(want) != 0 && readers >= rw_readers(want);
}

// Threads blocked on L (index li) that nobody holds it for, per the history,
// while the word they found says it is taken.
std::vector<const ThreadState*> victims_of(const Model& m, const Lock& L, size_t li, const std::vector<WaitEdge>& edges)
{
    const uint64_t judged = judged_at(m);
    std::vector<const ThreadState*> victims;
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked || t.lock != li) continue;
        const Event& want = m.events[t.blocked_on];
        if (want.type != LT_EV_ATTEMPT || (want.flags & LT_FL_TIMED)) continue;
        // Read live: the owner may have taken it and not yet recorded so.
        if (wait_may_be_in_flight(m, t.since_ns, judged)) continue;
        // A process-shared mutex whose word names a thread this trace does
        // not have: held by another process, whose history is elsewhere.
        if (L.prim == LT_PRIM_MUTEX && (uint32_t(want.addr2) & kMutexPshared) && mx_owner(want) != 0 &&
            (mx_owner(want) & 0x3fffffff) != t.tid && !m.thread_by_tid(mx_owner(want) & 0x3fffffff))
            continue;
        // The word names a traced thread that is still running: it may have
        // taken the lock and been killed (or read) before it recorded so, as
        // an acquisition is recorded after the real call returns.
        if (L.prim == LT_PRIM_MUTEX && mx_owner(want) != 0) {
            const ThreadState* named = m.thread_by_tid(mx_owner(want) & 0x3fffffff);
            if (named && named->thread != t.thread && named->status == ThreadStatus::running) continue;
        }
        bool has_blocker = std::any_of(edges.begin(), edges.end(),
                                       [&](const WaitEdge& e) { return e.from == t.thread; });
        if (has_blocker || !word_says_taken(L, want)) continue;
        if (explained_by_calls_in_flight(m, L, t, want)) continue;
        // A release after it began would have woken it: then it is a moment
        // of hand-over, not a corrupted word.
        bool released_after = std::any_of(L.holds.begin(), L.holds.end(), [&](const Hold& h) {
            return !h.open() && h.end_ns > want.time_ns;
        });
        if (released_after) continue;
        victims.push_back(&t);
    }
    return victims;
}

// Where the lock's history and its word parted, up to `until`: the last
// event where they agreed and the first where they no longer did.
struct Parting {
    EventIx last_ok = kNoEvent, first_bad = kNoEvent;
    bool first_bad_unmatched = false;  // the first disagreement is an unlock no lock matches
};

Parting where_they_parted(const Model& m, const Lock& L, EventIx until)
{
    // Replay the holds incrementally: an ACQUIRED counts from its own event
    // (its snapshot is taken after the call), a RELEASE until just after
    // its own (its snapshot is taken before).
    std::unordered_map<EventIx, const Hold*> acquired_at, released_at;
    for (const Hold& h : L.holds) {
        acquired_at[h.acquired] = &h;
        if (h.released != kNoEvent) released_at[h.released] = &h;
    }
    HistoryState hist;
    Parting p;
    for (EventIx ix : L.events) {
        if (ix > until) break;
        const Event& e = m.events[ix];
        auto acq = acquired_at.find(ix);
        if (acq != acquired_at.end()) (acq->second->mode == kModeRead ? hist.readers : hist.writers)++;
        auto rel = released_at.find(ix);
        if (has_snapshot(e)) {
            bool unmatched = e.type == LT_EV_RELEASE && rel == released_at.end();
            bool ok = !unmatched && word_agrees(L, e, hist);
            if (ok) {
                p.last_ok = ix;
                p.first_bad = kNoEvent;
            } else if (p.first_bad == kNoEvent) {
                p.first_bad = ix;
                p.first_bad_unmatched = unmatched;
            }
        }
        if (rel != released_at.end()) {
            uint32_t& n = rel->second->mode == kModeRead ? hist.readers : hist.writers;
            if (n) n--;
        }
    }
    if (p.first_bad == kNoEvent) p.first_bad = until;
    return p;
}

// What the word says beyond the history: the owner or writer it names.
Text named_owner_note(const Model& m, const Lock& L, const Event& bad)
{
    if (L.prim == LT_PRIM_MUTEX && mx_owner(bad) != 0) {
        const ThreadState* named = m.thread_by_tid(mx_owner(bad));
        return " The word names thread " + std::to_string(mx_owner(bad)) + " as owner" +
               (named ? ", which does not hold it per the history." : ", which the trace never saw.");
    }
    if (L.prim == LT_PRIM_RWLOCK && rw_cur_writer(bad) != 0)
        return " The word names thread " + std::to_string(rw_cur_writer(bad)) +
               " as the writer, which does not hold it per the history (a copy of a locked rwlock?).";
    return Text();
}

Finding held_by_nobody(const Model& m, const Lock& L, const std::vector<const ThreadState*>& victims, const Parting& p)
{
    Finding f;
    f.kind = "held-by-nobody";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    const Event& bad = m.events[p.first_bad];
    Text names;
    for (const ThreadState* v : victims) {
        f.threads.push_back(v->tid);
        names += (names.empty() ? "" : ", ") + thread_ref(v->thread);
    }
    f.summary = names + (victims.size() > 1 ? " are" : " is") + " blocked on " + lock_ref(L) +
                ", which no thread holds according to the recorded history, yet its lock word says it is taken (" +
                word_words(L, m.events[victims.front()->blocked_on]) + "). ";
    if (p.last_ok != kNoEvent) {
        const Event& ok = m.events[p.last_ok];
        f.summary += "The history and the word last agreed at " + time_ref(ok.time_ns) + " (" + describe_event(ok) +
                     " by " + thread_ref(ok.thread) + site_ref(p.last_ok) + ") and first disagree at " +
                     time_ref(bad.time_ns) + " (" + describe_event(bad) + " by " + thread_ref(bad.thread) +
                     site_ref(p.first_bad) + ", word: " + word_words(L, bad) + ")" +
                     (p.first_bad_unmatched ? ", an unlock that no recorded lock matches" : "") + ". ";
    } else {
        f.summary += "The word already disagreed with the history at its first recorded use, " +
                     describe_event(bad) + " at " + time_ref(bad.time_ns) + ". ";
    }
    f.summary += "Something other than the lock's own calls changed the word in between (a stray store, "
                 "memset or struct copy over the lock, or an unmatched unlock); nobody will ever unlock it.";
    f.summary += named_owner_note(m, L, bad);
    // A thread whose older events were overwritten may hold it from before
    // its gap: then say so instead of claiming nobody holds it.
    std::vector<uint32_t> unknown;
    if (m.trace)
        for (uint32_t i = 0; i < m.trace->threads().size() && i < m.threads.size(); i++)
            if (m.trace->threads()[i].lost || m.trace->threads()[i].cut) unknown.push_back(i);
    if (!unknown.empty() && !m.holders_exact) {
        f.severity = Finding::warning;
        f.summary += gap_after_note(unknown, "an acquisition of this lock");
    }
    if (p.last_ok != kNoEvent)
        f.evidence.push_back(make_evidence(p.last_ok, "last event where the lock word matched the history"));
    if (p.first_bad != p.last_ok)
        f.evidence.push_back(make_evidence(p.first_bad, "first event where the lock word (" + word_words(L, bad) +
                                                            ") contradicts the history"));
    for (const ThreadState* v : victims)
        if (v->blocked_on != p.first_bad)
            f.evidence.push_back(make_evidence(v->blocked_on, "blocked here since " + time_ref(v->since_ns)));
    return f;
}

// The entry of the child's inherited table for L held by a parent thread
// that does not live on in the child, or null.
const lt_inherited_lock* inherited_from_parent(const Model& m, const Lock& L)
{
    if (!m.trace) return nullptr;
    for (const lt_inherited_lock& e : m.trace->inherited())
        if (e.addr == L.addr && e.prim == L.prim && !e.forker) return &e;
    return nullptr;
}

// When the parent's thread took it, counted back from this process's start
// (the fork): ", 1.234 ms before the fork".
std::string before_fork(const Model& m, uint64_t taken_ns)
{
    const uint64_t start = m.trace->header().start_monotonic_ns;
    if (!taken_ns || taken_ns > start) return "";
    char buf[64];
    snprintf(buf, sizeof buf, ", %.3f ms before the fork", double(start - taken_ns) / 1e6);
    return buf;
}

Finding inherited_locked(const Model& m, const Lock& L, const std::vector<const ThreadState*>& victims,
                         const lt_inherited_lock& e)
{
    Finding f;
    f.kind = "held-by-nobody";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    Text names;
    for (const ThreadState* v : victims) {
        f.threads.push_back(v->tid);
        names += (names.empty() ? "" : ", ") + thread_ref(v->thread);
    }
    const int32_t ppid = m.trace->header().ppid;
    f.summary = names + (victims.size() > 1 ? " are" : " is") + " blocked on " + lock_ref(L) +
                ", which this process inherited locked from its parent (pid " + std::to_string(ppid) +
                "): the parent's thread " + std::to_string(e.tid) + " held it " +
                (e.mode == LT_FL_READ ? "for reading " : "") + "when the process forked" +
                stack_site_ref(e.stack_id, ", having taken it in ") + before_fork(m, e.time_ns) + ". Only the thread that calls fork lives on in the child, so nobody in this process can ever "
                "release it. Take such locks in a pthread_atfork prepare handler and release them in the "
                "child, or exec right after fork.";
    for (const ThreadState* v : victims)
        f.evidence.push_back(make_evidence(v->blocked_on, "blocked here since " + time_ref(v->since_ns)));
    return f;
}

} // namespace

void detect_held_by_nobody(const Model& m, std::vector<Finding>& out)
{
    std::vector<WaitEdge> edges = wait_for_edges(m);
    for (size_t li = 0; li < m.locks.size(); li++) {
        const Lock& L = m.locks[li];
        if (L.prim != LT_PRIM_MUTEX && L.prim != LT_PRIM_RWLOCK) continue;
        std::vector<const ThreadState*> victims = victims_of(m, L, li, edges);
        if (victims.empty()) continue;
        if (const lt_inherited_lock* e = inherited_from_parent(m, L)) {
            out.push_back(inherited_locked(m, L, victims, *e));
            continue;
        }
        // Walk the lock's history up to the first victim.
        EventIx first_block = victims.front()->blocked_on;
        for (const ThreadState* v : victims) first_block = std::min(first_block, v->blocked_on);
        out.push_back(held_by_nobody(m, L, victims, where_they_parted(m, L, first_block)));
    }
}

} // namespace lt
