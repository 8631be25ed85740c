#include "trace_builder.h"
#include "core/model.h"
#include "findings/findings.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

using lt::test::TraceBuilder;

namespace {

constexpr uint64_t M = 0x5000, RW = 0x6000, CV = 0x7000, FX = 0x8000;

struct Built {
    std::unique_ptr<lt::Trace> trace;
    lt::Model model;
};

Built build(TraceBuilder& b)
{
    Built r;
    r.trace = std::make_unique<lt::Trace>(b.write());
    r.model = lt::Model::build(*r.trace);
    return r;
}

const lt::ThreadState& by_tid(const lt::Model& m, int tid)
{
    const lt::ThreadState* t = m.thread_by_tid(tid);
    if (!t) throw std::runtime_error("no thread " + std::to_string(tid));
    return *t;
}

} // namespace

TEST(Model, MutexHoldsAndContendedWait)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    lt_event& att = b.add(c, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    att.state[0] = 1;  // __lock taken
    b.add(a, 30, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 31, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 40, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    EXPECT_EQ(L->holds[0].begin_ns - r.model.start_ns, 11u);
    EXPECT_EQ(L->holds[0].end_ns - r.model.start_ns, 30u);
    EXPECT_EQ(r.model.threads[L->holds[1].thread].tid, 2);
    EXPECT_EQ(L->stats.acquisitions, 2u);
    EXPECT_EQ(L->stats.contended, 1u);
    ASSERT_EQ(L->waits.size(), 2u);
    EXPECT_EQ(L->waits[1].end_ns - L->waits[1].begin_ns, 11u);
    EXPECT_EQ(L->stats.longest_wait_ns, 11u);
    EXPECT_EQ(L->stats.longest_hold_ns, 19u);
    EXPECT_TRUE(L->holders_at_end().empty());
    EXPECT_EQ(by_tid(r.model, 1).status, lt::ThreadStatus::running);
}

TEST(Model, ReadersFormASetAndWriterIsBlocked)
{
    TraceBuilder b;
    uint32_t r1 = b.add_thread(1), r2 = b.add_thread(2), w = b.add_thread(3);
    b.add(r1, 10, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(r1, 11, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ, 0, 0);
    b.add(r2, 12, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(r2, 13, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    lt_event& wa = b.add(w, 20, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_WRITE);
    wa.state[0] = 2u << 3;  // two readers
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(RW, LT_PRIM_RWLOCK);
    ASSERT_NE(L, nullptr);
    auto holders = L->holders_at_end();
    ASSERT_EQ(holders.size(), 2u);
    for (size_t h : holders) EXPECT_EQ(L->holds[h].mode, lt::kModeRead);
    const lt::ThreadState& t = by_tid(r.model, 3);
    EXPECT_EQ(t.status, lt::ThreadStatus::blocked);
    EXPECT_EQ(t.lock_addr, RW);
    EXPECT_EQ(t.since_ns - r.model.start_ns, 20u);
    EXPECT_EQ(r.model.events[t.blocked_on].type, LT_EV_ATTEMPT);
    EXPECT_TRUE(L->waits.back().contended);
    EXPECT_EQ(L->waits.back().outcome, lt::WaitOutcome::still_waiting);
    EXPECT_EQ(L->stats.read_acquisitions, 2u);
}

TEST(Model, TryFailureIsNotAWaitNorBlocked)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TRY);
    b.add(a, 11, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TRY, EBUSY);
    b.add(a, 12, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TRY);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    EXPECT_TRUE(L->waits.empty());
    EXPECT_EQ(L->stats.try_failures, 1u);
    EXPECT_EQ(by_tid(r.model, 1).status, lt::ThreadStatus::running);
}

TEST(Model, TimedOutWaitIsRecorded)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TIMED);
    b.add(a, 60, LT_EV_TIMEDOUT, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TIMED, ETIMEDOUT);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_EQ(L->waits.size(), 1u);
    EXPECT_EQ(L->waits[0].outcome, lt::WaitOutcome::timedout);
    EXPECT_EQ(L->stats.timeouts, 1u);
    EXPECT_TRUE(L->holds.empty());
}

TEST(Model, CondWaitHasNoPhantomOwner)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 12, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL);
    lt_event& wb = b.add(a, 13, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV);
    wb.addr2 = M;
    // The other thread takes the mutex and returns it while the first sleeps.
    b.add(c, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 21, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 22, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    EXPECT_TRUE(L->holders_at_end().empty());
    EXPECT_EQ(L->stats.unmatched_releases, 0u);
    const lt::ThreadState& t = by_tid(r.model, 1);
    EXPECT_EQ(t.status, lt::ThreadStatus::blocked);
    EXPECT_EQ(t.lock_prim, LT_PRIM_COND);
    EXPECT_EQ(t.lock_addr, CV);
    EXPECT_EQ(by_tid(r.model, 2).status, lt::ThreadStatus::running);
}

TEST(Model, CondWaitReturnRetakesTheMutex)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 12, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL);
    b.add(a, 13, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV);
    b.add(a, 30, LT_EV_WAIT_END, LT_PRIM_COND, CV, 0, 0);
    b.add(a, 31, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    auto h = L->holders_at_end();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_TRUE(L->holds[h[0]].internal);
    const lt::Lock* C = r.model.find_lock(CV, LT_PRIM_COND);
    ASSERT_EQ(C->waits.size(), 1u);
    EXPECT_EQ(C->waits[0].outcome, lt::WaitOutcome::woken);
}

TEST(Model, FutexWaitersHaveNoInventedOwner)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 10, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, FX);
    b.add(c, 12, LT_EV_WAKE, LT_PRIM_FUTEX, FX, 0, 0);  // woke nobody
    b.add(c, 14, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, FX);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(FX, LT_PRIM_FUTEX);
    ASSERT_NE(L, nullptr);
    EXPECT_FALSE(L->has_owners());
    EXPECT_TRUE(L->holds.empty());
    EXPECT_EQ(L->stats.wakes, 1u);
    EXPECT_EQ(L->stats.woken, 0u);
    EXPECT_EQ(by_tid(r.model, 1).status, lt::ThreadStatus::blocked);
    EXPECT_EQ(by_tid(r.model, 2).status, lt::ThreadStatus::blocked);
}

TEST(Model, FutexWaitEndedByWakeIsNotBlocked)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, FX);
    b.add(a, 20, LT_EV_WAIT_END, LT_PRIM_FUTEX, FX, 0, -ETIMEDOUT);
    Built r = build(b);
    EXPECT_EQ(by_tid(r.model, 1).status, lt::ThreadStatus::running);
    EXPECT_EQ(r.model.find_lock(FX, LT_PRIM_FUTEX)->waits[0].outcome, lt::WaitOutcome::timedout);
}

TEST(Model, ExitedThreadIsNotBlocked)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 1);
    Built r = build(b);
    EXPECT_EQ(by_tid(r.model, 1).status, lt::ThreadStatus::exited);
    // It still holds the mutex per the history: owner-exited is for the detectors.
    EXPECT_EQ(r.model.find_lock(M, LT_PRIM_MUTEX)->holders_at_end().size(), 1u);
}

TEST(Model, UnmatchedReleaseIsCounted)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    EXPECT_EQ(L->stats.unmatched_releases, 1u);
    EXPECT_EQ(L->unmatched_releases.size(), 1u);
}

TEST(Model, FailedUnlockKeepsTheHold)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 11, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 12, LT_EV_RELEASE_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EPERM);
    Built r = build(b);
    EXPECT_EQ(r.model.find_lock(M, LT_PRIM_MUTEX)->holders_at_end().size(), 1u);
}

TEST(Model, LostEventsMakeTheHistoryIncomplete)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1, 4), c = b.add_thread(2);
    b.add(a, 1, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);  // will be overwritten
    for (int i = 0; i < 4; i++) b.add(a, 2 + i, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add(c, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_FALSE(r.model.history_complete);
    EXPECT_FALSE(by_tid(r.model, 1).history_complete);
    EXPECT_TRUE(by_tid(r.model, 2).history_complete);
    // No owner is invented for the lock the lost record took.
    EXPECT_TRUE(r.model.find_lock(M, LT_PRIM_MUTEX)->holders_at_end().empty());
    EXPECT_EQ(by_tid(r.model, 2).status, lt::ThreadStatus::blocked);
}

TEST(Model, BlockedFindingNamesThreadAndLock)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    auto findings = lt::find_all(r.model);
    bool found = false;
    for (const auto& f : findings)
        if (f.kind == "blocked") {
            found = true;
            EXPECT_EQ(f.threads, (std::vector<int32_t>{2}));
            EXPECT_EQ(f.locks, (std::vector<uint64_t>{M}));
        }
    EXPECT_TRUE(found);
}

TEST(Model, DescribesEvents)
{
    lt::Event e{};
    e.type = LT_EV_ATTEMPT;
    e.prim = LT_PRIM_RWLOCK;
    e.flags = LT_FL_WRITE;
    e.addr = 0x10;
    EXPECT_EQ(lt::describe_event(e), "wrlock attempt on rwlock 0x10");
    e.type = LT_EV_FAILED;
    e.flags = LT_FL_READ | LT_FL_TRY;
    e.result = EBUSY;
    EXPECT_EQ(lt::describe_event(e), "tryrdlock failed on rwlock 0x10: EBUSY");
}

// glibc's own futex sleep inside pthread_mutex_lock (LOCKTRACE_LIBC_FUTEX=1):
// the thread is blocked on the mutex; the futex word is where it sleeps.
TEST(Model, BlockedOnTheLockNotTheFutexItSleepsIn)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, 0);
    b.add(t, 11, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, M, 0);
    Built r = build(b);
    const lt::ThreadState& s = by_tid(r.model, 1);
    ASSERT_EQ(s.status, lt::ThreadStatus::blocked);
    EXPECT_EQ(r.model.events[s.blocked_on].type, LT_EV_ATTEMPT);
    EXPECT_EQ(s.lock_prim, LT_PRIM_MUTEX);
    EXPECT_EQ(s.since_ns - r.model.start_ns, 10u);
    ASSERT_NE(s.sleeps_in, lt::kNoEvent);
    EXPECT_EQ(r.model.events[s.sleeps_in].prim, LT_PRIM_FUTEX);
    EXPECT_EQ(r.model.locks[s.sleeps_in_lock].prim, LT_PRIM_FUTEX);
}

// A futex wait alone is what the thread is blocked on.
TEST(Model, LoneFutexWaitIsWhatTheThreadIsBlockedOn)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 10, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, FX, 0);
    Built r = build(b);
    const lt::ThreadState& s = by_tid(r.model, 1);
    ASSERT_EQ(s.status, lt::ThreadStatus::blocked);
    EXPECT_EQ(s.lock_prim, LT_PRIM_FUTEX);
    EXPECT_EQ(s.blocked_on, s.sleeps_in);
}

// The longest hold is kept as holds close; ties go to the first hold, and a
// hold still open at the end counts up to the end of the trace.
TEST(Model, LongestHoldFirstOfEqualOnesAndOpenOnes)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2), d = b.add_thread(3);
    b.add(a, 10, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(c, 12, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(c, 17, LT_EV_RELEASE, LT_PRIM_RWLOCK, RW, LT_FL_READ);  // hold 1: 5, closes first
    b.add(a, 18, LT_EV_WAKE, LT_PRIM_FUTEX, FX);
    b.add(a, 15, LT_EV_RELEASE, LT_PRIM_RWLOCK, RW, LT_FL_READ);  // hold 0: 5 (stamped before the wake)
    b.add(a, 20, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 24, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);   // hold 0: 4
    b.add(c, 30, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);  // hold 1: open, 30 -> 40
    b.add(d, 40, LT_EV_MARK, LT_PRIM_NONE, 0);
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(RW, LT_PRIM_RWLOCK);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    ASSERT_LT(L->holds[1].released, L->holds[0].released);
    EXPECT_EQ(L->stats.longest_hold, 0u);
    EXPECT_EQ(L->stats.longest_hold_ns, 5u);
    const lt::Lock* Mx = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(Mx, nullptr);
    EXPECT_EQ(Mx->stats.longest_hold, 1u);
    EXPECT_EQ(Mx->stats.longest_hold_ns, 10u);
}

// A hold reopened by a failed unlock and closed again earlier on the clock
// (a thread's records are in its own order, their timestamps need not be) is
// no longer as long as it was when it first closed.
TEST(Model, LongestHoldAfterFailedUnlockReopened)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 50, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);           // 40 for now
    b.add(a, 51, LT_EV_RELEASE_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EPERM);
    b.add(a, 30, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);           // 20 in the end
    b.add(c, 60, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 95, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);           // 35
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    EXPECT_EQ(L->holds[0].end_ns - r.model.start_ns, 30u);
    EXPECT_EQ(L->stats.longest_hold, 1u);
    EXPECT_EQ(L->stats.longest_hold_ns, 35u);
}

// A lock with tens of thousands of holds (its vectors grow by prediction, not
// by doubling) next to a small one: every hold and event is where it belongs.
TEST(Model, HotLockWithManyHolds)
{
    TraceBuilder b;
    constexpr int kIters = 12000;
    uint32_t a = b.add_thread(1, 32768), c = b.add_thread(2, 64);
    for (int i = 0; i < kIters; i++) {
        b.add(a, 10 + 4 * i, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
        b.add(a, 11 + 4 * i + (i == 7777 ? 2 : 0), LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    }
    b.add(c, 5, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M + 64, LT_FL_WRITE);
    b.add(c, 6, LT_EV_RELEASE, LT_PRIM_MUTEX, M + 64, LT_FL_WRITE);
    Built r = build(b);
    ASSERT_EQ(r.model.events.size(), 2u * kIters + 2);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), size_t(kIters));
    ASSERT_EQ(L->events.size(), 2u * kIters);
    for (int i = 0; i < kIters; i++) {
        const lt::Hold& h = L->holds[i];
        ASSERT_EQ(h.begin_ns - r.model.start_ns, 10u + 4 * i) << i;
        ASSERT_EQ(r.model.events[h.acquired].type, LT_EV_ACQUIRED) << i;
        ASSERT_EQ(r.model.events[h.released].type, LT_EV_RELEASE) << i;
        ASSERT_EQ(h.acquired, L->events[2 * i]) << i;
        ASSERT_EQ(h.released, L->events[2 * i + 1]) << i;
    }
    EXPECT_EQ(L->stats.acquisitions, uint64_t(kIters));
    EXPECT_EQ(L->stats.longest_hold, 7777u);
    EXPECT_EQ(L->stats.longest_hold_ns, 3u);
    const lt::Lock* small = r.model.find_lock(M + 64, LT_PRIM_MUTEX);
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(small->holds.size(), 1u);
    EXPECT_EQ(small->events.size(), 2u);
}

// A lock still held whose ACQUIRED the ring overwrote comes back from the
// held set (format version 2): its holder, mode, time and stack are known.
TEST(ModelWholeRun, HolderFromTheHeldSetAfterTheRingWrapped)
{
    TraceBuilder b;
    b.make_v2();
    uint32_t r = b.add_thread(200, 4, "reader");
    uint32_t w = b.add_thread(201, 4, "writer");
    b.add_book(r);
    b.add_book(w);
    uint32_t st = b.add_stack({0x401000, 0x401100});
    // The reader took 0x7000 for reading at record 1, long overwritten: its
    // ring now holds records 10..13 of other locks.
    b.thread(r).head = 10;
    for (int i = 0; i < 4; i++)
        b.add(r, 100 + i, i % 2 ? LT_EV_RELEASE : LT_EV_ACQUIRED, LT_PRIM_MUTEX, 0x8000, LT_FL_WRITE);
    b.hold(r, 0x7000, 1, 20, LT_FL_READ, LT_PRIM_RWLOCK, st);
    b.add(w, 200, LT_EV_THREAD_START, LT_PRIM_THREAD, 2, 0, 201);
    b.add(w, 210, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, 0x7000, LT_FL_WRITE);
    lt::Trace t(b.write());
    lt::Model m = lt::Model::build(t);
    ASSERT_TRUE(m.whole_run);
    EXPECT_TRUE(m.holders_exact);
    const lt::Lock* L = m.find_lock(0x7000, LT_PRIM_RWLOCK);
    ASSERT_NE(L, nullptr);
    std::vector<size_t> holders = L->holders_at_end();
    ASSERT_EQ(holders.size(), 1u);
    const lt::Hold& h = L->holds[holders[0]];
    EXPECT_EQ(m.threads[h.thread].tid, 200);
    EXPECT_EQ(h.mode, lt::kModeRead);
    EXPECT_EQ(h.begin_ns, t.header().start_monotonic_ns + 20);
    EXPECT_TRUE(m.from_held_set(h.acquired));
    EXPECT_EQ(m.events[h.acquired].stack_id, st);
    EXPECT_EQ(m.threads[1].status, lt::ThreadStatus::blocked);
}

// A wrapped ring's releases whose acquisitions are gone: the RELEASE says
// whether the thread's held set had the lock (format version 2).  Only a
// release its held set did not match is a bad unlock, and then an error.
TEST(ModelWholeRun, UnlockNotHeldOnlyWhereTheHeldSetProvesIt)
{
    auto unlock_findings = [](int32_t release_result) {
        TraceBuilder b;
        b.make_v2();
        uint32_t t = b.add_thread(300, 4, "worker");
        b.add_book(t);
        b.thread(t).head = 20;  // records 0..19 gone: the lock's ACQUIRED too
        b.add(t, 100, LT_EV_RELEASE, LT_PRIM_MUTEX, 0x9000, LT_FL_WRITE, release_result);
        b.add(t, 110, LT_EV_ACQUIRED, LT_PRIM_MUTEX, 0xa000, LT_FL_WRITE);
        b.add(t, 120, LT_EV_RELEASE, LT_PRIM_MUTEX, 0xa000, LT_FL_WRITE, LT_RELEASE_HELD);
        lt::Trace tr(b.write());
        lt::Model m = lt::Model::build(tr);
        std::vector<lt::Finding> out;
        for (lt::Finding& f : lt::find_all(m))
            if (f.kind == "unlock-not-held" || f.kind == "unlock-not-owner") out.push_back(f);
        return out;
    };
    EXPECT_TRUE(unlock_findings(LT_RELEASE_HELD).empty());     // the ring's gap, not a bug
    EXPECT_TRUE(unlock_findings(LT_RELEASE_UNKNOWN).empty());  // a full held set cannot tell
    std::vector<lt::Finding> bad = unlock_findings(LT_RELEASE_UNMATCHED);
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].kind, "unlock-not-held");
    EXPECT_EQ(bad[0].severity, lt::Finding::error);
}

// Whole-run counts are exact only when every thread could count the lock:
// a thread whose totals table was full and has no entry for it, a thread
// without a book and a thread never traced (dropped) make them a lower bound.
TEST(ModelWholeRun, CountsAreALowerBoundWhereAThreadCouldNotCount)
{
    auto counts = [](bool full_without, bool full_with, bool book_missing, bool dropped) {
        TraceBuilder b;
        b.make_v2();
        uint32_t a = b.add_thread(400, 4, "counts");
        uint32_t f = b.add_thread(401, 4, "full");
        uint32_t n = b.add_thread(402, 4, "nobook");
        b.add_book(a);
        b.add_book(f);
        if (!book_missing) b.add_book(n);
        if (dropped) b.hdr().threads_dropped = 1;
        for (uint32_t s : {a, f, n}) {
            b.add(s, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, 0x9000, LT_FL_WRITE);
            b.add(s, 20, LT_EV_RELEASE, LT_PRIM_MUTEX, 0x9000, LT_FL_WRITE, LT_RELEASE_HELD);
        }
        lt_lock_totals& t = b.book(a).totals[5];
        t.addr = 0x9000;
        t.prim = LT_PRIM_MUTEX;
        t.acquired_write = 7;
        if (full_without || full_with) b.book(f).totals_overflow = 3;
        if (full_with) b.book(f).totals[9] = t;  // its table has the lock: all its calls counted
        lt::Trace tr(b.write());
        lt::Model m = lt::Model::build(tr);
        const lt::Lock* L = m.find_lock(0x9000, LT_PRIM_MUTEX);
        EXPECT_NE(L, nullptr);
        return L ? L->run.threads_not_counted : ~0u;
    };
    EXPECT_EQ(counts(false, false, false, false), 0u);
    EXPECT_EQ(counts(true, false, false, false), 1u);   // full, no entry: may have called it
    EXPECT_EQ(counts(false, true, false, false), 0u);   // full, with its entry: counted
    EXPECT_EQ(counts(false, false, true, false), 1u);   // no book
    EXPECT_EQ(counts(true, false, true, true), 3u);     // all three
}
