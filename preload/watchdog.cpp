#include "watchdog.h"

#include "clock.h"
#include "config.h"
#include "live_capture.h"
#include "state.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

struct watchdog_config {
    bool enabled;
    bool abort_after;
    uint64_t limit_ns;
    char decoder[PATH_MAX + 16];
};

watchdog_config g_wd;
bool g_wd_loaded;

void load_config(void)
{
    if (g_wd_loaded)
        return;
    g_wd_loaded = true;
    const char *v = getenv("LOCKTRACE_WATCHDOG");
    if (!v || !*v)
        return;
    char *end = nullptr;
    double s = strtod(v, &end);
    if (end == v || *end || !(s > 0) || s > 86400.0 * 365) {
        lt_warn("LOCKTRACE_WATCHDOG=%s is not a number of seconds > 0; watchdog off", v);
        return;
    }
    g_wd.limit_ns = (uint64_t)(s * 1e9);
    const char *a = getenv("LOCKTRACE_WATCHDOG_ACTION");
    if (a && *a && strcmp(a, "report") != 0) {
        if (strcmp(a, "abort") == 0)
            g_wd.abort_after = true;
        else
            lt_warn("LOCKTRACE_WATCHDOG_ACTION=%s is neither report nor abort; using report", a);
    }
    const char *d = getenv("LOCKTRACE_DECODER");
    if (d && *d) {
        snprintf(g_wd.decoder, sizeof g_wd.decoder, "%s", d);
    } else {
        // The decoder is built next to the shim: build/liblocktrace.so, build/locktrace.
        Dl_info info;
        if (dladdr((void *)&lt_watchdog_start, &info) && info.dli_fname) {
            char lib[PATH_MAX];
            if (realpath(info.dli_fname, lib)) {
                char *slash = strrchr(lib, '/');
                if (slash) {
                    *slash = 0;
                    snprintf(g_wd.decoder, sizeof g_wd.decoder, "%s/locktrace", lib);
                }
            }
        }
    }
    g_wd.enabled = true;
}

/* Reserve, then fill: marks_used never exceeds LT_MAX_MARKS (the decoder
 * rejects a header that says so).  A snapshot from another process may add
 * marks to the same header concurrently; the CAS keeps the two apart. */
void add_mark(lt_file_header *h, uint32_t kind, uint64_t now)
{
    uint32_t n = __atomic_load_n(&h->marks_used, __ATOMIC_ACQUIRE);
    do {
        if (n >= LT_MAX_MARKS)
            return;
    } while (!__atomic_compare_exchange_n(&h->marks_used, &n, n + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    h->marks[n].kind = kind;
    h->marks[n].tid = 0;
    __atomic_store_n(&h->marks[n].time_ns, now, __ATOMIC_RELEASE);
}

void copy_to_stderr(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf - 1)) > 0) {
        buf[r] = 0;
        lt_write_str(2, buf);
    }
    close(fd);
}

/* Everything the report needs is prepared when the thread starts, so that
 * firing allocates nothing: a program hung while holding its allocator's lock
 * (a custom malloc with a pthread mutex) must not hang the watchdog too. */
struct spawn_plan {
    bool ready;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    char *argv[6];
    char *env[1024];
};
spawn_plan g_plan;

void prepare_report(char *trace, char *live_path, const char *report_path)
{
    g_plan.ready = false;
    if (!g_wd.decoder[0])
        return;
    if (posix_spawn_file_actions_init(&g_plan.fa) != 0)
        return;
    // Not O_CLOEXEC: it becomes the decoder's stdout.
    posix_spawn_file_actions_addopen(&g_plan.fa, 1, report_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_init(&g_plan.at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&g_plan.at, &none);  // our thread blocks everything
    posix_spawnattr_setsigdefault(&g_plan.at, &all); // the program may ignore SIGPIPE etc.
    posix_spawnattr_setflags(&g_plan.at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    g_plan.argv[0] = g_wd.decoder;
    g_plan.argv[1] = (char *)"report";
    g_plan.argv[2] = (char *)"--live-view";
    g_plan.argv[3] = live_path;  // the view we take ourselves: no permission needed
    g_plan.argv[4] = trace;
    g_plan.argv[5] = nullptr;
    g_plan.ready = true;
}

/* Runs the decoder on our own (live) trace.  posix_spawn: no fork of a big
 * multi-threaded process, nothing of ours runs in the child. */
void run_report(const char *trace, const char *report_path)
{
    if (!g_plan.ready || access(g_wd.decoder, X_OK) != 0) {
        char msg[PATH_MAX * 3 + 200];
        snprintf(msg, sizeof msg,
                 "locktrace: watchdog: decoder not found (%s); set LOCKTRACE_DECODER, or run: locktrace report %s\n",
                 g_wd.decoder[0] ? g_wd.decoder : "no path", trace);
        lt_write_str(2, msg);
        return;
    }
    // The environment as it is now, without the preload (the decoder must
    // not trace itself) and without the watchdog settings.
    size_t k = 0;
    for (char **e = environ; e && *e && k + 1 < sizeof g_plan.env / sizeof g_plan.env[0]; ++e)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "LOCKTRACE_WATCHDOG", 18) != 0)
            g_plan.env[k++] = *e;
    g_plan.env[k] = nullptr;
    pid_t pid;
    int err = posix_spawn(&pid, g_wd.decoder, &g_plan.fa, &g_plan.at, g_plan.argv, g_plan.env);
    if (err) {
        char msg[PATH_MAX + 200];
        snprintf(msg, sizeof msg, "locktrace: watchdog: cannot run %s: %s\n", g_wd.decoder, strerror(err));
        lt_write_str(2, msg);
        return;
    }
    // The program may reap children itself (SIGCHLD handler, SIG_IGN): then
    // waitpid fails with ECHILD and the report is complete anyway or not at all.
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    copy_to_stderr(report_path);
}

struct poll_state {
    uint64_t heads_sum;
    uint32_t threads_used;
    uint64_t progress_ns;
    bool fired;
};

/* One look at every thread's ring.  Returns how many threads are blocked for
 * longer than the limit, and whether any head moved since the last look. */
uint32_t scan(poll_state *ps, uint64_t now, bool *moved)
{
    lt_trace &g = lt_g;
    lt_file_header *h = g.hdr;
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    if (used > h->thread_table_capacity)
        used = h->thread_table_capacity;
    uint64_t sum = 0;
    uint32_t blocked = 0;
    for (uint32_t i = 0; i < used; ++i) {
        lt_thread *t = &g.threads[i];
        // EXITED too: a thread goes on recording after its exit record, and
        // one whose key or thread_local destructor waits forever is hung
        // there (its last record says so; an ended thread's never does).
        uint32_t st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
        if (st != LT_SLOT_LIVE && st != LT_SLOT_EXITED)
            continue;
        lt_event *ring = __atomic_load_n(&g.ctl[i].ring, __ATOMIC_ACQUIRE);
        uint64_t cap = t->ring_capacity;
        uint64_t head = __atomic_load_n(&t->head, __ATOMIC_ACQUIRE);
        sum += head * (i + 1);
        if (!ring || !cap || !head)
            continue;
        const lt_event *rec = &ring[(head - 1) & (cap - 1)];
        if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) != head)
            continue; // being written: the thread is running
        uint16_t type = rec->type;
        uint8_t flags = rec->flags, prim = rec->prim;
        uint64_t since = rec->time_ns;
        if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) != head)
            continue;
        // A join waits for a thread that may well be busy computing: the
        // joined thread, if it is stuck, is counted where it is stuck.
        bool blocking = ((type == LT_EV_ATTEMPT && !(flags & LT_FL_TRY)) || type == LT_EV_WAIT_BEGIN) &&
                        prim != LT_PRIM_THREAD;
        if (blocking && now > since && now - since >= g_wd.limit_ns)
            ++blocked;
    }
    *moved = sum != ps->heads_sum || used != ps->threads_used;
    ps->heads_sum = sum;
    ps->threads_used = used;
    return blocked;
}

void *watchdog_main(void *)
{
    // Never traced: the shim's hooks pass straight through in this thread.
    lt_tls.mute = 1;
    lt_tls.internal = 1;
    lt_tls.off = 1;
    prctl(PR_SET_NAME, "lt-watchdog", 0, 0, 0);
    char trace[PATH_MAX], report[PATH_MAX + 16], live[PATH_MAX + 16];
    if (!realpath(lt_g.path, trace))
        snprintf(trace, sizeof trace, "/proc/%d/fd/%d", (int)getpid(), lt_g.fd);
    snprintf(report, sizeof report, "%s.report.txt", trace);
    snprintf(live, sizeof live, "%s.live", trace);
    prepare_report(trace, live, report);
    const long self_tid = syscall(SYS_gettid);

    uint64_t period = g_wd.limit_ns / 2;
    if (period > 500000000u)
        period = 500000000u;
    if (period < 10000000u)
        period = 10000000u;
    poll_state ps = {0, 0, lt_now(), false};
    for (;;) {
        struct timespec ts = {(time_t)(period / 1000000000u), (long)(period % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
        }
        if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY)
            continue;
        if (__atomic_load_n(&lt_g.hdr->end_monotonic_ns, __ATOMIC_ACQUIRE))
            return nullptr; // exiting normally
        uint64_t now = lt_now();
        lt_clock_anchor_if_due(now);
        bool moved;
        uint32_t blocked = scan(&ps, now, &moved);
        if (moved) {
            ps.progress_ns = now;
            ps.fired = false;
            continue;
        }
        if (ps.fired || !blocked || now - ps.progress_ns < g_wd.limit_ns)
            continue;
        ps.fired = true;
        add_mark(lt_g.hdr, LT_MARK_WATCHDOG, now);
        char msg[PATH_MAX * 2 + 200];
        snprintf(msg, sizeof msg,
                 "locktrace: watchdog: %u thread(s) blocked for over %.1fs with no lock progress; "
                 "report below and in %s\n",
                 blocked, g_wd.limit_ns / 1e9, report);
        lt_write_str(2, msg);
        if (!lt_live_capture(live, self_tid))
            lt_write_str(2, "locktrace: watchdog: cannot write the live view next to the trace\n");
        run_report(trace, report);
        if (g_wd.abort_after) {
            lt_write_str(2, "locktrace: watchdog: aborting the process (LOCKTRACE_WATCHDOG_ACTION=abort)\n");
            abort();
        }
    }
}

void start_thread(void)
{
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    // Created with every signal blocked, so the program's signals are never
    // delivered to (and its handlers never run on) our thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int err = pthread_create(&t, &attr, watchdog_main, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    if (err)
        lt_warn("cannot start the watchdog thread: %s", strerror(err));
}

} // namespace

void lt_watchdog_start(void)
{
    load_config();
    if (g_wd.enabled)
        start_thread();
}

void lt_watchdog_after_fork(void)
{
    if (g_wd.enabled)
        start_thread();
}
