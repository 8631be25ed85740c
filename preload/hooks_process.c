// Process life-cycle hooks: fork, exec, dlopen/dlclose, thread names, exit.
#define _GNU_SOURCE
#include "modules.h"
#include "real.h"
#include "recorder.h"
#include "stacks.h"
#include "tracefile.h"

#include <dlfcn.h>
#include <pthread.h>
#include <threads.h>
#include <spawn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* tracefile.cpp: the held-lock list for the child, and the forking thread
 * muted through the atfork handlers (prepare ... done). */
void lt_fork_prepare_raw(void) LT_HIDDEN;
void lt_fork_done_raw(bool child) LT_HIDDEN;
void lt_fork_child_raw(void) LT_HIDDEN;

/* ---- fork ------------------------------------------------------------------ */
/* The child's side (new file, parent's mappings dropped) is done by our
 * pthread_atfork child handler, before the program's own handlers run. */

EXPORT pid_t fork(void)
{
    int e = errno;
    lt_fork_prepare_raw();
    errno = e;
    pid_t p = LT_REAL(fork)();
    e = errno;
    lt_fork_done_raw(p == 0);
    if (p > 0 && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, p, 0, LT_STACK_HERE);
    errno = e;
    return p;
}

/* _Fork runs no atfork handlers: do the child's part here. */
EXPORT pid_t _Fork(void)
{
    int e = errno;
    lt_fork_prepare_raw();
    errno = e;
    pid_t p = LT_REAL(fork_raw)();
    e = errno;
    if (p == 0)
        lt_fork_child_raw();
    lt_fork_done_raw(p == 0);
    if (p > 0 && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, p, 0, LT_STACK_HERE);
    errno = e;
    return p;
}

/* vfork itself is in vfork.S.  In the parent, after the child has exec'd or
 * exited (the stack is ours again): record it, or turn the raw error into
 * errno. */
_Static_assert(__builtin_offsetof(struct lt_tls_state, off) == 10, "LT_TLS_OFF in vfork.S");

LT_HIDDEN long lt_vfork_parent(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    int e = errno;
    if (lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, (int32_t)r, 1, LT_STACK_HERE);
    errno = e;
    return r;
}

/* A vfork child must leave the parent's trace alone, exit status included. */
static inline bool in_vfork_child(void) { return lt_tls.off == 2; }

/* ---- exec ------------------------------------------------------------------ */

/* With LOCKTRACE_FOLLOW_EXEC=0 (or an untraced fork child) the new image must
 * not load us again: drop liblocktrace from its LD_PRELOAD. */
static bool is_us(const char *word, size_t len)
{
    static const char me[] = "liblocktrace.so";
    const char *base = word;
    for (size_t i = 0; i < len; ++i)
        if (word[i] == '/')
            base = word + i + 1;
    size_t bl = len - (size_t)(base - word);
    return bl >= sizeof me - 1 && !memcmp(base, me, sizeof me - 1);
}

static bool strip_wanted(void)
{
    // The configuration is loaded once output[] is set (never empty then): a
    // fork child whose own file is not made yet has its parent's.
    return lt_strip_exec || (lt_g.cfg.output[0] && !lt_g.cfg.follow_exec);
}

/* Copies env into out (up to cap-1 entries + NULL) with our library removed
 * from LD_PRELOAD; the rewritten value goes into buf. */
static char *const *strip_env(char *const *env, char **out, size_t cap, char *buf, size_t bufcap)
{
    size_t n = 0;
    for (char *const *e = env; e && *e && n + 1 < cap; ++e) {
        if (strncmp(*e, "LD_PRELOAD=", 11)) {
            out[n++] = *e;
            continue;
        }
        size_t o = snprintf(buf, bufcap, "LD_PRELOAD=");
        const char *p = *e + 11;
        while (*p) {
            size_t len = strcspn(p, ": ");
            if (len && !is_us(p, len) && o + len + 2 < bufcap) {
                if (o > 11)
                    buf[o++] = ':';
                memcpy(buf + o, p, len);
                o += len;
            }
            p += len;
            if (*p)
                ++p;
        }
        buf[o] = 0;
        if (o > 11)
            out[n++] = buf;
    }
    out[n] = NULL;
    return out;
}

/* This process's own LD_PRELOAD loses liblocktrace, in place (never longer,
 * no allocation): what libc starts by itself (system, popen, posix_spawn
 * called inside libc) uses the environment as it is and never goes through
 * our exec hooks.  For LOCKTRACE_FOLLOW_EXEC=0 and untraced fork children. */
LT_HIDDEN void lt_strip_preload_env(void)
{
    for (char **e = environ; e && *e; ++e) {
        if (strncmp(*e, "LD_PRELOAD=", 11))
            continue;
        char *w = *e + 11;
        const char *p = w;
        bool first = true;
        while (*p) {
            size_t len = strcspn(p, ": ");
            if (len && !is_us(p, len)) {
                if (!first)
                    *w++ = ':';
                memmove(w, p, len);
                w += len;
                first = false;
            }
            p += len;
            if (*p)
                ++p;
        }
        *w = 0;
    }
}

static size_t env_count(char *const *env)
{
    size_t n = 0;
    while (env && env[n])
        ++n;
    return n;
}

static void record_exec(const char *path)
{
    // A fork child that has recorded nothing has no file yet: exec alone
    // does not make one (the new image starts its own).
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_EXEC, LT_PRIM_PROCESS, 0, path, 0, 0, 0, 0, 0, LT_STACK_HERE);
}

#define WITH_ENV(env, body)                                                                                   \
    do {                                                                                                      \
        char *const *use_env = (env);                                                                         \
        size_t cap_ = strip_wanted() ? env_count(use_env) + 1 : 1;                                            \
        char *copy_[cap_];                                                                                    \
        char buf_[strip_wanted() ? 8192 : 1];                                                                 \
        if (strip_wanted())                                                                                   \
            use_env = strip_env(use_env, copy_, cap_, buf_, sizeof buf_);                                     \
        body;                                                                                                 \
    } while (0)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    int e = errno;
    record_exec(path);
    errno = e;
    WITH_ENV(envp, return LT_REAL(execve)(path, argv, use_env));
}

EXPORT int execv(const char *path, char *const argv[])
{
    int e = errno;
    record_exec(path);
    errno = e;
    if (!strip_wanted())
        return LT_REAL(execv)(path, argv);
    WITH_ENV(environ, return LT_REAL(execve)(path, argv, use_env));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    int e = errno;
    record_exec(file);
    errno = e;
    WITH_ENV(envp, return LT_REAL(execvpe)(file, argv, use_env));
}

EXPORT int execvp(const char *file, char *const argv[])
{
    int e = errno;
    record_exec(file);
    errno = e;
    if (!strip_wanted())
        return LT_REAL(execvp)(file, argv);
    WITH_ENV(environ, return LT_REAL(execvpe)(file, argv, use_env));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    int e = errno;
    record_exec(NULL);
    errno = e;
    WITH_ENV(envp, return LT_REAL(fexecve)(fd, argv, use_env));
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    int e = errno;
    record_exec(path);
    errno = e;
    WITH_ENV(envp, return LT_REAL(execveat)(dirfd, path, argv, use_env, flags));
}

/* posix_spawn runs the new program without going through our exec hooks:
 * only the environment needs our attention (LOCKTRACE_FOLLOW_EXEC=0). */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, return LT_REAL(posix_spawn)(pid, path, fa, attr, argv, use_env));
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, return LT_REAL(posix_spawnp)(pid, file, fa, attr, argv, use_env));
}

/* execl*: gather the list, then the matching execv* hook above. */
#define COLLECT_ARGS(first, ap, argv)                                                                         \
    size_t n_ = 1;                                                                                            \
    va_list cnt_;                                                                                             \
    va_copy(cnt_, ap);                                                                                        \
    while (va_arg(cnt_, char *))                                                                              \
        ++n_;                                                                                                 \
    va_end(cnt_);                                                                                             \
    char *argv[n_ + 1];                                                                                       \
    argv[0] = (char *)(first);                                                                                \
    for (size_t i_ = 1; i_ <= n_; ++i_)                                                                       \
        argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

/* ---- dlopen / dlclose ------------------------------------------------------ */
/* dlopen itself is an assembly trampoline (dlopen_trampoline.S) that jumps to
 * the real one, so glibc sees the program's return address: the caller
 * decides the namespace and the RUNPATH/$ORIGIN search.  It calls this first;
 * the new objects are picked up by the next event's refresh. */
LT_HIDDEN void *lt_dlopen_prepare(void)
{
    int e = errno;
    void *real = (void *)LT_REAL(dlopen);
    __atomic_store_n(&lt_modules_stale, 1u, __ATOMIC_RELAXED);
    errno = e;
    return real;
}

EXPORT int dlclose(void *handle)
{
    int r = LT_REAL(dlclose)(handle);
    if (lt_want(LT_PRIM_PROCESS)) {
        // dlerror state must survive: refresh does not touch it.
        uint32_t added = lt_modules_refresh();
        lt_record(LT_EV_DLOPEN, LT_PRIM_PROCESS, 0, handle, 0, 0, 0, (int32_t)added, 1, LT_STACK_HERE);
    }
    return r;
}

/* ---- thread exit ----------------------------------------------------------- */
/* A thread's end (return, pthread_exit or cancellation) is recorded without a
 * pthread key, which would take one of the program's PTHREAD_KEYS_MAX: the
 * start routine runs inside a wrapper whose cleanup handler, the outermost
 * one, writes THREAD_EXIT after the program's own cleanup handlers (their
 * unlocks are recorded).  The hooks are C without -fexceptions, so
 * pthread_cleanup_push registers with glibc and runs on cancellation and
 * pthread_exit alike.  Lock calls after it (key and thread_local
 * destructors) are recorded too: the thread keeps its slot until the kernel
 * has seen it end (tracefile.cpp, slot_owner_gone). */
void lt_thread_key_destructor(void *) LT_HIDDEN; /* recorder.cpp: THREAD_EXIT */

/* The start routine and argument travel to the new thread in a fixed table,
 * not malloc: pthread_create may be called from inside a malloc (jemalloc's
 * background threads).  An entry is busy only until the thread starts; if
 * all are, the thread runs unwrapped and its end is recorded only if it
 * calls pthread_exit. */
struct start_entry {
    void *(*fn)(void *);
    int (*c11_fn)(void *); /* thrd_create */
    void *arg;
    int busy;
};
static struct start_entry g_starts[512];
static unsigned g_start_next;
static __thread uint8_t t_wrapped; /* this thread runs inside thread_main */

static void thread_ended(void *unused)
{
    (void)unused;
    int e = errno;
    lt_thread_key_destructor(NULL);
    lt_stacks_thread_end();
    errno = e;
}

static void *thread_main(void *p)
{
    struct start_entry *s = p;
    void *(*fn)(void *) = s->fn;
    void *arg = s->arg;
    __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
    t_wrapped = 1;
    void *r;
    pthread_cleanup_push(thread_ended, NULL);
    r = fn(arg);
    pthread_cleanup_pop(1);
    return r;
}

/* thrd_create's start routine returns an int (glibc's start_thread knows
 * from the attribute thrd_create passes). */
static int c11_thread_main(void *p)
{
    struct start_entry *s = p;
    int (*fn)(void *) = s->c11_fn;
    void *arg = s->arg;
    __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
    t_wrapped = 1;
    int r;
    pthread_cleanup_push(thread_ended, NULL);
    r = fn(arg);
    pthread_cleanup_pop(1);
    return r;
}

static struct start_entry *claim_start_entry(void *(*fn)(void *), void *arg)
{
    unsigned n = sizeof g_starts / sizeof g_starts[0];
    unsigned from = __atomic_fetch_add(&g_start_next, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n; ++i) {
        struct start_entry *s = &g_starts[(from + i) % n];
        int free_ = 0;
        if (__atomic_compare_exchange_n(&s->busy, &free_, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            s->fn = fn;
            s->c11_fn = NULL;
            s->arg = arg;
            return s;
        }
    }
    return NULL;
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    struct start_entry *s = claim_start_entry(fn, arg);
    if (!s)
        return LT_REAL(create)(th, attr, fn, arg);
    int r = LT_REAL(create)(th, attr, thread_main, s);
    if (r != 0)
        __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
    return r;
}

/* C11 threads: glibc's thrd_create calls its pthread_create internally,
 * past the hook above. */
EXPORT int thrd_create(thrd_t *th, thrd_start_t fn, void *arg)
{
    struct start_entry *s = claim_start_entry(NULL, arg);
    if (!s)
        return LT_REAL(thrd_create)(th, fn, arg);
    s->c11_fn = fn;
    int r = LT_REAL(thrd_create)(th, c11_thread_main, s);
    if (r != thrd_success)
        __atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
    return r;
}

/* The main thread and unwrapped threads: their end is seen here only. */
EXPORT void pthread_exit(void *r)
{
    if (!t_wrapped)
        thread_ended(NULL);
    LT_REAL(thread_exit)(r);
}

/* ---- thread names ------------------------------------------------------------ */

EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    int r = LT_REAL(setname)(th, name);
    if (r || lt_init_state != LT_INIT_READY || !lt_g.hdr)
        return r;
    uint32_t used = __atomic_load_n(&lt_g.hdr->threads_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i) {
        struct lt_thread *t = &lt_g.threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == LT_SLOT_LIVE && t->pthread_self == (uint64_t)th) {
            char tmp[LT_THREAD_NAME_MAX] = {0};
            strncpy(tmp, name, LT_THREAD_NAME_MAX - 1);
            memcpy(t->name, tmp, sizeof tmp);
        }
    }
    return r;
}

/* ---- address-space limit ---------------------------------------------------- */
/* The rings' address space is reserved when the program starts (lt_init); a
 * program that then lowers RLIMIT_AS must not find it used up by us. */
static void *next_fn(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        ++lt_tls.mute; /* dlsym may allocate and lock */
        f = dlsym(RTLD_NEXT, name);
        --lt_tls.mute;
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void before_as_limit(int resource, const struct rlimit *lim)
{
    if (resource == RLIMIT_AS && lim && lim->rlim_cur != RLIM_INFINITY)
        lt_ring_area_trim();
}

#define RLIMIT_HOOK(name, rl_type)                                                                            \
    EXPORT int name(__rlimit_resource_t resource, const struct rl_type *lim)                                 \
    {                                                                                                         \
        static void *next;                                                                                    \
        int e = errno;                                                                                        \
        before_as_limit((int)resource, (const struct rlimit *)lim);                                           \
        int (*f)(__rlimit_resource_t, const struct rl_type *) =                                               \
            (int (*)(__rlimit_resource_t, const struct rl_type *))next_fn(&next, #name);                      \
        errno = e;                                                                                            \
        return f(resource, lim);                                                                              \
    }
RLIMIT_HOOK(setrlimit, rlimit)
RLIMIT_HOOK(setrlimit64, rlimit64)

#define PRLIMIT_HOOK(name, rl_type)                                                                           \
    EXPORT int name(pid_t pid, __rlimit_resource_t resource, const struct rl_type *lim, struct rl_type *old)  \
    {                                                                                                         \
        static void *next;                                                                                    \
        int e = errno;                                                                                        \
        if (pid == 0 || pid == getpid())                                                                      \
            before_as_limit((int)resource, (const struct rlimit *)lim);                                       \
        int (*f)(pid_t, __rlimit_resource_t, const struct rl_type *, struct rl_type *) =                      \
            (int (*)(pid_t, __rlimit_resource_t, const struct rl_type *, struct rl_type *))next_fn(&next, #name); \
        errno = e;                                                                                            \
        return f(pid, resource, lim, old);                                                                    \
    }
PRLIMIT_HOOK(prlimit, rlimit)
PRLIMIT_HOOK(prlimit64, rlimit64)

/* ---- exit ------------------------------------------------------------------ */

EXPORT void exit(int status)
{
    if (!in_vfork_child())
        lt_note_exit_status(status);
    LT_REAL(exit)(status);
}

EXPORT void _exit(int status)
{
    if (!in_vfork_child()) {
        lt_note_exit_status(status);
        lt_stamp_end();
    }
    LT_REAL(exit_now)(status);
}

EXPORT void _Exit(int status)
{
    if (!in_vfork_child()) {
        lt_note_exit_status(status);
        lt_stamp_end();
    }
    LT_REAL(exit_now2)(status);
}

/* Returning from main calls exit() inside libc, where no hook sees it: wrap
 * main to learn its status. */
static int (*g_real_main)(int, char **, char **);

static int main_wrapper(int argc, char **argv, char **envp)
{
    int status = g_real_main(argc, argv, envp);
    lt_note_exit_status(status);
    return status;
}

EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    g_real_main = main;
    return LT_REAL(libc_start_main)(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}
