#include "tracefile.h"
#include "watchdog.h"

#include "modules.h"
#include "probes/probes.h"
#include "real.h"
#include "recorder.h"
#include "stacks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

lt_trace lt_g;
int lt_init_state;
bool lt_strip_exec;

static bool g_exit_known;
static int g_exit_status;
static bool g_once_done;
static bool g_forked_child; /* set in a fork child until its own file exists */
/* In a fork child: the forking thread (its tid in the child) and its stack. */
static int g_fork_stack_tid;
static uint64_t g_fork_stack_lo, g_fork_stack_hi;
static bool g_caches_dirty; /* unused slots' stack caches may hold a parent's entries */

static void before_fork(void);
static void after_fork_parent(void);
static void after_fork_child(void);

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Expands %p, %e and %% of the output template. */
static bool expand_template(const char *tmpl, char *out, size_t n, int pid)
{
    size_t o = 0;
    for (const char *p = tmpl; *p; ++p) {
        char buf[300];
        const char *ins = buf;
        if (*p == '%' && p[1] == 'p') {
            snprintf(buf, sizeof buf, "%d", pid);
            ++p;
        } else if (*p == '%' && p[1] == 'e') {
            const char *e = program_invocation_short_name;
            snprintf(buf, sizeof buf, "%s", e && *e ? e : "unknown");
            for (char *q = buf; *q; ++q)
                if (*q == '/')
                    *q = '_';
            ++p;
        } else if (*p == '%' && p[1] == '%') {
            buf[0] = '%', buf[1] = 0;
            ++p;
        } else {
            buf[0] = *p, buf[1] = 0;
        }
        size_t l = strlen(ins);
        if (o + l + 1 >= n)
            return false;
        memcpy(out + o, ins, l);
        o += l;
    }
    out[o] = 0;
    return true;
}

/* O_EXCL: never follow a planted symlink, never truncate someone's file.  If the
 * name is taken (an exec'd image keeps its pid) add .1, .2 ... before ".trace". */
static int create_unique(const char *base, char *chosen, size_t n)
{
    size_t bl = strlen(base);
    const char *ext = (bl > 6 && !strcmp(base + bl - 6, ".trace")) ? base + bl - 6 : base + bl;
    for (int i = 0; i < 1000; ++i) {
        if (i == 0)
            snprintf(chosen, n, "%s", base);
        else
            snprintf(chosen, n, "%.*s.%d%s", (int)(ext - base), base, i, ext);
        int fd = open(chosen, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Threads whose rings live in the address space reserved at start (lt_init)
 * when RLIMIT_AS is set; without a limit, all of them up to this much. */
static const uint32_t k_ring_area_threads = 64;
static const uint64_t k_ring_area_max = 64ull << 30;

/* Tid of the thread mapping a ring into the area or trimming it, 0 if none:
 * lt_ring_area_trim must not unmap a part another thread is about to map
 * over with MAP_FIXED (the range could meanwhile be the program's). */
static int g_area_owner;

/* False if this very thread holds it (a signal handler interrupted it). */
static bool area_lock(int self)
{
    for (;;) {
        int none = 0;
        if (__atomic_compare_exchange_n(&g_area_owner, &none, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return true;
        if (none == self)
            return false;
        sched_yield();
    }
}
static void area_unlock(void) { __atomic_store_n(&g_area_owner, 0, __ATOMIC_RELEASE); }

void lt_ring_area_trim(void)
{
    lt_trace &g = lt_g;
    if (!g.ring_area || !area_lock((int)gettid()))
        return;
    // Slots are taken in order: those below threads_used may map into the
    // area (now or later), those above map outside it once it is shorter.
    uint64_t used = 0;
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY && g.hdr)
        used = __atomic_load_n(&g.hdr->threads_used, __ATOMIC_ACQUIRE);
    size_t keep = (size_t)(used * g.ring_bytes);
    if (keep < g.ring_area_len) {
        munmap(g.ring_area + keep, g.ring_area_len - keep);
        g.ring_area_len = keep;
    }
    area_unlock();
}

/* Room that must stay free on the file system for a trace to be left sparse. */
static const uint64_t k_sparse_margin = 1ull << 30;

/* Makes [off, off+len) of the file usable through the mapping.  Stores into
 * a hole need a free block, and a disk that fills up later turns them into
 * SIGBUS in the traced program: a tracer must never kill what it watches, so
 * by default the blocks are allocated now, and the caller runs untraced if
 * that fails.  LOCKTRACE_SPARSE=1 (for programs forking thousands of
 * children, whose traces are mostly never-written rings) leaves the file
 * sparse while the file system has k_sparse_margin free beyond the request:
 * the file only grows (a pwrite of its last byte, which never shrinks it,
 * unlike ftruncate racing with another thread's ring). */
static bool reserve(int fd, uint64_t off, uint64_t len)
{
    struct statvfs fs;
    if (lt_g.cfg.sparse && fstatvfs(fd, &fs) == 0 &&
        (uint64_t)fs.f_bavail * fs.f_frsize > len + k_sparse_margin) {
        char zero = 0;
        if (pwrite(fd, &zero, 1, (off_t)(off + len - 1)) == 1)
            return true;
    }
    if (fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
        return true;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return false;
    return posix_fallocate(fd, (off_t)off, (off_t)len) == 0;
}

/* The first store to each page of the file faults it in, and the kernel reads
 * ahead around it as for a sequential reader: for the blocks just allocated,
 * that is zeroing up to hundreds of KiB of page cache the process may never
 * touch (a fork child records a few dozen events into a 1 MiB ring and a few
 * entries of the tables).  Faults on these mappings are one per page either
 * way (write faults on a shared mapping do not map around). */
static void no_readahead(void *p, size_t len) { madvise(p, len, MADV_RANDOM); }

static void fill_identity(lt_file_header *h)
{
    h->pid = getpid();
    h->ppid = getppid();
    ssize_t n = readlink("/proc/self/exe", h->exe_path, LT_PATH_MAX - 1);
    h->exe_path[n > 0 ? n : 0] = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = 0, r;
        while (got < (ssize_t)LT_CMDLINE_MAX && (r = read(fd, h->cmdline + got, LT_CMDLINE_MAX - got)) > 0)
            got += r;
        h->cmdline_len = (uint32_t)got;
        close(fd);
    }
}

/* `locktrace run` learns the real name (which may carry a .N) from its pipe;
 * a process that ends up untraced closes it with nothing written. */
static void tell_path(const char *path)
{
    int fd = lt_g.cfg.path_fd;
    if (fd < 0)
        return;
    lt_g.cfg.path_fd = -1;
    if (path) {
        size_t n = strlen(path);
        char line[sizeof lt_g.path + 1];
        memcpy(line, path, n);
        line[n] = '\n';
        ssize_t w = write(fd, line, n + 1);
        (void)w;
    }
    close(fd);
}

/* Creates and lays out a fresh trace file for this process. */
static bool open_trace(void)
{
    lt_trace &g = lt_g;
    const lt_config &cfg = g.cfg;
    char base[1100];
    if (!expand_template(cfg.output, base, sizeof base, getpid())) {
        lt_warn("LOCKTRACE_OUTPUT=%s expands to a too long path; running untraced", cfg.output);
        return false;
    }
    int fd = create_unique(base, g.path, sizeof g.path);
    if (fd < 0) {
        lt_warn("cannot create %s: %s; running untraced", base, strerror(errno));
        return false;
    }
    // Taken by an earlier image of this pid (exec) or a stale file: say
    // where this trace goes instead.
    if (strcmp(base, g.path))
        lt_warn("%s exists; writing %s", base, g.path);
    uint32_t depth = cfg.stack_depth;
    // Sized for one program, not for the disk of a machine running thousands
    // of traced processes (test suites): ~0.6 MiB of tables per process.
    uint32_t stack_cap = depth ? 4096 : 0;
    uint32_t module_cap = 256;
    uint64_t thread_off = LT_HEADER_SIZE;
    uint64_t module_off = align_up(thread_off + (uint64_t)cfg.max_threads * sizeof(lt_thread), 64);
    uint64_t stack_off = align_up(module_off + (uint64_t)module_cap * sizeof(lt_module), 64);
    uint32_t stack_entry = (uint32_t)(sizeof(lt_stack_entry) + 8u * depth);
    uint64_t rings_off = align_up(stack_off + (uint64_t)stack_cap * stack_entry, 4096);

    void *map = MAP_FAILED;
    if (reserve(fd, 0, rings_off))
        map = mmap(nullptr, rings_off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED)
        no_readahead(map, rings_off);
    if (map == MAP_FAILED) {
        lt_warn("cannot allocate %s: %s; running untraced", g.path, strerror(errno));
        unlink(g.path);
        close(fd);
        return false;
    }
    g.fd = fd;
    g.map_len = rings_off;
    g.hdr = (lt_file_header *)map;
    g.threads = (lt_thread *)((char *)map + thread_off);
    g.modules = (lt_module *)((char *)map + module_off);
    g.stacks = (uint8_t *)map + stack_off;
    g.stack_entry_size = stack_entry;
    g.stack_depth = depth;
    g.ring_bytes = cfg.ring_size * sizeof(lt_event);

    lt_file_header *h = g.hdr;
    h->version = LT_FORMAT_VERSION;
    h->header_size = LT_HEADER_SIZE;
    h->event_size = sizeof(lt_event);
    h->thread_entry_size = sizeof(lt_thread);
    h->module_entry_size = sizeof(lt_module);
    h->stack_entry_size = stack_entry;
    struct timespec mono, real;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    h->start_monotonic_ns = (uint64_t)mono.tv_sec * 1000000000u + mono.tv_nsec;
    h->start_realtime_ns = (uint64_t)real.tv_sec * 1000000000u + real.tv_nsec;
    h->families = cfg.families | LT_FAMILIES_ALWAYS;
    h->thread_table_offset = thread_off;
    h->thread_table_capacity = cfg.max_threads;
    h->module_table_offset = module_off;
    h->module_table_capacity = module_cap;
    h->stack_table_offset = stack_off;
    h->stack_table_capacity = stack_cap;
    h->stack_depth_max = depth;
    h->rings_offset = rings_off;
    h->file_end = rings_off;
    h->ring_capacity = cfg.ring_size;
    fill_identity(h);
    lt_modules_refresh();
    // The magic goes last: a reader polling a new file sees all or nothing.
    __atomic_store_n(&h->magic, LT_MAGIC, __ATOMIC_RELEASE);
    tell_path(g.path);
    return true;
}

static void once_per_process_image(void)
{
    if (g_once_done)
        return;
    g_once_done = true;
    // Registered from the first lock call or our constructor, so before the
    // program's own handlers: the child has its own file before they run.
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    lt_stacks_setup();
    lt_clock_setup(getenv("LOCKTRACE_CLOCK"));
}

/* The set-up below needs kilobytes of stack (libc's formatted printing,
 * dl_iterate_phdr, libunwind and file set-up), and its first call can come
 * from any thread: a fork child's first lock call may be made on a
 * PTHREAD_STACK_MIN thread that has no room for it.  So it runs on a stack of
 * its own.  Only the thread that moved lt_init_state from NONE to RUNNING
 * ever uses it, so one static stack is enough (fork children get their copy). */
alignas(64) static uint8_t g_init_stack[64 * 1024];

/* Calls fn on the stack whose top is `top`.  The caller's frame pointer stays
 * in %rbp, so a debugger or unwinder walks from fn back onto the thread's own
 * stack; %rbx keeps the thread's %rsp. */
static __attribute__((noinline)) bool call_on_stack(bool (*fn)(void), void *top)
{
    bool r;
    __asm__ volatile("movq %%rsp, %%rbx\n\t"
                     "movq %[top], %%rsp\n\t"
                     "callq *%[fn]\n\t"
                     "movq %%rbx, %%rsp"
                     : "=a"(r)
                     : [fn] "r"(fn), [top] "r"(top)
                     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1",
                       "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                       "xmm13", "xmm14", "xmm15");
    return r;
}

static bool init_body(void);

bool lt_init(void)
{
    int s = __atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE);
    if (LT_LIKELY(s == LT_INIT_READY))
        return true;
    if (s != LT_INIT_NONE)
        return false;
    if (!__atomic_compare_exchange_n(&lt_init_state, &s, LT_INIT_RUNNING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return s == LT_INIT_READY;
    // open/read below are cancellation points; a lock call is not one.
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    bool ok = call_on_stack(init_body, g_init_stack + sizeof g_init_stack);
    pthread_setcancelstate(cancel_state, nullptr);
    return ok;
}

static bool init_body(void)
{
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    // A fork child has its parent's lookups: redoing them cost ~0.2 ms a
    // child (dladdr scans glibc's symbol table, for each hook bound to the
    // next library only when one sits between us and glibc).
    if (!g_forked_child)
        lt_resolve();
    // A fork child comes back here on its first event: it keeps the
    // parent's configuration and control array.
    static bool config_loaded;
    if (!config_loaded) {
        lt_config_load(&lt_g.cfg);
        config_loaded = true;
        if (!lt_g.cfg.follow_exec)
            lt_strip_preload_env();
    }
    bool ok = true;
    if (!lt_g.ctl) {
        size_t ctl_len = align_up((uint64_t)lt_g.cfg.max_threads * sizeof(lt_tctl), 4096);
        void *ctl = mmap(nullptr, ctl_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ok = ctl != MAP_FAILED;
        if (ok) {
            lt_g.ctl = (lt_tctl *)ctl;
            lt_g.ctl_len = ctl_len;
        }
    }
    if (ok && !lt_g.ring_area) {
        // Room for every thread's ring while the address space is unlimited,
        // so no ring is ever mapped into a range the program unmapped (a
        // futex call there must keep failing with EFAULT).  Address space
        // counts against RLIMIT_AS: under a limit only the first
        // k_ring_area_threads get room and later rings go where the kernel
        // puts them; a program lowering the limit later gets the unused part
        // back first (lt_ring_area_trim: glibc's tst-create-detached sets
        // 800 MB, and 1 GiB of rings left it no room for thread stacks).
        struct rlimit as;
        bool unlimited = getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur == RLIM_INFINITY;
        uint32_t n = lt_g.cfg.max_threads < k_ring_area_threads ? lt_g.cfg.max_threads : k_ring_area_threads;
        size_t ring = lt_g.cfg.ring_size * sizeof(lt_event);
        void *area = MAP_FAILED;
        if (unlimited && (uint64_t)lt_g.cfg.max_threads * ring <= k_ring_area_max) {
            area = mmap(nullptr, (size_t)lt_g.cfg.max_threads * ring, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (area != MAP_FAILED)
                n = lt_g.cfg.max_threads;
        }
        if (area == MAP_FAILED)
            area = mmap(nullptr, (size_t)n * ring, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (area != MAP_FAILED) {
            lt_g.ring_area = (uint8_t *)area;
            lt_g.ring_area_len = (size_t)n * ring;
        }
        if (lt_g.cfg.stack_depth) {
            void *sc = mmap(nullptr, (size_t)lt_g.cfg.max_threads * sizeof(lt_stack_cache), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (sc != MAP_FAILED)
                lt_g.caches = (lt_stack_cache *)sc;
        }
    }
    if (ok) {
        once_per_process_image();
        ok = open_trace();
    }
    if (!ok)
        tell_path(nullptr);
    __atomic_store_n(&lt_families_active, ok ? (lt_g.cfg.families | LT_FAMILIES_ALWAYS) : 0u, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_init_state, ok ? LT_INIT_READY : LT_INIT_OFF, __ATOMIC_RELEASE);
    if (ok && g_forked_child) {
        g_forked_child = false;
        lt_watchdog_after_fork(); // the parent's watchdog thread did not survive fork
    }
    return ok;
}

static void name_slot(lt_thread *slot)
{
    char name[LT_THREAD_NAME_MAX + 1] = {0};
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0)
        memcpy(slot->name, name, LT_THREAD_NAME_MAX);
}

/* Has the thread that last used slot c stopped running for good?  It goes on
 * recording after its THREAD_EXIT (pthread key and thread_local destructors
 * run later), so its ring is reusable only once the kernel no longer knows
 * its tid: a thread that tgkill cannot find runs no more code.  A tid handed
 * since to another of our threads reads as alive, which only delays the reuse;
 * the caller's own tid proves the old owner gone. */
static bool slot_owner_gone(lt_tctl *c, int self)
{
    if (!__atomic_load_n(&c->lingering, __ATOMIC_ACQUIRE))
        return true;
    int tid = c->tid;
    if (tid != self && !(tgkill((pid_t)lt_g.hdr->pid, tid, 0) == -1 && errno == ESRCH))
        return false;
    __atomic_store_n(&c->lingering, (uint8_t)0, __ATOMIC_RELEASE);
    return true;
}

/* The oldest exited slot whose ring we can reuse, or -1; *waiting says some
 * exited slot's thread was still finishing. */
static int64_t oldest_exited(lt_file_header *h, int self, bool *waiting)
{
    int64_t best = -1;
    uint64_t best_end = UINT64_MAX;
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i) {
        lt_thread *t = &lt_g.threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != LT_SLOT_EXITED || !lt_g.ctl[i].ring ||
            t->end_ns >= best_end)
            continue;
        if (!slot_owner_gone(&lt_g.ctl[i], self)) {
            *waiting = true;
            continue;
        }
        best = i;
        best_end = t->end_ns;
    }
    return best;
}

lt_tctl *lt_thread_attach(int tid, uint64_t now)
{
    lt_trace &g = lt_g;
    lt_file_header *h = g.hdr;
    uint32_t idx = 0;
    bool fresh = false, recycled = false;
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    while (used < h->thread_table_capacity) {
        if (__atomic_compare_exchange_n(&h->threads_used, &used, used + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            idx = used;
            fresh = true;
            break;
        }
    }
    // A full table whose only reusable slots belong to threads still in
    // their last steps (typically a joiner woken by the kernel's tid clear,
    // which comes just before the exiting thread is gone): give them a moment
    // rather than run this thread untraced.
    for (int tries = 0, waits = 0; !fresh && !recycled && tries < 8;) {
        bool waiting = false;
        int64_t best = oldest_exited(h, tid, &waiting);
        if (best < 0) {
            if (!waiting || ++waits > 64)
                break;
            sched_yield();
            continue;
        }
        ++tries;
        uint32_t expect = LT_SLOT_EXITED;
        if (__atomic_compare_exchange_n(&g.threads[best].state, &expect, (uint32_t)LT_SLOT_BUSY, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            // Between the scan and the exchange the slot may have gone to
            // another thread that has ended too and still records: ask again,
            // now that nobody else can take it.
            if (!slot_owner_gone(&g.ctl[best], tid)) {
                __atomic_store_n(&g.threads[best].state, (uint32_t)LT_SLOT_EXITED, __ATOMIC_RELEASE);
                continue;
            }
            idx = (uint32_t)best;
            recycled = true;
        }
    }
    if (!fresh && !recycled) {
        __atomic_fetch_add(&h->threads_dropped, 1, __ATOMIC_RELAXED);
        return nullptr;
    }
    lt_thread *slot = &g.threads[idx];
    lt_tctl *c = &g.ctl[idx];
    if (fresh) {
        __atomic_store_n(&slot->state, (uint32_t)LT_SLOT_BUSY, __ATOMIC_RELEASE);
        uint64_t off = __atomic_fetch_add(&h->file_end, g.ring_bytes, __ATOMIC_ACQ_REL);
        void *ring = MAP_FAILED;
        if (reserve(g.fd, off, g.ring_bytes)) {
            bool locked = g.ring_area && area_lock(tid);
            if (locked && ((size_t)idx + 1) * g.ring_bytes <= g.ring_area_len)
                ring = mmap(g.ring_area + (size_t)idx * g.ring_bytes, g.ring_bytes, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_FIXED, g.fd, (off_t)off);
            else
                ring = mmap(nullptr, g.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, g.fd, (off_t)off);
            if (locked)
                area_unlock();
            if (ring != MAP_FAILED)
                no_readahead(ring, g.ring_bytes);
        }
        slot->tid = tid;
        slot->start_ns = slot->end_ns = now;
        if (ring == MAP_FAILED) {
            // Full disk or no address space: this thread runs untraced, and the
            // slot says so (EXITED with an empty ring) instead of risking SIGBUS.
            static int warned;
            if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
                lt_warn("cannot allocate a ring in %s: %s; threads without one run untraced", g.path,
                        strerror(errno));
            slot->ring_capacity = 0;
            __atomic_store_n(&slot->state, (uint32_t)LT_SLOT_EXITED, __ATOMIC_RELEASE);
            __atomic_fetch_add(&h->threads_dropped, 1, __ATOMIC_RELAXED);
            return nullptr;
        }
        slot->ring_offset = off;
        slot->ring_capacity = g.cfg.ring_size;
        slot->generation = 0;
        c->ring = (lt_event *)ring;
    } else {
        slot->generation++;
        __atomic_fetch_add(&h->threads_recycled, 1, __ATOMIC_RELAXED);
    }
    c->stack_cache = g.caches ? &g.caches[idx] : nullptr;
    // A new thread, a new stack.  A slot used for the first time in this
    // file has a cache nobody wrote since it was mapped or dropped at fork:
    // zero already, and not touched here (in a fork child, writing it would
    // copy the parent's pages).
    if (c->stack_cache && (recycled || g_caches_dirty))
        memset(c->stack_cache, 0, sizeof(lt_stack_cache));
    // This thread's stack: bounds for the unwind cache's scans and the
    // futex hooks' "is this word surely mapped" test.  The thread that
    // forked runs on the same stack in the child: its bounds are known, and
    // asking again would parse /proc/self/maps for the main thread.
    c->stack_lo = c->stack_hi = 0;
    pthread_attr_t attr;
    if (tid == g_fork_stack_tid && g_fork_stack_hi) {
        c->stack_lo = g_fork_stack_lo;
        c->stack_hi = g_fork_stack_hi;
    } else if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo = nullptr;
        size_t size = 0;
        if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
            c->stack_lo = (uint64_t)(uintptr_t)lo;
            c->stack_hi = (uint64_t)(uintptr_t)lo + size;
        }
        pthread_attr_destroy(&attr);
    }
    if (c->stack_cache) {
        c->stack_cache->stack_lo = c->stack_lo;
        c->stack_cache->stack_hi = c->stack_hi;
    }
    c->mask = slot->ring_capacity - 1;
    c->ended = 0;
    c->lingering = 0;
    c->slot = slot;
    c->tid = tid;
    c->index = idx;
    __atomic_store_n(&slot->head, 0, __ATOMIC_RELEASE);
    slot->tid = tid;
    slot->start_ns = now;
    slot->end_ns = 0;
    slot->pthread_self = (uint64_t)pthread_self();
    slot->flags = 0;
    memset(slot->name, 0, sizeof slot->name);
    name_slot(slot);
    __atomic_store_n(&slot->state, (uint32_t)LT_SLOT_LIVE, __ATOMIC_RELEASE);
    return c;
}

void lt_thread_detach(lt_tctl *c, uint64_t now)
{
    c->ended = 1;
    __atomic_store_n(&c->lingering, (uint8_t)1, __ATOMIC_RELAXED);
    c->slot->end_ns = now;
    __atomic_store_n(&c->slot->state, (uint32_t)LT_SLOT_EXITED, __ATOMIC_RELEASE);
}

void lt_note_exit_status(int status)
{
    g_exit_status = status;
    g_exit_known = true;
}

void lt_stamp_end(void)
{
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY || !g_exit_known)
        return;
    lt_g.hdr->exit_status = g_exit_status;
    __atomic_store_n(&lt_g.hdr->end_monotonic_ns, lt_now(), __ATOMIC_RELEASE);
}

/* Runs late in exit(): after the program's atexit handlers and destructors,
 * so their lock traffic is inside [start, end]. */
__attribute__((destructor)) static void stamp_end_at_exit(void) { lt_stamp_end(); }

/* Runs early, but a lock call may come even earlier: lt_init is lazy too. */
__attribute__((constructor(101))) static void init_at_load(void)
{
    lt_resolve();
    // Rings live in address space reserved by lt_init (see lt_trace.ring_area);
    // libunwind's own per-thread map for the main thread is made now, before
    // main() can unmap anything it might land in.
    if (lt_init())
        lt_stacks_warm_up();
    if (lt_init())
        lt_probes_init(lt_g.path); // Capstone probes: before the program's own constructors and threads
    if (lt_init())
        lt_watchdog_start(); // LOCKTRACE_WATCHDOG (watchdog.h): needs the trace file set up
}

/* Locks the forking thread held at the moment of fork: the child holds them
 * too (the classic atfork "lock everything, unlock in the child").  Worked
 * out from the thread's ring before the parent's file is dropped, and
 * written into the child's ring as ACQUIRED (LT_FL_INTERNAL) right after its
 * THREAD_START, so the child's own history is complete. */
struct lt_inherited {
    uint64_t addr;
    uint8_t prim, flags;
    int32_t count;
};
static lt_inherited g_inherited[64];
static uint32_t g_inherited_n;
static int g_inherited_tid;

static void note_held_locks(lt_tctl *c)
{
    g_inherited_n = 0;
    if (!c || !c->ring)
        return;
    uint64_t head = __atomic_load_n(&c->slot->head, __ATOMIC_ACQUIRE), cap = c->mask + 1;
    for (uint64_t i = head > cap ? head - cap : 0; i < head; ++i) {
        const lt_event &e = c->ring[i & c->mask];
        if (e.seq != i + 1 || (e.prim != LT_PRIM_MUTEX && e.prim != LT_PRIM_RWLOCK))
            continue;
        bool acquired = e.type == LT_EV_ACQUIRED, released = e.type == LT_EV_RELEASE;
        if (!acquired && !released)
            continue;
        uint32_t k = 0;
        while (k < g_inherited_n && g_inherited[k].addr != e.addr)
            ++k;
        if (k == g_inherited_n) {
            if (!acquired || k == 64)
                continue;
            g_inherited[g_inherited_n++] = {e.addr, e.prim, (uint8_t)(e.flags & (LT_FL_READ | LT_FL_WRITE)), 0};
        }
        g_inherited[k].count += acquired ? 1 : -1;
        if (acquired)
            g_inherited[k].flags = (uint8_t)(e.flags & (LT_FL_READ | LT_FL_WRITE));
    }
}

void lt_write_inherited_locks(void)
{
    if (!g_inherited_n || g_inherited_tid != (int)gettid())
        return;
    uint32_t n = g_inherited_n;
    g_inherited_n = 0;
    for (uint32_t k = 0; k < n; ++k)
        for (int32_t j = 0; j < g_inherited[k].count; ++j)
            lt_record(LT_EV_ACQUIRED, (lt_prim)g_inherited[k].prim, g_inherited[k].flags | LT_FL_INTERNAL,
                      (const void *)g_inherited[k].addr, 0, 0, 0, 0, 0, LT_STACK_NONE);
}

/* The list of held locks is made in the parent before the fork system call:
 * in the child the parent's ring is shared with the still running parent,
 * which may already have released them.  Our fork hook makes it before the
 * real fork and mutes the thread through the atfork handlers (the program's
 * and its libraries': jemalloc locks every arena in its prepare handler and
 * unlocks them in the child's): their lock traffic, seen in one process and
 * not the other, would read as locks held by nobody.  A fork libc makes
 * internally comes here through our prepare handler only.  g_inherited_owner
 * (the forking thread's tid) keeps two threads forking at once apart: the
 * second one's child simply inherits no list. */
static int g_inherited_owner;
static __thread uint8_t t_in_fork_hook __attribute__((tls_model("initial-exec")));

static void take_held_locks(void)
{
    int me = (int)gettid(), none = 0;
    if (!__atomic_compare_exchange_n(&g_inherited_owner, &none, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    g_inherited_n = 0;
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY)
        note_held_locks(lt_tls.ctl);
}

static void drop_held_locks(void)
{
    int me = (int)gettid();
    __atomic_compare_exchange_n(&g_inherited_owner, &me, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void before_fork(void)
{
    if (!t_in_fork_hook)
        take_held_locks();
}

static void after_fork_parent(void)
{
    if (!t_in_fork_hook)
        drop_held_locks();
}

/* In the child of fork: only the forking thread survives.  Drop every mapping
 * of the parent's file (it must never see a write from us) and start a fresh
 * file for the new pid. */
static void after_fork_child(void)
{
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY) {
        // Fork while another thread was initialising: that thread is gone.
        if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_RUNNING) {
            __atomic_store_n(&lt_families_active, 0u, __ATOMIC_RELEASE);
            __atomic_store_n(&lt_init_state, LT_INIT_OFF, __ATOMIC_RELEASE);
        }
        return;
    }
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    lt_trace &g = lt_g;
    // The list made before the fork is ours if this thread made it.
    if (lt_tls.ctl && __atomic_load_n(&g_inherited_owner, __ATOMIC_ACQUIRE) == lt_tls.ctl->tid)
        g_inherited_tid = (int)gettid();
    else
        g_inherited_n = 0;
    g_inherited_owner = 0;
    g_area_owner = 0; // its holder, if another thread, is gone
    g_fork_stack_tid = (int)gettid();
    g_fork_stack_lo = lt_tls.ctl ? lt_tls.ctl->stack_lo : 0;
    g_fork_stack_hi = lt_tls.ctl ? lt_tls.ctl->stack_hi : 0;
    uint32_t cap = g.cfg.max_threads;
    for (uint32_t i = 0; i < cap; ++i) {
        uint8_t *r = (uint8_t *)g.ctl[i].ring;
        if (!r)
            continue;
        // Back to a reservation (not a hole) inside the ring area.
        if (g.ring_area && r >= g.ring_area && r < g.ring_area + g.ring_area_len)
            mmap(r, g.ring_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        else
            munmap(r, g.ring_bytes);
    }
    // Private anonymous memory: dropping the pages zeroes them without
    // copying the parent's (a store would copy each page first).
    if (madvise(g.ctl, g.ctl_len, MADV_DONTNEED) != 0)
        memset(g.ctl, 0, g.ctl_len);
    if (g.caches && madvise(g.caches, (size_t)cap * sizeof(lt_stack_cache), MADV_DONTNEED) != 0)
        g_caches_dirty = true; // mlockall: every slot's cache is cleared when it is taken
    munmap(g.hdr, g.map_len);
    close(g.fd);
    g.fd = -1;
    g.hdr = nullptr;
    lt_tls.ctl = nullptr;
    lt_tls.depth = 0;
    lt_tls.off = 0;
    lt_modules_reset_after_fork();
    if (!g.cfg.follow_fork) {
        lt_strip_exec = true;
        lt_strip_preload_env();
        __atomic_store_n(&lt_families_active, 0u, __ATOMIC_RELEASE);
        __atomic_store_n(&lt_init_state, LT_INIT_OFF, __ATOMIC_RELEASE);
        return;
    }
    g_forked_child = true;
    // The child's own file is created by its first event (lt_init), so a
    // child that only execs or exits leaves no empty trace behind.
    __atomic_store_n(&lt_families_active, ~0u, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_init_state, LT_INIT_NONE, __ATOMIC_RELEASE);
}

/* Around the real fork and _Fork, in their hooks (_Fork runs no atfork
 * handlers: its hook also calls lt_fork_child_raw). */
extern "C" __attribute__((visibility("hidden"))) void lt_fork_prepare_raw(void)
{
    take_held_locks();
    t_in_fork_hook = 1;
    ++lt_tls.mute;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
extern "C" __attribute__((visibility("hidden"))) void lt_fork_done_raw(bool child)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    --lt_tls.mute;
    t_in_fork_hook = 0;
    if (!child)
        drop_held_locks();
}
extern "C" __attribute__((visibility("hidden"))) void lt_fork_child_raw(void) { after_fork_child(); }
