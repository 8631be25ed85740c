// Condition variable hooks: waits (with the mutex they drop and re-take
// inside libc), signal, broadcast, init, destroy.
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

#define COND_WAIT(c, m, fl, arg, call)                                                                        \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_COND))                                                                           \
            return call;                                                                                      \
        struct cond_wait w = {(c), (m), (fl), (arg), 0, 0};                                                   \
        cond_wait_before(&w);                                                                                 \
        int r;                                                                                                \
        pthread_cleanup_push(cond_wait_cancelled, &w);                                                        \
        r = call;                                                                                             \
        pthread_cleanup_pop(0);                                                                               \
        cond_wait_after(&w, r);                                                                               \
        return r;                                                                                             \
    } while (0)

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

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    int r = LT_REAL(cond_signal)(c);
    if (lt_want(LT_PRIM_COND))
        REC(LT_EV_WAKE, LT_PRIM_COND, 0, c, lt_snap_cond(c, 0), r, 0, LT_STACK_HERE);
    return r;
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    int r = LT_REAL(cond_broadcast)(c);
    if (lt_want(LT_PRIM_COND))
        REC(LT_EV_WAKE, LT_PRIM_COND, LT_FL_BROADCAST, c, lt_snap_cond(c, 0), r, 0, LT_STACK_HERE);
    return r;
}

EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    int r = LT_REAL(cond_init)(c, a);
    if (lt_want(LT_PRIM_COND))
        REC(LT_EV_INIT, LT_PRIM_COND, 0, c, lt_snap_cond(c, 0), r, 0, LT_STACK_HERE);
    return r;
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
