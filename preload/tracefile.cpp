#include "tracefile.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* The name %e stands for: the last part of argv[0], as glibc's
 * program_invocation_short_name. */
static const char *short_name(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : nullptr;
    return slash ? slash + 1 : argv0;
}

/* Expands %p, %e (program = argv[0]) and %% of the output template. */
static bool expand_template(const char *tmpl, char *out, size_t n, int pid, const char *program)
{
    size_t o = 0;
    for (const char *p = tmpl; *p; ++p) {
        char buf[300];
        const char *ins = buf;
        if (*p == '%' && p[1] == 'p') {
            snprintf(buf, sizeof buf, "%d", pid);
            ++p;
        } else if (*p == '%' && p[1] == 'e') {
            const char *e = short_name(program);
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

/* The i-th name tried for base: base itself, then .1, .2 ... before ".trace". */
static void candidate_name(const char *base, int i, char *out, size_t n)
{
    size_t bl = strlen(base);
    const char *ext = (bl > 6 && !strcmp(base + bl - 6, ".trace")) ? base + bl - 6 : base + bl;
    if (i == 0)
        snprintf(out, n, "%s", base);
    else
        snprintf(out, n, "%.*s.%d%s", (int)(ext - base), base, i, ext);
}

/* The probe placement list beside a trace (probes.h): "<trace>.probes". */
static void probe_list_name(const char *trace_path, char *out, size_t n)
{
    size_t l = strnlen(trace_path, n - 8);
    memcpy(out, trace_path, l);
    memcpy(out + l, ".probes", 8);
}

static void remove_probe_list(const char *trace_path)
{
    char side[sizeof lt_g.path + 8];
    probe_list_name(trace_path, side, sizeof side);
    unlink(side);
}

/* Renames the trace's probe list along with it, if it has one. */
static void move_probe_list(const char *from, const char *to)
{
    char a[sizeof lt_g.path + 8], b[sizeof lt_g.path + 8];
    probe_list_name(from, a, sizeof a);
    probe_list_name(to, b, sizeof b);
    rename(a, b);
}

/* The program that handed its file over to this one (take_over): its exec
 * chain, executable and argv, until fill_identity adds it to our chain. */
static lt_file_header g_prev;
static bool g_took_over;

/* Adds the program before us to our chain.  Its argv ends with ours (the
 * command it ran: "taskset -c 0 prog ARGS" runs "prog ARGS"): only what is
 * its own is kept ("taskset -c 0"), which our own cmdline shows anyway. */
static void chain_previous(lt_file_header *h)
{
    if (!g_took_over)
        return;
    g_took_over = false; // a fork child of ours was exec'd by nobody
    lt_exec_chain *to = &h->exec_chain;
    *to = g_prev.exec_chain;
    to->handover = 0;
    uint32_t kept = to->count < LT_EXEC_CHAIN_MAX ? to->count : LT_EXEC_CHAIN_MAX;
    if (kept == LT_EXEC_CHAIN_MAX) {
        memmove(&to->images[0], &to->images[1], sizeof to->images[0] * (LT_EXEC_CHAIN_MAX - 1));
        --kept;
    }
    lt_exec_image *img = &to->images[kept];
    memset(img, 0, sizeof *img);
    memcpy(img->exe_path, g_prev.exe_path, strnlen(g_prev.exe_path, sizeof img->exe_path - 1));
    size_t len = g_prev.cmdline_len < LT_CMDLINE_MAX ? g_prev.cmdline_len : LT_CMDLINE_MAX;
    size_t own = h->cmdline_len;
    if (own && own < len && g_prev.cmdline[len - own - 1] == 0 && !memcmp(g_prev.cmdline + len - own, h->cmdline, own))
        len -= own;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < sizeof img->args; ++i)
        img->args[o++] = g_prev.cmdline[i] ? g_prev.cmdline[i] : ' ';
    while (o && img->args[o - 1] == ' ')
        --o;
    img->args[o] = 0;
    to->count = g_prev.exec_chain.count + 1;
}

/* An earlier program of this very process that exec'd us before taking any
 * lock left its file at `path` for us (lt_trace_hand_over): take its exec
 * chain and remove it, so that the name is ours.  Only our own regular file
 * with our pid and the hand-over mark qualifies; anything else at that name
 * (a stale trace, someone else's file) is left alone. */
static bool take_over(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st, again;
    lt_file_header &old = g_prev;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
              st.st_size >= (off_t)LT_HEADER_SIZE && pread(fd, &old, sizeof old, 0) == (ssize_t)sizeof old &&
              old.magic == LT_MAGIC && old.version == LT_FORMAT_VERSION && old.pid == getpid() &&
              old.exec_chain.handover == LT_EXEC_HANDOVER && lstat(path, &again) == 0 &&
              again.st_ino == st.st_ino && again.st_dev == st.st_dev;
    close(fd);
    if (!ok || unlink(path) != 0)
        return false;
    remove_probe_list(path); // the earlier program's; ours is written after this
    g_took_over = true;
    return true;
}

/* O_EXCL: never follow a planted symlink, never truncate someone's file.  If the
 * name is taken (a stale file, or an earlier program of this pid that took
 * locks before its exec) add .1, .2 ... before ".trace".  A file handed over
 * by an earlier program of this pid is replaced. */
static int create_unique(const char *base, char *chosen, size_t n)
{
    for (int i = 0; i < 1000; ++i) {
        candidate_name(base, i, chosen, n);
        int fd = open(chosen, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && take_over(chosen))
            fd = open(chosen, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Threads whose rings live in the address space reserved at start (lt_rings_reserve)
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
    chain_previous(h);
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

/* Where each table starts in the file: ~0.6 MiB of tables per process,
 * sized for one program, not for the disk of a machine running thousands of
 * traced processes (test suites). */
struct layout {
    uint32_t depth, stack_cap, module_cap, stack_entry;
    uint64_t thread_off, module_off, stack_off, order_off, lives_off, inherited_off, anchors_off, rings_off;
};

/* The whole-run tables (man/locktrace-format.5 and liblocktrace.7 give
 * their sizes): lock-order pairs (LOCKTRACE_ORDER_PAIRS x 64 bytes, 1 MiB by default), 64 KiB of lock lives, 8 KiB
 * of locks inherited at fork. */
static const uint32_t k_lives_capacity = 4096;
static const uint32_t k_inherited_capacity = 256;
/* 256 KiB of clock anchors (clock.h): ~1000 in the first second, then
 * ~1000 per tenfold of the run's age. */
static const uint32_t k_anchors_capacity = 8192;

uint64_t lt_slot_bytes(const lt_config *cfg)
{
    return cfg->ring_size * sizeof(lt_event) + align_up(lt_book_bytes(cfg->totals_locks), 4096);
}

static layout plan_layout(const lt_config &cfg)
{
    layout l;
    l.depth = cfg.stack_depth;
    l.stack_cap = l.depth ? 4096 : 0;
    l.module_cap = 256;
    l.thread_off = LT_HEADER_SIZE;
    l.module_off = align_up(l.thread_off + (uint64_t)cfg.max_threads * sizeof(lt_thread), 64);
    l.stack_off = align_up(l.module_off + (uint64_t)l.module_cap * sizeof(lt_module), 64);
    l.stack_entry = (uint32_t)(sizeof(lt_stack_entry) + 8u * l.depth);
    l.order_off = align_up(l.stack_off + (uint64_t)l.stack_cap * l.stack_entry, 64);
    l.lives_off = l.order_off + (uint64_t)cfg.order_pairs * sizeof(lt_order_pair);
    l.inherited_off = l.lives_off + (uint64_t)k_lives_capacity * sizeof(lt_lock_life);
    l.anchors_off = l.inherited_off + (uint64_t)k_inherited_capacity * sizeof(lt_inherited_lock);
    l.rings_off = align_up(l.anchors_off + (uint64_t)k_anchors_capacity * sizeof(lt_clock_anchor), 4096);
    return l;
}

static void fill_header(lt_file_header *h, const layout &l, const lt_config &cfg)
{
    h->version = LT_FORMAT_VERSION;
    h->header_size = LT_HEADER_SIZE;
    h->event_size = sizeof(lt_event);
    h->thread_entry_size = sizeof(lt_thread);
    h->module_entry_size = sizeof(lt_module);
    h->stack_entry_size = l.stack_entry;
    struct timespec mono, real;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    h->start_monotonic_ns = (uint64_t)mono.tv_sec * 1000000000u + mono.tv_nsec;
    h->start_realtime_ns = (uint64_t)real.tv_sec * 1000000000u + real.tv_nsec;
    h->families = cfg.families | LT_FAMILIES_ALWAYS;
    h->thread_table_offset = l.thread_off;
    h->thread_table_capacity = cfg.max_threads;
    h->module_table_offset = l.module_off;
    h->module_table_capacity = l.module_cap;
    h->stack_table_offset = l.stack_off;
    h->stack_table_capacity = l.stack_cap;
    h->stack_depth_max = l.depth;
    h->rings_offset = l.rings_off;
    h->file_end = l.rings_off;
    h->ring_capacity = cfg.ring_size;
    h->book_size = (uint32_t)lt_book_bytes(cfg.totals_locks);
    h->order_entry_size = sizeof(lt_order_pair);
    h->order_table_offset = l.order_off;
    h->order_table_capacity = cfg.order_pairs;
    h->lives_offset = l.lives_off;
    h->lives_capacity = k_lives_capacity;
    h->inherited_offset = l.inherited_off;
    h->inherited_capacity = k_inherited_capacity;
    h->anchors_offset = l.anchors_off;
    h->anchors_capacity = k_anchors_capacity;
    fill_identity(h);
}

/* The file is made without a name where the file system can (O_TMPFILE) and
 * linked under its name only once it is complete (lt_trace_publish): a
 * process killed while making it (another thread called _exit, a kill
 * during start-up) leaves no half-made file behind.  Elsewhere it is created
 * under its name, and the magic, written last, tells readers it is ready. */
static bool g_unnamed;
static char g_base[sizeof lt_g.path];

static int create_unnamed(const char *base)
{
    char dir[sizeof lt_g.path];
    snprintf(dir, sizeof dir, "%s", base);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* Gives the unnamed file the first free name for base (as create_unique
 * would have); false if none could be made. */
static bool link_unnamed(int fd, const char *base, char *chosen, size_t n)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    for (int i = 0; i < 1000; ++i) {
        candidate_name(base, i, chosen, n);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, chosen, AT_SYMLINK_FOLLOW) == 0)
            return true;
        // No /proc: linking the descriptor itself needs CAP_DAC_READ_SEARCH.
        if (errno == ENOENT && linkat(fd, "", AT_FDCWD, chosen, AT_EMPTY_PATH) == 0)
            return true;
        if (errno != EEXIST)
            return false;
    }
    errno = EEXIST;
    return false;
}

/* Frees the name a handed-over file holds (create_unique does the same as
 * it goes): the first of base, base.1 ... that is not someone else's. */
static void take_over_any(const char *base)
{
    char name[sizeof lt_g.path];
    struct stat st;
    for (int i = 0; i < 1000; ++i) {
        candidate_name(base, i, name, sizeof name);
        if (lstat(name, &st) != 0 || take_over(name))
            return;
    }
}

/* The mappings of a file made unnamed show in /proc/PID/maps as
 * "/dir/#inode (deleted)" even once it has a name, and that is where
 * `locktrace snapshot` and live readers look for it: the header is mapped
 * again, and the rings will be, through a descriptor opened by the name
 * (the same file: checked by inode). */
static void reopen_named(void)
{
    lt_trace &g = lt_g;
    int fd = open(g.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat a, b;
    if (fstat(fd, &a) != 0 || fstat(g.fd, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev ||
        mmap(g.hdr, g.map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != (void *)g.hdr) {
        close(fd);
        return;
    }
    no_readahead(g.hdr, g.map_len);
    close(g.fd);
    g.fd = fd;
}

static void unmap_trace(void)
{
    munmap(lt_g.hdr, lt_g.map_len);
    close(lt_g.fd);
    lt_g.fd = -1;
    lt_g.hdr = nullptr;
}

bool lt_trace_create(void)
{
    lt_trace &g = lt_g;
    const lt_config &cfg = g.cfg;
    char *base = g_base;
    if (!expand_template(cfg.output, base, sizeof g_base, getpid(), program_invocation_name)) {
        lt_warn("LOCKTRACE_OUTPUT=%s expands to a too long path; running untraced", cfg.output);
        return false;
    }
    int fd = create_unnamed(base);
    g_unnamed = fd >= 0;
    if (g_unnamed) {
        // An earlier program of this pid that handed its file over: its
        // exec chain is ours to carry on, and its name is ours to take.
        take_over_any(base);
        snprintf(g.path, sizeof g.path, "%s", base);
    } else {
        fd = create_unique(base, g.path, sizeof g.path);
        if (fd < 0) {
            lt_warn("cannot create %s: %s; running untraced", base, strerror(errno));
            return false;
        }
    }
    layout l = plan_layout(cfg);
    void *map = MAP_FAILED;
    if (reserve(fd, 0, l.rings_off))
        map = mmap(nullptr, l.rings_off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED)
        no_readahead(map, l.rings_off);
    if (map == MAP_FAILED) {
        lt_warn("cannot allocate %s: %s; running untraced", g.path, strerror(errno));
        if (!g_unnamed)
            unlink(g.path);
        close(fd);
        return false;
    }
    g.fd = fd;
    g.map_len = l.rings_off;
    g.hdr = (lt_file_header *)map;
    g.threads = (lt_thread *)((char *)map + l.thread_off);
    g.modules = (lt_module *)((char *)map + l.module_off);
    g.stacks = (uint8_t *)map + l.stack_off;
    g.stack_entry_size = l.stack_entry;
    g.stack_depth = l.depth;
    g.ring_bytes = lt_slot_bytes(&cfg);
    g.order = (lt_order_pair *)((char *)map + l.order_off);
    g.lives = (lt_lock_life *)((char *)map + l.lives_off);
    fill_header(g.hdr, l, cfg);
    return true;
}

bool lt_trace_publish(void)
{
    // The magic goes last: a reader polling a new file sees all or nothing.
    __atomic_store_n(&lt_g.hdr->magic, LT_MAGIC, __ATOMIC_RELEASE);
    if (g_unnamed) {
        if (!link_unnamed(lt_g.fd, g_base, lt_g.path, sizeof lt_g.path)) {
            lt_warn("cannot create %s: %s; running untraced", g_base, strerror(errno));
            unmap_trace();
            return false;
        }
        g_unnamed = false;
        reopen_named();
    }
    // Taken by a stale file or someone else's: say where this trace goes.
    if (strcmp(g_base, lt_g.path))
        lt_warn("%s exists; writing %s", g_base, lt_g.path);
    tell_path(lt_g.path);
    return true;
}

void lt_trace_give_up(void) { tell_path(nullptr); }

bool lt_slots_prepare(void)
{
    if (lt_g.ctl)
        return true;
    size_t ctl_len = align_up((uint64_t)lt_g.cfg.max_threads * sizeof(lt_tctl), 4096);
    // ~4 KiB a slot (lt_tctl.order_seen), pages touched only by threads that use them.
    void *ctl = mmap(nullptr, ctl_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ctl == MAP_FAILED)
        return false;
    lt_g.ctl = (lt_tctl *)ctl;
    lt_g.ctl_len = ctl_len;
    return true;
}

/* Room for every thread's ring while the address space is unlimited, so no
 * ring is ever mapped into a range the program unmapped (a futex call there
 * must keep failing with EFAULT).  Address space counts against RLIMIT_AS:
 * under a limit only the first k_ring_area_threads get room and later rings
 * go where the kernel puts them; a program lowering the limit later gets the
 * unused part back first (lt_ring_area_trim: glibc's tst-create-detached sets
 * 800 MB, and 1 GiB of rings left it no room for thread stacks). */
void lt_rings_reserve(void)
{
    struct rlimit as;
    bool unlimited = getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur == RLIM_INFINITY;
    uint32_t n = lt_g.cfg.max_threads < k_ring_area_threads ? lt_g.cfg.max_threads : k_ring_area_threads;
    size_t ring = lt_slot_bytes(&lt_g.cfg);
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

/* A never used slot, taken in order; false if the table is full. */
static bool claim_fresh(lt_file_header *h, uint32_t *idx)
{
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    while (used < h->thread_table_capacity) {
        if (__atomic_compare_exchange_n(&h->threads_used, &used, used + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            *idx = used;
            return true;
        }
    }
    return false;
}

/* A full table whose only reusable slots belong to threads still in their
 * last steps (typically a joiner woken by the kernel's tid clear, which comes
 * just before the exiting thread is gone): give them a moment rather than run
 * this thread untraced. */
static bool claim_exited(lt_file_header *h, int tid, uint32_t *idx)
{
    lt_trace &g = lt_g;
    for (int tries = 0, waits = 0; tries < 8;) {
        bool waiting = false;
        int64_t best = oldest_exited(h, tid, &waiting);
        if (best < 0) {
            if (!waiting || ++waits > 64)
                return false;
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
            *idx = (uint32_t)best;
            return true;
        }
    }
    return false;
}

/* Allocates slot idx's ring at the end of the file and maps it (inside the
 * reserved area when it has room); MAP_FAILED if the disk or the address
 * space is full. */
static void *map_ring(uint32_t idx, int tid, uint64_t *off)
{
    lt_trace &g = lt_g;
    *off = __atomic_fetch_add(&g.hdr->file_end, g.ring_bytes, __ATOMIC_ACQ_REL);
    if (!reserve(g.fd, *off, g.ring_bytes))
        return MAP_FAILED;
    void *ring;
    bool locked = g.ring_area && area_lock(tid);
    if (locked && ((size_t)idx + 1) * g.ring_bytes <= g.ring_area_len)
        ring = mmap(g.ring_area + (size_t)idx * g.ring_bytes, g.ring_bytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_FIXED, g.fd, (off_t)*off);
    else
        ring = mmap(nullptr, g.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, g.fd, (off_t)*off);
    if (locked)
        area_unlock();
    if (ring != MAP_FAILED)
        no_readahead(ring, g.ring_bytes);
    return ring;
}

/* A slot used for the first time gets its ring; false if there is none. */
static bool open_fresh_slot(lt_thread *slot, lt_tctl *c, uint32_t idx, int tid, uint64_t now)
{
    lt_trace &g = lt_g;
    __atomic_store_n(&slot->state, (uint32_t)LT_SLOT_BUSY, __ATOMIC_RELEASE);
    uint64_t off;
    void *ring = map_ring(idx, tid, &off);
    slot->tid = tid;
    slot->start_ns = slot->end_ns = now;
    if (ring == MAP_FAILED) {
        // Full disk or no address space: this thread runs untraced, and the
        // slot says so (EXITED with an empty ring) instead of risking SIGBUS.
        static int warned;
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            lt_warn("cannot allocate a ring in %s: %s; threads without one run untraced", g.path, strerror(errno));
        slot->ring_capacity = 0;
        __atomic_store_n(&slot->state, (uint32_t)LT_SLOT_EXITED, __ATOMIC_RELEASE);
        __atomic_fetch_add(&g.hdr->threads_dropped, 1, __ATOMIC_RELAXED);
        return false;
    }
    slot->ring_offset = off;
    slot->ring_capacity = g.cfg.ring_size;
    slot->book_offset = off + g.cfg.ring_size * sizeof(lt_event);
    slot->generation = 0;
    c->ring = (lt_event *)ring;
    c->book = (lt_book *)((uint8_t *)ring + g.cfg.ring_size * sizeof(lt_event));
    return true;
}

lt_tctl *lt_slot_claim(int tid, uint64_t now, bool *recycled)
{
    lt_trace &g = lt_g;
    lt_file_header *h = g.hdr;
    uint32_t idx = 0;
    bool fresh = claim_fresh(h, &idx);
    *recycled = !fresh && claim_exited(h, tid, &idx);
    if (!fresh && !*recycled) {
        __atomic_fetch_add(&h->threads_dropped, 1, __ATOMIC_RELAXED);
        return nullptr;
    }
    lt_thread *slot = &g.threads[idx];
    lt_tctl *c = &g.ctl[idx];
    if (fresh && !open_fresh_slot(slot, c, idx, tid, now))
        return nullptr;
    if (!fresh) {
        slot->generation++;
        __atomic_fetch_add(&h->threads_recycled, 1, __ATOMIC_RELAXED);
        // The totals stay (per lock); the held set is the new thread's.
        for (uint32_t k = 0; k < LT_HELD_MAX; ++k)
            __atomic_store_n(&c->book->held[k].seq, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&c->book->held_count, 0u, __ATOMIC_RELEASE);
    }
    c->attempt_addr = 0;
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

void lt_slot_release(lt_tctl *c, uint64_t now)
{
    c->ended = 1;
    __atomic_store_n(&c->lingering, (uint8_t)1, __ATOMIC_RELAXED);
    c->slot->end_ns = now;
    __atomic_store_n(&c->slot->state, (uint32_t)LT_SLOT_EXITED, __ATOMIC_RELEASE);
}

void lt_slot_rename(uint64_t self, const char *name)
{
    if (lt_init_state != LT_INIT_READY || !lt_g.hdr)
        return;
    uint32_t used = __atomic_load_n(&lt_g.hdr->threads_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i) {
        lt_thread *t = &lt_g.threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == LT_SLOT_LIVE && t->pthread_self == self) {
            char tmp[LT_THREAD_NAME_MAX] = {0};
            strncpy(tmp, name, LT_THREAD_NAME_MAX - 1);
            memcpy(t->name, tmp, sizeof tmp);
        }
    }
}

void lt_trace_drop_after_fork(void)
{
    lt_trace &g = lt_g;
    g_area_owner = 0; // its holder, if another thread, is gone
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
    unmap_trace();
}

/* Events that say nothing about locks: a trace holding only these (and no
 * mark, no dropped or recycled thread) shows the user nothing. */
static bool says_nothing(uint16_t type)
{
    return type == LT_EV_THREAD_START || type == LT_EV_THREAD_EXIT || type == LT_EV_FORK || type == LT_EV_DLOPEN;
}

bool lt_trace_is_silent(void)
{
    lt_trace &g = lt_g;
    lt_file_header *h = g.hdr;
    if (!h || __atomic_load_n(&h->marks_used, __ATOMIC_ACQUIRE) || __atomic_load_n(&h->threads_dropped, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&h->threads_recycled, __ATOMIC_ACQUIRE))
        return false;
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i) {
        lt_thread *t = &g.threads[i];
        uint32_t state = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
        if (state != LT_SLOT_LIVE && state != LT_SLOT_EXITED)
            return false; // a thread setting up its slot: about to record
        uint64_t head = __atomic_load_n(&t->head, __ATOMIC_ACQUIRE);
        const lt_event *ring = g.ctl[i].ring;
        if (!head)
            continue;
        if (!ring || head > t->ring_capacity)
            return false;
        for (uint64_t k = 0; k < head; ++k)
            if (__atomic_load_n(&ring[k].seq, __ATOMIC_ACQUIRE) != k + 1 || !says_nothing(ring[k].type))
                return false;
    }
    return true;
}


/* Is `path` still the file we write (not replaced by someone since)? */
static bool still_ours(const char *path)
{
    struct stat mine, named;
    return fstat(lt_g.fd, &mine) == 0 && lstat(path, &named) == 0 && mine.st_ino == named.st_ino &&
           mine.st_dev == named.st_dev;
}

/* Where a file handed over went (lt_trace_hand_over), for lt_trace_take_back. */
static char g_handed_to[sizeof lt_g.path];

bool lt_trace_hand_over(const char *next_argv0)
{
    lt_trace &g = lt_g;
    if (!g.hdr || !g.cfg.follow_exec || !lt_trace_is_silent() || !still_ours(g.path))
        return false;
    // The next program's own name for its trace (its %e is its argv[0]):
    // the file moves there now, so that it finds it.
    char base[sizeof g.path];
    if (!expand_template(g.cfg.output, base, sizeof base, getpid(), next_argv0 ? next_argv0 : ""))
        return false;
    char to[sizeof g.path];
    int i = 0;
    for (; i < 1000; ++i) {
        candidate_name(base, i, to, sizeof to);
        if (!strcmp(to, g.path) || renameat2(AT_FDCWD, g.path, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
            break;
        if (errno != EEXIST)
            return false;
    }
    if (i == 1000)
        return false;
    snprintf(g_handed_to, sizeof g_handed_to, "%s", to);
    if (strcmp(to, g.path))
        move_probe_list(g.path, to);
    __atomic_store_n(&g.hdr->exec_chain.handover, LT_EXEC_HANDOVER, __ATOMIC_RELEASE);
    return true;
}

void lt_trace_take_back(void)
{
    lt_trace &g = lt_g;
    __atomic_store_n(&g.hdr->exec_chain.handover, 0u, __ATOMIC_RELEASE);
    if (!strcmp(g_handed_to, g.path))
        return;
    if (renameat2(AT_FDCWD, g_handed_to, AT_FDCWD, g.path, RENAME_NOREPLACE) == 0)
        move_probe_list(g_handed_to, g.path);
    else
        snprintf(g.path, sizeof g.path, "%s", g_handed_to);
}

bool lt_trace_remove_if_silent(void)
{
    lt_trace &g = lt_g;
    if (g.cfg.keep_empty || !lt_trace_is_silent() || !still_ours(g.path))
        return false;
    unlink(g.path);
    remove_probe_list(g.path);
    return true;
}
