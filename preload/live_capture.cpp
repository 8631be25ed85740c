// The watchdog's live view, taken inside the traced process (format: the
// decoder's core/live_view.h, man/locktrace-format.5 "LIVE VIEW FILE").
//
// It runs on the watchdog's own thread when it fires, in a process that may
// be hung holding any lock, its allocator's included: nothing here allocates
// or takes a lock.  Static buffers, raw system calls (getdents64, not
// opendir), and process_vm_readv on ourselves to read words and stacks, so a
// bad address is an error, never a fault.  Reading /proc/self needs no
// permission: a thread group may always look at itself.
//
// No unwinder and no socket table runs here: the view keeps the raw material
// and the decoder works on it when it reads the view (it unwinds each stack
// with the modules' CFI and says what each descriptor is, as for a view taken
// from outside).  Per thread in a system call: the return addresses a scan of
// its stack finds (kept as the fallback), and a copy of the stack from its sp
// (`stackmem`); for the process: the file-backed mappings (`map`), the
// target of every descriptor (`fdlink`: "socket:[INODE]", "pipe:[INODE]", a
// path).
#include "live_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr size_t kMaxMaps = 1024;
constexpr size_t kMaxFrames = 48;
constexpr size_t kScanWords = 16384;  // 128 KiB of stack
constexpr size_t kCopyWords = 2048;   // 16 KiB of it copied for the decoder's unwinder
constexpr int kMaxFdLinks = 1024;

struct exec_range {
    uint64_t lo, hi;
};

// All of it static: the watchdog is one thread and fires once at a time.
char g_maps_text[256 * 1024];
exec_range g_exec[kMaxMaps];
size_t g_exec_n;
struct stack_range {
    uint64_t lo, hi;
} g_rw[kMaxMaps];
size_t g_rw_n;
uint64_t g_stack_words[kScanWords];
char g_dents[16384];
char g_out[8192];

bool read_self(uint64_t addr, void *out, size_t len)
{
    struct iovec l = {out, len}, r = {(void *)addr, len};
    return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len;
}

ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = 0;
    return (ssize_t)got;
}

} // namespace

void lt_write_str(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

namespace {

// Reads our mappings; writes the file-backed ones to `fd` as `map` lines (the
// decoder finds each module's CFI from them).
void load_maps(int fd)
{
    g_exec_n = g_rw_n = 0;
    if (read_small("/proc/self/maps", g_maps_text, sizeof g_maps_text) <= 0)
        return;
    for (char *line = g_maps_text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (strchr(line, '/')) {
            lt_write_str(fd, "map ");
            lt_write_str(fd, line);
            lt_write_str(fd, "\n");
        }
        unsigned long long lo, hi;
        char perms[8] = {};
        if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3) {
            if (perms[2] == 'x' && g_exec_n < kMaxMaps)
                g_exec[g_exec_n++] = {lo, hi};
            else if (perms[0] == 'r' && perms[1] == 'w' && g_rw_n < kMaxMaps)
                g_rw[g_rw_n++] = {lo, hi};
        }
        if (!nl)
            break;
        line = nl + 1;
    }
}

bool in_exec(uint64_t a)
{
    for (size_t i = 0; i < g_exec_n; i++)
        if (a >= g_exec[i].lo && a < g_exec[i].hi)
            return true;
    return false;
}

// The bytes before `ra` end in a call instruction (the decoder's scan makes the same check).
bool after_call(uint64_t ra)
{
    uint8_t b[8];
    if (ra < 8 || !read_self(ra - 8, b, 8))
        return false;
    return b[3] == 0xe8 || (b[2] == 0xff && b[3] == 0x15) || (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) ||
           (b[5] == 0xff && (b[6] & 0xf8) == 0x50) || (b[4] == 0xff && (b[5] & 0xf8) == 0x54) ||
           (b[2] == 0xff && (b[3] & 0xf8) == 0x90) || (b[6] == 0xff && (b[7] & 0xf8) == 0x10);
}

void scan_stack(int fd, long tid, uint64_t sp, uint64_t pc)
{
    uint64_t hi = 0;
    for (size_t i = 0; i < g_rw_n; i++)
        if (sp >= g_rw[i].lo && sp < g_rw[i].hi)
            hi = g_rw[i].hi;
    int n = snprintf(g_out, sizeof g_out, "stack %ld 1 0x%llx", tid, (unsigned long long)pc);
    size_t words = hi > sp ? (hi - sp) / 8 : 0;
    if (words > kScanWords)
        words = kScanWords;
    size_t frames = 1;
    if (!words || !read_self(sp, g_stack_words, words * 8))
        words = 0;
    for (size_t i = 0; i < words && frames < kMaxFrames && n < (int)sizeof g_out - 24; i++) {
        uint64_t w = g_stack_words[i];
        if (!in_exec(w) || !after_call(w))
            continue;
        n += snprintf(g_out + n, sizeof g_out - (size_t)n, " 0x%llx", (unsigned long long)w);
        frames++;
    }
    lt_write_str(fd, g_out);
    lt_write_str(fd, "\n");
    if (!words)
        return;
    // The stack from sp, in hex, little-endian bytes as they lie in memory.
    if (words > kCopyWords)
        words = kCopyWords;
    snprintf(g_out, sizeof g_out, "stackmem %ld 0x%llx ", tid, (unsigned long long)sp);
    lt_write_str(fd, g_out);
    static const char digits[] = "0123456789abcdef";
    const uint8_t *bytes = (const uint8_t *)g_stack_words;
    for (size_t i = 0; i < words * 8;) {
        size_t k = 0;
        for (; i < words * 8 && k + 2 < sizeof g_out; i++) {
            g_out[k++] = digits[bytes[i] >> 4];
            g_out[k++] = digits[bytes[i] & 15];
        }
        g_out[k] = 0;
        lt_write_str(fd, g_out);
    }
    lt_write_str(fd, "\n");
}

// `fd TID N fd N, LINK` for one descriptor an I/O wait is on.
void io_fd(int fd, long tid, int n)
{
    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", n);
    ssize_t k = readlink(path, link, sizeof link - 1);
    if (k <= 0)
        return;
    link[k] = 0;
    snprintf(g_out, sizeof g_out, "fd %ld %d fd %d, %s%s\n", tid, n, n, link[0] == '/' ? "file " : "", link);
    lt_write_str(fd, g_out);
}

// The descriptors of an I/O wait: the first argument, or poll's and select's sets.
void io_fds(int fd, long tid, long nr, const unsigned long long *a)
{
    if (nr == SYS_poll || nr == SYS_ppoll) {
        struct pfd {
            int32_t fd;
            int16_t events, revents;
        } p[16];
        size_t n = a[1] < 16 ? (size_t)a[1] : 16;
        if (n && read_self(a[0], p, n * sizeof p[0]))
            for (size_t i = 0; i < n; i++)
                if (p[i].fd >= 0)
                    io_fd(fd, tid, p[i].fd);
        return;
    }
    if (nr == SYS_select || nr == SYS_pselect6) {
        uint64_t nfds = a[0] < 1024 ? a[0] : 1024, bits[16];
        int found = 0;
        for (int set = 1; set <= 2; set++)
            if (a[set] && nfds && read_self(a[set], bits, (nfds + 63) / 64 * 8))
                for (uint64_t n = 0; n < nfds && found < 16; n++)
                    if (bits[n / 64] >> (n % 64) & 1) {
                        io_fd(fd, tid, (int)n);
                        found++;
                    }
        return;
    }
    if (nr <= 1 || nr == SYS_readv || nr == SYS_writev || nr == SYS_pread64 || nr == SYS_pwrite64 ||
        nr == SYS_recvfrom || nr == SYS_recvmsg || nr == SYS_recvmmsg || nr == SYS_sendto || nr == SYS_sendmsg ||
        nr == SYS_accept || nr == SYS_accept4 || nr == SYS_connect || nr == SYS_epoll_wait ||
        nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2 || nr == SYS_flock)
        io_fd(fd, tid, (int)a[0]);
}

// Calls fn(name) for each entry of the directory `path` whose name is a
// number, at most `max` of them (getdents64 into a static buffer).
template <class Fn> void each_numbered(const char *path, int max, Fn fn)
{
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return;
    int count = 0;
    long n;
    while (count < max && (n = syscall(SYS_getdents64, dir, g_dents, sizeof g_dents)) > 0)
        for (long off = 0; off < n && count < max;) {
            struct dirent64_raw {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[1];
            } *d = (dirent64_raw *)(g_dents + off);
            off += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9')
                continue;
            fn(dir, d->name);
            count++;
        }
    close(dir);
}

// Every descriptor's target, `fdlink N LINK`: the decoder finds a socket's
// peer or a pipe's other end among them.
void fd_links(int fd)
{
    each_numbered("/proc/self/fd", kMaxFdLinks, [fd](int dir, const char *name) {
        char link[256];
        ssize_t k = readlinkat(dir, name, link, sizeof link - 1);
        if (k <= 0)
            return;
        link[k] = 0;
        for (ssize_t i = 0; i < k; i++)
            if (link[i] == '\n')
                link[i] = ' ';
        snprintf(g_out, sizeof g_out, "fdlink %s %s\n", name, link);
        lt_write_str(fd, g_out);
    });
}

void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = 0;
}

void one_thread(int fd, long tid)
{
    char path[96], buf[512], name[64] = "", state = '?';
    snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
    if (read_small(path, name, sizeof name) > 0)
        trim(name);
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    if (read_small(path, buf, sizeof buf) > 0) {
        char *close = strrchr(buf, ')');
        if (close && close[1] == ' ' && close[2])
            state = close[2];
    }
    for (char *p = name; *p; p++)
        if (*p == '\n')
            *p = ' ';
    snprintf(g_out, sizeof g_out, "thread %ld %c %s\n", tid, state, name);
    lt_write_str(fd, g_out);
    snprintf(path, sizeof path, "/proc/self/task/%ld/wchan", tid);
    if (read_small(path, buf, sizeof buf) > 0 && strcmp(buf, "0") != 0) {
        snprintf(g_out, sizeof g_out, "wchan %ld %s\n", tid, buf);
        lt_write_str(fd, g_out);
    }
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
    if (read_small(path, buf, sizeof buf) <= 0)
        return;
    trim(buf);
    unsigned long long a[9];
    long nr = -2;
    if (strcmp(buf, "running") == 0) {
        snprintf(g_out, sizeof g_out, "syscall %ld running\n", tid);
        lt_write_str(fd, g_out);
        return;
    }
    if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5],
               &a[6], &a[7]) == 9 &&
        nr >= 0) {
        snprintf(g_out, sizeof g_out, "syscall %ld %s\n", tid, buf);
        lt_write_str(fd, g_out);
        uint32_t cmd = (uint32_t)a[1] & 127u;
        uint32_t word;
        if (nr == SYS_futex && (cmd == 0 || cmd == 9) && read_self(a[0], &word, 4)) {
            // The owner a glibc mutex names is left to the decoder's reading of
            // the word, which needs the thread list: write the raw owner field.
            // Only a word that looks like a locked glibc mutex (the decoder
            // checks the same, and that the owner is a thread of ours).
            uint32_t m[5];
            int32_t owner = 0;
            if (read_self(a[0], m, sizeof m) && m[0] && m[3] && m[3] < (1u << 20) && !(m[4] & ~0x3f3u) &&
                ((m[4] & 0x30) ? (m[0] & 0x3fffffff) == m[2] : m[0] <= 2))
                owner = (int32_t)m[2];
            // A stdio FILE lock (_IO_lock_t) names its owner by thread pointer.
            unsigned long long ptr = 0;
            if (!owner && read_self(a[0], m, 16) && (m[0] == 1 || m[0] == 2) && m[1] >= 1 && m[1] < (1u << 20))
                ptr = (unsigned long long)m[2] | (unsigned long long)m[3] << 32;
            snprintf(g_out, sizeof g_out, "futex %ld %u %d 0x%llx\n", tid, word, owner > 0 ? owner : 0, ptr);
            lt_write_str(fd, g_out);
        }
        io_fds(fd, tid, nr, a);
        scan_stack(fd, tid, a[6], a[7]);
    } else if (sscanf(buf, "-1 %llx %llx", &a[6], &a[7]) == 2) {
        snprintf(g_out, sizeof g_out, "syscall %ld sp-pc 0x%llx 0x%llx\n", tid, a[6], a[7]);
        lt_write_str(fd, g_out);
    }
}

} // namespace

bool lt_live_capture(const char *path, long self_tid)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    unlink(tmp);  // a new file of ours only, never one planted under that name
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(g_out, sizeof g_out, "locktrace-live 1\npid %d\ntaken_ns %llu\nsource watchdog\n", (int)getpid(),
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
    lt_write_str(fd, g_out);
    load_maps(fd);
    fd_links(fd);
    each_numbered("/proc/self/task", 1 << 20, [fd, self_tid](int, const char *name) {
        long tid = strtol(name, nullptr, 10);
        if (tid != self_tid)  // not the watchdog itself
            one_thread(fd, tid);
    });
    bool ok = close(fd) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    return true;
}
