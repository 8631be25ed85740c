// The wait-for graph with a live view (findings/wait_for.cpp): waits the
// hooks never see, on glibc's own mutexes, close a deadlock cycle; a holder
// blocked in I/O is named in its waiter's blocked finding; views that do not
// fit the history add nothing.
#include "built_findings.h"
#include "core/live_view.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <sys/syscall.h>

using lt::test::Built;
using lt::test::TraceBuilder;
using lt::test::build;

namespace {

constexpr uint64_t REGISTRY = 0x5000, LOADER = 0x7f0000a28;
constexpr int32_t kScanner = 101, kLoader = 202;

// The scanner holds REGISTRY (and then calls dlopen, which no hook records);
// the loader, inside dlopen, waits for REGISTRY.
void loader_history(TraceBuilder& b)
{
    uint32_t s = b.add_thread(kScanner, 16, "scanner"), l = b.add_thread(kLoader, 16, "loader");
    b.add(s, 1000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, REGISTRY, LT_FL_WRITE);
    b.add(s, 2000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, REGISTRY, LT_FL_WRITE);
    b.add(l, 3000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, REGISTRY, LT_FL_WRITE);
}

lt::LiveThread futex_sleeper(int32_t tid, uint64_t addr, int32_t owner)
{
    lt::LiveThread t;
    t.tid = tid;
    t.state = 'S';
    t.call = lt::LiveThread::Call::in_call;
    t.nr = SYS_futex;
    t.args[0] = addr;
    t.args[1] = 0x80;  // FUTEX_WAIT_PRIVATE
    t.args[2] = 2;
    t.word_known = true;
    t.word = 2;
    t.mutex_owner = owner;
    return t;
}

std::vector<const lt::Finding*> of_kind(const std::vector<lt::Finding>& fs, const std::string& kind)
{
    std::vector<const lt::Finding*> out;
    for (const lt::Finding& f : fs)
        if (f.kind == kind) out.push_back(&f);
    return out;
}

} // namespace

TEST(LiveWaitFor, LoaderLockClosesTheCycle)
{
    TraceBuilder b;
    loader_history(b);
    Built r = build(b);
    EXPECT_TRUE(of_kind(r.findings, "deadlock").empty()) << "the history alone has no cycle";

    lt::LiveView v;
    v.taken = true;
    v.threads = {futex_sleeper(kScanner, LOADER, kLoader), futex_sleeper(kLoader, REGISTRY, kScanner)};
    r.model.live = &v;
    std::vector<lt::Finding> fs = lt::find_all(r.model);
    auto d = of_kind(fs, "deadlock");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0]->severity, lt::Finding::error);
    EXPECT_EQ(d[0]->threads.size(), 2u);
    // Both locks: the loader's, from the view, and the user's, from the history.
    EXPECT_NE(std::find(d[0]->locks.begin(), d[0]->locks.end(), LOADER), d[0]->locks.end());
    EXPECT_NE(std::find(d[0]->locks.begin(), d[0]->locks.end(), REGISTRY), d[0]->locks.end());
}

TEST(LiveWaitFor, AViewOfAnotherMomentAddsNothing)
{
    TraceBuilder b;
    loader_history(b);
    Built r = build(b);
    lt::LiveView v;
    v.taken = true;
    // The loader sleeps on some other word: the view does not show the wait the history has.
    v.threads = {futex_sleeper(kScanner, LOADER, kLoader), futex_sleeper(kLoader, 0x9000, 0)};
    r.model.live = &v;
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "deadlock").empty());
    // An owner that is running, not asleep, is on its way to release it.
    v.threads[1].call = lt::LiveThread::Call::running;
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "deadlock").empty());
    // A word whose owner is not a traced thread.
    v.threads = {futex_sleeper(kScanner, LOADER, 999), futex_sleeper(kLoader, REGISTRY, kScanner)};
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "deadlock").empty());
}

TEST(LiveWaitFor, HolderInReadIsNamedInTheBlockedFinding)
{
    TraceBuilder b;
    loader_history(b);
    Built r = build(b);
    lt::LiveView v;
    v.taken = true;
    lt::LiveThread reader;
    reader.tid = kScanner;
    ASSERT_TRUE(lt::parse_syscall_line("0 0x5 0x7ffd0 0x10 0x0 0x0 0x0 0x7ffd1000 0x7f1200105", &reader));
    reader.fds.push_back({5, "fd 5, unix socket socket:[11], connected to socket:[12], which is fd 6 of this process"});
    v.threads = {reader, futex_sleeper(kLoader, REGISTRY, kScanner)};
    r.model.live = &v;
    std::vector<lt::Finding> fs = lt::find_all(r.model);
    EXPECT_TRUE(of_kind(fs, "deadlock").empty());
    bool named = false;
    for (const lt::Finding* f : of_kind(fs, "blocked")) {
        std::string words;
        for (const lt::Text::Piece& p : f->summary.pieces)
            if (p.kind == lt::Text::Piece::Kind::words) words += p.words;
        if (words.find("is blocked in read() on fd 5, unix socket socket:[11], connected to socket:[12], which is "
                       "fd 6 of this process") != std::string::npos)
            named = true;
    }
    EXPECT_TRUE(named);
}

// --- malloc arenas ---------------------------------------------------------------

namespace {
constexpr uint64_t ARENA = 0x7f00001c60;  // main_arena's lock word, say

lt::LiveThread asleep_elsewhere(int32_t tid, bool in_malloc)
{
    lt::LiveThread t;
    t.tid = tid;
    t.state = 'S';
    EXPECT_TRUE(lt::parse_syscall_line("7 0x7ffd0 0x1 0xffffffff 0x0 0x0 0x0 0x7ffd1000 0x7f1200105", &t));  // poll
    t.stack = {0x7f1200105, 0x401234, 0x401300};
    t.unwound = 3;
    t.in_malloc = in_malloc;
    return t;
}
} // namespace

// A thread asleep on an arena's lock waits for the one other thread inside
// malloc when that one is asleep too; with two inside malloc, nobody is named.
TEST(LiveWaitFor, MallocArenaWaitGoesToTheOnlyThreadInsideMalloc)
{
    TraceBuilder b;
    loader_history(b);
    Built r = build(b);
    lt::LiveView v;
    v.taken = true;
    v.malloc_arenas = {ARENA};
    lt::LiveThread loader = futex_sleeper(kLoader, REGISTRY, kScanner);
    loader.in_malloc = true;  // took the arena's lock, then REGISTRY's (say, from a malloc hook)
    v.threads = {futex_sleeper(kScanner, ARENA, 0), loader};
    r.model.live = &v;
    auto fs = lt::find_all(r.model);
    auto d = of_kind(fs, "deadlock");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NE(std::find(d[0]->locks.begin(), d[0]->locks.end(), ARENA), d[0]->locks.end());
    v.threads.push_back(asleep_elsewhere(303, true));
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "deadlock").empty());
}

// Read live, the process quiet for seconds: a thread asleep on an arena's lock
// that no thread can unlock is a hang; a thread that may hold it (inside
// malloc, running, or whose stack is unknown), or a lock free now, is not.
TEST(LiveWaitFor, MallocArenaLockNobodyCanUnlockIsAHang)
{
    TraceBuilder b;
    b.hdr().pid = 1;  // running, started before the trace
    b.hdr().start_monotonic_ns = lt::test::monotonic_now() - 5000000000ull;
    uint32_t child = b.add_thread(kScanner, 16, "child");
    b.add(child, 100, LT_EV_ACQUIRED, LT_PRIM_MUTEX, REGISTRY, LT_FL_WRITE);
    Built r = build(b);
    EXPECT_TRUE(of_kind(r.findings, "hang").empty()) << "the history alone shows a running thread";

    lt::LiveView v;
    v.taken = true;
    v.malloc_arenas = {ARENA};
    v.threads = {futex_sleeper(kScanner, ARENA, 0)};
    r.model.live = &v;
    std::vector<lt::Finding> fs = lt::find_all(r.model);
    auto h = of_kind(fs, "hang");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0]->severity, lt::Finding::error);
    EXPECT_EQ(h[0]->threads, std::vector<int32_t>{kScanner});
    EXPECT_EQ(h[0]->locks, std::vector<uint64_t>{ARENA});

    v.threads.push_back(asleep_elsewhere(303, false));  // known to be elsewhere: still nobody
    EXPECT_EQ(of_kind(lt::find_all(r.model), "hang").size(), 1u);
    v.threads[1].in_malloc = true;  // may hold it
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "hang").empty());
    v.threads[1] = asleep_elsewhere(303, false);
    v.threads[1].unwound = 1;  // where it is is not known
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "hang").empty());
    v.threads[1] = asleep_elsewhere(303, false);
    v.threads[1].call = lt::LiveThread::Call::running;
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "hang").empty());
    v.threads.pop_back();
    v.threads[0].word = 0;  // free now: the sleeper is on its way
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "hang").empty());
    v.threads[0].word = 2;
    v.malloc_arenas.clear();  // not an arena's lock
    EXPECT_TRUE(of_kind(lt::find_all(r.model), "hang").empty());
}
