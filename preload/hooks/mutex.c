// Mutex hooks: lock, trylock, timed and clock locks, unlock, init, destroy,
// consistent.
#define _GNU_SOURCE
#include "hook.h"

#define MUTEX_ACQUIRE(m, fl, arg, call)                                                                       \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_MUTEX))                                                                          \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_ATTEMPT, LT_PRIM_MUTEX, (fl), m, lt_snap_mutex(m), 0, (arg), LT_STACK_HERE);  \
        int r = call;                                                                                         \
        REC(acquire_outcome(r), LT_PRIM_MUTEX, (fl), m, lt_snap_mutex(m), r, (arg), st);                      \
        return r;                                                                                             \
    } while (0)

#define LT_MUTEX_PLAIN_KINDS 3 /* PTHREAD_MUTEX_{TIMED,RECURSIVE,ERRORCHECK,ADAPTIVE}_NP */

static inline bool mutex_try_first(pthread_mutex_t *m)
{
    return (unsigned)LT_LOAD(m->__data.__kind) <= LT_MUTEX_PLAIN_KINDS;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (LT_LIKELY(lt_want(LT_PRIM_MUTEX)) && try_first_ok() && mutex_try_first(m))
        ACQUIRE_FAST(LT_PRIM_MUTEX, lt_snap_mutex, m, LT_FL_WRITE, lt_real_mutex_trylock(m));
    MUTEX_ACQUIRE(m, LT_FL_WRITE, 0, LT_NEXT(mutex_lock, m));
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    MUTEX_ACQUIRE(m, LT_FL_WRITE | LT_FL_TRY, 0, LT_NEXT(mutex_trylock, m));
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    MUTEX_ACQUIRE(m, LT_FL_WRITE | clock_flags(CLOCK_REALTIME), CLOCK_REALTIME, LT_REAL(mutex_timedlock)(m, t));
}

EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *t)
{
    MUTEX_ACQUIRE(m, LT_FL_WRITE | clock_flags(clk), (uint32_t)clk, LT_REAL(mutex_clocklock)(m, clk, t));
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (!lt_want(LT_PRIM_MUTEX))
        return LT_NEXT(mutex_unlock, m);
    // Before the real unlock: the recorded hold ends inside the real one, so
    // the next owner's ACQUIRED is always later in the trace.
    uint32_t st = REC(LT_EV_RELEASE, LT_PRIM_MUTEX, LT_FL_WRITE, m, lt_snap_mutex(m), 0, 0, LT_STACK_HERE);
    int r = LT_NEXT(mutex_unlock, m);
    if (r)
        REC(LT_EV_RELEASE_FAILED, LT_PRIM_MUTEX, LT_FL_WRITE, m, lt_snap_mutex(m), r, 0, st);
    return r;
}

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    int r = LT_NEXT(mutex_init, m, a);
    if (lt_want(LT_PRIM_MUTEX))
        REC(LT_EV_INIT, LT_PRIM_MUTEX, 0, m, lt_snap_mutex(m), r, 0, LT_STACK_HERE);
    return r;
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    if (!lt_want(LT_PRIM_MUTEX))
        return LT_NEXT(mutex_destroy, m);
    uint32_t st = REC(LT_EV_DESTROY, LT_PRIM_MUTEX, 0, m, lt_snap_mutex(m), 0, 0, LT_STACK_HERE);
    int r = LT_NEXT(mutex_destroy, m);
    if (r)
        REC(LT_EV_DESTROY_FAILED, LT_PRIM_MUTEX, 0, m, lt_snap_mutex(m), r, 0, st);
    return r;
}

EXPORT int pthread_mutex_consistent(pthread_mutex_t *m)
{
    int r = LT_REAL(mutex_consistent)(m);
    if (lt_want(LT_PRIM_MUTEX))
        REC(LT_EV_CONSISTENT, LT_PRIM_MUTEX, 0, m, lt_snap_mutex(m), r, 0, LT_STACK_HERE);
    return r;
}

/* <pthread.h> redirects the _np name to the standard one; define the old
 * exported symbol under its own assembler name. */
EXPORT int lt_hook_consistent_np(pthread_mutex_t *m) __asm__("pthread_mutex_consistent_np");
EXPORT int lt_hook_consistent_np(pthread_mutex_t *m) { return pthread_mutex_consistent(m); }
