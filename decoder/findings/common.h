// Small helpers shared by the detectors (common.cpp): references to threads,
// locks, sites and times for a finding's words, evidence from events, glibc
// lock words decoded; and the analysis of waits that are still asleep at the
// end of the trace (stuck_waits.cpp, used by both lost_wakeup.cpp and hang.cpp
// so that they split the sleepers the same way).
#pragma once

#include "detectors.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace lt {
// Helpers private to the detectors (kept apart from the commands' own helpers).
namespace fx {

std::string hex(uint64_t v);

// References for a finding's words (finding.h): the presentation layer names
// them from the symbols, so detectors never look a name up or spell one.
// A thread by its index in Model::threads.
Text thread_ref(uint32_t thread);
// A thread by the tid a lock word names: its reference when the trace has that
// thread, else just "thread 1234".
Text thread_ref_tid(const Model& m, int32_t tid);
// A lock with its primitive ("mutex 0x55... (accounts+56)"), and without it ("0x55... (accounts+56)").
Text lock_ref(const Lock& l);
Text address_ref(const Lock& l);
// Where event ix happened in the user's code ("transfer (demo_bank.c:52)"),
// after `before`; both are left out when the stack is unknown.
Text site_ref(EventIx ix, std::string before = " in ");
// The same for a stack id (what outlives the rings has stacks, not events).
Text stack_site_ref(uint32_t stack_id, std::string before = " in ");
// A moment of the trace, "+1.234567s" relative to its start.
Text time_ref(uint64_t t_ns);

Evidence make_evidence(EventIx ix, Text why = Text());

// The sentence every finding adds when the ring overwrote events: the
// analysis only speaks about what was recorded.
std::string history_gap_note(const Model& m);

// Threads whose ring lost events recorded after time t (their oldest kept
// event is newer than t): what they did after t is partly unknown.
std::vector<uint32_t> threads_with_gap_after(const Model& m, uint64_t t);
// " Caution: ..." naming those threads, or nothing when there are none.
Text gap_after_note(const std::vector<uint32_t>& threads, const std::string& what);

// glibc rwlock __readers word.
inline uint32_t rw_readers(const Event& e) { return uint32_t(e.state[0]) >> 3; }
inline bool rw_wrphase(const Event& e) { return e.state[0] & 1u; }
inline bool rw_wrlocked(const Event& e) { return e.state[0] & 2u; }
inline int32_t rw_cur_writer(const Event& e) { return int32_t(uint32_t(e.addr2)); }
inline uint32_t rw_flags(const Event& e) { return uint32_t(e.addr2 >> 32); }
// glibc mutex words.
inline uint32_t mx_lock(const Event& e) { return uint32_t(e.state[0]); }
inline int32_t mx_owner(const Event& e) { return int32_t(uint32_t(e.state[1])); }
inline uint32_t mx_nusers(const Event& e) { return uint32_t(e.state[1] >> 32); }
constexpr uint32_t kMutexPshared = 128;  // PTHREAD_MUTEX_PSHARED_BIT in __kind (addr2)
constexpr uint32_t kMutexRobust = 16;    // PTHREAD_MUTEX_ROBUST_NORMAL_NP bit in __kind

// Futex op decoding (the event's `arg`).
inline uint32_t futex_cmd(const Event& e) { return e.arg & 127u; }
inline bool futex_private(const Event& e) { return e.arg & 128u; }
bool futex_is_wait(const Event& e);   // WAIT, WAIT_BITSET (not PI, not requeue-PI)
bool futex_is_wake(const Event& e);   // WAKE, WAKE_BITSET
// The bitset a wait sleeps with / a wake targets (all ones for plain ops).
uint32_t futex_bitset(const Event& e);
inline uint32_t futex_val(const Event& e) { return uint32_t(e.state[1]); }

// A futex wait whose expected value reads as a small counter that went below
// zero (0xffffffff, 0xfffffffe, ...) while every other value seen on that word
// was a small count: the sign of a counter that wrapped.
bool futex_wait_looks_wrapped(const Model& m, const Lock& word, const Event& wait);

// A binary semaphore used as a lock (sem_locks.cpp): set up with the value 1
// (or, with its sem_init lost, taken and posted back by one thread), and every
// post of its current life made by the thread that took the unit.  `holders`:
// who took the unit and has not posted it back at the end of the trace.
struct SemHolder {
    uint32_t thread;      // index into Model::threads
    EventIx acquired;     // where it took the unit
};
struct SemLock {
    bool lock_like = false;
    std::vector<SemHolder> holders;
};
SemLock sem_lock(const Model& m, const Lock& sem);

// A thread asleep at the end of the trace in a futex wait, a condition
// variable wait or a semaphore wait, and what the history says about the
// wakes that could have reached it.
struct StuckWait {
    enum Verdict {
        no_wake,        // nothing was ever sent that could reach it
        missed_wake,    // wakes were sent but could not reach it (evidence says how)
        reachable_wake, // a wake that could reach it came after it began: not lost
        holder_owes,    // a semaphore used as a lock: it waits for the thread that took the unit
        not_applicable  // timed waits, waits we cannot judge
    };
    uint32_t thread = 0;
    EventIx begin = kNoEvent;
    const Lock* word = nullptr;
    Verdict verdict = not_applicable;
    Text why;                        // sentence for the summary (missed_wake)
    // missed_wake from the order of events only (a wake or post that came
    // before the wait began): in a process where another thread can still
    // send one, that is a thread waiting for work, not a lost wakeup.
    bool only_early_wake = false;
    std::vector<uint32_t> gap_threads; // threads whose events after the sleep began were partly overwritten
    std::vector<Evidence> evidence;  // the wakes that missed, etc.
};
// Waits that are still asleep, in a process that is still asleep long
// enough to judge (see wait_may_be_in_flight).
std::vector<StuckWait> analyze_stuck_waits(const Model& m);

// Which threads can still go on at the end of the trace (progress.cpp).  A
// stuck thread can never go on: it waits for a lock or a join whose owner is
// stuck too, or for a signal that no thread left can send.  Empty of stuck
// threads when the process ended normally.
struct Progress {
    std::vector<bool> goes_on;  // by thread index
    std::vector<bool> stuck;    // by thread index: not ended, does not go on
    uint64_t quiet_ns = 0;      // read live: how long the trace has recorded nothing
    bool any_stuck() const { return std::find(stuck.begin(), stuck.end(), true) != stuck.end(); }
};
Progress progress(const Model& m);
// Read live, how long the trace must have recorded nothing before a holder
// that sleeps untimed counts as not about to release its lock.
constexpr uint64_t kQuietNs = 1000 * 1000 * 1000;

// When the process was last seen running: now for a live read, the moment of
// packing for a bundle of a running process, else 0 (Trace::open_until_ns).
uint64_t judged_at(const Model& m);
// How long a wait must have lasted, in a live process, before the absence of
// a wake can be judged: a wake is recorded after the real call, so a reader
// that catches a busy process between the two would see a lost wakeup.
constexpr uint64_t kLiveWaitGraceNs = 200 * 1000 * 1000;
// True when the wait that began at begin_ns was younger than the grace period
// at `at` (judged_at; 0: never).
bool wait_may_be_in_flight(const Model& m, uint64_t begin_ns, uint64_t at);
// An uncontended acquisition records one ACQUIRED after the real call: a
// thread still running when the trace ends (killed, or read live) may hold a
// lock it has not recorded yet, if it was descheduled in between.  True when
// at_ns is close enough to that end (the last record of a killed process, or
// the moment it was last seen running) for that to be.
bool unrecorded_acquisition_possible(const Model& m, uint64_t at_ns);

} // namespace fx
using namespace fx;
} // namespace lt
