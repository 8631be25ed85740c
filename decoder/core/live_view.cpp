#include "live_view.h"

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <map>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

namespace lt {

namespace {

constexpr size_t kMaxThreads = 4096;
constexpr size_t kMaxFrames = 64;
constexpr size_t kMaxLine = 1 << 16;
constexpr uint64_t kScanBytes = 128 * 1024;

uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// A small /proc file, or false with errno set.
bool slurp(const std::string& path, std::string* out)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out->clear();
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0 && out->size() < (1u << 24)) out->append(buf, size_t(r));
    int e = errno;
    close(fd);
    errno = e;
    return r >= 0;
}

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string hex(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

bool read_mem(int32_t pid, uint64_t addr, void* out, size_t len)
{
    struct iovec local = {out, len}, remote = {reinterpret_cast<void*>(addr), len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == ssize_t(len);
}

// Why the kernel refused, and what would let us read it.
std::string refusal(const std::string& what, int e, int32_t pid)
{
    std::string s = "cannot read " + what + " (" + strerror(e) + "): ";
    std::string scope;
    if (slurp("/proc/sys/kernel/yama/ptrace_scope", &scope)) scope = trim(scope);
    struct stat st;
    std::string owner;
    if (stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0)
        owner = "the process runs as uid " + std::to_string(st.st_uid) + ", locktrace as uid " +
                std::to_string(geteuid()) + "; ";
    s += "Linux gives a process's system calls and memory only to a reader allowed to ptrace-attach to it "
         "(PTRACE_MODE_ATTACH: the same user, a process that is not set-uid, and Yama's ptrace_scope rule) "
         "or one with CAP_SYS_PTRACE; " + owner;
    if (!scope.empty()) s += "kernel.yama.ptrace_scope is " + scope + "; ";
    s += "run locktrace as the process's user or as root";
    if (!scope.empty() && scope != "0")
        s += ", or allow it with `sysctl kernel.yama.ptrace_scope=" + std::string(scope == "1" ? "0" : "1") +
             "` (1: only ancestors; 0: any process of the same user)";
    return s;
}

struct Mapping {
    uint64_t lo, hi;
    bool exec;
};

std::vector<Mapping> read_maps(int32_t pid)
{
    std::vector<Mapping> out;
    std::string text;
    if (!slurp("/proc/" + std::to_string(pid) + "/maps", &text)) return out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        unsigned long long lo, hi;
        char perms[8] = {};
        if (sscanf(line.c_str(), "%llx-%llx %7s", &lo, &hi, perms) != 3) continue;
        out.push_back({lo, hi, perms[2] == 'x'});
    }
    return out;
}

const Mapping* mapping_of(const std::vector<Mapping>& maps, uint64_t a)
{
    for (const Mapping& m : maps)
        if (a >= m.lo && a < m.hi) return &m;
    return nullptr;
}

// The bytes before `ra` end in a call instruction (direct, indirect through a
// register, memory or RIP-relative): `ra` is a return address, not just a
// value that happens to point into code.
bool after_call(int32_t pid, uint64_t ra)
{
    uint8_t b[8];
    if (ra < 8 || !read_mem(pid, ra - 8, b, 8)) return false;
    // b[8 - k] is the byte at ra - k.
    if (b[3] == 0xe8) return true;                                    // call rel32
    if (b[2] == 0xff && b[3] == 0x15) return true;                    // call *disp32(%rip)
    if (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) return true;           // call *%reg
    if (b[5] == 0xff && (b[6] & 0xf8) == 0x50) return true;           // call *disp8(%reg)
    if (b[4] == 0xff && (b[5] & 0xf8) == 0x54) return true;           // call *disp8(sib)
    if (b[2] == 0xff && (b[3] & 0xf8) == 0x90) return true;           // call *disp32(%reg)
    if (b[6] == 0xff && (b[7] & 0xf8) == 0x10) return true;           // call *(%reg)
    return false;
}

// Return addresses found on the stack from `sp` up, at most `max`.
std::vector<uint64_t> scan_stack(int32_t pid, const std::vector<Mapping>& maps, uint64_t sp, size_t max)
{
    std::vector<uint64_t> out;
    const Mapping* stack = mapping_of(maps, sp);
    if (!stack) return out;
    uint64_t end = std::min(stack->hi, sp + kScanBytes);
    std::vector<uint64_t> words((end - sp) / 8);
    if (words.empty() || !read_mem(pid, sp, words.data(), words.size() * 8)) return out;
    for (uint64_t w : words) {
        const Mapping* m = mapping_of(maps, w);
        if (!m || !m->exec || !after_call(pid, w)) continue;
        out.push_back(w);
        if (out.size() >= max) break;
    }
    return out;
}

// ---- CFI unwinding with libdw, registers from /proc, memory by process_vm_readv

struct UnwindProcess {
    int32_t pid;
    std::map<pid_t, LiveThread*> threads;
};

pid_t uw_next_thread(Dwfl*, void* arg, void** thread_argp)
{
    auto* p = static_cast<UnwindProcess*>(arg);
    auto it = *thread_argp ? p->threads.upper_bound(static_cast<LiveThread*>(*thread_argp)->tid) : p->threads.begin();
    if (it == p->threads.end()) return 0;
    *thread_argp = it->second;
    return it->first;
}

bool uw_get_thread(Dwfl*, pid_t tid, void* arg, void** thread_argp)
{
    auto* p = static_cast<UnwindProcess*>(arg);
    auto it = p->threads.find(tid);
    if (it == p->threads.end()) return false;
    *thread_argp = it->second;
    return true;
}

bool uw_memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg)
{
    return read_mem(static_cast<UnwindProcess*>(arg)->pid, addr, result, sizeof *result);
}

bool uw_set_initial_registers(Dwfl_Thread* thread, void* thread_arg)
{
    const LiveThread* t = static_cast<const LiveThread*>(thread_arg);
    Dwarf_Word sp = t->sp;
    // x86-64 DWARF register 7 is %rsp; the others are unknown from /proc.
    if (!dwfl_thread_state_registers(thread, 7, 1, &sp)) return false;
    dwfl_thread_state_register_pc(thread, t->pc);
    return true;
}

const Dwfl_Thread_Callbacks kUnwindCallbacks = {uw_next_thread, uw_get_thread, uw_memory_read,
                                                uw_set_initial_registers, nullptr, nullptr};

struct FrameCollector {
    std::vector<uint64_t> pcs;
    uint64_t last_sp = 0;
};

int collect_frame(Dwfl_Frame* f, void* arg)
{
    auto* c = static_cast<FrameCollector*>(arg);
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(f, &pc, &activation)) return DWARF_CB_ABORT;
    c->pcs.push_back(pc);
    Dwarf_Word sp;
    if (dwfl_frame_reg(f, 7, &sp) == 0) c->last_sp = sp;
    return c->pcs.size() >= kMaxFrames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

void unwind_stacks(int32_t pid, std::vector<LiveThread>& threads)
{
    std::vector<Mapping> maps = read_maps(pid);
    static const Dwfl_Callbacks proc_callbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr,
                                                  nullptr};
    UnwindProcess proc{pid, {}};
    for (LiveThread& t : threads)
        if (t.sp && t.pc) proc.threads[t.tid] = &t;
    if (proc.threads.empty()) return;
    Dwfl* dwfl = dwfl_begin(&proc_callbacks);
    bool attached = dwfl && dwfl_linux_proc_report(dwfl, pid) == 0 && dwfl_report_end(dwfl, nullptr, nullptr) == 0 &&
                    dwfl_attach_state(dwfl, nullptr, pid, &kUnwindCallbacks, &proc);
    for (auto& [tid, t] : proc.threads) {
        FrameCollector c;
        c.last_sp = t->sp;
        if (attached) dwfl_getthread_frames(dwfl, tid, collect_frame, &c);
        if (c.pcs.empty()) c.pcs.push_back(t->pc);
        t->stack = c.pcs;
        t->unwound = c.pcs.size();
        if (t->stack.size() >= kMaxFrames) continue;
        // CFI stopped (a frame that needs a register /proc does not give, like
        // %rbp of frame-pointer code): go on by scanning above the last frame.
        std::vector<uint64_t> more = scan_stack(pid, maps, c.last_sp, kMaxFrames - t->stack.size());
        // The scan starts at the last frame's sp, where its own return address may lie.
        size_t from = 0;
        if (!more.empty() && t->stack.size() > 1 && more[0] == t->stack.back()) from = 1;
        t->stack.insert(t->stack.end(), more.begin() + long(from), more.end());
    }
    if (dwfl) dwfl_end(dwfl);
}

// ---- glibc mutexes

// `m` (the 40 bytes of a pthread_mutex_t on x86-64: __lock, __count, __owner,
// __nusers, __kind, ...) looks like a locked glibc mutex owned by one of `tids`.
int32_t glibc_mutex_owner(const uint32_t m[5], const std::vector<LiveThread>& threads)
{
    uint32_t lock = m[0], nusers = m[3], kind = m[4];
    int32_t owner = int32_t(m[2]);
    if (lock == 0 || owner <= 0 || nusers == 0 || nusers > (1u << 20)) return 0;
    // Type (0..3) and the robust (16), PI (32), PP (64), pshared (128) and elision bits.
    if (kind & ~uint32_t(0x3 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200)) return 0;
    // A robust or PI mutex's __lock holds the owner's tid (with FUTEX_WAITERS).
    if ((kind & 0x30) && int32_t(lock & 0x3fffffff) != owner) return 0;
    if (!(kind & 0x30) && lock > 2) return 0;
    for (const LiveThread& t : threads)
        if (t.tid == owner) return owner;
    return 0;
}

// ---- descriptors

struct SocketTables {
    bool loaded = false;
    std::map<uint64_t, uint64_t> unix_peer;        // inode -> peer inode
    std::map<uint64_t, std::string> unix_path;     // inode -> bound path
    std::vector<std::pair<std::string, TcpRow>> tcp; // ("tcp" / "tcp6", row)
};

void load_unix_peers(SocketTables& s)
{
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return;
    struct {
        nlmsghdr nlh;
        unix_diag_req req;
    } rq{};
    rq.nlh.nlmsg_len = sizeof rq;
    rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    rq.req.sdiag_family = AF_UNIX;
    rq.req.udiag_states = ~0u;
    rq.req.udiag_show = UDIAG_SHOW_PEER;
    if (send(nl, &rq, sizeof rq, 0) != ssize_t(sizeof rq)) {
        close(nl);
        return;
    }
    std::vector<char> buf(1 << 16);
    for (int rounds = 0; rounds < 4096; rounds++) {
        ssize_t n = recv(nl, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        bool done = false;
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
            int len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4)
                    s.unix_peer[m->udiag_ino] = *static_cast<uint32_t*>(RTA_DATA(a));
        }
        if (done) break;
    }
    close(nl);
}

void load_sockets(int32_t pid, SocketTables& s)
{
    if (s.loaded) return;
    s.loaded = true;
    load_unix_peers(s);
    const std::string net = "/proc/" + std::to_string(pid) + "/net/";
    std::string text, line;
    if (slurp(net + "unix", &text)) {
        std::istringstream in(text);
        while (std::getline(in, line)) {
            uint64_t ino;
            std::string path;
            if (parse_net_unix_line(line, &ino, &path) && !path.empty()) s.unix_path[ino] = path;
        }
    }
    for (const char* kind : {"tcp", "tcp6"})
        if (slurp(net + kind, &text)) {
            std::istringstream in(text);
            while (std::getline(in, line)) {
                TcpRow r;
                if (parse_net_tcp_line(line, kind[3] == '6', &r)) s.tcp.emplace_back(kind, r);
            }
        }
}

uint64_t bracket_inode(const std::string& link, const char* prefix)
{
    size_t n = strlen(prefix);
    if (link.compare(0, n, prefix) != 0) return 0;
    return strtoull(link.c_str() + n, nullptr, 10);
}

struct FdTable {
    bool loaded = false;
    std::map<int, std::string> links;   // fd -> readlink text
};

void load_fds(int32_t pid, FdTable& t)
{
    if (t.loaded) return;
    t.loaded = true;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char target[4096];
        ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
        if (n < 0) continue;
        t.links[atoi(e->d_name)] = std::string(target, size_t(n));
        if (t.links.size() > 65536) break;
    }
    closedir(d);
}

// The fds of this process other than `fd` whose link is `link` or names `inode`.
std::string fds_with(const FdTable& fds, int fd, const std::string& link)
{
    std::string out;
    for (const auto& [n, l] : fds.links)
        if (n != fd && l == link) out += (out.empty() ? "fd " : ", fd ") + std::to_string(n);
    return out;
}

std::string describe_fd(int32_t pid, int fd, FdTable& fds, SocketTables& socks)
{
    load_fds(pid, fds);
    auto it = fds.links.find(fd);
    if (it == fds.links.end()) return "fd " + std::to_string(fd) + " (not open, or not readable)";
    const std::string& link = it->second;
    std::string s = "fd " + std::to_string(fd) + ", ";
    if (uint64_t ino = bracket_inode(link, "socket:[")) {
        load_sockets(pid, socks);
        auto peer = socks.unix_peer.find(ino);
        if (peer != socks.unix_peer.end() || socks.unix_path.count(ino)) {
            s += "unix socket " + link;
            auto path = socks.unix_path.find(ino);
            if (path != socks.unix_path.end()) s += " at " + path->second;
            if (peer != socks.unix_peer.end() && peer->second) {
                std::string ends = fds_with(fds, fd, "socket:[" + std::to_string(peer->second) + "]");
                s += ", connected to socket:[" + std::to_string(peer->second) + "]" +
                     (ends.empty() ? " (not open in this process)" : ", which is " + ends + " of this process");
            }
            return s;
        }
        for (const auto& [kind, row] : socks.tcp) {
            if (row.inode != ino) continue;
            s += kind + " socket " + link + " " + row.local + (row.remote.find_first_not_of("0.:[]") == std::string::npos ? " (listening)" : " -> " + row.remote);
            std::vector<TcpRow> rows;
            for (const auto& kr : socks.tcp) rows.push_back(kr.second);
            if (const TcpRow* p = tcp_peer(rows, row)) {
                std::string ends = fds_with(fds, fd, "socket:[" + std::to_string(p->inode) + "]");
                s += ends.empty() ? ", peer socket:[" + std::to_string(p->inode) + "] (not open in this process)"
                                  : ", peer socket:[" + std::to_string(p->inode) + "], which is " + ends + " of this process";
            }
            return s;
        }
        return s + "socket " + link;
    }
    if (bracket_inode(link, "pipe:[")) {
        std::string ends = fds_with(fds, fd, link);
        return s + "pipe " + link + (ends.empty() ? " (other end not open in this process)" : ", other end " + ends + " of this process");
    }
    if (!link.empty() && link[0] == '/') return s + "file " + link;
    return s + link;
}

// The descriptors an I/O wait is on.
void describe_io(int32_t pid, LiveThread& t, FdTable& fds, SocketTables& socks)
{
    auto one = [&](uint64_t fd) { t.fds.push_back({int(fd), describe_fd(pid, int(fd), fds, socks)}); };
    switch (t.nr) {
    case SYS_poll:
    case SYS_ppoll: {
        size_t n = std::min<uint64_t>(t.args[1], 16);
        struct pfd {
            int32_t fd;
            int16_t events, revents;
        } p[16];
        if (n && read_mem(pid, t.args[0], p, n * sizeof p[0]))
            for (size_t i = 0; i < n; i++)
                if (p[i].fd >= 0) one(uint64_t(p[i].fd));
        return;
    }
    case SYS_select:
    case SYS_pselect6: {
        uint64_t nfds = std::min<uint64_t>(t.args[0], 1024);
        uint64_t bits[16] = {};
        for (int set = 1; set <= 2; set++)
            if (t.args[set] && nfds && read_mem(pid, t.args[set], bits, (nfds + 63) / 64 * 8))
                for (uint64_t fd = 0; fd < nfds && t.fds.size() < 16; fd++)
                    if (bits[fd / 64] >> (fd % 64) & 1) one(fd);
        return;
    }
    case SYS_wait4:
    case SYS_waitid:
        return;
    default:
        one(t.args[0]);
    }
}

// The calls that wait for I/O or another process, by number.
bool is_io_call(int64_t nr)
{
    switch (nr) {
    case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64: case SYS_pwrite64:
    case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg: case SYS_sendto: case SYS_sendmsg:
    case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_poll: case SYS_ppoll: case SYS_select:
    case SYS_pselect6: case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_wait4:
    case SYS_waitid: case SYS_flock:
        return true;
    default:
        return false;
    }
}

} // namespace

// ---- LiveThread, LiveView

uint64_t LiveThread::futex_wait_addr() const
{
    if (call != Call::in_call || nr != SYS_futex) return 0;
    uint32_t cmd = uint32_t(args[1]) & 127u;
    return cmd == 0 /* FUTEX_WAIT */ || cmd == 9 /* FUTEX_WAIT_BITSET */ ? args[0] : 0;
}

bool LiveThread::io_wait() const { return call == Call::in_call && is_io_call(nr); }

const LiveThread* LiveView::thread(int32_t tid) const
{
    for (const LiveThread& t : threads)
        if (t.tid == tid) return &t;
    return nullptr;
}

const LiveWord* LiveView::word(uint64_t addr) const
{
    for (const LiveWord& w : words)
        if (w.addr == addr && w.read) return &w;
    return nullptr;
}

std::string syscall_name(int64_t nr)
{
    static const std::map<int64_t, const char*> names = {
        {SYS_read, "read"}, {SYS_write, "write"}, {SYS_readv, "readv"}, {SYS_writev, "writev"},
        {SYS_pread64, "pread64"}, {SYS_pwrite64, "pwrite64"}, {SYS_recvfrom, "recvfrom"},
        {SYS_recvmsg, "recvmsg"}, {SYS_recvmmsg, "recvmmsg"}, {SYS_sendto, "sendto"}, {SYS_sendmsg, "sendmsg"},
        {SYS_accept, "accept"}, {SYS_accept4, "accept4"}, {SYS_connect, "connect"}, {SYS_poll, "poll"},
        {SYS_ppoll, "ppoll"}, {SYS_select, "select"}, {SYS_pselect6, "pselect6"}, {SYS_epoll_wait, "epoll_wait"},
        {SYS_epoll_pwait, "epoll_pwait"}, {SYS_epoll_pwait2, "epoll_pwait2"}, {SYS_wait4, "wait4"},
        {SYS_waitid, "waitid"}, {SYS_flock, "flock"}, {SYS_futex, "futex"}, {SYS_futex_waitv, "futex_waitv"},
        {SYS_nanosleep, "nanosleep"}, {SYS_clock_nanosleep, "clock_nanosleep"}, {SYS_pause, "pause"},
        {SYS_rt_sigsuspend, "rt_sigsuspend"}, {SYS_rt_sigtimedwait, "rt_sigtimedwait"}, {SYS_fcntl, "fcntl"},
        {SYS_msgrcv, "msgrcv"}, {SYS_semop, "semop"}, {SYS_semtimedop, "semtimedop"}, {SYS_ioctl, "ioctl"},
        {SYS_openat, "openat"}, {SYS_exit_group, "exit_group"}, {SYS_sched_yield, "sched_yield"},
    };
    auto it = names.find(nr);
    return it != names.end() ? it->second : "syscall " + std::to_string(nr);
}

// ---- parsers

bool parse_stat_state(const std::string& line, char* state)
{
    size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size() || line[close + 1] != ' ') return false;
    *state = line[close + 2];
    return *state >= 'A' && *state <= 'z';
}

bool parse_syscall_line(const std::string& raw, LiveThread* t)
{
    std::string line = trim(raw);
    if (line == "running") {
        t->call = LiveThread::Call::running;
        return true;
    }
    std::istringstream in(line);
    std::vector<std::string> f;
    std::string w;
    while (in >> w && f.size() < 10) f.push_back(w);
    if (in >> w) return false;
    auto num = [](const std::string& s, uint64_t* v) {
        char* end = nullptr;
        errno = 0;
        *v = strtoull(s.c_str(), &end, 0);
        return !s.empty() && end && *end == 0 && errno == 0;
    };
    if (f.size() == 3 && f[0] == "-1") {  // blocked, but not in a system call
        t->call = LiveThread::Call::running;
        return num(f[1], &t->sp) && num(f[2], &t->pc);
    }
    if (f.size() != 9) return false;
    uint64_t nr;
    char* end = nullptr;
    long long n = strtoll(f[0].c_str(), &end, 10);
    if (!end || *end || n < 0) return false;
    nr = uint64_t(n);
    for (int i = 0; i < 6; i++)
        if (!num(f[1 + i], &t->args[i])) return false;
    if (!num(f[7], &t->sp) || !num(f[8], &t->pc)) return false;
    t->nr = int64_t(nr);
    t->call = LiveThread::Call::in_call;
    return true;
}

namespace {

std::string tcp_addr(const std::string& hexaddr, bool v6)
{
    size_t colon = hexaddr.find(':');
    if (colon == std::string::npos) return "";
    std::string a = hexaddr.substr(0, colon);
    unsigned port = unsigned(strtoul(hexaddr.c_str() + colon + 1, nullptr, 16));
    char buf[INET6_ADDRSTRLEN] = {};
    if (!v6 && a.size() == 8) {
        uint32_t v = uint32_t(strtoul(a.c_str(), nullptr, 16));  // the address in memory order, printed as a host word
        inet_ntop(AF_INET, &v, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port);
    }
    if (v6 && a.size() == 32) {
        uint32_t v[4];
        for (int i = 0; i < 4; i++) v[i] = uint32_t(strtoul(a.substr(size_t(i) * 8, 8).c_str(), nullptr, 16));
        inet_ntop(AF_INET6, v, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(port);
    }
    return "";
}

} // namespace

bool parse_net_tcp_line(const std::string& line, bool v6, TcpRow* row)
{
    std::istringstream in(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    if (!(in >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) return false;
    if (sl.empty() || sl.back() != ':') return false;
    row->local = tcp_addr(local, v6);
    row->remote = tcp_addr(remote, v6);
    if (row->local.empty() || row->remote.empty()) return false;
    row->state = int(strtol(st.c_str(), nullptr, 16));
    char* end = nullptr;
    row->inode = strtoull(inode.c_str(), &end, 10);
    return end && *end == 0;
}

const TcpRow* tcp_peer(const std::vector<TcpRow>& rows, const TcpRow& r)
{
    for (const TcpRow& o : rows)
        if (&o != &r && o.inode != r.inode && o.local == r.remote && o.remote == r.local && o.inode) return &o;
    return nullptr;
}

bool parse_net_unix_line(const std::string& line, uint64_t* inode, std::string* path)
{
    // Num RefCount Protocol Flags Type St Inode [Path]
    std::istringstream in(line);
    std::string num, ref, proto, flags, type, st, ino;
    if (!(in >> num >> ref >> proto >> flags >> type >> st >> ino)) return false;
    if (num.empty() || num.back() != ':') return false;
    char* end = nullptr;
    *inode = strtoull(ino.c_str(), &end, 10);
    if (!end || *end) return false;
    path->clear();
    in >> *path;
    return true;
}

// ---- taking the view

LiveView take_live_view(int32_t pid, const std::vector<uint64_t>& words)
{
    LiveView v;
    v.taken = true;
    v.pid = pid;
    v.source = "outside";
    v.taken_ns = now_ns();
    const std::string base = "/proc/" + std::to_string(pid);
    DIR* d = opendir((base + "/task").c_str());
    if (!d) {
        v.refused.push_back(refusal(base + "/task", errno, pid));
        return v;
    }
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        LiveThread t;
        t.tid = int32_t(atoi(e->d_name));
        v.threads.push_back(std::move(t));
        if (v.threads.size() >= kMaxThreads) break;
    }
    closedir(d);
    std::sort(v.threads.begin(), v.threads.end(), [](const LiveThread& a, const LiveThread& b) { return a.tid < b.tid; });

    bool syscall_refused = false, memory_refused = false;
    for (LiveThread& t : v.threads) {
        const std::string task = base + "/task/" + std::to_string(t.tid);
        std::string s;
        if (slurp(task + "/comm", &s)) t.name = trim(s);
        if (slurp(task + "/stat", &s)) parse_stat_state(s, &t.state);
        if (slurp(task + "/wchan", &s)) t.wchan = trim(s) == "0" ? "" : trim(s);
        if (!slurp(task + "/syscall", &s)) {
            int e = errno;
            if ((e == EACCES || e == EPERM) && !syscall_refused) {
                syscall_refused = true;
                v.refused.push_back(refusal(base + "/task/*/syscall", e, pid));
            } else if (e != EACCES && e != EPERM) {
                t.problem = "cannot read " + task + "/syscall: " + strerror(e);
            }
            continue;
        }
        if (!parse_syscall_line(s, &t)) t.problem = "unexpected " + task + "/syscall: " + trim(s);
    }

    FdTable fds;
    SocketTables socks;
    for (LiveThread& t : v.threads) {
        if (uint64_t a = t.futex_wait_addr()) {
            uint32_t m[5];
            if (read_mem(pid, a, m, sizeof m)) {
                t.word_known = true;
                t.word = m[0];
                t.mutex_owner = glibc_mutex_owner(m, v.threads);
            } else if (read_mem(pid, a, m, 4)) {
                t.word_known = true;
                t.word = m[0];
            } else if ((errno == EPERM || errno == EACCES) && !memory_refused) {
                memory_refused = true;
                v.refused.push_back(refusal("the memory of process " + std::to_string(pid) + " (process_vm_readv)",
                                            errno, pid));
            }
        }
        if (t.io_wait()) describe_io(pid, t, fds, socks);
    }
    for (uint64_t a : words) {
        LiveWord w;
        w.addr = a;
        w.read = read_mem(pid, a, w.v, sizeof w.v) || read_mem(pid, a, w.v, 4);
        if (!w.read && (errno == EPERM || errno == EACCES) && !memory_refused) {
            memory_refused = true;
            v.refused.push_back(refusal("the memory of process " + std::to_string(pid) + " (process_vm_readv)", errno,
                                        pid));
        }
        v.words.push_back(w);
    }
    if (!memory_refused) unwind_stacks(pid, v.threads);
    return v;
}

// ---- text form
//
//   locktrace-live 1
//   pid PID / taken_ns NS / source WORDS / refused WORDS
//   thread TID STATE NAME          (the lines below name a thread declared before them)
//   syscall TID running | syscall TID NR A0 .. A5 SP PC | syscall TID sp-pc SP PC
//   wchan TID NAME / futex TID WORD OWNER / fd TID FD WORDS
//   stack TID UNWOUND PC...        (the first UNWOUND from CFI, the rest scanned)
//   problem TID WORDS / word ADDR V0 V1 V2 V3

std::string live_view_text(const LiveView& v)
{
    std::string o = "locktrace-live 1\n";
    auto line = [&](const std::string& s) {
        std::string c = s;
        std::replace(c.begin(), c.end(), '\n', ' ');
        o += c + "\n";
    };
    line("pid " + std::to_string(v.pid));
    line("taken_ns " + std::to_string(v.taken_ns));
    line("source " + v.source);
    for (const std::string& r : v.refused) line("refused " + r);
    for (const LiveThread& t : v.threads) {
        const std::string id = " " + std::to_string(t.tid);
        line("thread" + id + " " + std::string(1, t.state) + " " + t.name);
        if (t.call == LiveThread::Call::running && !t.pc) line("syscall" + id + " running");
        else if (t.call == LiveThread::Call::running) line("syscall" + id + " sp-pc " + hex(t.sp) + " " + hex(t.pc));
        else if (t.call == LiveThread::Call::in_call) {
            std::string s = "syscall" + id + " " + std::to_string(t.nr);
            for (uint64_t a : t.args) s += " " + hex(a);
            line(s + " " + hex(t.sp) + " " + hex(t.pc));
        }
        if (!t.wchan.empty()) line("wchan" + id + " " + t.wchan);
        if (t.word_known) line("futex" + id + " " + std::to_string(t.word) + " " + std::to_string(t.mutex_owner));
        for (const LiveFd& f : t.fds) line("fd" + id + " " + std::to_string(f.fd) + " " + f.what);
        if (!t.stack.empty()) {
            std::string s = "stack" + id + " " + std::to_string(t.unwound);
            for (uint64_t pc : t.stack) s += " " + hex(pc);
            line(s);
        }
        if (!t.problem.empty()) line("problem" + id + " " + t.problem);
    }
    for (const LiveWord& w : v.words)
        if (w.read)
            line("word " + hex(w.addr) + " " + std::to_string(w.v[0]) + " " + std::to_string(w.v[1]) + " " +
                 std::to_string(w.v[2]) + " " + std::to_string(w.v[3]));
    return o;
}

bool parse_live_view(const std::string& text, LiveView* v, std::string* why)
{
    *v = LiveView();
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || trim(line) != "locktrace-live 1") {
        *why = "not a locktrace live view (first line is not \"locktrace-live 1\")";
        return false;
    }
    auto u64 = [](const std::string& s, uint64_t* out) {
        char* end = nullptr;
        errno = 0;
        *out = strtoull(s.c_str(), &end, 0);
        return !s.empty() && s[0] != '-' && end && *end == 0 && errno == 0;
    };
    std::map<int32_t, size_t> index;
    while (std::getline(in, line)) {
        if (line.size() > kMaxLine) continue;
        std::istringstream ls(line);
        std::string key, rest;
        ls >> key;
        auto word = [&] {
            std::string w;
            ls >> w;
            return w;
        };
        auto tail = [&] {
            std::string r;
            std::getline(ls, r);
            size_t s = r.find_first_not_of(' ');
            return s == std::string::npos ? std::string() : r.substr(s);
        };
        uint64_t n;
        if (key == "pid" && u64(word(), &n) && n < (1u << 31)) v->pid = int32_t(n);
        else if (key == "taken_ns" && u64(word(), &n)) v->taken_ns = n;
        else if (key == "source") v->source = tail();
        else if (key == "refused") v->refused.push_back(tail());
        else if (key == "word") {
            LiveWord w;
            uint64_t x[4];
            if (!u64(word(), &w.addr)) continue;
            bool ok = true;
            for (int i = 0; i < 4; i++) ok = ok && u64(word(), &x[i]) && x[i] <= UINT32_MAX;
            if (!ok || v->words.size() >= kMaxThreads) continue;
            for (int i = 0; i < 4; i++) w.v[i] = uint32_t(x[i]);
            w.read = true;
            v->words.push_back(w);
        } else if (key == "thread") {
            if (!u64(word(), &n) || n == 0 || n >= (1u << 31) || index.count(int32_t(n)) ||
                v->threads.size() >= kMaxThreads)
                continue;
            LiveThread t;
            t.tid = int32_t(n);
            std::string st = word();
            t.state = st.size() == 1 ? st[0] : '?';
            t.name = tail();
            index[t.tid] = v->threads.size();
            v->threads.push_back(std::move(t));
        } else {
            if (!u64(word(), &n)) continue;
            auto it = index.find(int32_t(n));
            if (n >= (1u << 31) || it == index.end()) continue;
            LiveThread& t = v->threads[it->second];
            if (key == "syscall") {
                std::string r = tail();
                if (r.compare(0, 6, "sp-pc ") == 0) {
                    std::istringstream rs(r.substr(6));
                    std::string a, b;
                    rs >> a >> b;
                    if (u64(a, &t.sp) && u64(b, &t.pc)) t.call = LiveThread::Call::running;
                } else if (!parse_syscall_line(r, &t)) {
                    t.call = LiveThread::Call::unknown;
                }
            } else if (key == "wchan") {
                t.wchan = tail();
            } else if (key == "futex") {
                uint64_t w, o;
                if (u64(word(), &w) && w <= UINT32_MAX && u64(word(), &o) && o < (1u << 31)) {
                    t.word_known = true;
                    t.word = uint32_t(w);
                    t.mutex_owner = int32_t(o);
                }
            } else if (key == "fd") {
                uint64_t fd;
                if (u64(word(), &fd) && fd < (1u << 30) && t.fds.size() < 64) t.fds.push_back({int(fd), tail()});
            } else if (key == "stack") {
                uint64_t unwound, pc;
                if (!u64(word(), &unwound)) continue;
                t.stack.clear();
                std::string w;
                while (ls >> w && t.stack.size() < kMaxFrames)
                    if (u64(w, &pc)) t.stack.push_back(pc);
                t.unwound = std::min<uint64_t>(unwound, t.stack.size());
            } else if (key == "problem") {
                t.problem = tail();
            }
        }
    }
    // An owner must be a thread of the view (the watchdog writes the field raw).
    for (LiveThread& t : v->threads)
        if (t.mutex_owner && (t.mutex_owner == t.tid || !index.count(t.mutex_owner))) t.mutex_owner = 0;
    v->taken = v->pid > 0;
    if (!v->taken) *why = "the live view names no process";
    return v->taken;
}

std::string live_view_path(const std::string& trace_path) { return trace_path + ".live"; }

bool save_live_view(const LiveView& v, const std::string& path, std::string* why)
{
    const std::string tmp = path + ".tmp" + std::to_string(getpid());
    // A new file of ours only: never one planted under that name.
    unlink(tmp.c_str());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *why = tmp + ": " + strerror(errno);
        return false;
    }
    const std::string text = live_view_text(v);
    bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        *why = path + ": " + strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    return true;
}

bool load_live_view(const std::string& path, LiveView* v)
{
    std::string text, why;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 24)) text.append(buf, size_t(r));
    close(fd);
    return parse_live_view(text, v, &why);
}

} // namespace lt
