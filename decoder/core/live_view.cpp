// The live view taken from outside the process (live_view.h): threads,
// their system calls, futex words and the glibc mutex owners they name; the
// descriptors (live_fds.cpp) and stacks (live_unwind.cpp) of each.
#include "live_proc.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lt {

using namespace live;

namespace {

uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
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

size_t LiveView::malloc_arena(uint64_t addr) const
{
    for (size_t i = 0; addr && i < malloc_arenas.size(); i++)
        if (malloc_arenas[i] == addr) return i + 1;
    return 0;
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

void finish_raw_view(LiveView& v)
{
    if (!v.fd_links.empty()) {
        Descriptors fds(v.pid, v.fd_links);
        for (LiveThread& t : v.threads) fds.describe_listed(t);
    }
    unwind_copied_stacks(v);
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

    Descriptors fds(pid);
    for (LiveThread& t : v.threads) {
        if (uint64_t a = t.futex_wait_addr()) {
            uint32_t m[5];
            if (read_mem(pid, a, m, sizeof m)) {
                t.word_known = true;
                t.word = m[0];
                t.mutex_owner = glibc_mutex_owner(m, v.threads);
                if (!t.mutex_owner && (m[0] == 1 || m[0] == 2) && m[1] >= 1 && m[1] < (1u << 20))
                    t.owner_thread_ptr = uint64_t(m[2]) | uint64_t(m[3]) << 32;
            } else if (read_mem(pid, a, m, 4)) {
                t.word_known = true;
                t.word = m[0];
            } else if ((errno == EPERM || errno == EACCES) && !memory_refused) {
                memory_refused = true;
                v.refused.push_back(refusal("the memory of process " + std::to_string(pid) + " (process_vm_readv)",
                                            errno, pid));
            }
        }
        fds.describe_io(t);
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
    if (!memory_refused) unwind_stacks(pid, v);
    return v;
}

} // namespace lt
