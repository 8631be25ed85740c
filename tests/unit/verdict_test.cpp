// The verdict needs evidence: threads waiting for work are idle, not hung; a
// wake that came before the wait, or none at all, is a lost wakeup only when
// no thread is left to send one; binary semaphores used as locks have holders
// and take part in deadlock cycles; a lock held at a normal process exit by a
// thread nobody waited for is worth an info; a killed process's waits in the
// middle of a handover are no hang.
#include "built_findings.h"
#include "core/model.h"
#include "findings/findings.h"

#include <gtest/gtest.h>

#include <cerrno>

using lt::test::Built;
using lt::test::TraceBuilder;
using lt::test::build;
using lt::test::has_error_or_warning;
using lt::test::list;
using lt::test::monotonic_now;
using lt::test::severity_of;

namespace {

constexpr uint64_t M = 0x5000, N = 0x5100, OTHER = 0x5200, CV = 0x7000, SEM_A = 0x9000, SEM_B = 0x9100, SEM_T = 0x9200;

const lt::Finding* first(const Built& r, const std::string& kind)
{
    for (const lt::Finding& f : r.findings)
        if (f.kind == kind) return &f;
    return nullptr;
}

lt::ProcessVerdict verdict(const Built& r) { return lt::judge_process(r.model, r.findings); }

// A worker that took and gave back mutex M: running at the end.
void busy(TraceBuilder& b, uint32_t t, uint64_t at)
{
    b.add(t, at, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t, at + 1, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
}

// A thread that waits on condition variable CV untimed (its mutex N given up
// inside the wait, as glibc does).
void cond_wait(TraceBuilder& b, uint32_t t, uint64_t at)
{
    b.add(t, at, LT_EV_ACQUIRED, LT_PRIM_MUTEX, N, LT_FL_WRITE);
    b.add(t, at + 1, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = N;
    b.add(t, at + 2, LT_EV_RELEASE, LT_PRIM_MUTEX, N, LT_FL_WRITE | LT_FL_INTERNAL);
}

} // namespace

// --- idle is not hung ----------------------------------------------------------

TEST(Verdict, MaintenanceThreadsOnACondvarWhileAnotherRunsAreIdle)
{
    TraceBuilder b;
    uint32_t io = b.add_thread(1), m1 = b.add_thread(2), m2 = b.add_thread(3);
    cond_wait(b, m1, 10);
    cond_wait(b, m2, 20);
    busy(b, io, 30);
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
    ASSERT_NE(first(r, "idle"), nullptr) << list(r);
    EXPECT_EQ(first(r, "idle")->threads.size(), 2u);
    EXPECT_EQ(verdict(r).state, "idle");
}

TEST(Verdict, SignalBeforeTheWaitWhileAnotherThreadRunsIsIdle)
{
    TraceBuilder b;
    uint32_t io = b.add_thread(1), w = b.add_thread(2);
    b.add(io, 5, LT_EV_WAKE, LT_PRIM_COND, CV);  // nobody waited yet: legal, the predicate says it
    cond_wait(b, w, 10);
    busy(b, io, 30);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "lost-wakeup"), -1) << list(r);
    EXPECT_EQ(severity_of(r, "idle"), int(lt::Finding::info)) << list(r);
}

TEST(Verdict, SignalBeforeTheWaitWithTheWakerGoneIsALostWakeup)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), waker = b.add_thread(2);
    b.add(waker, 5, LT_EV_WAKE, LT_PRIM_COND, CV);
    b.add(waker, 6, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    cond_wait(b, main, 10);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "lost-wakeup"), int(lt::Finding::error)) << list(r);
    EXPECT_EQ(verdict(r).state, "hung");
}

TEST(Verdict, EveryThreadAsleepWithNoWakeIsAHang)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    cond_wait(b, a, 10);
    cond_wait(b, c, 20);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "hang"), int(lt::Finding::error)) << list(r);
    EXPECT_EQ(first(r, "idle"), nullptr) << list(r);
}

// Read live: a thread waits for a mutex whose holder sleeps untimed on a
// condition variable, and the process has recorded nothing for seconds,
// though another thread runs (in a system call the shim does not record).
TEST(Verdict, LiveWaiterBehindASleepingHolderIsAHang)
{
    TraceBuilder b;
    uint64_t now = monotonic_now();
    b.hdr().pid = 1;
    b.hdr().start_monotonic_ns = now - 5000000000ull;
    uint32_t holder = b.add_thread(1), waiter = b.add_thread(2), io = b.add_thread(3);
    b.add(holder, 100, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    cond_wait(b, holder, 200);                                        // sleeps holding M
    b.add(waiter, 300, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);  // waits for M
    b.add(io, 400, LT_EV_ACQUIRED, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.add(io, 401, LT_EV_RELEASE, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    Built r = build(b);
    ASSERT_EQ(severity_of(r, "hang"), int(lt::Finding::error)) << list(r);
    EXPECT_EQ(first(r, "hang")->threads, std::vector<int32_t>{2});
}

// --- killed in the middle of a handover -----------------------------------------

// Killed right after T1 unlocked M (the kernel gave it to T2, whose ACQUIRED
// was never written) and began waiting for N, which T2 held: every thread
// looks blocked, but T2 had been handed M.
TEST(Verdict, KilledDuringAHandoverIsNoHang)
{
    TraceBuilder b;
    uint32_t t1 = b.add_thread(1), t2 = b.add_thread(2);
    b.add(t1, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t2, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, N, LT_FL_WRITE);
    b.add(t2, 12, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t1, 13, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t1, 14, LT_EV_ATTEMPT, LT_PRIM_MUTEX, N, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
    EXPECT_NE(verdict(r).state, "hung");
}

// Killed right after T2 found rwlock RW read-locked once and began to wait
// to write: nobody holds RW by the history, but T1, whose last event was an
// unlock of M, may have taken its read lock by the uncontended path (one
// ACQUIRED, written after the real call) and been descheduled before writing
// it.  With the kill a moment later that explains the word; a second later,
// with other threads recording meanwhile, it does not.
TEST(Verdict, KilledDuringAnUnrecordedFastAcquisitionIsNoHeldByNobody)
{
    constexpr uint64_t RW = 0x6000;
    auto run = [](uint64_t kill_after) {
        TraceBuilder b;
        uint32_t t1 = b.add_thread(1), t2 = b.add_thread(2), t3 = b.add_thread(3);
        busy(b, t1, 10);
        b.add(t2, 20, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ).state[0] = 8;
        b.add(t2, 21, LT_EV_RELEASE, LT_PRIM_RWLOCK, RW, LT_FL_READ).state[0] = 8;
        b.add(t2, 22, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_WRITE).state[0] = 8;  // 1 reader
        b.add(t3, 22 + kill_after, LT_EV_ACQUIRED, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
        return build(b);
    };
    Built soon = run(1000);
    EXPECT_EQ(first(soon, "held-by-nobody"), nullptr) << list(soon);
    EXPECT_FALSE(has_error_or_warning(soon)) << list(soon);
    Built late = run(1000 * 1000 * 1000);
    EXPECT_NE(first(late, "held-by-nobody"), nullptr) << list(late);
}

// --- binary semaphores used as locks -------------------------------------------

// Python's threading.Lock: sem_init(1), sem_trywait takes the unit, sem_wait
// sleeps.  transfer holds A and waits for B, audit holds B and waits for A,
// main joins transfer (it waits for transfer's thread-state lock).
TEST(Verdict, BinarySemaphoreAbbaIsADeadlockAndTheJoinerIsNotALostWakeup)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), t1 = b.add_thread(2), t2 = b.add_thread(3);
    uint64_t at = 1;
    for (uint64_t s : {SEM_A, SEM_B, SEM_T}) b.add(main, at++, LT_EV_INIT, LT_PRIM_SEM, s).arg = 1;
    b.add(t1, 10, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_T, LT_FL_TRY);
    b.add(t1, 11, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_T, LT_FL_TRY);
    b.add(t1, 12, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A, LT_FL_TRY);
    b.add(t1, 13, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A, LT_FL_TRY);
    b.add(t2, 14, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_B, LT_FL_TRY);
    b.add(t2, 15, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_B, LT_FL_TRY);
    b.add(main, 16, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_T);  // the join
    b.add(t1, 17, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_B);
    b.add(t2, 18, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);
    Built r = build(b);
    const lt::Finding* d = first(r, "deadlock");
    ASSERT_NE(d, nullptr) << list(r);
    EXPECT_EQ(d->severity, lt::Finding::error);
    EXPECT_EQ(d->threads.size(), 2u);
    EXPECT_EQ(first(r, "lost-wakeup"), nullptr) << list(r);
    EXPECT_EQ(first(r, "hang"), nullptr) << list(r);
    EXPECT_EQ(verdict(r).state, "hung");
    EXPECT_EQ(verdict(r).sure, "certain");
}

// Python's Condition.wait: a fresh lock taken, then waited on again until the
// notifier posts it.  A thread waiting on a unit it took itself is no
// self-deadlock; with another thread running it is idle.
TEST(Verdict, WaitingAgainOnASemaphoreItTookIsIdleNotASelfDeadlock)
{
    TraceBuilder b;
    uint32_t w = b.add_thread(1), io = b.add_thread(2);
    b.add(w, 1, LT_EV_INIT, LT_PRIM_SEM, SEM_A).arg = 1;
    b.add(w, 2, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A, LT_FL_TRY);
    b.add(w, 3, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A, LT_FL_TRY);
    b.add(w, 4, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);
    busy(b, io, 10);
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
    EXPECT_EQ(severity_of(r, "idle"), int(lt::Finding::info)) << list(r);
}

// A semaphore another thread posts is a signal, not a lock: no holder.
TEST(Verdict, SemaphorePostedByAnotherThreadHasNoHolder)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 1, LT_EV_INIT, LT_PRIM_SEM, SEM_A).arg = 1;
    b.add(a, 2, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A);
    b.add(c, 3, LT_EV_RELEASE, LT_PRIM_SEM, SEM_A);  // posted by a thread that took nothing
    b.add(c, 4, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A);
    b.add(c, 5, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_B);
    b.add(c, 6, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_B);  // would be a self-deadlock if SEM_B were a lock
    b.add(a, 7, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);
    Built r = build(b);
    EXPECT_EQ(first(r, "deadlock"), nullptr) << list(r);
}

// sem_init starts a new semaphore: posts of the one that lived at the same
// address before are not posts of this one, and its history does not make a
// waiter "one post short".
TEST(Verdict, SemInitStartsANewLife)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1), io = b.add_thread(2);
    b.add(a, 1, LT_EV_INIT, LT_PRIM_SEM, SEM_A).arg = 0;
    for (uint64_t k = 0; k < 5; k++) b.add(io, 2 + k, LT_EV_RELEASE, LT_PRIM_SEM, SEM_A);
    b.add(a, 8, LT_EV_DESTROY, LT_PRIM_SEM, SEM_A);
    b.add(a, 9, LT_EV_INIT, LT_PRIM_SEM, SEM_A).arg = 1;
    b.add(a, 10, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A);
    b.add(a, 11, LT_EV_RELEASE, LT_PRIM_SEM, SEM_A);
    b.add(io, 12, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A);
    b.add(a, 13, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);  // waits for io, which holds the unit
    busy(b, io, 20);
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
    EXPECT_EQ(first(r, "idle"), nullptr) << list(r);  // a lock wait, not a wait for work
}

// --- a lock held at exit ---------------------------------------------------------

// A runtime's own thread ends holding a mutex while the process exits (the
// JVM's VM Thread does), and no other thread ever asked for it.
TEST(Verdict, LockHeldAtANormalExitThatNobodyWantedIsInfo)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), vm = b.add_thread(2);
    b.add(vm, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(vm, 11, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 12, LT_EV_ACQUIRED, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.add(main, 13, LT_EV_RELEASE, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.hdr().end_monotonic_ns = b.hdr().start_monotonic_ns + 20;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::info)) << list(r);
    EXPECT_EQ(verdict(r).state, "exited");
}

TEST(Verdict, LockHeldAtExitThatAnotherThreadWaitedForIsAnError)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), dead = b.add_thread(2);
    b.add(dead, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(dead, 11, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 12, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(main, 13, LT_EV_TIMEDOUT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.hdr().end_monotonic_ns = b.hdr().start_monotonic_ns + 20;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::error)) << list(r);
}

// A counting semaphore one post short while the only other thread joins the
// sleeper: nobody is left to post (tests/zoo/lost_sem_post_missing.c).
TEST(Verdict, SemaphoreOnePostShortWithNobodyLeftToPostIsALostWakeup)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), consumer = b.add_thread(2);
    b.thread(consumer).pthread_self = 0xc0ffee;
    b.add(main, 1, LT_EV_INIT, LT_PRIM_SEM, SEM_A).arg = 0;
    b.add(consumer, 2, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);
    b.add(main, 3, LT_EV_RELEASE, LT_PRIM_SEM, SEM_A);
    b.add(main, 4, LT_EV_WAIT_BEGIN, LT_PRIM_THREAD, 0xc0ffee);
    b.add(consumer, 5, LT_EV_ACQUIRED, LT_PRIM_SEM, SEM_A);
    b.add(consumer, 6, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM_A);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "lost-wakeup"), int(lt::Finding::error)) << list(r);
    EXPECT_EQ(first(r, "idle"), nullptr) << list(r);
}

// The JVM at exit: the VM Thread ends holding a mutex another service thread
// is waiting for, and the process exits normally.  The exit ended the wait.
TEST(Verdict, LockHeldAtANormalExitWithAWaiterStoppedByTheExitIsInfo)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), vm = b.add_thread(2), sig = b.add_thread(3);
    b.add(vm, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(sig, 11, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(vm, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 13, LT_EV_ACQUIRED, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.add(main, 14, LT_EV_RELEASE, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.hdr().end_monotonic_ns = b.hdr().start_monotonic_ns + 20;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::info)) << list(r);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

// Killed right after T1 locked M and before it recorded so (an acquisition
// is recorded after the real call): T2 blocks on M, whose word names T1.
// The lock is held by T1, not by nobody.
TEST(Verdict, WordNamingARunningThreadAtAKillIsNotHeldByNobody)
{
    TraceBuilder b;
    uint32_t t1 = b.add_thread(1), t2 = b.add_thread(2);
    b.add(t1, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    b.add(t1, 11, LT_EV_RELEASE, LT_PRIM_MUTEX, OTHER, LT_FL_WRITE);
    lt_event& want = b.add(t2, 12, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    want.state[0] = 1;  // __lock: taken
    want.state[1] = 1;  // __owner: tid 1, thread t1
    Built r = build(b);
    EXPECT_EQ(first(r, "held-by-nobody"), nullptr) << list(r);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

// The process went on after the thread ended holding M, and another thread's
// trylock on M was refused: somebody needed it (tests/life key_dtor keep).
TEST(Verdict, LockHeldAtExitThatAnotherThreadTriedIsAnError)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), dead = b.add_thread(2);
    b.add(dead, 10, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(dead, 11, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 12, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TRY);
    b.add(main, 13, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_TRY, EBUSY);
    b.hdr().end_monotonic_ns = b.hdr().start_monotonic_ns + 20;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::error)) << list(r);
}

// A thread holding M waits in a timed join for a thread that waits for M: a
// deadlock until the timeout.  A try join still open never waited: no cycle.
TEST(Verdict, TimedJoinOfAThreadWaitingForOurLockIsADeadlockATryJoinIsNot)
{
    for (uint8_t flags : {uint8_t(LT_FL_TIMED), uint8_t(LT_FL_TRY)}) {
        TraceBuilder b;
        uint32_t main = b.add_thread(1), loader = b.add_thread(2);
        b.thread(loader).pthread_self = 0xc0ffee;
        b.add(main, 1, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
        b.add(loader, 2, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
        b.add(main, 3, LT_EV_WAIT_BEGIN, LT_PRIM_THREAD, 0xc0ffee, flags);
        Built r = build(b);
        if (flags == LT_FL_TIMED) {
            ASSERT_EQ(severity_of(r, "deadlock"), int(lt::Finding::error)) << list(r);
            EXPECT_EQ(first(r, "deadlock")->threads.size(), 2u);
        } else {
            EXPECT_EQ(first(r, "deadlock"), nullptr) << list(r);
        }
    }
}
