// `counter-overflow` (error): a lock's own counter went outside its range.
//
//  - glibc rwlock: a read unlock whose snapshot shows a reader count of 0
//    (the count wraps below zero), a reader count so large it can only be a
//    wrapped or overwritten one, or EAGAIN ("maximum number of readers") from
//    an rdlock.
//  - glibc mutex: the __nusers count wrapped (an unlock with no matching lock).
//  - futex words: a thread sleeps for good on a word whose expected value
//    reads as a small count gone negative (0xffffffff...).
#include "common.h"

#include <algorithm>

namespace lt {

namespace {

// A count this large cannot be real threads: 2^27 readers.
constexpr uint32_t kImplausibleReaders = 1u << 27;

bool is_read_unlock(const Event& e)
{
    if (e.flags & LT_FL_WRITE) return false;
    if (e.flags & LT_FL_READ) return true;
    return rw_cur_writer(e) != e.tid;  // glibc's own test for "am I the writer"
}

void rwlock_checks(const Model& m, const Lock& L, std::vector<Finding>& out)
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
            ev.push_back(make_evidence(m, ix, "read unlock while the reader count was already 0: it wraps below zero"));
            threads.push_back(e.tid);
        } else if (e.type == LT_EV_FAILED && (e.flags & LT_FL_READ) && e.result == EAGAIN) {
            eagain++;
            ev.push_back(make_evidence(m, ix, "EAGAIN: glibc found the reader count at its maximum"));
            threads.push_back(e.tid);
        }
        bool snap = e.type == LT_EV_ATTEMPT || e.type == LT_EV_ACQUIRED || e.type == LT_EV_RELEASE ||
                    e.type == LT_EV_FAILED || e.type == LT_EV_TIMEDOUT;
        if (snap && first_huge == kNoEvent && rw_readers(e) >= kImplausibleReaders) {
            first_huge = ix;
            char buf[160];
            snprintf(buf, sizeof buf, "the reader word reads 0x%08x: %u readers, far beyond any real count",
                     uint32_t(e.state[0]), rw_readers(e));
            ev.push_back(make_evidence(m, ix, buf));
            threads.push_back(e.tid);
        }
    }
    if (ev.empty()) return;
    Finding f;
    f.kind = "counter-overflow";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    std::sort(ev.begin(), ev.end(), [](const Evidence& a, const Evidence& b) { return a.event_index < b.event_index; });
    for (int32_t t : threads)
        if (std::find(f.threads.begin(), f.threads.end(), t) == f.threads.end()) f.threads.push_back(t);
    f.summary = "The reader count of " + lock_label(m, L) + " went out of range.";
    if (wraps)
        f.summary += " " + std::to_string(wraps) +
                     " read unlock(s) ran while the recorded reader count was 0 (an unlock without a matching rdlock), "
                     "so glibc's count wrapped below zero.";
    if (first_huge != kNoEvent)
        f.summary += " From " + at(m, m.events[first_huge].time_ns) + " the lock word reports " +
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
    f.summary = "The user count (__nusers) of " + lock_label(m, L) + " wrapped below zero: at " + at(m, w.time_ns) +
                " it reads " + std::to_string(mx_nusers(w)) +
                ". glibc decrements it on every unlock, so an unlock of a mutex that was not locked made it wrap; "
                "pthread_mutex_destroy will now fail with EBUSY.";
    if (culprit != kNoEvent) {
        f.threads.push_back(m.events[culprit].tid);
        f.evidence.push_back(make_evidence(m, culprit, "unlock while the mutex was free and had no users"));
    }
    if (std::find(f.threads.begin(), f.threads.end(), w.tid) == f.threads.end()) f.threads.push_back(w.tid);
    f.evidence.push_back(make_evidence(m, first_wrapped, "the wrapped count is visible here"));
    f.summary += history_gap_note(m);
    out.push_back(std::move(f));
}

} // namespace

void detect_counter_overflow(const Model& m, std::vector<Finding>& out)
{
    for (const Lock& L : m.locks) {
        if (L.prim == LT_PRIM_RWLOCK) rwlock_checks(m, L, out);
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
        f.summary = thread_label(m, t.thread) + " sleeps on futex word " + hex(L.addr) + " waiting for it to change from " +
                    hex(futex_val(w)) + " (" + std::to_string(as_signed) +
                    " as a signed count), while every other value recorded on this word was a small count: the "
                    "counter kept in the word went below zero (a decrement without a matching increment) and "
                    "will not come back to the value the sleeper waits for.";
        // The last time the word was seen holding a sane count.
        EventIx last_sane = kNoEvent;
        for (EventIx ix : L.events)
            if (ix < t.blocked_on && uint32_t(m.events[ix].state[0]) < 0x10000u) last_sane = ix;
        if (last_sane != kNoEvent)
            f.evidence.push_back(make_evidence(m, last_sane, "last time the word held a plain count (" +
                                                                 std::to_string(uint32_t(m.events[last_sane].state[0])) + ")"));
        f.evidence.push_back(make_evidence(m, t.blocked_on, "sleeps on a wrapped count, since " + at(m, t.since_ns)));
        out.push_back(std::move(f));
    }
}

} // namespace lt
