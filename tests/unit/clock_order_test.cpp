// The trace's clock (format version 3): TSC stamps mapped to CLOCK_MONOTONIC
// through the anchors, and one lock's hand-over put in the order the lock
// allows when unfenced stamps disagree by less than the tolerance.
#include "trace_builder.h"
#include "core/clock_map.h"
#include "core/handover.h"
#include "core/model.h"
#include "core/trace_reader.h"

#include <gtest/gtest.h>

#include <memory>

using lt::test::TraceBuilder;

namespace {

constexpr uint64_t M = 0x5000, RW = 0x6000;

// Thread 1 holds M from 100 to 1000; thread 2's ACQUIRED is stamped at
// `acq` (its ATTEMPT at 500) and it releases at 2000.
TraceBuilder handover(uint64_t acq, uint32_t version)
{
    TraceBuilder b;
    if (version >= 3) b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 90, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 100, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 500, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE).state[0] = 1;
    b.add(a, 1000, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, acq, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 2000, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    return b;
}

// The position of the first event of `type` by `tid`.
size_t where(const std::vector<lt::Event>& ev, int tid, uint16_t type)
{
    for (size_t i = 0; i < ev.size(); i++)
        if (ev[i].tid == tid && ev[i].type == type) return i;
    return SIZE_MAX;
}

void expect_times_grow(const std::vector<lt::Event>& ev)
{
    for (size_t i = 1; i < ev.size(); i++) EXPECT_LE(ev[i - 1].time_ns, ev[i].time_ns) << "at " << i;
}

} // namespace

TEST(HandoverOrder, AcquiredStampedBeforeTheReleaseGoesAfterIt)
{
    TraceBuilder b = handover(900, 3);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    ASSERT_EQ(ev.size(), 6u);
    size_t rel = where(ev, 1, LT_EV_RELEASE), acq = where(ev, 2, LT_EV_ACQUIRED);
    EXPECT_LT(rel, acq);
    EXPECT_EQ(ev[acq].time_ns, ev[rel].time_ns);  // raised to the RELEASE's stamp
    EXPECT_LT(where(ev, 2, LT_EV_ATTEMPT), acq);
    expect_times_grow(ev);

    // The model then sees one owner at a time.
    lt::Model m = lt::Model::build(t);
    const lt::Lock* L = m.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    EXPECT_EQ(L->holds[0].end_ns - m.start_ns, 1000u);
    EXPECT_EQ(L->holds[1].begin_ns - m.start_ns, 1000u);
    EXPECT_EQ(L->stats.acquisitions, 2u);
    EXPECT_TRUE(L->holders_at_end().empty());
}

TEST(HandoverOrder, VersionTwoStampsWereFencedAndStayAsRecorded)
{
    TraceBuilder b = handover(900, 2);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    EXPECT_LT(where(ev, 2, LT_EV_ACQUIRED), where(ev, 1, LT_EV_RELEASE));
}

TEST(HandoverOrder, BeyondTheToleranceTheStampsStand)
{
    // 1.5 µs apart is not clock skew: left for the model to judge.
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 100, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 200, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 200 + lt::HandoverOrder::kToleranceNs + 500, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    EXPECT_LT(where(ev, 2, LT_EV_ACQUIRED), where(ev, 1, LT_EV_RELEASE));
    EXPECT_EQ(ev[where(ev, 2, LT_EV_ACQUIRED)].time_ns - t.header().start_monotonic_ns, 200u);
}

TEST(HandoverOrder, TheAcquirersLaterEventsMoveWithItInOrder)
{
    // Thread 2's whole short critical section is stamped before thread 1's
    // RELEASE: it all goes after, in thread 2's own order.
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(a, 100, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 850, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 900, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M + 64, LT_FL_WRITE);
    b.add(c, 950, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 1000, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 1100, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M + 128, LT_FL_WRITE);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    ASSERT_EQ(ev.size(), 6u);
    EXPECT_EQ(ev[0].tid, 1);
    EXPECT_EQ(ev[1].tid, 1);
    EXPECT_EQ(ev[1].type, LT_EV_RELEASE);
    EXPECT_EQ(ev[2].type, LT_EV_ACQUIRED);
    EXPECT_EQ(ev[3].type, LT_EV_ATTEMPT);
    EXPECT_EQ(ev[4].type, LT_EV_RELEASE);
    EXPECT_EQ(ev[4].tid, 2);
    EXPECT_EQ(ev[5].tid, 1);
    expect_times_grow(ev);
}

TEST(HandoverOrder, AnEarlyStampBehindTheReleasersOwnLaterAcquisitionMoves)
{
    // Thread 2's condition wait re-took M inside libc (its ACQUIRED, written
    // after the wait returned, is stamped 380) and gave it back at 430;
    // thread 1's ACQUIRED, stamped early at 370, came after that release.
    // The newest acquisition of M before the RELEASE is thread 2's own: the
    // earlier one by thread 1 must still be found.
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(c, 290, LT_EV_WAIT_END, LT_PRIM_COND, M + 64).addr2 = M;
    b.add(a, 370, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(c, 380, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE | LT_FL_INTERNAL);
    b.add(c, 430, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 2000, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    ASSERT_EQ(ev.size(), 5u);
    EXPECT_LT(where(ev, 2, LT_EV_RELEASE), where(ev, 1, LT_EV_ACQUIRED));
    expect_times_grow(ev);
    lt::Model m = lt::Model::build(t);
    const lt::Lock* L = m.find_lock(M, LT_PRIM_MUTEX);
    ASSERT_NE(L, nullptr);
    ASSERT_EQ(L->holds.size(), 2u);
    EXPECT_LE(L->holds[0].end_ns, L->holds[1].begin_ns);
}

TEST(HandoverOrder, ReadersDoNotExcludeReaders)
{
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2), d = b.add_thread(3);
    b.add(a, 100, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(c, 900, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_READ);   // a second reader: fine
    b.add(a, 1000, LT_EV_RELEASE, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    b.add(d, 1500, LT_EV_ACQUIRED, LT_PRIM_RWLOCK, RW, LT_FL_WRITE); // a writer before the last reader left
    b.add(c, 2000, LT_EV_RELEASE, LT_PRIM_RWLOCK, RW, LT_FL_READ);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    EXPECT_LT(where(ev, 2, LT_EV_ACQUIRED), where(ev, 1, LT_EV_RELEASE));
    EXPECT_LT(where(ev, 2, LT_EV_RELEASE), where(ev, 3, LT_EV_ACQUIRED));
    expect_times_grow(ev);
}

TEST(HandoverOrder, AnUnmatchedReleaseHandsNothingOver)
{
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1), c = b.add_thread(2);
    b.add(c, 900, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 1000, LT_EV_RELEASE, LT_PRIM_MUTEX, M, LT_FL_WRITE, LT_RELEASE_UNMATCHED);
    lt::Trace t(b.write());
    std::vector<lt::Event> ev = t.read_events();
    EXPECT_LT(where(ev, 2, LT_EV_ACQUIRED), where(ev, 1, LT_EV_RELEASE));
}

TEST(ClockMap, InterpolatesBetweenAnchorsAndKeepsTheScaleOutside)
{
    lt::ClockMap m;
    m.build({{2000000, 2000100, 40}, {1000000, 1000000, 40}, {3000000, 3000300, 40}});
    EXPECT_EQ(m.anchors(), 3u);
    EXPECT_TRUE(m.jumps().empty());
    EXPECT_EQ(m.to_mono(1000000), 1000000u);
    EXPECT_EQ(m.to_mono(1500000), 1500050u);
    EXPECT_EQ(m.to_mono(2500000), 2500200u);
    EXPECT_EQ(m.to_mono(4000000), 4000300u);  // after the last: rate 1
    EXPECT_EQ(m.to_mono(999000), 999000u);    // before the first: rate 1
    EXPECT_EQ(m.to_mono(0), 0u);              // not a time
    uint32_t hint = 0;
    uint64_t prev = 0;
    for (uint64_t s = 900000; s < 3200000; s += 1234) {
        uint64_t v = m.to_mono(s, hint);
        EXPECT_EQ(v, m.to_mono(s));
        EXPECT_GE(v, prev);
        prev = v;
    }
}

TEST(ClockMap, AJumpIsReportedNotSmoothedOver)
{
    lt::ClockMap m;
    // 1 s of stamps, but CLOCK_MONOTONIC moved 1.2 s: the TSC lost 200 ms.
    m.build({{1000000000, 1000000000, 40}, {2000000000, 2200000000, 40}, {3000000000, 3200000000, 40}});
    ASSERT_EQ(m.jumps().size(), 1u);
    EXPECT_EQ(m.jumps()[0].from_mono_ns, 1000000000u);
    EXPECT_EQ(m.jumps()[0].to_mono_ns, 2200000000u);
    EXPECT_EQ(m.jumps()[0].off_by_ns, 200000000);
    // Drift within what NTP and the calibration allow is no jump.
    lt::ClockMap d;
    d.build({{1000000000, 1000000000, 40}, {2000000000, 2000400000, 40}});
    EXPECT_TRUE(d.jumps().empty());
    // An interrupted reading (wide spread) is left out.
    lt::ClockMap w;
    w.build({{1000000000, 1000000000, 40}, {2000000000, 2200000000, 900000}});
    EXPECT_EQ(w.anchors(), 1u);
    EXPECT_TRUE(w.jumps().empty());
}

TEST(ClockMap, TraceTimesGoThroughTheAnchorsAndTornOnesAreLeftOut)
{
    TraceBuilder b;
    b.make_v3(true);
    uint32_t a = b.add_thread(1);
    // The shim's scale runs 1e-4 slow: at 10 ms, CLOCK_MONOTONIC is 1 µs ahead.
    b.add_anchor(0, 0);
    b.add_anchor(10000000, 10001000);
    lt_clock_anchor& torn = b.add_anchor(20000000, 30000000);
    torn.seq = 0;  // killed mid-write
    lt_clock_anchor& bad = b.add_anchor(40000000, 50000000);
    bad.mono_ns += 1;  // does not match its check
    b.add(a, 5000000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.add(a, 10000000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    b.thread(a).start_ns = b.hdr().start_monotonic_ns + 10000000;
    lt::Trace t(b.write());
    EXPECT_TRUE(t.clock_tsc());
    EXPECT_EQ(t.clock().anchors(), 2u);
    EXPECT_EQ(t.clock_anchors_torn(), 2u);
    EXPECT_TRUE(t.clock().jumps().empty());
    std::vector<lt::Event> ev = t.read_events();
    ASSERT_EQ(ev.size(), 2u);
    const uint64_t t0 = t.header().start_monotonic_ns;
    EXPECT_EQ(ev[0].time_ns - t0, 5000500u);
    EXPECT_EQ(ev[1].time_ns - t0, 10001000u);
    EXPECT_EQ(t.threads()[0].start_ns - t0, 10001000u);
}

TEST(ClockMap, MonotonicStampsAreTakenAsTheyAre)
{
    TraceBuilder b;
    b.make_v3(false);
    uint32_t a = b.add_thread(1);
    b.add(a, 5000000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, M, LT_FL_WRITE);
    lt::Trace t(b.write());
    EXPECT_FALSE(t.clock_tsc());
    EXPECT_TRUE(t.clock().identity());
    EXPECT_EQ(t.read_events()[0].time_ns - t.header().start_monotonic_ns, 5000000u);
}
