// `counter-overflow` (error): a lock's own counter went outside its range.
//
//  - glibc rwlock: a read unlock whose snapshot shows a reader count of 0
//    (the count wraps below zero), a reader count so large it can only be a
//    wrapped or overwritten one, or EAGAIN ("maximum number of readers") from
//    an rdlock.
//  - glibc rwlock: the word's reader count and the history's disagree for
//    good (N readers in the word, M per the history, by more than the threads
//    that could have been between the real call and its record), up to the
//    end of the trace: a stray store or a lost decrement.
//  - glibc mutex: the __nusers count wrapped (an unlock with no matching lock).
//  - futex words: a thread sleeps for good on a word whose expected value
//    reads as a small count gone negative (0xffffffff...).
#include "common.h"
#include "lock_validity.h"

#include <algorithm>

namespace lt {

namespace {

// Where each event sits in its own thread's sequence, to find the events
// just before and after it on that thread.
struct ThreadOrder {
    std::vector<std::vector<EventIx>> by_thread;
    std::vector<uint32_t> pos;  // index into by_thread[thread] of every event

    explicit ThreadOrder(const Model& m) : pos(m.events.size(), 0)
    {
        by_thread.resize(m.threads.size());
        for (EventIx ix = 0; ix < m.events.size(); ix++) {
            uint32_t t = m.events[ix].thread;
            if (t >= by_thread.size()) by_thread.resize(t + 1);
            pos[ix] = uint32_t(by_thread[t].size());
            by_thread[t].push_back(ix);
        }
    }
    // Time of the thread's last non-nested event before ix (a signal handler's
    // events may be written between a snapshot and its record), or 0.
    uint64_t prev_time(const Model& m, EventIx ix) const
    {
        const auto& v = by_thread[m.events[ix].thread];
        for (uint32_t p = pos[ix]; p-- > 0;)
            if (!(m.events[v[p]].flags & LT_FL_NESTED)) return m.events[v[p]].time_ns;
        return 0;
    }
    // Time of the thread's next event after ix, or kOpenEnd.
    uint64_t next_time(const Model& m, EventIx ix) const
    {
        const auto& v = by_thread[m.events[ix].thread];
        return pos[ix] + 1 < v.size() ? m.events[v[pos[ix] + 1]].time_ns : kOpenEnd;
    }
};

bool has_snapshot(const Event& e)
{
    return e.type == LT_EV_ATTEMPT || e.type == LT_EV_ACQUIRED || e.type == LT_EV_RELEASE ||
           e.type == LT_EV_FAILED || e.type == LT_EV_TIMEDOUT;
}

// The reader count the history allows at one event of the lock.  The snapshot
// of event e by thread A was read between A's previous event and e's own
// timestamp; another thread's real rdlock happens before its ACQUIRED record
// and its real unlock after its RELEASE record, so:
//  - `lo`: read holds that surely counted in the word then (A's own exactly;
//    another thread's if acquired before that window began and released after
//    it ended), from threads whose history is complete;
//  - `hi`: those plus every read hold or read wait (glibc counts a reader
//    that waits out a write phase) of another thread that may have been
//    between its real call and its record during that window, and, close
//    to the end of a killed or live trace, every thread that recorded
//    nothing since (an uncontended rdlock not yet recorded);
//  - `history`: the read holds open at e by the recorded order alone.
struct ReaderBounds {
    uint32_t lo = 0, hi = 0, history = 0;
};

ReaderBounds reader_bounds(const Model& m, const Lock& L, const ThreadOrder& order, EventIx e_ix)
{
    const Event& e = m.events[e_ix];
    uint64_t from = order.prev_time(m, e_ix), to = e.time_ns;
    ReaderBounds b;
    for (const Hold& h : L.holds) {
        if (h.mode != kModeRead) continue;
        bool open_at_e = h.acquired <= e_ix && (h.released == kNoEvent || h.released >= e_ix);
        if (open_at_e) b.history++;
        bool complete = h.thread < m.threads.size() && m.threads[h.thread].history_complete;
        if (h.thread == e.thread) {
            if (open_at_e) {
                b.hi++;
                if (complete) b.lo++;
            }
            continue;
        }
        uint64_t acq = m.events[h.acquired].time_ns;
        uint64_t rel = h.released == kNoEvent ? kOpenEnd : m.events[h.released].time_ns;
        if (complete && acq < from && rel > to) b.lo++;
        uint64_t may_from = order.prev_time(m, h.acquired);
        uint64_t may_to = h.released == kNoEvent ? kOpenEnd : order.next_time(m, h.released);
        if (may_from <= to && may_to >= from) b.hi++;
    }
    // A thread that recorded nothing more up to the end may have taken a read
    // lock by the uncontended path and not written its ACQUIRED yet.
    if (unrecorded_acquisition_possible(m, to))
        for (const ThreadState& t : m.threads)
            if (t.thread != e.thread && t.status == ThreadStatus::running &&
                (t.last_event == kNoEvent || m.events[t.last_event].time_ns <= to))
                b.hi++;
    for (const Wait& w : L.waits) {
        if (w.mode != kModeRead || w.thread == e.thread) continue;
        // A wait that ended in ACQUIRED is counted by its hold from then on.
        uint64_t may_from = order.prev_time(m, w.begin);
        uint64_t may_to = w.end == kNoEvent ? kOpenEnd
                          : w.outcome == WaitOutcome::acquired ? m.events[w.end].time_ns
                                                                : order.next_time(m, w.end);
        if (may_from <= to && may_to >= from) b.hi++;
    }
    return b;
}

// A disagreement between the word's reader count and the history that lasts
// to the end of the trace: its first event (`first`, bounds `first_b`), its
// last (`last`, `last_b`), and the last event before it where they agreed.
struct LastingMismatch {
    EventIx first = kNoEvent, last = kNoEvent, agreed = kNoEvent;
    ReaderBounds first_b, last_b;
};

bool lasting_mismatch(const Model& m, const Lock& L, const ThreadOrder& order, LastingMismatch& r)
{
    // With events lost (overwrite, dropped threads) a reader may hold the
    // lock without a record: only "fewer in the word than surely held" holds.
    bool upper_known = m.history_complete;
    for (const ThreadState& t : m.threads)
        if (!t.history_complete) upper_known = false;

    auto mismatch = [&](EventIx ix, ReaderBounds& b) {
        const Event& e = m.events[ix];
        b = reader_bounds(m, L, order, ix);
        uint32_t w = rw_readers(e);
        return w < b.lo || (upper_known && w > b.hi);
    };
    std::vector<EventIx> snaps;
    for (EventIx ix : L.events) {
        const Event& e = m.events[ix];
        if (has_snapshot(e) && !(e.flags & LT_FL_NESTED)) snaps.push_back(ix);
    }
    if (snaps.empty()) return false;
    // Walk back from the end while the disagreement lasts (bounded: a long
    // run is reported from the earliest event looked at).
    constexpr size_t kMaxWalk = 20000;
    ReaderBounds b;
    if (!mismatch(snaps.back(), r.last_b)) return false;
    size_t first = snaps.size() - 1;
    r.first_b = r.last_b;
    for (size_t i = snaps.size() - 1; i-- > 0 && snaps.size() - i < kMaxWalk;) {
        if (!mismatch(snaps[i], b)) {
            r.agreed = snaps[i];
            break;
        }
        first = i;
        r.first_b = b;
    }
    r.first = snaps[first];
    r.last = snaps.back();
    return true;
}

// The word's reader count and the history's disagree, beyond what threads in
// flight explain, from some event up to the last snapshot of the lock.  Only
// a disagreement that lasts to the end is reported: one that heals was a
// race the bounds did not see, not a broken counter.
void reader_mismatch(const Model& m, const Lock& L, const ThreadOrder& order, std::vector<Finding>& out)
{
    LastingMismatch r;
    if (!lasting_mismatch(m, L, order, r)) return;
    const Event& fe = m.events[r.first];
    const Event& le = m.events[r.last];
    // A fork before the disagreement: a process-shared rwlock in shared
    // memory is then also locked and unlocked by the child, whose calls are
    // in the child's own trace, not in this one.
    EventIx fork_before = kNoEvent;
    for (EventIx ix = 0; ix < r.first && ix < m.events.size(); ix++)
        if (m.events[ix].type == LT_EV_FORK) {
            fork_before = ix;
            break;
        }
    Finding f;
    f.kind = "counter-overflow";
    f.severity = fork_before == kNoEvent ? Finding::error : Finding::info;
    f.locks.push_back(L.addr);
    auto add_thread = [&](int32_t tid) {
        if (std::find(f.threads.begin(), f.threads.end(), tid) == f.threads.end()) f.threads.push_back(tid);
    };
    auto count_words = [](uint32_t word, uint32_t hist) {
        return std::to_string(word) + " readers in the lock word, " + std::to_string(hist) + " per the history";
    };
    f.summary = "The reader count in the lock word of " + lock_ref(L) + " disagrees with the recorded history: at " +
                time_ref(fe.time_ns) + " there are " + count_words(rw_readers(fe), r.first_b.history);
    if (r.last != r.first)
        f.summary += ", and it stays that way to the end of the trace (" +
                     count_words(rw_readers(le), r.last_b.history) + " at " + time_ref(le.time_ns) + ")";
    f.summary += ".";
    if (rw_readers(fe) > r.first_b.hi)
        f.summary += " No thread was between its rdlock and its record to explain the extra reader(s): something "
                     "other than rdlock added to the count (a stray store, a struct copy), and writers will wait "
                     "forever for readers that do not exist.";
    else
        f.summary += " Readers the history shows holding the lock are missing from the word: something other than "
                     "unlock took them off the count (a stray store, an unlock without a matching rdlock), and the "
                     "lock can now be written while they read.";
    if (fork_before != kNoEvent) {
        f.summary += " But the process forked at " + time_ref(m.events[fork_before].time_ns) +
                     " before the disagreement: if this is a process-shared lock in shared memory, the other process's "
                     "rdlocks and unlocks are in its own trace and explain the difference, so this is not counted as "
                     "an error.";
        f.evidence.push_back(make_evidence(fork_before, "fork: the lock may be shared with the child from here"));
    }
    if (r.agreed != kNoEvent) {
        f.evidence.push_back(make_evidence(r.agreed, "last time the word and the history agreed (" +
                                                         std::to_string(rw_readers(m.events[r.agreed])) + " readers)"));
        add_thread(m.events[r.agreed].tid);
    }
    f.evidence.push_back(make_evidence(r.first, "first disagreement: " + count_words(rw_readers(fe), r.first_b.history)));
    add_thread(fe.tid);
    if (r.last != r.first) {
        f.evidence.push_back(make_evidence(r.last, "still at the end: " + count_words(rw_readers(le), r.last_b.history)));
        add_thread(le.tid);
    }
    f.summary += history_gap_note(m);
    out.push_back(std::move(f));
}

// A count this large cannot be real threads: 2^27 readers.
constexpr uint32_t kImplausibleReaders = 1u << 27;

bool is_read_unlock(const Event& e)
{
    if (e.flags & LT_FL_WRITE) return false;
    if (e.flags & LT_FL_READ) return true;
    return rw_cur_writer(e) != e.tid;  // glibc's own test for "am I the writer"
}

void rwlock_checks(const Model& m, const Lock& L, const ThreadOrder& order, std::vector<Finding>& out)
{
    std::vector<Evidence> ev;
    std::vector<int32_t> threads;
    std::string what;
    EventIx first_huge = kNoEvent;
    int wraps = 0, eagain = 0;
    for (EventIx ix : L.events) {
        const Event& e = m.events[ix];
        if (e.type == LT_EV_RELEASE && is_read_unlock(e) && rw_readers(e) == 0 && !(e.flags & LT_FL_NESTED)) {
            wraps++;
            ev.push_back(make_evidence(ix, "read unlock while the reader count was already 0: it wraps below zero"));
            threads.push_back(e.tid);
        } else if (e.type == LT_EV_FAILED && (e.flags & LT_FL_READ) && e.result == EAGAIN) {
            eagain++;
            ev.push_back(make_evidence(ix, "EAGAIN: glibc found the reader count at its maximum"));
            threads.push_back(e.tid);
        }
        bool snap = e.type == LT_EV_ATTEMPT || e.type == LT_EV_ACQUIRED || e.type == LT_EV_RELEASE ||
                    e.type == LT_EV_FAILED || e.type == LT_EV_TIMEDOUT;
        if (snap && first_huge == kNoEvent && rw_readers(e) >= kImplausibleReaders) {
            first_huge = ix;
            char buf[160];
            snprintf(buf, sizeof buf, "the reader word reads 0x%08x: %u readers, far beyond any real count",
                     uint32_t(e.state[0]), rw_readers(e));
            ev.push_back(make_evidence(ix, buf));
            threads.push_back(e.tid);
        }
    }
    if (ev.empty()) {
        // Nothing out of range: is the count merely wrong?
        reader_mismatch(m, L, order, out);
        return;
    }
    Finding f;
    f.kind = "counter-overflow";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    std::sort(ev.begin(), ev.end(), [](const Evidence& a, const Evidence& b) { return a.event_index < b.event_index; });
    for (int32_t t : threads)
        if (std::find(f.threads.begin(), f.threads.end(), t) == f.threads.end()) f.threads.push_back(t);
    f.summary = "The reader count of " + lock_ref(L) + " went out of range.";
    if (wraps)
        f.summary += " " + std::to_string(wraps) +
                     " read unlock(s) ran while the recorded reader count was 0 (an unlock without a matching rdlock), "
                     "so glibc's count wrapped below zero.";
    if (first_huge != kNoEvent)
        f.summary += " From " + time_ref(m.events[first_huge].time_ns) + " the lock word reports " +
                     std::to_string(rw_readers(m.events[first_huge])) +
                     " readers, which only a wrapped or overwritten counter can say.";
    if (eagain)
        f.summary += " " + std::to_string(eagain) + " rdlock(s) failed with EAGAIN (maximum number of readers).";
    f.summary += " Writers will wait forever for readers that do not exist.";
    f.summary += history_gap_note(m);
    f.evidence = std::move(ev);
    out.push_back(std::move(f));
}

void mutex_checks(const Model& m, const Lock& L, std::vector<Finding>& out)
{
    EventIx culprit = kNoEvent, first_wrapped = kNoEvent;
    for (EventIx ix : L.events) {
        const Event& e = m.events[ix];
        bool snap = e.type == LT_EV_ATTEMPT || e.type == LT_EV_ACQUIRED || e.type == LT_EV_RELEASE;
        if (!snap) continue;
        if (e.type == LT_EV_RELEASE && mx_nusers(e) == 0 && mx_lock(e) == 0 && culprit == kNoEvent) culprit = ix;
        if (mx_nusers(e) >= 0x80000000u) {
            first_wrapped = ix;
            break;
        }
    }
    if (first_wrapped == kNoEvent) return;
    Finding f;
    f.kind = "counter-overflow";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    const Event& w = m.events[first_wrapped];
    f.summary = "The user count (__nusers) of " + lock_ref(L) + " wrapped below zero: at " + time_ref(w.time_ns) +
                " it reads " + std::to_string(mx_nusers(w)) +
                ". glibc decrements it on every unlock, so an unlock of a mutex that was not locked made it wrap; "
                "pthread_mutex_destroy will now fail with EBUSY.";
    if (culprit != kNoEvent) {
        f.threads.push_back(m.events[culprit].tid);
        f.evidence.push_back(make_evidence(culprit, "unlock while the mutex was free and had no users"));
    }
    if (std::find(f.threads.begin(), f.threads.end(), w.tid) == f.threads.end()) f.threads.push_back(w.tid);
    f.evidence.push_back(make_evidence(first_wrapped, "the wrapped count is visible here"));
    f.summary += history_gap_note(m);
    out.push_back(std::move(f));
}

} // namespace

// Memory that never held a lock has "counters" of garbage: invalid-lock says
// so, and reading them as counts would only add a wrong diagnosis.
static bool words_are_garbage(const Model& m, const Lock& L)
{
    for (EventIx ix : L.events)
        if (lock_word_implausible(m.events[ix])) return true;
    return false;
}

void detect_counter_overflow(const Model& m, std::vector<Finding>& out)
{
    const ThreadOrder order(m);
    for (const Lock& L : m.locks) {
        if ((L.prim == LT_PRIM_RWLOCK || L.prim == LT_PRIM_MUTEX) && words_are_garbage(m, L)) continue;
        if (L.prim == LT_PRIM_RWLOCK) rwlock_checks(m, L, order, out);
        else if (L.prim == LT_PRIM_MUTEX) mutex_checks(m, L, out);
    }
    // Futex words used as counters: sleepers whose expected value went negative.
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked || t.lock == SIZE_MAX) continue;
        const Event& w = m.events[t.blocked_on];
        const Lock& L = m.locks[t.lock];
        if (w.prim != LT_PRIM_FUTEX || w.type != LT_EV_WAIT_BEGIN || !futex_is_wait(w)) continue;
        if (!futex_wait_looks_wrapped(m, L, w)) continue;
        Finding f;
        f.kind = "counter-overflow";
        f.severity = Finding::error;
        f.locks.push_back(L.addr);
        f.threads.push_back(t.tid);
        int32_t as_signed = int32_t(futex_val(w));
        f.summary = thread_ref(t.thread) + " sleeps on futex word " + hex(L.addr) + " waiting for it to change from " +
                    hex(futex_val(w)) + " (" + std::to_string(as_signed) +
                    " as a signed count), while every other value recorded on this word was a small count: the "
                    "counter kept in the word went below zero (a decrement without a matching increment) and "
                    "will not come back to the value the sleeper waits for.";
        // The last time the word was seen holding a sane count.
        EventIx last_sane = kNoEvent;
        for (EventIx ix : L.events)
            if (ix < t.blocked_on && uint32_t(m.events[ix].state[0]) < 0x10000u) last_sane = ix;
        if (last_sane != kNoEvent)
            f.evidence.push_back(make_evidence(last_sane, "last time the word held a plain count (" +
                                                                 std::to_string(uint32_t(m.events[last_sane].state[0])) + ")"));
        f.evidence.push_back(make_evidence(t.blocked_on, "sleeps on a wrapped count, since " + time_ref(t.since_ns)));
        out.push_back(std::move(f));
    }
}

} // namespace lt
