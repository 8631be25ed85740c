// Thread hooks: pthread_create and thrd_create (the new thread's end is
// recorded), pthread_exit, pthread_setname_np; the joins (pthread_join, its
// try/timed/clock variants, thrd_join), recorded as waits on the thread.
#define _GNU_SOURCE
#include "hook.h"
#include "../stacks.h"
#include "../tracefile.h"

#include <pthread.h>
#include <threads.h>

/* A thread's end (return, pthread_exit or cancellation) is recorded without a
 * pthread key, which would take one of the program's PTHREAD_KEYS_MAX: the
 * start routine runs inside a wrapper whose cleanup handler, the outermost
 * one, writes THREAD_EXIT after the program's own cleanup handlers (their
 * unlocks are recorded).  The hooks are C without -fexceptions, so
 * pthread_cleanup_push registers with glibc and runs on cancellation and
 * pthread_exit alike.  Lock calls after it (key and thread_local
 * destructors) are recorded too: the thread keeps its slot until the kernel
 * has seen it end (tracefile.cpp, slot_owner_gone). */

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
    lt_thread_end();
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
    lt_thread_stack_prepare(); /* before the program runs: its first event must not allocate */
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
    lt_thread_stack_prepare(); /* before the program runs: its first event must not allocate */
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

/* Thread names: the slot of a live thread follows a rename. */
EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    int r = LT_REAL(setname)(th, name);
    if (r == 0)
        lt_slot_rename((uint64_t)th, name);
    return r;
}

/* A join is a wait on the joined thread: WAIT_BEGIN before the call (a joiner
 * that never comes back is on record), WAIT_END with the outcome after it,
 * addr = the joined pthread_t.  Joins are cancellation points. */
struct join_wait {
    pthread_t th;
    uint32_t flags, arg, stack;
};

static void join_before(struct join_wait *w)
{
    NOTE_CALLER();
    w->stack = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_THREAD, w->flags, (const void *)w->th, 0, 0, 0, 0, w->arg,
                         LT_STACK_HERE);
}

static void join_after(struct join_wait *w, int r)
{
    lt_record(LT_EV_WAIT_END, LT_PRIM_THREAD, w->flags, (const void *)w->th, 0, 0, 0, r, w->arg, w->stack);
}

static void join_cancelled(void *p) { join_after((struct join_wait *)p, ECANCELED); }

#define JOIN(thr, fl, clk, call, to_errno)                                                                    \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_THREAD))                                                                         \
            return call;                                                                                      \
        struct join_wait w = {(pthread_t)(thr), (fl), (clk), 0};                                              \
        join_before(&w);                                                                                      \
        int r;                                                                                                \
        pthread_cleanup_push(join_cancelled, &w);                                                             \
        r = call;                                                                                             \
        pthread_cleanup_pop(0);                                                                               \
        join_after(&w, to_errno(r));                                                                          \
        return r;                                                                                             \
    } while (0)

EXPORT int pthread_join(pthread_t th, void **ret) { JOIN(th, 0, 0, LT_REAL(join)(th, ret), same_errno); }

EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
    JOIN(th, LT_FL_TRY, 0, LT_REAL(tryjoin)(th, ret), same_errno);
}

EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *t)
{
    JOIN(th, clock_flags(CLOCK_REALTIME), CLOCK_REALTIME, LT_REAL(timedjoin)(th, ret, t), same_errno);
}

EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk, const struct timespec *t)
{
    JOIN(th, clock_flags(clk), (uint32_t)clk, LT_REAL(clockjoin)(th, ret, clk, t), same_errno);
}

/* thrd_join fails (thrd_error) for EDEADLK, EINVAL or ESRCH alike. */
static inline int thrd_join_errno(int r) { return thrd_errno(r, EINVAL); }

EXPORT int thrd_join(thrd_t th, int *res) { JOIN(th, 0, 0, LT_REAL(thrd_join)(th, res), thrd_join_errno); }
