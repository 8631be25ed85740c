// Condition variable hooks: waits (with the mutex they drop and re-take
// inside libc), signal, broadcast, init, destroy; the same for C11's cnd_*,
// whose cnd_t and mtx_t are a pthread_cond_t and a pthread_mutex_t inside.
#define _GNU_SOURCE
#include "hook.h"

/* pthread_cond_*wait drops and re-takes the mutex inside libc, where the
 * mutex hooks cannot see it: record both transitions as LT_FL_INTERNAL. */
struct cond_wait {
    pthread_cond_t *c;
    pthread_mutex_t *m;
    uint32_t flags, arg, stack;
    int traced_mutex;
};

static void cond_wait_before(struct cond_wait *w)
{
    w->traced_mutex = lt_want(LT_PRIM_MUTEX);
    w->stack = LT_STACK_HERE;
    if (w->traced_mutex)
        w->stack = REC(LT_EV_RELEASE, LT_PRIM_MUTEX, LT_FL_WRITE | LT_FL_INTERNAL, w->m, lt_snap_mutex(w->m), 0, 0,
                       w->stack);
    w->stack = REC(LT_EV_WAIT_BEGIN, LT_PRIM_COND, w->flags, w->c, lt_snap_cond(w->c, w->m), 0, w->arg, w->stack);
}

static void cond_wait_after(struct cond_wait *w, int r)
{
    REC(LT_EV_WAIT_END, LT_PRIM_COND, w->flags, w->c, lt_snap_cond(w->c, w->m), r, w->arg, w->stack);
    // On ETIMEDOUT and EOWNERDEAD the mutex was re-taken; on other errors it
    // was never dropped: either way the thread holds it again now.
    if (w->traced_mutex)
        REC(LT_EV_ACQUIRED, LT_PRIM_MUTEX, LT_FL_WRITE | LT_FL_INTERNAL, w->m, lt_snap_mutex(w->m),
            r == EOWNERDEAD ? r : 0, 0, w->stack);
}

/* Cancellation: glibc re-takes the mutex before unwinding into our frame. */
static void cond_wait_cancelled(void *p) { cond_wait_after((struct cond_wait *)p, ECANCELED); }

/* to_errno: how the call's return value reads as an errno (C11's thrd_*
 * codes are not errno values). */
#define COND_WAIT_AS(c, m, fl, arg, call, to_errno)                                                           \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_COND))                                                                           \
            return call;                                                                                      \
        struct cond_wait w = {(c), (m), (fl), (arg), 0, 0};                                                   \
        cond_wait_before(&w);                                                                                 \
        int r;                                                                                                \
        pthread_cleanup_push(cond_wait_cancelled, &w);                                                        \
        r = call;                                                                                             \
        pthread_cleanup_pop(0);                                                                               \
        cond_wait_after(&w, to_errno(r));                                                                     \
        return r;                                                                                             \
    } while (0)
#define COND_WAIT(c, m, fl, arg, call) COND_WAIT_AS(c, m, fl, arg, call, same_errno)

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    COND_WAIT(c, m, 0, 0, LT_REAL(cond_wait)(c, m));
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    // The clock is the condvar's own (pthread_condattr_setclock): flag TIMED only.
    COND_WAIT(c, m, LT_FL_TIMED, 0, LT_REAL(cond_timedwait)(c, m, t));
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *t)
{
    COND_WAIT(c, m, clock_flags(clk), (uint32_t)clk, LT_REAL(cond_clockwait)(c, m, clk, t));
}

#define COND_WAKE(c, fl, call, to_errno)                                                                      \
    do {                                                                                                      \
        int r = call;                                                                                         \
        if (lt_want(LT_PRIM_COND))                                                                            \
            REC(LT_EV_WAKE, LT_PRIM_COND, (fl), c, lt_snap_cond(c, 0), to_errno(r), 0, LT_STACK_HERE);         \
        return r;                                                                                             \
    } while (0)

#define COND_INIT(c, call, to_errno)                                                                          \
    do {                                                                                                      \
        int r = call;                                                                                         \
        if (lt_want(LT_PRIM_COND))                                                                            \
            REC(LT_EV_INIT, LT_PRIM_COND, 0, c, lt_snap_cond(c, 0), to_errno(r), 0, LT_STACK_HERE);           \
        return r;                                                                                             \
    } while (0)

EXPORT int pthread_cond_signal(pthread_cond_t *c) { COND_WAKE(c, 0, LT_REAL(cond_signal)(c), same_errno); }

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    COND_WAKE(c, LT_FL_BROADCAST, LT_REAL(cond_broadcast)(c), same_errno);
}

EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    COND_INIT(c, LT_REAL(cond_init)(c, a), same_errno);
}

EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
    if (!lt_want(LT_PRIM_COND))
        return LT_REAL(cond_destroy)(c);
    uint32_t st = REC(LT_EV_DESTROY, LT_PRIM_COND, 0, c, lt_snap_cond(c, 0), 0, 0, LT_STACK_HERE);
    int r = LT_REAL(cond_destroy)(c);
    if (r)
        REC(LT_EV_DESTROY_FAILED, LT_PRIM_COND, 0, c, lt_snap_cond(c, 0), r, 0, st);
    return r;
}

/* C11.  cnd_timedwait's deadline is on TIME_UTC, CLOCK_REALTIME. */
#define CND(c) ((pthread_cond_t *)(c))
#define MTX(m) ((pthread_mutex_t *)(m))
/* A C11 wait fails (thrd_error) only for a bad condvar or mutex. */
static inline int thrd_wait_errno(int r) { return thrd_errno(r, EINVAL); }

EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
    COND_WAIT_AS(CND(c), MTX(m), 0, 0, LT_REAL(cnd_wait)(c, m), thrd_wait_errno);
}

EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
    COND_WAIT_AS(CND(c), MTX(m), clock_flags(CLOCK_REALTIME), CLOCK_REALTIME, LT_REAL(cnd_timedwait)(c, m, t),
                 thrd_wait_errno);
}

EXPORT int cnd_signal(cnd_t *c) { COND_WAKE(CND(c), 0, LT_REAL(cnd_signal)(c), thrd_wait_errno); }

EXPORT int cnd_broadcast(cnd_t *c) { COND_WAKE(CND(c), LT_FL_BROADCAST, LT_REAL(cnd_broadcast)(c), thrd_wait_errno); }

EXPORT int cnd_init(cnd_t *c) { COND_INIT(CND(c), LT_REAL(cnd_init)(c), thrd_wait_errno); }

/* cnd_destroy returns nothing. */
EXPORT void cnd_destroy(cnd_t *c)
{
    if (lt_want(LT_PRIM_COND))
        REC(LT_EV_DESTROY, LT_PRIM_COND, 0, CND(c), lt_snap_cond(CND(c), 0), 0, 0, LT_STACK_HERE);
    LT_REAL(cnd_destroy)(c);
}
