// Detector rules on hand-made histories: legal-but-unusual cases that are
// easy to mistake for errors (robust mutexes, cancelled cond waits,
// condvars destroyed after a broadcast, bad timeouts, live reads), and the
// real bugs right next to them, which must still be reported.
#include "built_findings.h"
#include "core/model.h"
#include "findings/findings.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <unistd.h>

using lt::test::Built;
using lt::test::TraceBuilder;
using lt::test::build;
using lt::test::has_error_or_warning;
using lt::test::list;
using lt::test::monotonic_now;
using lt::test::severity_of;

namespace {

constexpr uint64_t M = 0x5000, RW = 0x6000, CV = 0x7000, FX = 0x8000, SEM = 0x9000;

// A summary's words with its references left as "<ref>" (naming them is the
// presentation layer's part): enough to tell which finding failed.
std::string words_of(const lt::Text& t)
{
    std::string s;
    for (const lt::Text::Piece& p : t.pieces) s += p.kind == lt::Text::Piece::Kind::words ? p.words : "<ref>";
    return s;
}

constexpr uint32_t kRobust = 16;  // glibc __kind bit

} // namespace

// --- robust mutexes ---------------------------------------------------------

TEST(Findings, EownerdeadPassesTheMutexOn)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), dead = b.add_thread(2);
    b.add(main, 1, LT_EV_INIT, LT_PRIM_MUTEX, M).addr2 = kRobust;
    b.add(dead, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(dead, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(dead, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.thread(dead).state = LT_SLOT_EXITED;
    b.add(main, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(main, 21, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EOWNERDEAD).addr2 = kRobust;
    b.add(main, 22, LT_EV_CONSISTENT, LT_PRIM_MUTEX, M).addr2 = kRobust;
    b.add(main, 23, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(main, 24, LT_EV_DESTROY, LT_PRIM_MUTEX, M).addr2 = kRobust;
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    EXPECT_TRUE(L->holds[0].owner_died);
    EXPECT_FALSE(L->holds[0].open());
    EXPECT_TRUE(L->holders_at_end().empty());
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

TEST(Findings, OwnerExitedWithoutSuccessorIsStillAnError)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), dead = b.add_thread(2);
    b.add(dead, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(dead, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;  // a normal mutex would hang here
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, UnrecoverableRobustMutexIsInfo)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), dead = b.add_thread(2);
    b.add(dead, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(dead, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    b.add(main, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(main, 21, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EOWNERDEAD).addr2 = kRobust;
    b.add(main, 22, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;  // no consistent
    b.add(main, 23, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(main, 24, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, ENOTRECOVERABLE).addr2 = kRobust;
    b.add(main, 25, LT_EV_DESTROY, LT_PRIM_MUTEX, M).addr2 = kRobust;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "robust-unrecoverable"), int(lt::Finding::info)) << list(r);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

TEST(Findings, EnotrecoverableWithoutHistoryIsInvalidLock)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1);
    b.add(main, 23, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(main, 24, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, ENOTRECOVERABLE).addr2 = kRobust;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

// --- cancelled condition waits -------------------------------------------------

TEST(Findings, RelockInCancelCleanupIsInfo)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;  // errorcheck
    b.add(t, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 3, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL).addr2 = 2;
    b.add(t, 4, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(t, 5, LT_EV_WAIT_END, LT_PRIM_COND, CV, 0, ECANCELED).addr2 = M;
    b.add(t, 6, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL).addr2 = 2;
    b.add(t, 7, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 8, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EDEADLK).addr2 = 2;
    b.add(t, 9, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 10, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 1);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "relock-in-cancel-cleanup"), int(lt::Finding::info)) << list(r);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

TEST(Findings, RelockOutsideCleanupIsStillInvalidLock)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 7, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    b.add(t, 8, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EDEADLK).addr2 = 2;
    b.add(t, 9, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = 2;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, CondWaitRefusedWithEpermLeavesNoPhantomHold)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 3, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL).addr2 = 2;
    b.add(t, 4, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(t, 5, LT_EV_WAIT_END, LT_PRIM_COND, CV, 0, EPERM).addr2 = M;
    b.add(t, 6, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL).addr2 = 2;
    Built r = build(b);
    EXPECT_TRUE(r.model.find_lock(M, LT_PRIM_MUTEX)->holds.empty());
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);  // the EPERM itself
}

TEST(Findings, ThreadWhoseRecordingStoppedEarlyIsNotAnOwnerExitedError)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(2);
    b.add(t, 10, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.thread(t).state = LT_SLOT_EXITED;  // ended, but no THREAD_EXIT record
    b.thread(t).end_ns = b.hdr().start_monotonic_ns + 20;
    Built r = build(b);
    EXPECT_TRUE(r.model.threads[0].end_unrecorded);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::info)) << list(r);
}

// --- condition variables destroyed after their waiters were woken ----------------

TEST(Findings, CondDestroyAfterBroadcastIsLegal)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), w1 = b.add_thread(2), w2 = b.add_thread(3);
    b.add(w1, 10, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(w2, 11, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(main, 20, LT_EV_WAKE, LT_PRIM_COND, CV, LT_FL_BROADCAST);
    b.add(main, 21, LT_EV_DESTROY, LT_PRIM_COND, CV);
    b.add(w1, 30, LT_EV_WAIT_END, LT_PRIM_COND, CV).addr2 = M;
    b.add(w2, 31, LT_EV_WAIT_END, LT_PRIM_COND, CV).addr2 = M;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "destroy-while-in-use"), -1) << list(r);
}

TEST(Findings, CondDestroyWithAnUnwokenWaiterIsAnError)
{
    TraceBuilder b;
    uint32_t main = b.add_thread(1), w1 = b.add_thread(2), w2 = b.add_thread(3);
    b.add(w1, 10, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(w2, 11, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(main, 20, LT_EV_WAKE, LT_PRIM_COND, CV);  // one signal for two waiters
    b.add(main, 21, LT_EV_DESTROY, LT_PRIM_COND, CV);
    b.add(w1, 30, LT_EV_WAIT_END, LT_PRIM_COND, CV).addr2 = M;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "destroy-while-in-use"), int(lt::Finding::error)) << list(r);
}

// --- EINVAL from timed calls ---------------------------------------------------------

TEST(Findings, EinvalFromATimedWaitIsABadTimeout)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM, LT_FL_TIMED);
    b.add(t, 2, LT_EV_FAILED, LT_PRIM_SEM, SEM, LT_FL_TIMED, EINVAL);
    lt_event& a = b.add(t, 3, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM, LT_FL_TIMED);
    a.arg = 123456;  // a clock no lock call accepts
    lt_event& f = b.add(t, 4, LT_EV_FAILED, LT_PRIM_SEM, SEM, LT_FL_TIMED, EINVAL);
    f.arg = 123456;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "bad-timeout"), int(lt::Finding::info)) << list(r);
    EXPECT_EQ(severity_of(r, "invalid-lock"), -1) << list(r);
}

TEST(Findings, EinvalFromAnUntimedCallIsInvalidLock)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_SEM, SEM);
    b.add(t, 2, LT_EV_FAILED, LT_PRIM_SEM, SEM, 0, EINVAL);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

// --- never-initialized locks ----------------------------------------------------------

TEST(Findings, GarbageMutexIsInvalidLock)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    lt_event& a = b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    a.addr2 = 0xa5a5a5a5u;
    a.state[0] = 0xa5a5a5a5a5a5a5a5ull;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, GarbageRwlockIsInvalidLock)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_READ).addr2 = uint64_t(0xa5a5a5a5u) << 32;
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, ZeroedAndInitializerLocksAreValid)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1, 64);
    uint64_t when = 1;
    for (uint32_t kind : {0u, 1u, 2u, 3u, kRobust | 128u | 32u | 1u}) {  // normal..adaptive, robust PI pshared
        uint64_t addr = M + 64 * kind;
        b.add(t, when++, LT_EV_ATTEMPT, LT_PRIM_MUTEX, addr, LT_FL_WRITE).addr2 = kind;
        b.add(t, when++, LT_EV_ACQUIRED, LT_PRIM_MUTEX, addr, LT_FL_WRITE).addr2 = kind;
        b.add(t, when++, LT_EV_RELEASE, LT_PRIM_MUTEX, addr, LT_FL_WRITE).addr2 = kind;
    }
    b.add(t, 100, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_READ).addr2 = uint64_t(2) << 32;
    for (uint16_t type : {LT_EV_ACQUIRED, LT_EV_RELEASE}) {
        lt_event& e = b.add(t, 100 + type, type, LT_PRIM_RWLOCK, RW, LT_FL_READ);
        e.addr2 = uint64_t(2) << 32;
        e.state[0] = 1u << 3;  // one reader in __readers
    }
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

// --- use after destroy ------------------------------------------------------------------

TEST(Findings, LoneAcquiredAfterDestroyIsUseAfterDestroy)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_DESTROY, LT_PRIM_MUTEX, M);
    b.add(t, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);  // uncontended fast path: no ATTEMPT
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, AcquireAfterReinitIsNotUseAfterDestroy)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_DESTROY, LT_PRIM_MUTEX, M);
    b.add(t, 2, LT_EV_INIT, LT_PRIM_MUTEX, M);
    b.add(t, 3, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t, 4, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

// A ring that lost events may have lost the init that gave the memory a new
// lock (Python frees a lock and the next one is made at the same address):
// the order alone is no proof then.
TEST(Findings, UseAfterDestroyWithLostEventsIsOnlyInfo)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1, 4), lost = b.add_thread(2, 4);
    b.add(lost, 1, LT_EV_INIT, LT_PRIM_MUTEX, M);  // overwritten below
    for (int i = 0; i < 4; i++) b.add(lost, 2 + i, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add(t, 10, LT_EV_DESTROY, LT_PRIM_MUTEX, M);
    b.add(t, 12, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    ASSERT_FALSE(r.model.history_complete);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::info)) << list(r);
}

TEST(Findings, UseAfterDestroyRefusedByGlibcIsAnErrorEvenWithLostEvents)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1, 4), lost = b.add_thread(2, 4);
    b.add(lost, 1, LT_EV_INIT, LT_PRIM_MUTEX, M);
    for (int i = 0; i < 4; i++) b.add(lost, 2 + i, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add(t, 10, LT_EV_DESTROY, LT_PRIM_MUTEX, M);
    b.add(t, 11, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t, 12, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, EINVAL);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "invalid-lock"), int(lt::Finding::error)) << list(r);
}

// --- read live from a running process ----------------------------------------------------

// A trace of a running process (no exit recorded) whose only thread began a
// futex wait `age_ns` ago, with no wake after it.  The process is pid 1: it
// runs, and it started long before the trace says it did (a process that
// started after its trace only reuses the pid, and is not read as running).
Built live_wait(TraceBuilder& b, uint64_t age_ns)
{
    uint64_t now = monotonic_now();
    b.hdr().pid = 1;
    b.hdr().start_monotonic_ns = now - 5000000000ull;
    uint32_t t = b.add_thread(1);
    lt_event& w = b.add(t, 5000000000ull - age_ns, LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, FX);
    w.arg = 128;  // FUTEX_WAIT_PRIVATE
    return build(b);
}

TEST(Findings, LiveWaitThatJustBeganIsNotALostWakeup)
{
    TraceBuilder b;
    Built r = live_wait(b, 1000000);  // 1 ms
    EXPECT_EQ(severity_of(r, "lost-wakeup"), -1) << list(r);
    EXPECT_FALSE(has_error_or_warning(r)) << list(r);
}

TEST(Findings, LiveWaitOlderThanTheGraceIsALostWakeup)
{
    TraceBuilder b;
    Built r = live_wait(b, 2000000000ull);  // 2 s
    EXPECT_EQ(severity_of(r, "lost-wakeup"), int(lt::Finding::error)) << list(r);
}

// --- unlock by another thread ------------------------------------------------------------

TEST(Findings, MutexHandedOverLikeASemaphoreIsAWarning)
{
    TraceBuilder b;
    uint32_t owner = b.add_thread(1), other = b.add_thread(2);
    b.add(owner, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(other, 3, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 4, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 5, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "unlock-not-owner"), int(lt::Finding::warning)) << list(r);
}

TEST(Findings, UnlockByAnotherThreadWhileTheOwnerGoesOnIsAnError)
{
    TraceBuilder b;
    uint32_t owner = b.add_thread(1), other = b.add_thread(2);
    b.add(owner, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(other, 3, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 4, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "unlock-not-owner"), int(lt::Finding::error)) << list(r);
}

TEST(Findings, RobustOwnerExitedWithNobodyWaitingIsInfo)
{
    TraceBuilder b;
    uint32_t dead = b.add_thread(2);
    b.add(dead, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE).addr2 = kRobust;
    b.add(dead, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::info)) << list(r);
}

TEST(Findings, NormalOwnerExitedWithNobodyWaitingIsAnError)
{
    TraceBuilder b;
    uint32_t dead = b.add_thread(2);
    b.add(dead, 11, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(dead, 12, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 2);
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "owner-exited"), int(lt::Finding::error)) << list(r);
}

// A stack rwlock destroyed while read-held and initialized again at the same
// address: the new lock starts free (the word says so too).
TEST(Findings, InitEndsTheHoldsOfTheObjectBefore)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1, 64);
    for (int round = 0; round < 3; round++) {
        uint64_t base = 100 * round;
        b.add(t, base + 1, LT_EV_INIT, LT_PRIM_RWLOCK, RW);
        b.add(t, base + 2, LT_EV_ATTEMPT, LT_PRIM_RWLOCK, RW, LT_FL_READ);
        b.add(t, base + 3, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ).state[0] = 1u << 3;
        b.add(t, base + 4, LT_EV_DESTROY, LT_PRIM_RWLOCK, RW).state[0] = 1u << 3;
    }
    Built r = build(b);
    const lt::Lock* L = r.model.find_lock(RW, LT_PRIM_RWLOCK);
    ASSERT_NE(L, nullptr);
    EXPECT_EQ(L->holders_at_end().size(), 1u);  // only the last round's
    EXPECT_TRUE(L->holds[0].reset_by_init);
    EXPECT_EQ(severity_of(r, "counter-overflow"), -1) << list(r);
    EXPECT_EQ(severity_of(r, "destroy-while-in-use"), int(lt::Finding::error)) << list(r);  // the real misuse
}

TEST(Findings, MutexHandoffProtocolCoversTheLastHandoverToo)
{
    TraceBuilder b;
    uint32_t owner = b.add_thread(1), c1 = b.add_thread(2), c2 = b.add_thread(3);
    b.add(owner, 1, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 2, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 3, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);  // waits for the first child's unlock
    b.add(c1, 4, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(owner, 5, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c2, 6, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);   // the last hand-over: no relock follows
    Built r = build(b);
    EXPECT_EQ(severity_of(r, "unlock-not-owner"), int(lt::Finding::warning)) << list(r);
    for (const lt::Finding& f : r.findings) EXPECT_NE(f.severity, lt::Finding::error) << f.kind << ": " << words_of(f.summary);
}

// Untrusted traces: an errno of INT_MIN has no positive value; describing and
// judging it must not negate it (undefined behaviour, caught by UBSan).
TEST(Findings, IntMinErrnoIsJustAnUnknownErrno)
{
    TraceBuilder b;
    uint32_t t = b.add_thread(1);
    b.add(t, 1, LT_EV_WAIT_BEGIN, LT_PRIM_COND, CV).addr2 = M;
    b.add(t, 2, LT_EV_WAIT_END, LT_PRIM_COND, CV, 0, INT32_MIN).addr2 = M;
    b.add(t, 3, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL);
    b.add(t, 4, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(t, 5, LT_EV_FAILED, LT_PRIM_MUTEX, M, LT_FL_WRITE, INT32_MIN);
    Built r = build(b);
    for (const lt::Event& e : r.model.events) EXPECT_FALSE(lt::describe_event(e).empty());
    EXPECT_EQ(severity_of(r, "invalid-lock"), -1) << list(r);
}
