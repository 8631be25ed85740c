// The live view's parsers of /proc lines and its stored text (core/live_view.h).
#include "core/live_view.h"

#include <gtest/gtest.h>

#include <sys/syscall.h>

namespace lt {
namespace {

TEST(LiveView, SyscallLineOfAFutexWait)
{
    LiveThread t;
    ASSERT_TRUE(parse_syscall_line("202 0x7f12aa28 0x80 0x2 0x0 0x0 0x0 0x7ffd1000 0x7f1200105\n", &t));
    EXPECT_EQ(t.call, LiveThread::Call::in_call);
    EXPECT_EQ(t.nr, SYS_futex);
    EXPECT_EQ(t.args[0], 0x7f12aa28u);
    EXPECT_EQ(t.futex_wait_addr(), 0x7f12aa28u);
    EXPECT_EQ(t.futex_expected(), 2u);
    EXPECT_EQ(t.sp, 0x7ffd1000u);
    EXPECT_EQ(t.pc, 0x7f1200105u);
    EXPECT_FALSE(t.io_wait());
}

TEST(LiveView, SyscallLineRunningAndNotInACall)
{
    LiveThread t;
    ASSERT_TRUE(parse_syscall_line("running", &t));
    EXPECT_EQ(t.call, LiveThread::Call::running);
    LiveThread u;
    ASSERT_TRUE(parse_syscall_line("-1 0x7ffd1000 0x401000", &u));
    EXPECT_EQ(u.call, LiveThread::Call::running);
    EXPECT_EQ(u.pc, 0x401000u);
    EXPECT_EQ(u.futex_wait_addr(), 0u);
}

TEST(LiveView, SyscallLineRejectsJunk)
{
    LiveThread t;
    EXPECT_FALSE(parse_syscall_line("", &t));
    EXPECT_FALSE(parse_syscall_line("0 0x1 0x2", &t));
    EXPECT_FALSE(parse_syscall_line("0 0x1 0x2 0x3 0x4 0x5 0x6 0x7 zz", &t));
    EXPECT_FALSE(parse_syscall_line("0 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9", &t));
    EXPECT_EQ(t.call, LiveThread::Call::unknown);
}

TEST(LiveView, ReadIsAnIoWaitAndAWakeIsNotAFutexWait)
{
    LiveThread t;
    ASSERT_TRUE(parse_syscall_line("0 0x5 0x7ffd0 0x10 0x0 0x0 0x0 0x7ffd1000 0x7f1200105", &t));
    EXPECT_TRUE(t.io_wait());
    LiveThread w;  // FUTEX_WAKE_PRIVATE
    ASSERT_TRUE(parse_syscall_line("202 0x1000 0x81 0x1 0x0 0x0 0x0 0x7ffd1000 0x7f1200105", &w));
    EXPECT_EQ(w.futex_wait_addr(), 0u);
    LiveThread b;  // FUTEX_WAIT_BITSET_PRIVATE, as Rust's std waits
    ASSERT_TRUE(parse_syscall_line("202 0x1000 0x89 0x2 0x0 0x0 0xffffffff 0x7ffd1000 0x7f1200105", &b));
    EXPECT_EQ(b.futex_wait_addr(), 0x1000u);
}

TEST(LiveView, StatStateWithParensInTheName)
{
    char s = 0;
    ASSERT_TRUE(parse_stat_state("1234 (a) b (c)) S 1 1234 1234 0 -1", &s));
    EXPECT_EQ(s, 'S');
    EXPECT_FALSE(parse_stat_state("1234 (noclose S", &s));
}

TEST(LiveView, TcpRowsAndTheirPeer)
{
    const char* a = "   0: 0100007F:1F90 0100007F:A0C2 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1";
    const char* b = "   1: 0100007F:A0C2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1";
    std::vector<TcpRow> rows(2);
    ASSERT_TRUE(parse_net_tcp_line(a, false, &rows[0]));
    ASSERT_TRUE(parse_net_tcp_line(b, false, &rows[1]));
    EXPECT_EQ(rows[0].local, "127.0.0.1:8080");
    EXPECT_EQ(rows[0].remote, "127.0.0.1:41154");
    EXPECT_EQ(rows[0].inode, 4242u);
    const TcpRow* p = tcp_peer(rows, rows[0]);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->inode, 4343u);
    TcpRow header;
    EXPECT_FALSE(parse_net_tcp_line("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", false, &header));
}

TEST(LiveView, Tcp6Row)
{
    TcpRow r;
    ASSERT_TRUE(parse_net_tcp_line("   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0", true, &r));
    EXPECT_EQ(r.local, "[::1]:8080");
    EXPECT_EQ(r.inode, 77u);
}

TEST(LiveView, UnixRows)
{
    uint64_t ino = 0;
    std::string path;
    ASSERT_TRUE(parse_net_unix_line("0000000000000000: 00000002 00000000 00010000 0001 01 31337 /run/app.sock", &ino, &path));
    EXPECT_EQ(ino, 31337u);
    EXPECT_EQ(path, "/run/app.sock");
    ASSERT_TRUE(parse_net_unix_line("0000000000000000: 00000003 00000000 00000000 0001 03 31338", &ino, &path));
    EXPECT_EQ(ino, 31338u);
    EXPECT_EQ(path, "");
    EXPECT_FALSE(parse_net_unix_line("Num       RefCount Protocol Flags    Type St Inode Path", &ino, &path));
}

TEST(LiveView, TextRoundTrip)
{
    LiveView v;
    v.taken = true;
    v.pid = 4000;
    v.taken_ns = 123456789;
    v.source = "outside";
    v.refused.push_back("cannot read x");
    LiveThread t;
    t.tid = 4001;
    t.name = "a worker (1)";
    t.state = 'S';
    ASSERT_TRUE(parse_syscall_line("202 0x7f12aa28 0x80 0x2 0x0 0x0 0x0 0x7ffd1000 0x7f1200105", &t));
    t.wchan = "futex_wait_queue";
    t.word_known = true;
    t.word = 2;
    t.mutex_owner = 4002;
    t.fds.push_back({5, "fd 5, pipe pipe:[9]"});
    t.stack = {0x7f1200105, 0x401234, 0x401300};
    t.unwound = 2;
    t.in_malloc = true;
    t.mem_sp = 0x7ffd1000;
    t.mem = {0x01, 0xab, 0x00, 0xff};
    v.threads.push_back(t);
    v.malloc_arenas = {0x7f0000001000, 0x7e0000000020};
    // The watchdog's descriptor targets: fd 5's pipe has its other end at fd 6.
    v.fd_links = {{5, "pipe:[9]"}, {6, "pipe:[9]"}};
    LiveThread r;
    r.tid = 4002;
    r.call = LiveThread::Call::running;
    v.threads.push_back(r);
    LiveWord w;
    w.addr = 0x5000;
    w.read = true;
    w.v[0] = 2, w.v[2] = 4002;
    v.words.push_back(w);

    LiveView back;
    std::string why;
    ASSERT_TRUE(parse_live_view(live_view_text(v), &back, &why)) << why;
    EXPECT_EQ(back.pid, 4000);
    EXPECT_EQ(back.taken_ns, 123456789u);
    EXPECT_EQ(back.refused, v.refused);
    ASSERT_EQ(back.threads.size(), 2u);
    const LiveThread& b = back.threads[0];
    EXPECT_EQ(b.name, "a worker (1)");
    EXPECT_EQ(b.state, 'S');
    EXPECT_EQ(b.futex_wait_addr(), 0x7f12aa28u);
    EXPECT_EQ(b.wchan, "futex_wait_queue");
    EXPECT_EQ(b.mutex_owner, 4002);
    ASSERT_EQ(b.fds.size(), 1u);
    EXPECT_EQ(b.fds[0].what, "fd 5, pipe pipe:[9], other end fd 6 of this process");  // described from the links
    EXPECT_EQ(b.stack, t.stack);
    EXPECT_EQ(b.unwound, 2u);
    EXPECT_TRUE(b.in_malloc);
    EXPECT_FALSE(back.threads[1].in_malloc);
    EXPECT_EQ(b.mem_sp, 0x7ffd1000u);
    EXPECT_EQ(b.mem, t.mem);
    EXPECT_EQ(back.malloc_arenas, v.malloc_arenas);
    EXPECT_EQ(back.malloc_arena(0x7e0000000020), 2u);
    EXPECT_EQ(back.malloc_arena(0x7e0000000028), 0u);
    EXPECT_EQ(back.fd_links, v.fd_links);
    EXPECT_EQ(back.threads[1].call, LiveThread::Call::running);
    ASSERT_NE(back.word(0x5000), nullptr);
    EXPECT_EQ(back.word(0x5000)->v[2], 4002u);
}

TEST(LiveView, HostileTextIsSkippedNotTrusted)
{
    LiveView v;
    std::string why;
    EXPECT_FALSE(parse_live_view("hello\n", &v, &why));
    EXPECT_FALSE(parse_live_view("locktrace-live 1\n", &v, &why));  // no pid
    ASSERT_TRUE(parse_live_view("locktrace-live 1\npid 7\nthread -1 S x\nthread 9 S\nfutex 10 1 2\nfutex 9 99999999999 0\n"
                                "stack 9 500 0x1 nothex 0x2\nsyscall 9 1 2 3\nword 0x10 1 2\n",
                                &v, &why));
    ASSERT_EQ(v.threads.size(), 1u);
    EXPECT_FALSE(v.threads[0].word_known);
    EXPECT_EQ(v.threads[0].stack.size(), 2u);
    EXPECT_EQ(v.threads[0].unwound, 2u);
    EXPECT_EQ(v.threads[0].call, LiveThread::Call::unknown);
    EXPECT_TRUE(v.words.empty());
    // A stack copy that is not hex, or of an odd length, is left out.
    ASSERT_TRUE(parse_live_view("locktrace-live 1\npid 7\nthread 9 S x\nstackmem 9 0x1000 0g\nstackmem 9 0x1000 abc\n"
                                "arena 0\nfdlink -1 x\n",
                                &v, &why));
    EXPECT_TRUE(v.threads[0].mem.empty());
    EXPECT_TRUE(v.malloc_arenas.empty());
    EXPECT_TRUE(v.fd_links.empty());
}

} // namespace
} // namespace lt
