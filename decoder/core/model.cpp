#include "model.h"

#include "locktrace/probe_classes.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>

namespace lt {

namespace {

bool has_lock_identity(uint8_t prim)
{
    return prim == LT_PRIM_MUTEX || prim == LT_PRIM_RWLOCK || prim == LT_PRIM_COND || prim == LT_PRIM_SEM ||
           prim == LT_PRIM_FUTEX || prim == LT_PRIM_PROBE || prim == LT_PRIM_BARRIER || prim == LT_PRIM_SPIN ||
           prim == LT_PRIM_ONCE;
}

// A join (a wait on a thread) is the one thread event kept as a wait.
bool is_join(const Event& e)
{
    return e.prim == LT_PRIM_THREAD && (e.type == LT_EV_WAIT_BEGIN || e.type == LT_EV_WAIT_END);
}

Mode event_mode(const Event& e)
{
    if (e.flags & LT_FL_READ) return kModeRead;
    if (e.flags & LT_FL_WRITE) return kModeWrite;
    if (e.prim == LT_PRIM_MUTEX || e.prim == LT_PRIM_PROBE || e.prim == LT_PRIM_SPIN) return kModeWrite;
    return kModeNone;
}

// What the lock word recorded before the call says: was it taken?
bool word_says_busy(const Event& e, Mode mode)
{
    uint32_t w = uint32_t(e.state[0]);
    switch (e.prim) {
    case LT_PRIM_MUTEX: return w != 0;                      // __lock
    case LT_PRIM_SPIN: return w != 0;
    case LT_PRIM_RWLOCK: {                                   // __readers: glibc bit layout
        bool wrlocked = w & 2u;
        uint32_t readers = w >> 3;
        return mode == kModeRead ? wrlocked : (wrlocked || readers != 0);
    }
    case LT_PRIM_SEM: return w == 0;                         // value
    case LT_PRIM_FUTEX: return true;                         // a futex wait is contention by definition
    default: return false;
    }
}

// A wait that is how some other wait sleeps, not a thing of its own to wait
// for: a futex word (glibc's inline futex calls under LOCKTRACE_LIBC_FUTEX=1,
// parking_lot_core's sleep) or parking_lot's park (its probe class).  A thread
// blocked in one inside another open wait is blocked on that other one.
// (A signal handler's own futex wait while the thread was blocked on a lock
// reads the same way; it still has that lock to get when the handler returns.)
bool is_sleep_mechanism(const Event& e)
{
    return e.prim == LT_PRIM_FUTEX || (e.prim == LT_PRIM_PROBE && uint8_t(e.addr2) == LT_PROBE_CLASS_PL_PARK);
}

struct PendingWait {
    size_t lock;
    size_t wait;   // index into locks[lock].waits
};

struct ThreadWork {
    uint64_t seen = 0;                     // its events so far
    std::vector<PendingWait> open_waits;   // innermost last (signal handlers nest)
    // The hold closed by this thread's last RELEASE, to reopen on RELEASE_FAILED.
    size_t last_release_lock = SIZE_MAX, last_release_hold = SIZE_MAX;
    bool exited = false;
    EventIx exit_event = kNoEvent;   // its first THREAD_EXIT
    // The cond wait in progress dropped a mutex this thread did not hold
    // (its internal RELEASE matched no hold), and how that wait ended.
    bool cond_release_unmatched = false;
    int cond_wait_result = 0;
};

// |r| for an errno that may be stored negated; an untrusted INT_MIN (which
// has no positive) reads as INT_MAX, an errno no call returns.
int abs_errno(int r)
{
    if (r == INT_MIN) return INT_MAX;
    return r < 0 ? -r : r;
}

// A cond wait that failed before dropping the mutex (EPERM: not the owner,
// EINVAL: bad timeout or clock): libc never re-took it either.
bool cond_wait_never_dropped(int r)
{
    return r != 0 && r != ETIMEDOUT && r != EOWNERDEAD && r != ECANCELED;
}

struct LockWork {
    std::vector<size_t> open_holds;        // indices into holds
    // The longest closed hold so far (ties: the earliest), kept as holds
    // close while they are in cache; a second pass over millions of holds
    // cost a tenth of the build.  A hold reopened by RELEASE_FAILED may have
    // been the longest: then the lock's holds are all looked at again.
    uint64_t longest_closed_ns = 0;
    size_t longest_closed = SIZE_MAX;
    bool rescan = false;
    void closed(const BigVector<Hold>& holds, size_t i)
    {
        const Hold& hd = holds[i];
        uint64_t d = hd.end_ns - std::min(hd.end_ns, hd.begin_ns);
        if (longer(d, i, longest_closed_ns, longest_closed)) {
            longest_closed_ns = d;
            longest_closed = i;
        }
    }
    // Hold i lasting d beats the best so far (the first of equally long ones).
    static bool longer(uint64_t d, size_t i, uint64_t best_ns, size_t best)
    {
        return best == SIZE_MAX || d > best_ns || (d == best_ns && i < best);
    }
};

// How far the events have come, for make_room: overall and in the thread
// of the event at hand.
struct Progress {
    uint64_t events_so_far, events_total;    // events_total: at most this many in all
    uint64_t thread_so_far, thread_total;    // the same, counted in the event's thread
};

// Makes room for one more element in a per-lock vector.  One hot lock can
// have millions of events or holds: growing it by doubling copied them ~20
// times over into fresh pages.  Once a vector is big, its share of the
// events read so far predicts its final size, which is reserved at once;
// reserved pages that are never used are never touched.  The share of its
// thread's events predicts better for a lock of one thread that started
// late (its share of all events grows as the others' fall): that one is
// believed up to 8 times the overall one.  Every event adds at most one
// element, which bounds both.
template <class T> void make_room(BigVector<T>& v, const Progress& p)
{
    if (v.size() < v.capacity()) return;
    size_t n = v.size();
    size_t want = std::max<size_t>(8, 2 * n);
    if (n >= 4096 && p.events_so_far) {
        uint64_t est = uint64_t(n) * p.events_total / p.events_so_far;
        if (p.thread_so_far >= 4096)
            est = std::max(est, std::min(8 * est, uint64_t(n) * p.thread_total / p.thread_so_far));
        est += est / 8;  // a margin for a lock whose share grows
        const uint64_t bound = n + (p.events_total > p.events_so_far ? p.events_total - p.events_so_far : 0) + 1;
        want = size_t(std::min<uint64_t>(std::max<uint64_t>(est, want), std::max<uint64_t>(bound, n + 1)));
    }
    v.reserve(want);  // a big one in huge pages (huge_pages.h)
}

} // namespace

std::vector<size_t> Lock::holders_at_end() const
{
    std::vector<size_t> out;
    for (size_t i = 0; i < holds.size(); i++)
        if (holds[i].open()) out.push_back(i);
    return out;
}

namespace {

// Finds (or adds) the lock an event names.  Threads interleave on a handful of
// hot locks: a small direct-mapped cache in front of lock_index spares most
// hash lookups (one per event was the largest cost of the build).
class LockFinder {
public:
    size_t find(Model& m, std::vector<LockWork>& lw, const Event& e, EventIx ix)
    {
        const LockKey key{e.addr, e.prim};
        Slot& slot = cache_[((e.addr >> 3) ^ (e.addr >> 11) ^ e.prim) & (kSlots - 1)];
        if (slot.lock != SIZE_MAX && slot.key == key) return slot.lock;
        size_t li;
        auto it = m.lock_index.find(key);
        if (it == m.lock_index.end()) {
            li = m.locks.size();
            m.lock_index.emplace(key, li);
            Lock l;
            l.addr = e.addr;
            l.prim = e.prim;
            l.first_event = ix;
            m.locks.push_back(std::move(l));
            lw.emplace_back();
        } else {
            li = it->second;
        }
        slot.lock = li;
        slot.key = key;
        return li;
    }

private:
    struct Slot { LockKey key; size_t lock; };
    static constexpr size_t kSlots = 256;
    std::vector<Slot> cache_ = std::vector<Slot>(kSlots, Slot{{0, 0}, SIZE_MAX});
};

// One event applied to its lock, its thread's open waits and the lock's holds:
// the model's definition of what each event type means.
struct Step {
    Lock& L;
    LockWork& W;
    ThreadWork& th;
    const Event& e;
    EventIx ix;
    size_t li;
    const Progress& progress;  // for make_room
    bool owned;
    Mode mode;

    Wait* close_wait(WaitOutcome outcome)
    {
        for (size_t k = th.open_waits.size(); k-- > 0;) {
            if (th.open_waits[k].lock != li) continue;
            Wait& w = L.waits[th.open_waits[k].wait];
            th.open_waits.erase(th.open_waits.begin() + k);
            w.end = ix;
            w.end_ns = e.time_ns;
            w.outcome = outcome;
            uint64_t d = w.end_ns - std::min(w.end_ns, w.begin_ns);
            L.stats.total_wait_ns += d;
            if (d > L.stats.longest_wait_ns || L.stats.longest_wait == SIZE_MAX) {
                L.stats.longest_wait_ns = d;
                L.stats.longest_wait = size_t(&w - L.waits.data());
            }
            return &w;
        }
        return nullptr;
    }

    void begin_wait()
    {
        if (e.type == LT_EV_ATTEMPT && (e.flags & LT_FL_TRY)) return;  // never blocks
        bool busy = false;
        if (e.prim != LT_PRIM_COND) {
            busy = word_says_busy(e, mode);
            if (owned)
                for (size_t hi : W.open_holds) {
                    const Hold& hd = L.holds[hi];
                    if (hd.thread != e.thread && (mode != kModeRead || hd.mode != kModeRead)) busy = true;
                }
        }
        th.open_waits.push_back({li, L.waits.size()});
        make_room(L.waits, progress);
        Wait& w = L.waits.emplace_back();  // in place, as holds below
        w.thread = e.thread;
        w.mode = mode;
        w.begin_ns = e.time_ns;
        w.end_ns = kOpenEnd;
        w.begin = ix;
        w.end = kNoEvent;
        w.outcome = WaitOutcome::still_waiting;
        w.contended = busy;
    }

    // Ends every hold of the lock by another thread, at this event, marked
    // with `why` (owner_died or reset_by_init).
    void end_holds(bool Hold::*why, bool others_only)
    {
        for (size_t k = W.open_holds.size(); k-- > 0;) {
            Hold& old = L.holds[W.open_holds[k]];
            if (others_only && old.thread == e.thread) continue;
            old.end_ns = e.time_ns;
            old.released = ix;
            old.*why = true;
            W.closed(L.holds, W.open_holds[k]);
            W.open_holds.erase(W.open_holds.begin() + k);
        }
    }

    void acquired()
    {
        Wait* w = close_wait(WaitOutcome::acquired);
        if (w && w->contended) L.stats.contended++;
        L.stats.acquisitions++;
        if (mode == kModeRead) L.stats.read_acquisitions++;
        // A robust mutex whose owner died: the kernel handed it to this thread,
        // so the dead owner's hold ends here (its thread may never have
        // unlocked it, and never will).
        if (owned && e.prim == LT_PRIM_MUTEX && e.result == EOWNERDEAD) end_holds(&Hold::owner_died, true);
        // The shim records the re-take of every cond wait; when the wait
        // failed up front and the thread never held the mutex, it holds
        // nothing now (a hold here would be a phantom).
        if (owned && (e.flags & LT_FL_INTERNAL) && th.cond_release_unmatched &&
            cond_wait_never_dropped(th.cond_wait_result))
            owned = false;
        th.cond_release_unmatched = false;
        if (!owned) return;
        W.open_holds.push_back(L.holds.size());
        make_room(L.holds, progress);
        // Filled in place: a copy of one built on the stack was read back 16
        // bytes at a time from its 1- to 8-byte stores, which cannot be
        // forwarded (a fifth of the build's time).
        Hold& hd = L.holds.emplace_back();
        hd.thread = e.thread;
        hd.mode = mode == kModeNone ? kModeWrite : mode;
        hd.internal = e.flags & LT_FL_INTERNAL;
        hd.begin_ns = e.time_ns;
        hd.end_ns = kOpenEnd;
        hd.acquired = ix;
        hd.released = kNoEvent;
    }

    void wait_ended()
    {
        WaitOutcome o = e.result >= 0 ? WaitOutcome::woken
                        : (e.result == ETIMEDOUT || e.result == -ETIMEDOUT) ? WaitOutcome::timedout
                                                                            : WaitOutcome::error;
        // Positive errno values too (cond/sem waits report them that way).
        if (e.prim != LT_PRIM_FUTEX && e.result > 0) o = e.result == ETIMEDOUT ? WaitOutcome::timedout : WaitOutcome::error;
        if (o == WaitOutcome::timedout) L.stats.timeouts++;
        if (e.prim == LT_PRIM_COND) th.cond_wait_result = abs_errno(e.result);
        close_wait(o);
    }

    void released()
    {
        L.stats.releases++;
        th.last_release_lock = SIZE_MAX;
        if (!owned) return;
        size_t found = SIZE_MAX;
        for (size_t k = W.open_holds.size(); k-- > 0;) {
            const Hold& hd = L.holds[W.open_holds[k]];
            if (hd.thread != e.thread) continue;
            if (mode != kModeNone && hd.mode != mode && e.prim == LT_PRIM_RWLOCK) {
                if (found == SIZE_MAX) found = k;  // mode unknown-ish: take it if nothing better
                continue;
            }
            found = k;
            break;
        }
        if (e.flags & LT_FL_INTERNAL) th.cond_release_unmatched = found == SIZE_MAX;
        if (found == SIZE_MAX) {
            L.stats.unmatched_releases++;
            L.unmatched_releases.push_back(L.events.size() - 1);
            return;
        }
        size_t hi = W.open_holds[found];
        W.open_holds.erase(W.open_holds.begin() + found);
        Hold& hd = L.holds[hi];
        hd.end_ns = e.time_ns;
        hd.released = ix;
        W.closed(L.holds, hi);
        th.last_release_lock = li;
        th.last_release_hold = hi;
    }

    // The unlock did not happen: the hold goes on.
    void release_failed()
    {
        if (th.last_release_lock != li || th.last_release_hold == SIZE_MAX) return;
        Hold& hd = L.holds[th.last_release_hold];
        hd.end_ns = kOpenEnd;
        hd.released = kNoEvent;
        W.open_holds.push_back(th.last_release_hold);
        W.rescan = true;
        th.last_release_lock = SIZE_MAX;
    }

    void apply()
    {
        switch (e.type) {
        case LT_EV_ATTEMPT:
        case LT_EV_WAIT_BEGIN: begin_wait(); break;
        case LT_EV_ACQUIRED: acquired(); break;
        case LT_EV_FAILED:
            if (e.flags & LT_FL_TRY) L.stats.try_failures++;
            else L.stats.failures++;
            close_wait(e.result == ETIMEDOUT ? WaitOutcome::timedout : WaitOutcome::failed);
            if (e.result == ETIMEDOUT) L.stats.timeouts++;
            break;
        case LT_EV_TIMEDOUT:
            L.stats.timeouts++;
            close_wait(WaitOutcome::timedout);
            break;
        case LT_EV_WAIT_END: wait_ended(); break;
        case LT_EV_RELEASE: released(); break;
        case LT_EV_RELEASE_FAILED: release_failed(); break;
        case LT_EV_WAKE:
        case LT_EV_REQUEUE:
            L.stats.wakes++;
            if (e.prim == LT_PRIM_FUTEX && e.result > 0) L.stats.woken += uint64_t(e.result);
            break;
        case LT_EV_INIT:
            L.destroyed = false;
            // A freshly initialized lock is free: holds on the object that
            // lived here before (destroyed held, or never destroyed: a stack
            // or heap slot reused) ended with it.
            if (owned && e.result == 0) end_holds(&Hold::reset_by_init, false);
            break;
        case LT_EV_DESTROY: L.destroyed = true; break;
        case LT_EV_DESTROY_FAILED: L.destroyed = false; break;
        default: break;
        }
    }
};

// The trace's extent and which threads' histories have gaps; the reader's
// lost/torn/cut counts are final only once every event is read.
void note_extent(Model& m, const Trace& trace)
{
    const auto& tinfo = trace.threads();
    for (uint32_t i = 0; i < tinfo.size(); i++) {
        ThreadState& t = m.threads[i];
        t.history_complete = tinfo[i].lost == 0 && tinfo[i].cut == 0;
        t.ended_torn = tinfo[i].last_record_torn;
        if (!t.history_complete) m.history_complete = false;
    }
    const lt_file_header& h = trace.header();
    m.start_ns = h.start_monotonic_ns;
    if (!m.events.empty() && (m.start_ns == 0 || m.start_ns > m.events.front().time_ns))
        m.start_ns = m.events.front().time_ns;
    m.end_ns = m.events.empty() ? m.start_ns : m.events.back().time_ns;
    if (h.end_monotonic_ns > m.end_ns) m.end_ns = h.end_monotonic_ns;
}

// Longest holds, counting holds still open up to the end of the trace.
void find_longest_holds(Model& m, const std::vector<LockWork>& lw)
{
    for (size_t li = 0; li < m.locks.size(); li++) {
        Lock& L = m.locks[li];
        const LockWork& W = lw[li];
        auto consider = [&](size_t i) {
            const Hold& hd = L.holds[i];
            uint64_t end = hd.open() ? m.end_ns : hd.end_ns;
            uint64_t d = end - std::min(end, hd.begin_ns);
            if (LockWork::longer(d, i, L.stats.longest_hold_ns, L.stats.longest_hold)) {
                L.stats.longest_hold_ns = d;
                L.stats.longest_hold = i;
            }
        };
        if (W.rescan) {
            for (size_t i = 0; i < L.holds.size(); i++) consider(i);
            continue;
        }
        L.stats.longest_hold_ns = W.longest_closed_ns;
        L.stats.longest_hold = W.longest_closed;
        for (size_t i : W.open_holds) consider(i);
    }
}

// Thread states at the end of the trace: exited, blocked (on what) or running.
void settle_threads(Model& m, const std::vector<ThreadWork>& tw, const std::vector<ThreadInfo>& tinfo)
{
    for (uint32_t i = 0; i < m.threads.size(); i++) {
        ThreadState& t = m.threads[i];
        // Key and thread_local destructors run after the exit record: a wait
        // one of them began and never ended leaves the thread stuck there.
        bool stuck = false;
        for (const PendingWait& pw : tw[i].open_waits)
            if (m.locks[pw.lock].waits[pw.wait].begin > tw[i].exit_event && tw[i].exit_event != kNoEvent) stuck = true;
        if ((tw[i].exited || tinfo[i].exited()) && !stuck) {
            t.status = ThreadStatus::exited;
            t.end_unrecorded = !tw[i].exited;
            continue;
        }
        if (tw[i].open_waits.empty()) {
            t.status = ThreadStatus::running;
            continue;
        }
        const std::vector<PendingWait>& ow = tw[i].open_waits;
        const PendingWait& inner = ow.back();
        size_t pick = ow.size() - 1;
        for (size_t k = ow.size(); k-- > 0;) {
            const Wait& w = m.locks[ow[k].lock].waits[ow[k].wait];
            if (!is_sleep_mechanism(m.events[w.begin])) {
                pick = k;
                break;
            }
        }
        t.sleeps_in = m.locks[inner.lock].waits[inner.wait].begin;
        t.sleeps_in_lock = inner.lock;
        const PendingWait& pw = ow[pick];
        const Lock& L = m.locks[pw.lock];
        const Wait& w = L.waits[pw.wait];
        t.status = ThreadStatus::blocked;
        t.blocked_on = w.begin;
        t.since_ns = w.begin_ns;
        t.lock_addr = L.addr;
        t.lock_prim = L.prim;
        t.lock = pw.lock;
    }
}

// Marks an ACQUIRED made from a held set (never a value the shim writes
// there: result is 0 or EOWNERDEAD for a real one).
constexpr uint32_t kHeldSetArg = 0x484c4453;  // "SDLH"
constexpr int32_t kHeldSetResult = -0x484c44;

// Locks some thread released without holding them (glibc lets a normal
// mutex be unlocked by another thread: handed over like a semaphore).  Their
// holders' held sets keep them after such an unlock, so for them the held
// sets say nothing reliable.
std::vector<uint64_t> locks_released_by_non_holders(const Trace& trace)
{
    std::vector<uint64_t> out;
    for (const ThreadBook& b : trace.books())
        for (const lt_lock_totals& t : b.totals)
            if (t.unmatched_releases) out.push_back(t.addr);
    std::sort(out.begin(), out.end());
    return out;
}

// Is the ACQUIRED of this held lock gone from its thread's ring?
bool acquisition_overwritten(const ThreadInfo& ti, const HeldLock& h)
{
    return h.index < ti.first_index || ti.ring_capacity == 0;
}

size_t held_set_acquisition_count(const Trace& trace)
{
    size_t n = 0;
    if (!trace.has_whole_run()) return 0;
    for (size_t i = 0; i < trace.books().size() && i < trace.threads().size(); i++)
        for (const HeldLock& h : trace.books()[i].held)
            if (acquisition_overwritten(trace.threads()[i], h)) n += std::min<uint16_t>(h.depth, 64);
    return n;  // an upper bound: handed-over locks are left out below
}

// One ACQUIRED per level of each such lock, by time.
std::vector<Event> held_set_acquisitions(const Trace& trace)
{
    std::vector<Event> out;
    if (!trace.has_whole_run()) return out;
    const std::vector<uint64_t> handed = locks_released_by_non_holders(trace);
    for (uint32_t i = 0; i < trace.books().size() && i < trace.threads().size(); i++) {
        const ThreadInfo& ti = trace.threads()[i];
        for (const HeldLock& h : trace.books()[i].held) {
            if (!acquisition_overwritten(ti, h)) continue;
            if (std::binary_search(handed.begin(), handed.end(), h.addr)) continue;
            Event e{};
            // Never after the thread's oldest record still in the ring.
            e.time_ns = ti.first_time_ns && h.time_ns > ti.first_time_ns ? ti.first_time_ns : h.time_ns;
            e.addr = h.addr;
            e.stack_id = h.stack_id;
            e.type = LT_EV_ACQUIRED;
            e.prim = h.prim;
            e.flags = h.mode;
            e.result = kHeldSetResult;
            e.arg = kHeldSetArg;
            e.thread = i;
            e.tid = ti.tid;
            for (uint16_t d = 0; d < std::min<uint16_t>(h.depth, 64); d++) out.push_back(e);
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
    return out;
}

// Whole-run totals into each lock; what the rings cover.
void add_whole_run(Model& m, const Trace& trace)
{
    if (!trace.has_whole_run()) return;
    m.whole_run = true;
    const lt_file_header& hdr = trace.header();
    bool exact = !hdr.threads_dropped && !hdr.threads_recycled;
    // Threads that may have called any lock uncounted: dropped ones (no
    // slot), ones whose book is missing, ones whose totals table was full
    // (for every lock it has no entry for).
    uint32_t books_missing = uint32_t(std::min<uint64_t>(hdr.threads_dropped, UINT32_MAX)), full_tables = 0;
    std::vector<uint32_t> counted_by_full(m.locks.size(), 0);  // full tables that have the lock
    for (size_t i = 0; i < trace.books().size() && i < trace.threads().size(); i++) {
        const ThreadBook& b = trace.books()[i];
        const ThreadInfo& ti = trace.threads()[i];
        if (!b.present) {
            if (ti.ring_capacity) {
                exact = false;
                books_missing++;
            }
            continue;
        }
        if (b.totals_overflow) {
            full_tables++;
            m.totals_not_counted += b.totals_overflow;
        }
        if (b.held_torn || b.held_overflow) exact = false;
        for (const lt_lock_totals& t : b.totals) {
            auto it = m.lock_index.find(LockKey{t.addr, t.prim});
            if (it == m.lock_index.end()) continue;
            RunTotals& r = m.locks[it->second].run;
            r.known = true;
            r.acquired_read += t.acquired_read;
            r.acquired_write += t.acquired_write;
            r.contended += t.contended;
            r.blocking_calls += t.blocking_calls;
            r.wait_ns_total += t.wait_ns_total;
            if (t.wait_ns_longest > r.wait_ns_longest) {
                r.wait_ns_longest = t.wait_ns_longest;
                r.wait_longest_at_ns = t.wait_longest_at_ns;
                r.wait_longest_tid = ti.tid;
                r.wait_longest_stack = t.longest_wait_stack;
            }
            if (t.hold_ns_longest > r.hold_ns_longest) {
                r.hold_ns_longest = t.hold_ns_longest;
                r.hold_longest_at_ns = t.hold_longest_at_ns;
                r.hold_longest_tid = ti.tid;
                r.hold_longest_stack = t.longest_hold_stack;
            }
            r.timeouts += t.timeouts;
            r.try_failures += t.try_failures;
            r.failures += t.failures;
            r.unmatched_releases += t.unmatched_releases;
            if (b.totals_overflow) counted_by_full[it->second]++;
        }
    }
    m.totals_full_threads = full_tables;
    for (size_t i = 0; i < m.locks.size(); i++)
        if (m.locks[i].run.known) m.locks[i].run.threads_not_counted = books_missing + (full_tables - counted_by_full[i]);
    // A lock handed between threads leaves a stale entry in its locker's held set.
    if (!locks_released_by_non_holders(trace).empty()) exact = false;
    m.holders_exact = exact;
    for (const ThreadInfo& ti : trace.threads())
        if (ti.lost && ti.first_time_ns > m.rings_cover_from_ns) m.rings_cover_from_ns = ti.first_time_ns;
}

} // namespace

Model Model::build(Trace& trace)
{
    Model m;
    m.trace = &trace;
    // Each batch of events is built into the model as soon as it is read,
    // while it is still in cache (reading them all first, then building,
    // read the whole 64-byte-per-event array back from memory).
    EventReader reader(trace);
    reader.reserve(m.events, held_set_acquisition_count(trace));
    constexpr size_t kBatch = 512;
    EventIx ready = 0;  // events read so far

    const auto& tinfo = trace.threads();
    m.threads.resize(tinfo.size());
    std::vector<ThreadWork> tw(tinfo.size());
    for (uint32_t i = 0; i < tinfo.size(); i++) {
        ThreadState& t = m.threads[i];
        t.thread = i;
        t.tid = tinfo[i].tid;
        t.name = tinfo[i].name;
    }
    const lt_file_header& h = trace.header();
    if (h.threads_dropped || h.threads_recycled) m.history_complete = false;

    std::vector<LockWork> lw;
    LockFinder finder;
    // Locks still held whose ACQUIRED the ring has overwritten come back from
    // the held sets, merged into the events at their time.
    std::vector<Event> held = held_set_acquisitions(trace);
    size_t next_held = 0;
    // At most this many events in all, and in each thread (for make_room).
    const uint64_t events_total = reader.upper_bound() + held.size();
    std::vector<uint64_t> thread_total(tinfo.size());
    for (uint32_t i = 0; i < tinfo.size(); i++)
        thread_total[i] = std::min(events_total, tinfo[i].head - std::min(tinfo[i].head, tinfo[i].first_index));
    for (const Event& e : held) thread_total[e.thread]++;
    for (EventIx ix = 0;; ix++) {
        if (ix == ready) {
            size_t before = m.events.size();
            size_t got = reader.read(m.events, kBatch);
            const uint64_t last = got ? m.events.back().time_ns : UINT64_MAX;
            size_t from = next_held;
            while (next_held < held.size() && held[next_held].time_ns <= last) m.events.push_back(held[next_held++]);
            if (m.events.size() == before) break;
            if (got && next_held > from)
                std::inplace_merge(m.events.begin() + long(before), m.events.begin() + long(before + got),
                                   m.events.end(), [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
            if (m.events.size() >= kNoEvent)
                throw TraceError(trace.path() + ": too many events for this decoder");
            ready = EventIx(m.events.size());
        }
        const Event& e = m.events[ix];
        if (e.thread >= tw.size()) continue;  // cannot happen: the reader sets it
        if (!held.empty() && e.arg == kHeldSetArg && e.type == LT_EV_ACQUIRED && e.result == kHeldSetResult)
            m.held_set_events.push_back(ix);
        ThreadWork& th = tw[e.thread];
        th.seen++;
        m.threads[e.thread].last_event = ix;

        if (e.type == LT_EV_THREAD_EXIT && !th.exited) th.exited = true, th.exit_event = ix;
        if (!has_lock_identity(e.prim) && !is_join(e)) continue;

        const size_t li = finder.find(m, lw, e, ix);
        Lock& L = m.locks[li];
        const Progress progress{ix, events_total, th.seen, thread_total[e.thread]};
        make_room(L.events, progress);
        L.events.push_back(ix);
        L.last_event = ix;
        Step{L, lw[li], th, e, ix, li, progress, L.has_owners(), event_mode(e)}.apply();
    }
    note_extent(m, trace);
    find_longest_holds(m, lw);
    settle_threads(m, tw, tinfo);
    add_whole_run(m, trace);
    return m;
}

bool Model::held_now(uint32_t thread, uint64_t addr, uint8_t prim) const
{
    if (!whole_run || !trace || thread >= trace->books().size()) return false;
    for (const HeldLock& h : trace->books()[thread].held)
        if (h.addr == addr && h.prim == prim) return true;
    return false;
}

const Lock* Model::find_lock(uint64_t addr, uint8_t prim) const
{
    auto it = lock_index.find(LockKey{addr, prim});
    return it == lock_index.end() ? nullptr : &locks[it->second];
}

std::vector<const Lock*> Model::locks_at(uint64_t addr) const
{
    std::vector<const Lock*> out;
    for (uint8_t p = LT_PRIM_MUTEX; p <= LT_PRIM_ONCE; p++)
        if (has_lock_identity(p))
            if (const Lock* l = find_lock(addr, p)) out.push_back(l);
    return out;
}

const ThreadState* Model::thread_by_tid(int32_t tid) const
{
    const ThreadState* found = nullptr;
    for (const ThreadState& t : threads)
        if (t.tid == tid) found = &t;  // the newest slot wins if a tid was reused
    return found;
}

const ThreadState* Model::thread_by_pthread(uint64_t pthread, uint64_t at_ns) const
{
    // The joined thread may record nothing before the join begins; a thread
    // that had this pthread_t before it ended before it was created.
    const ThreadState* found = nullptr;
    uint64_t first = 0;
    const auto& info = trace->threads();
    for (size_t i = 0; i < info.size() && i < threads.size(); i++) {
        const ThreadInfo& ti = info[i];
        if (ti.pthread_self != pthread || (ti.end_ns != 0 && ti.end_ns < at_ns)) continue;
        if (!found || ti.start_ns < first) found = &threads[i], first = ti.start_ns;
    }
    return found;
}

const char* mode_name(Mode m)
{
    switch (m) {
    case kModeRead: return "read";
    case kModeWrite: return "write";
    default: return "-";
    }
}

const char* outcome_name(WaitOutcome o)
{
    switch (o) {
    case WaitOutcome::acquired: return "acquired";
    case WaitOutcome::failed: return "failed";
    case WaitOutcome::timedout: return "timed out";
    case WaitOutcome::woken: return "woken";
    case WaitOutcome::error: return "error";
    case WaitOutcome::still_waiting: return "still waiting";
    }
    return "?";
}

bool is_blocking_before_event(const Event& e)
{
    if (e.type == LT_EV_WAIT_BEGIN) return true;
    return e.type == LT_EV_ATTEMPT && !(e.flags & LT_FL_TRY) && has_lock_identity(e.prim);
}

namespace {

std::string errname(int err)
{
    err = abs_errno(err);
    const char* n = strerrorname_np(err);
    if (n) return n;
    return "errno " + std::to_string(err);
}

const char* acquire_op(const Event& e)
{
    bool tr = e.flags & LT_FL_TRY, tm = e.flags & LT_FL_TIMED;
    switch (e.prim) {
    case LT_PRIM_MUTEX: return tr ? "trylock" : tm ? "timedlock" : "lock";
    case LT_PRIM_RWLOCK:
        if (e.flags & LT_FL_READ) return tr ? "tryrdlock" : tm ? "timedrdlock" : "rdlock";
        return tr ? "trywrlock" : tm ? "timedwrlock" : "wrlock";
    case LT_PRIM_SEM: return tr ? "sem_trywait" : tm ? "sem_timedwait" : "sem_wait";
    case LT_PRIM_PROBE: return "lock (probe)";
    case LT_PRIM_SPIN: return tr ? "spin_trylock" : "spin_lock";
    default: return "acquire";
    }
}

const char* futex_op_name(uint32_t op)
{
    static const char* const names[] = {"WAIT",      "WAKE",          "FD",           "REQUEUE",   "CMP_REQUEUE",
                                        "WAKE_OP",   "LOCK_PI",       "UNLOCK_PI",    "TRYLOCK_PI", "WAIT_BITSET",
                                        "WAKE_BITSET", "WAIT_REQUEUE_PI", "CMP_REQUEUE_PI", "LOCK_PI2"};
    uint32_t cmd = op & 127u;
    return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "op?";
}

} // namespace

// One case per event type, each a line of wording: a table more than a
// function, read by looking up one case, so it stays whole.
std::string describe_event(const Event& e)
{
    char buf[320];
    const char* prim = prim_name(e.prim);
    const char* internal = (e.flags & LT_FL_INTERNAL) ? " (inside cond wait)" : "";
    unsigned long long a = e.addr, a2 = e.addr2;
    switch (e.type) {
    case LT_EV_ATTEMPT:
        snprintf(buf, sizeof buf, "%s attempt on %s 0x%llx%s", acquire_op(e), prim, a, internal);
        break;
    case LT_EV_ACQUIRED:
        if (e.result)
            snprintf(buf, sizeof buf, "%s acquired %s 0x%llx (%s)%s", acquire_op(e), prim, a,
                     errname(e.result).c_str(), internal);
        else
            snprintf(buf, sizeof buf, "%s acquired %s 0x%llx%s", acquire_op(e), prim, a, internal);
        break;
    case LT_EV_FAILED:
        snprintf(buf, sizeof buf, "%s failed on %s 0x%llx: %s", acquire_op(e), prim, a, errname(e.result).c_str());
        break;
    case LT_EV_TIMEDOUT:
        snprintf(buf, sizeof buf, "%s timed out on %s 0x%llx", acquire_op(e), prim, a);
        break;
    case LT_EV_RELEASE:
        if (e.prim == LT_PRIM_SEM)
            snprintf(buf, sizeof buf, "sem_post on sem 0x%llx (value was %u)", a, unsigned(e.state[0]));
        else
            snprintf(buf, sizeof buf, "unlock of %s 0x%llx%s%s", prim, a,
                     (e.flags & LT_FL_READ) ? " (read)" : (e.flags & LT_FL_WRITE) ? " (write)" : "", internal);
        break;
    case LT_EV_RELEASE_FAILED:
        snprintf(buf, sizeof buf, "unlock of %s 0x%llx failed: %s", prim, a, errname(e.result).c_str());
        break;
    case LT_EV_INIT:
        if (e.prim == LT_PRIM_BARRIER)
            snprintf(buf, sizeof buf, "init of barrier 0x%llx for %u (returned %d)", a, e.arg, e.result);
        else
            snprintf(buf, sizeof buf, "init of %s 0x%llx (returned %d)", prim, a, e.result);
        break;
    case LT_EV_DESTROY: snprintf(buf, sizeof buf, "destroy of %s 0x%llx", prim, a); break;
    case LT_EV_DESTROY_FAILED:
        snprintf(buf, sizeof buf, "destroy of %s 0x%llx failed: %s", prim, a, errname(e.result).c_str());
        break;
    case LT_EV_WAIT_BEGIN:
        if (e.prim == LT_PRIM_FUTEX && e.state[0] == LT_WORD_UNREAD)
            snprintf(buf, sizeof buf, "futex %s on 0x%llx (word not read: page not yet known mapped; expected %u)",
                     futex_op_name(e.arg), a, unsigned(e.state[1]));
        else if (e.prim == LT_PRIM_FUTEX)
            snprintf(buf, sizeof buf, "futex %s on 0x%llx (word %u, expected %u)", futex_op_name(e.arg), a,
                     unsigned(e.state[0]), unsigned(e.state[1]));
        else if (e.prim == LT_PRIM_COND)
            snprintf(buf, sizeof buf, "%scond wait on cond 0x%llx with mutex 0x%llx",
                     (e.flags & LT_FL_TIMED) ? "timed " : "", a, a2);
        else if (e.prim == LT_PRIM_ONCE)
            snprintf(buf, sizeof buf, "once on 0x%llx (runs or waits for its init routine)", a);
        else if (e.prim == LT_PRIM_BARRIER)
            snprintf(buf, sizeof buf, "barrier wait on barrier 0x%llx (for %u)", a, e.arg);
        else if (e.prim == LT_PRIM_THREAD)
            snprintf(buf, sizeof buf, "%sjoin of thread 0x%llx",
                     (e.flags & LT_FL_TRY) ? "try-" : (e.flags & LT_FL_TIMED) ? "timed " : "", a);
        else
            snprintf(buf, sizeof buf, "wait on %s 0x%llx", prim, a);
        break;
    case LT_EV_WAIT_END:
        if (e.prim == LT_PRIM_FUTEX)
            snprintf(buf, sizeof buf, "futex %s on 0x%llx returned %s", futex_op_name(e.arg), a,
                     e.result >= 0 ? std::to_string(e.result).c_str() : errname(e.result).c_str());
        else if (e.prim == LT_PRIM_THREAD)
            snprintf(buf, sizeof buf, "join of thread 0x%llx returned %s", a,
                     e.result == 0 ? "0" : errname(e.result).c_str());
        else
            snprintf(buf, sizeof buf, "wait on %s 0x%llx returned %s", prim, a,
                     e.result == 0 ? "0" : errname(e.result).c_str());
        break;
    case LT_EV_WAKE:
        if (e.prim == LT_PRIM_FUTEX)
            snprintf(buf, sizeof buf, "futex %s on 0x%llx woke %d (asked %u)", futex_op_name(e.arg), a, e.result,
                     unsigned(e.state[1]));
        else if (e.prim == LT_PRIM_COND)
            snprintf(buf, sizeof buf, "cond %s on 0x%llx", (e.flags & LT_FL_BROADCAST) ? "broadcast" : "signal", a);
        else
            snprintf(buf, sizeof buf, "wake on %s 0x%llx (result %d)", prim, a, e.result);
        break;
    case LT_EV_REQUEUE:
        snprintf(buf, sizeof buf, "futex %s 0x%llx -> 0x%llx (woken+requeued %d)", futex_op_name(e.arg), a, a2,
                 e.result);
        break;
    case LT_EV_CONSISTENT: snprintf(buf, sizeof buf, "mutex_consistent on 0x%llx (returned %d)", a, e.result); break;
    case LT_EV_THREAD_START: snprintf(buf, sizeof buf, "thread %d started", e.result); break;
    case LT_EV_THREAD_EXIT: snprintf(buf, sizeof buf, "thread %d exited", e.tid); break;
    case LT_EV_FORK: snprintf(buf, sizeof buf, "fork (child pid %d)", e.result); break;
    case LT_EV_EXEC: snprintf(buf, sizeof buf, "exec"); break;
    case LT_EV_DLOPEN: snprintf(buf, sizeof buf, "dlopen/dlclose"); break;
    case LT_EV_MARK:
        snprintf(buf, sizeof buf, "mark (%s)",
                 e.arg == LT_MARK_WATCHDOG ? "watchdog" : e.arg == LT_MARK_SNAPSHOT ? "snapshot" : "user");
        break;
    default: snprintf(buf, sizeof buf, "%s on %s 0x%llx", event_type_name(e.type), prim, a); break;
    }
    return buf;
}

} // namespace lt
