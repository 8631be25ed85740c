// The model: what the recorded history says about every lock and thread.
//
// Built once from a Trace (Model::build).  Read by the report/timeline commands
// and by the detectors in decoder/findings/.  Everything here is derived from the
// events only: when the history has gaps (events lost to ring overwrite, threads
// dropped or recycled), `history_complete` is false and owners are never invented.
#pragma once

#include "huge_pages.h"
#include "live_view.h"
#include "trace_reader.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lt {

using EventIx = uint32_t;                     // index into Model::events
constexpr EventIx kNoEvent = UINT32_MAX;
constexpr uint64_t kOpenEnd = UINT64_MAX;     // interval still open at the end of the trace

enum Mode : uint8_t { kModeNone = 0, kModeRead = 1, kModeWrite = 2 };

// One interval during which a thread held a lock (mutex, rwlock, probe).
// (Fields ordered so that it packs into 32 bytes: a trace has millions.)
struct Hold {
    uint32_t thread;              // index into Model::threads
    Mode mode;                    // read (shared) or write (exclusive)
    bool internal;                // taken by libc inside a cond wait (LT_FL_INTERNAL)
    // Ended not by an unlock but by the next owner's EOWNERDEAD (a robust
    // mutex whose owner died holding it); `released` is that ACQUIRED.
    bool owner_died = false;
    // Ended by an init of the lock at the same address (`released` is the
    // INIT): the object it was held on is gone.
    bool reset_by_init = false;
    uint64_t begin_ns;
    uint64_t end_ns;              // kOpenEnd: still held at the end of the trace
    EventIx acquired;             // the ACQUIRED event
    EventIx released;             // the RELEASE event, or kNoEvent
    bool open() const { return end_ns == kOpenEnd; }
};
static_assert(sizeof(Hold) == 32, "Hold packs into 32 bytes");

enum class WaitOutcome : uint8_t {
    acquired,     // ACQUIRED
    failed,       // FAILED (result = errno)
    timedout,     // TIMEDOUT, or WAIT_END with ETIMEDOUT
    woken,        // WAIT_END with result 0 (or >= 0 for futex_waitv)
    error,        // WAIT_END with another errno (EAGAIN, EINTR, ...)
    still_waiting // no after-event: the thread was blocked when the trace ended
};

// One interval during which a thread waited: ATTEMPT of a blocking acquire ->
// ACQUIRED/FAILED/TIMEDOUT, or WAIT_BEGIN -> WAIT_END.  Try variants are not waits.
struct Wait {
    uint32_t thread;
    Mode mode;
    WaitOutcome outcome;
    bool contended;               // another thread held it (history or lock word) when it began
    uint64_t begin_ns;
    uint64_t end_ns;              // kOpenEnd while still waiting
    EventIx begin;                // ATTEMPT or WAIT_BEGIN
    EventIx end;                  // the after-event, or kNoEvent
};
static_assert(sizeof(Wait) == 32, "Wait packs into 32 bytes");

struct LockKey {
    uint64_t addr;
    uint8_t prim;
    bool operator==(const LockKey& o) const { return addr == o.addr && prim == o.prim; }
};
struct LockKeyHash {
    size_t operator()(const LockKey& k) const { return std::hash<uint64_t>()(k.addr * 31 + k.prim); }
};

struct LockStats {
    uint64_t acquisitions = 0;      // ACQUIRED (incl. try successes)
    uint64_t read_acquisitions = 0;
    uint64_t contended = 0;         // waits that were contended when they began
    uint64_t try_failures = 0;      // FAILED with LT_FL_TRY (EBUSY)
    uint64_t failures = 0;          // other FAILED
    uint64_t timeouts = 0;
    uint64_t releases = 0;
    uint64_t unmatched_releases = 0;// RELEASE by a thread with no recorded hold
    uint64_t wakes = 0;             // WAKE events (futex, cond signal/broadcast, sem_post is RELEASE)
    uint64_t woken = 0;             // sum of futex wake results
    uint64_t total_wait_ns = 0;
    uint64_t longest_wait_ns = 0;
    size_t longest_wait = SIZE_MAX; // index into Lock::waits
    uint64_t longest_hold_ns = 0;
    size_t longest_hold = SIZE_MAX; // index into Lock::holds
};

// A lock's totals over the whole run (format version 2): every thread's
// book added up.  `known` is false for a trace without them.
struct RunTotals {
    bool known = false;
    uint64_t acquired_read = 0, acquired_write = 0;
    uint64_t contended = 0, blocking_calls = 0;
    uint64_t wait_ns_total = 0, wait_ns_longest = 0, wait_longest_at_ns = 0;
    int32_t wait_longest_tid = 0;
    uint32_t wait_longest_stack = 0;
    uint64_t hold_ns_longest = 0, hold_longest_at_ns = 0;
    int32_t hold_longest_tid = 0;
    uint32_t hold_longest_stack = 0;
    uint64_t timeouts = 0, try_failures = 0, failures = 0, unmatched_releases = 0;
    // Threads whose calls on the lock may be missing: their totals table was
    // full and holds no entry for it, or their totals are not in the trace.
    // Then the counts are a lower bound.
    uint32_t threads_not_counted = 0;
    uint64_t acquisitions() const { return acquired_read + acquired_write; }
    bool exact() const { return threads_not_counted == 0; }
};

struct Lock {
    uint64_t addr = 0;
    uint8_t prim = LT_PRIM_NONE;
    BigVector<EventIx> events;      // every event about this object, in time order
    BigVector<Hold> holds;          // in order of acquisition (empty for futex/sem/cond)
    BigVector<Wait> waits;          // in order of beginning
    std::vector<size_t> unmatched_releases; // indices into events
    LockStats stats;               // of the events in the rings
    RunTotals run;                  // of the whole run, when the trace keeps them
    EventIx first_event = kNoEvent, last_event = kNoEvent;
    bool destroyed = false;         // a DESTROY without a DESTROY_FAILED after it
    // Open holds at the end of the trace (indices into holds): the holders
    // "per the recorded history".  Readers are the set of open read holds.
    std::vector<size_t> holders_at_end() const;
    bool has_owners() const
    {
        return prim == LT_PRIM_MUTEX || prim == LT_PRIM_RWLOCK || prim == LT_PRIM_PROBE || prim == LT_PRIM_SPIN;
    }
    // Joins of a thread (pthread_join, thrd_join) are waits on it: `addr` is
    // its pthread_t, and it is waited for until it ends.
    bool is_thread() const { return prim == LT_PRIM_THREAD; }
};

enum class ThreadStatus : uint8_t { exited, running, blocked };

struct ThreadState {
    uint32_t thread;                // index into Model::threads == Trace::threads()
    int32_t tid;
    std::string name;
    ThreadStatus status = ThreadStatus::running;
    EventIx last_event = kNoEvent;
    // When blocked: the before-event with no after-event, and on what.  With
    // waits nested in one another (glibc's own futex sleep inside a mutex
    // lock under LOCKTRACE_LIBC_FUTEX=1, parking_lot's park and futex sleep
    // inside lock_slow) this is the innermost wait that is not such a sleep
    // mechanism: the lock the thread is trying to get, not the word it sleeps on.
    EventIx blocked_on = kNoEvent;
    // The innermost open wait (== blocked_on when nothing is nested inside it):
    // the futex word or park the thread actually sleeps in, kept as detail.
    EventIx sleeps_in = kNoEvent;
    size_t sleeps_in_lock = SIZE_MAX; // index into Model::locks
    uint64_t since_ns = 0;
    uint64_t lock_addr = 0;
    uint8_t lock_prim = LT_PRIM_NONE;
    size_t lock = SIZE_MAX;         // index into Model::locks
    bool history_complete = true;   // no events of this thread were lost or cut
    bool ended_torn = false;        // its newest record was torn (killed mid-write)
    // The thread table says it ended, but its ring has no THREAD_EXIT: the
    // recorder stopped recording it before it ended (e.g. it was cancelled
    // inside the recorder), so what it did last is unknown.
    bool end_unrecorded = false;
};

class Model {
public:
    // Reads every event of the trace and builds the model.  Throws TraceError.
    static Model build(Trace& trace);

    Trace* trace = nullptr;
    std::vector<Event> events;              // all events, merged by time
    std::vector<Lock> locks;                // in order of first appearance
    std::vector<ThreadState> threads;       // same order as trace->threads()
    uint64_t start_ns = 0;                  // header start_monotonic_ns (or first event)
    uint64_t end_ns = 0;                    // last event time (or process end)
    // False when any thread lost events to overwrite or truncation, or the
    // shim dropped/recycled threads: holders may be unknown.
    bool history_complete = true;
    // What every thread was doing when the trace was read live (or when a
    // stored view was taken, if no event came after it); null when unknown.
    // Owned by the caller (Analysis); the detectors add it to the history.
    const LiveView* live = nullptr;

    // What outlives the rings (format version 2).
    bool whole_run = false;
    // Every thread's held set was read whole (none torn or full, no thread
    // dropped or recycled): the holders at the end are exact, however much
    // the rings lost.
    bool holders_exact = false;
    // Threads whose totals table was full, and their lock calls it had no
    // room for: the counts of a lock such a thread may have called are a
    // lower bound (RunTotals::threads_not_counted).
    uint32_t totals_full_threads = 0;
    uint64_t totals_not_counted = 0;
    // ACQUIRED events made from held sets for locks still held whose own
    // record the ring no longer has (ascending).  Their time and stack are
    // the acquisition's; their lock-word snapshot is unknown (zero).
    std::vector<EventIx> held_set_events;
    bool from_held_set(EventIx ix) const
    {
        return std::binary_search(held_set_events.begin(), held_set_events.end(), ix);
    }
    // Does the thread's held set say it holds (addr, prim) now?
    bool held_now(uint32_t thread, uint64_t addr, uint8_t prim) const;
    // A RELEASE its thread's held set did not match: the thread did not hold
    // the lock, whatever the ring lost (format version 2 only).
    bool release_unmatched_proven(const Event& e) const
    {
        return whole_run && e.type == LT_EV_RELEASE && e.result == LT_RELEASE_UNMATCHED;
    }
    // ... and one it matched, or could not tell (a full held set).
    bool release_matched_or_unknown(const Event& e) const
    {
        return whole_run && e.type == LT_EV_RELEASE && e.result != LT_RELEASE_UNMATCHED;
    }
    // The time the rings cover: from the newest of the threads' oldest
    // records (0 when no ring lost anything) to the end.
    uint64_t rings_cover_from_ns = 0;

    const Lock* find_lock(uint64_t addr, uint8_t prim) const;
    // Every lock with that address (any primitive).
    std::vector<const Lock*> locks_at(uint64_t addr) const;
    const ThreadState* thread_by_tid(int32_t tid) const;
    // The thread whose pthread_t was `pthread` at time `at_ns` (the one not
    // ended by then: an ended thread's pthread_t is reused), or nullptr.
    const ThreadState* thread_by_pthread(uint64_t pthread, uint64_t at_ns) const;
    const std::vector<uint64_t>& stack(EventIx ev) const { return trace->stack(events[ev].stack_id); }
    // Relative time for printing.
    uint64_t rel(uint64_t t) const { return t >= start_ns ? t - start_ns : 0; }

    std::unordered_map<LockKey, size_t, LockKeyHash> lock_index;
};

// Short human description of one event ("rdlock attempt", "unlock", "futex wake woke 1").
std::string describe_event(const Event& e);
const char* mode_name(Mode m);
const char* outcome_name(WaitOutcome o);
// True for an ATTEMPT that can block (not a try variant) or a WAIT_BEGIN.
bool is_blocking_before_event(const Event& e);

} // namespace lt
