#include "trace_builder.h"
#include "core/trace_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <chrono>
#include <thread>
#include <unistd.h>

using lt::test::TraceBuilder;

namespace {

// Expects opening (and reading) `path` to fail with a message containing `what`.
void expect_error(const std::string& path, const std::string& what)
{
    try {
        lt::Trace t(path);
        t.read_events();
        FAIL() << "no error, expected one mentioning '" << what << "'";
    } catch (const lt::TraceError& e) {
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << "message: " << e.what();
    }
}

TraceBuilder two_threads()
{
    TraceBuilder b;
    uint32_t a = b.add_thread(100, 16, "main");
    uint32_t c = b.add_thread(101, 16, "worker");
    b.add(a, 10, LT_EV_THREAD_START, LT_PRIM_THREAD, 1, 0, 100);
    b.add(c, 15, LT_EV_THREAD_START, LT_PRIM_THREAD, 2, 0, 101);
    b.add(a, 20, LT_EV_ATTEMPT, LT_PRIM_MUTEX, 0x1000, LT_FL_WRITE);
    b.add(c, 25, LT_EV_ATTEMPT, LT_PRIM_MUTEX, 0x1000, LT_FL_WRITE);
    b.add(a, 30, LT_EV_ACQUIRED, LT_PRIM_MUTEX, 0x1000, LT_FL_WRITE);
    return b;
}

} // namespace

TEST(Reader, ReadsAndMergesByTime)
{
    TraceBuilder b = two_threads();
    lt::Trace t(b.write());
    ASSERT_EQ(t.threads().size(), 2u);
    EXPECT_EQ(t.threads()[0].tid, 100);
    EXPECT_EQ(t.threads()[1].name, "worker");
    std::vector<lt::Event> ev = t.read_events();
    ASSERT_EQ(ev.size(), 5u);
    for (size_t i = 1; i < ev.size(); i++) EXPECT_LE(ev[i - 1].time_ns, ev[i].time_ns);
    EXPECT_EQ(ev[1].tid, 101);
    EXPECT_EQ(ev[3].type, LT_EV_ATTEMPT);
    EXPECT_EQ(t.total_lost(), 0u);
    EXPECT_EQ(t.total_torn(), 0u);
    EXPECT_FALSE(t.file_truncated());
    EXPECT_EQ(t.cmdline(), (std::vector<std::string>{"prog", "--flag"}));
}

TEST(Reader, KeepsEachThreadsOrderWhenClocksDisagree)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(1);
    b.add(a, 50, LT_EV_ATTEMPT, LT_PRIM_MUTEX, 1);
    b.add(a, 40, LT_EV_ACQUIRED, LT_PRIM_MUTEX, 1);  // nested writer: older timestamp, newer index
    lt::Trace t(b.write());
    auto ev = t.read_events();
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].type, LT_EV_ATTEMPT);
    EXPECT_EQ(ev[1].type, LT_EV_ACQUIRED);
}

TEST(Reader, RejectsBadMagic)
{
    TraceBuilder b = two_threads();
    b.hdr().magic = 0x1234;
    expect_error(b.write(), "bad magic");
}

TEST(Reader, RejectsOtherByteOrder)
{
    TraceBuilder b = two_threads();
    b.hdr().magic = __builtin_bswap64(LT_MAGIC);
    expect_error(b.write(), "byte order");
}

TEST(Reader, RejectsOtherVersion)
{
    TraceBuilder b = two_threads();
    b.hdr().version = 7;
    expect_error(b.write(), "version 7");
}

TEST(Reader, RejectsWrongSizes)
{
    {
        TraceBuilder b = two_threads();
        b.hdr().event_size = 48;
        expect_error(b.write(), "event_size");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().header_size = 100;
        expect_error(b.write(), "header_size");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().thread_entry_size = 64;
        expect_error(b.write(), "thread_entry_size");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().stack_entry_size = 17;
        expect_error(b.write(), "stack_entry_size");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().stack_depth_max = 100000;
        expect_error(b.write(), "stack_depth_max");
    }
}

TEST(Reader, RejectsShortFiles)
{
    TraceBuilder b = two_threads();
    expect_error(b.write(0), "shorter than");
    expect_error(b.write(100), "shorter than");
    expect_error(b.write(TraceBuilder::kModuleTable + 10), "truncated inside the module table");
}

TEST(Reader, RejectsBadOffsets)
{
    {
        TraceBuilder b = two_threads();
        b.hdr().thread_table_offset = UINT64_MAX - 64;
        expect_error(b.write(), "thread table");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().thread_table_offset = 8;  // inside the header
        expect_error(b.write(), "overlaps the header");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().module_table_offset = b.hdr().thread_table_offset + 128;
        expect_error(b.write(), "overlap");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().threads_used = 9;
        expect_error(b.write(), "threads_used");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().thread_table_capacity = 0x7fffffff;
        expect_error(b.write(), "thread table");
    }
    {
        TraceBuilder b = two_threads();
        b.thread(1).ring_offset = b.thread(0).ring_offset + 64;
        expect_error(b.write(), "overlap");
    }
    {
        TraceBuilder b = two_threads();
        b.thread(1).ring_offset = 64;  // inside the tables
        expect_error(b.write(), "outside the ring area");
    }
    {
        TraceBuilder b = two_threads();
        b.thread(0).ring_capacity = uint64_t(1) << 60;  // * 64 bytes overflows
        expect_error(b.write(), "overflows");
    }
}

TEST(Reader, RejectsNonPowerOfTwoCapacities)
{
    {
        TraceBuilder b = two_threads();
        b.thread(0).ring_capacity = 12;
        expect_error(b.write(), "not a power of two");
    }
    {
        TraceBuilder b = two_threads();
        b.hdr().stack_table_capacity = 12;
        expect_error(b.write(), "stack_table_capacity");
    }
}

TEST(Reader, WrappedRingReportsLostEvents)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 8);
    for (int i = 0; i < 20; i++) b.add(a, 10 + i, LT_EV_MARK, LT_PRIM_NONE, 0, 0, i);
    lt::Trace t(b.write());
    auto ev = t.read_events();
    ASSERT_EQ(ev.size(), 8u);
    EXPECT_EQ(t.threads()[0].lost, 12u);
    EXPECT_EQ(t.total_lost(), 12u);
    EXPECT_EQ(ev.front().result, 12);  // oldest surviving record is index 12
    EXPECT_EQ(ev.back().result, 19);
}

TEST(Reader, TornLastRecordIsReported)
{
    TraceBuilder b = two_threads();
    b.add_torn(1);
    lt::Trace t(b.write());
    auto ev = t.read_events();
    EXPECT_EQ(ev.size(), 5u);
    EXPECT_TRUE(t.threads()[1].last_record_torn);
    EXPECT_EQ(t.threads()[1].torn, 1u);
    EXPECT_FALSE(t.threads()[0].last_record_torn);
}

TEST(Reader, TornRecordInTheMiddleIsSkipped)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 8);
    b.add(a, 1, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add_torn(a);  // a signal handler committed the next one, then the process died
    b.add(a, 3, LT_EV_MARK, LT_PRIM_NONE, 0, LT_FL_NESTED);
    lt::Trace t(b.write());
    auto ev = t.read_events();
    EXPECT_EQ(ev.size(), 2u);
    EXPECT_EQ(t.threads()[0].torn, 1u);
    EXPECT_FALSE(t.threads()[0].last_record_torn);
}

TEST(Reader, StaleRecordFromAnOlderLapIsNotTaken)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 8);
    for (int i = 0; i < 10; i++) b.add(a, i, LT_EV_MARK, LT_PRIM_NONE, 0);
    // The writer reserved index 10 but had not cleared the slot yet: it still
    // holds index 2's record (seq 3).
    b.thread(a).head = 11;
    lt::Trace t(b.write());
    auto ev = t.read_events();
    EXPECT_EQ(ev.size(), 7u);  // indices 3..9
    EXPECT_TRUE(t.threads()[0].last_record_torn);
}

TEST(Reader, TruncatedFileDecodesUpToTheCut)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 16);
    uint32_t c = b.add_thread(8, 16);
    for (int i = 0; i < 10; i++) b.add(a, i, LT_EV_MARK, LT_PRIM_NONE, 0, 0, i);
    for (int i = 0; i < 10; i++) b.add(c, 100 + i, LT_EV_MARK, LT_PRIM_NONE, 0, 0, 100 + i);
    // Cut the file in the middle of the second ring's record 6.
    size_t cut_at = b.thread(c).ring_offset + 6 * sizeof(lt_event) + 10;
    lt::Trace t(b.write(cut_at));
    EXPECT_TRUE(t.file_truncated());
    auto ev = t.read_events();
    EXPECT_EQ(t.threads()[0].decoded, 10u);
    EXPECT_EQ(t.threads()[1].decoded, 6u);
    EXPECT_EQ(t.threads()[1].cut, 4u);
    EXPECT_EQ(t.total_cut(), 4u);
    EXPECT_EQ(ev.size(), 16u);
    EXPECT_EQ(ev.back().result, 105);
}

TEST(Reader, RingEntirelyPastTheEndIsCut)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 16);
    uint32_t c = b.add_thread(8, 16);
    b.add(a, 1, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add(c, 2, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.add(c, 3, LT_EV_MARK, LT_PRIM_NONE, 0);
    lt::Trace t(b.write(b.thread(c).ring_offset));
    auto ev = t.read_events();
    EXPECT_EQ(ev.size(), 1u);
    EXPECT_EQ(t.threads()[1].cut, 2u);
}

TEST(Reader, HugeHeadIsBoundedByTheRing)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(7, 8);
    b.add(a, 1, LT_EV_MARK, LT_PRIM_NONE, 0);
    b.thread(a).head = UINT64_MAX - 3;
    lt::Trace t(b.write());
    auto ev = t.read_events();
    EXPECT_EQ(ev.size(), 0u);
    EXPECT_EQ(t.threads()[0].lost + t.threads()[0].torn, UINT64_MAX - 3);
}

TEST(Reader, StacksOnlyWhenReady)
{
    TraceBuilder b = two_threads();
    uint32_t s = b.add_stack({0x401000, 0x402000});
    lt::Trace t(b.write());
    EXPECT_EQ(t.stack(s), (std::vector<uint64_t>{0x401000, 0x402000}));
    EXPECT_TRUE(t.stack(0).empty());
    EXPECT_TRUE(t.stack(2).empty());       // never published
    EXPECT_TRUE(t.stack(100000).empty());  // out of range
}

TEST(Reader, UntracedSlotWithoutRingIsAccepted)
{
    TraceBuilder b = two_threads();
    uint32_t s = b.add_thread(300);
    b.thread(s).ring_capacity = 0;
    b.thread(s).ring_offset = 0;
    b.thread(s).state = LT_SLOT_EXITED;
    lt::Trace t(b.write());
    EXPECT_EQ(t.read_events().size(), 5u);
}

// Random corruption must give a clean TraceError or a decode, never a crash.
TEST(Reader, RandomCorruptionNeverCrashes)
{
    std::mt19937_64 rng(12345);
    int errors = 0, decoded = 0;
    for (int round = 0; round < 3000; round++) {
        TraceBuilder b = two_threads();
        std::vector<uint8_t>& bytes = b.bytes();
        int flips = 1 + int(rng() % 8);
        for (int k = 0; k < flips; k++) {
            // Aim at the header and tables most of the time: that is where the offsets are.
            size_t lim = (rng() % 4) ? TraceBuilder::kRings : bytes.size();
            size_t pos = rng() % lim;
            bytes[pos] = uint8_t(rng());
        }
        size_t len = (rng() % 5 == 0) ? size_t(rng() % bytes.size()) : bytes.size();
        try {
            lt::Trace t(b.write(len));
            auto ev = t.read_events();
            for (const auto& e : ev) (void)t.stack(e.stack_id);
            decoded++;
        } catch (const lt::TraceError&) {
            errors++;
        }
    }
    EXPECT_GT(errors, 0);
    EXPECT_GT(decoded, 0);
}

// The batched reader (what Model::build uses) gives exactly what read_events()
// gives, whatever the batch size, every field copied, and leaves the same
// lost/torn counts.
TEST(Reader, EventReaderInBatchesEqualsReadEvents)
{
    TraceBuilder b;
    uint32_t a = b.add_thread(100, 4, "main"), c = b.add_thread(101, 16, "worker"), d = b.add_thread(102, 16);
    for (int i = 0; i < 7; i++) {  // wraps a's 4-record ring: 3 lost
        lt_event& e = b.add(a, 10 + 10 * i, LT_EV_ACQUIRED, LT_PRIM_MUTEX, 0x1000, LT_FL_WRITE, i);
        e.addr2 = 0xa2 + i;
        e.state[0] = 0x51 + i;
        e.state[1] = 0x52 + i;
        e.arg = 0xa0 + i;
    }
    for (int i = 0; i < 9; i++) b.add(c, 5 + 7 * i, LT_EV_WAKE, LT_PRIM_FUTEX, 0x2000 + i, 0, i, 0);
    b.add(c, 100, LT_EV_RELEASE, LT_PRIM_MUTEX, 0x2000, LT_FL_READ, -3, 1).state[1] = 7;
    b.add_torn(c);
    b.add(d, 1, LT_EV_MARK, LT_PRIM_NONE, 0, 0, 0).arg = LT_MARK_USER;
    lt::Trace t(b.write());
    const std::vector<lt::Event> all = t.read_events();
    const uint64_t lost = t.total_lost(), torn = t.total_torn();
    ASSERT_EQ(all.size(), 4u + 10u + 1u);
    EXPECT_EQ(lost, 3u);
    EXPECT_EQ(torn, 1u);
    // Fields straight from the record, and the reader's own thread/tid.
    bool seen = false;
    for (const lt::Event& e : all)
        if (e.tid == 100 && e.result == 6) {
            seen = true;
            EXPECT_EQ(e.time_ns - t.header().start_monotonic_ns, 70u);
            EXPECT_EQ(e.addr, 0x1000u);
            EXPECT_EQ(e.addr2, 0xa2u + 6);
            EXPECT_EQ(e.state[0], 0x51u + 6);
            EXPECT_EQ(e.state[1], 0x52u + 6);
            EXPECT_EQ(e.arg, 0xa0u + 6);
            EXPECT_EQ(e.type, LT_EV_ACQUIRED);
            EXPECT_EQ(e.prim, LT_PRIM_MUTEX);
            EXPECT_EQ(e.flags, LT_FL_WRITE);
            EXPECT_EQ(e.thread, 0u);
        }
    EXPECT_TRUE(seen);
    for (const lt::Event& e : all)
        if (e.type == LT_EV_RELEASE) {
            EXPECT_EQ(e.stack_id, 1u);
            EXPECT_EQ(e.result, -3);
            EXPECT_EQ(e.state[1], 7u);
            EXPECT_EQ(e.thread, 1u);
            EXPECT_EQ(e.tid, 101);
        }
    for (size_t batch : {size_t(1), size_t(2), size_t(3), size_t(5), size_t(64)}) {
        lt::EventReader r(t);
        EXPECT_GE(r.upper_bound(), all.size());
        std::vector<lt::Event> got;
        r.reserve(got);
        size_t n;
        while ((n = r.read(got, batch)) != 0) EXPECT_LE(n, batch);
        EXPECT_EQ(r.read(got, batch), 0u);  // stays at the end
        ASSERT_EQ(got.size(), all.size()) << "batch " << batch;
        EXPECT_EQ(memcmp(got.data(), all.data(), all.size() * sizeof(lt::Event)), 0) << "batch " << batch;
        EXPECT_EQ(t.total_lost(), lost);
        EXPECT_EQ(t.total_torn(), torn);
    }
}

// ----- format version 2: what outlives the rings (untrusted like the rest)

namespace {

TraceBuilder v2_two_threads()
{
    TraceBuilder b = two_threads();
    b.make_v2();
    b.add_book(0);
    b.add_book(1);
    return b;
}

} // namespace

TEST(ReaderWholeRun, VersionOneHasNoWholeRunParts)
{
    TraceBuilder b = two_threads();
    lt::Trace t(b.write());
    EXPECT_FALSE(t.has_whole_run());
    ASSERT_EQ(t.books().size(), 2u);
    EXPECT_FALSE(t.books()[0].present);
    EXPECT_TRUE(t.order_pairs().empty());
}

TEST(ReaderWholeRun, ReadsHeldSetsTotalsAndPairs)
{
    TraceBuilder b = v2_two_threads();
    b.hold(0, 0x1000, 4, 30);
    b.hold(1, 0x2000, 0, 5, LT_FL_READ, LT_PRIM_RWLOCK);
    lt_lock_totals& tt = b.book(0).totals[3];
    tt.addr = 0x1000;
    tt.prim = LT_PRIM_MUTEX;
    tt.acquired_write = 5000000;
    b.add_pair(2, 0x1000, 0x2000, 100, 40);
    lt::Trace t(b.write());
    ASSERT_TRUE(t.has_whole_run());
    ASSERT_EQ(t.books()[0].held.size(), 1u);
    EXPECT_EQ(t.books()[0].held[0].addr, 0x1000u);
    EXPECT_EQ(t.books()[0].held[0].index, 4u);
    ASSERT_EQ(t.books()[1].held.size(), 1u);
    EXPECT_EQ(t.books()[1].held[0].mode, LT_FL_READ);
    ASSERT_EQ(t.books()[0].totals.size(), 1u);
    EXPECT_EQ(t.books()[0].totals[0].acquired_write, 5000000u);
    ASSERT_EQ(t.order_pairs().size(), 1u);
    EXPECT_EQ(t.order_pairs()[0].taken, 0x2000u);
    EXPECT_EQ(t.order_torn(), 0u);
}

TEST(ReaderWholeRun, TornHeldEntriesAreCountedNotRead)
{
    TraceBuilder b = v2_two_threads();
    b.hold(0, 0x1000, 4, 30);
    b.hold(0, 0x3000, 5, 31);
    b.book(0).held[1].seq = LT_HELD_BUSY;  // killed while writing it
    b.hold(0, 0x4000, 6, 32);
    b.book(0).held[2].mode = 0x77;          // not something the shim writes
    b.book(0).held_count = 0xffffffffu;     // hostile count: clamped to the table
    lt::Trace t(b.write());
    ASSERT_EQ(t.books()[0].held.size(), 1u);
    EXPECT_EQ(t.books()[0].held[0].addr, 0x1000u);
    EXPECT_EQ(t.books()[0].held_torn, 2u);
}

TEST(ReaderWholeRun, OrderPairWhoseKeyDoesNotMatchIsTorn)
{
    TraceBuilder b = v2_two_threads();
    b.add_pair(0, 0x1000, 0x2000, 100, 40);
    b.add_pair(1, 0x2000, 0x1000, 101, 50);
    b.order(1).taken = 0x9999;                // fields changed after the key: half written
    b.order(3).key = 0x1234;                  // claimed, never filled
    lt::Trace t(b.write());
    ASSERT_EQ(t.order_pairs().size(), 1u);
    EXPECT_EQ(t.order_pairs()[0].held, 0x1000u);
    EXPECT_EQ(t.order_torn(), 2u);
}

TEST(ReaderWholeRun, BookOutsideTheFileOrOnItsRingIsLeftOut)
{
    TraceBuilder b = v2_two_threads();
    b.hold(0, 0x1000, 4, 30);
    b.thread(0).book_offset = uint64_t(1) << 60;        // beyond the file
    b.thread(1).book_offset = b.thread(1).ring_offset;  // on its own ring
    lt::Trace t(b.write());
    EXPECT_TRUE(t.has_whole_run());
    EXPECT_FALSE(t.books()[0].present);
    EXPECT_FALSE(t.books()[1].present);
    EXPECT_EQ(t.read_events().size(), 5u);  // the rings read as before
}

TEST(ReaderWholeRun, BookCutByTruncationIsLeftOut)
{
    TraceBuilder b = v2_two_threads();
    b.hold(1, 0x1000, 0, 5);
    std::string path = b.write(b.bytes().size() - 100);
    lt::Trace t(path);
    EXPECT_TRUE(t.books()[0].present);
    EXPECT_FALSE(t.books()[1].present);
}

TEST(ReaderWholeRun, RejectsTablesOutsideTheFile)
{
    {
        TraceBuilder b = v2_two_threads();
        b.hdr().order_table_capacity = 1u << 30;
        expect_error(b.write(), "lock-order table");
    }
    {
        TraceBuilder b = v2_two_threads();
        b.hdr().order_table_capacity = 12;  // not a power of two
        expect_error(b.write(), "lock-order table");
    }
    {
        TraceBuilder b = v2_two_threads();
        b.hdr().inherited_count = 5;  // more than its capacity
        expect_error(b.write(), "inherited-lock table");
    }
    {
        TraceBuilder b = v2_two_threads();
        b.hdr().book_size = 12;
        expect_error(b.write(), "book_size");
    }
    {
        TraceBuilder b = v2_two_threads();
        b.hdr().book_size = uint32_t(lt_book_bytes(300));  // not a power of two
        expect_error(b.write(), "book_size");
    }
}

// LOCKTRACE_TOTALS_LOCKS: every book has the header's book_size, and its
// totals table as many entries as that size holds.
TEST(ReaderWholeRun, ReadsTotalsTablesOfTheSizeTheHeaderSays)
{
    TraceBuilder b = two_threads();
    b.make_v2();
    b.hdr().book_size = uint32_t(lt_book_bytes(1024));
    b.add_book(0);
    b.add_book(1);
    for (uint32_t k : {0u, 255u, 256u, 1023u}) {
        lt_lock_totals& tt = b.book(1).totals[k];
        tt.addr = 0x1000 + 64 * k;
        tt.prim = LT_PRIM_MUTEX;
        tt.acquired_write = k + 1;
    }
    lt::Trace t(b.write());
    EXPECT_EQ(t.totals_capacity(), 1024u);
    ASSERT_EQ(t.books()[1].totals.size(), 4u);
    EXPECT_EQ(t.books()[1].totals[3].addr, 0x1000u + 64 * 1023);
    EXPECT_EQ(t.books()[1].totals[3].acquired_write, 1024u);
    EXPECT_TRUE(t.books()[0].present);
}

TEST(ReaderWholeRun, InheritedLocksAreRead)
{
    TraceBuilder b = v2_two_threads();
    auto* table = reinterpret_cast<lt_inherited_lock*>(&b.bytes()[TraceBuilder::kInheritedTable]);
    table[0] = lt_inherited_lock{};
    table[0].addr = 0x5000;
    table[0].tid = 777;
    table[0].mode = LT_FL_WRITE;
    table[0].prim = LT_PRIM_MUTEX;
    table[1] = lt_inherited_lock{};  // addr 0: not an entry
    b.hdr().inherited_count = 2;
    lt::Trace t(b.write());
    ASSERT_EQ(t.inherited().size(), 1u);
    EXPECT_EQ(t.inherited()[0].tid, 777);
}

// A ring that laps many times while it is read live (a writer thread here
// commits records as the shim does): each read may miss the oldest records,
// never one in the middle of the thread's history.
TEST(Reader, LiveRingLappingWhileReadMissesOnlyItsOldestRecords)
{
    TraceBuilder b;
    b.hdr().pid = getpid();  // read as the running process's trace
    b.hdr().start_monotonic_ns = lt::monotonic_now_ns();
    const uint64_t cap = 4096;
    uint32_t slot = b.add_thread(gettid(), cap, "writer");
    b.add(slot, 1, LT_EV_MARK, LT_PRIM_NONE, 0);
    const std::string path = b.write();
    const uint64_t ring_off = b.thread(slot).ring_offset;
    const uint64_t thread_off = TraceBuilder::kThreadTable + slot * sizeof(lt_thread);
    int fd = open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    void* m = mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(m, MAP_FAILED);
    auto* file = static_cast<uint8_t*>(m);
    auto* thr = reinterpret_cast<lt_thread*>(file + thread_off);
    auto* ring = reinterpret_cast<lt_event*>(file + ring_off);
    const uint64_t t0 = b.hdr().start_monotonic_ns;

    // The shim's protocol (format.h): reserve (head), clear seq, write, commit.
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (uint64_t i = 1; !stop.load(std::memory_order_relaxed); i++) {
            __atomic_store_n(&thr->head, i + 1, __ATOMIC_RELAXED);
            lt_event& e = ring[i & (cap - 1)];
            __atomic_store_n(&e.seq, 0, __ATOMIC_RELAXED);
            std::atomic_thread_fence(std::memory_order_release);
            e.time_ns = t0 + 1 + i;
            e.addr = i;
            e.type = LT_EV_MARK;
            __atomic_store_n(&e.seq, i + 1, __ATOMIC_RELEASE);
            // A pause each lap: a loaded machine's reader, slower than a
            // lap, would otherwise never get one record it can trust.
            if ((i & (cap - 1)) == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });

    int reads = 0, lapped = 0, gaps = 0;
    uint64_t events = 0;
    for (; reads < 3000 && (lapped < 20 || events == 0); reads++) {
        lt::Trace t(path);
        auto ev = t.read_events();
        const lt::ThreadInfo& ti = t.threads()[0];
        if (ti.lost > ti.first_index) lapped++;  // records overwritten while this read ran
        events += ev.size();
        for (size_t k = 1; k < ev.size(); k++)
            if (ev[k].addr != ev[k - 1].addr + 1) gaps++;
        // The newest record is kept (or is the one being written, torn).
        if (!ev.empty()) {
            EXPECT_GE(ev.back().addr + 2, ti.head) << "read " << reads;
        }
    }
    stop = true;
    writer.join();
    munmap(m, st.st_size);
    close(fd);
    EXPECT_EQ(gaps, 0) << "records missing in the middle of the history, over " << reads << " reads";
    EXPECT_GT(events, 0u);
    if (lapped == 0) GTEST_SKIP() << "the writer never lapped the ring during a read in " << reads << " reads";
}
