// Mutex hooks: lock, trylock, timed and clock locks, unlock, init, destroy,
// consistent; and C11's mtx_*, whose mtx_t is a pthread_mutex_t inside
// (glibc's mtx_lock calls its internal mutex lock, which the pthread hooks
// never see).
#define _GNU_SOURCE
#include "hook.h"

#define MUTEX_ACQUIRE_AS(m, fl, arg, call, to_errno)                                                          \
    LOCK_ACQUIRE(LT_PRIM_MUTEX, lt_snap_mutex, m, fl, arg, call, to_errno)
#define MUTEX_ACQUIRE(m, fl, arg, call) MUTEX_ACQUIRE_AS(m, fl, arg, call, same_errno)
#define MUTEX_RELEASE(m, call, to_errno) LOCK_RELEASE(LT_PRIM_MUTEX, lt_snap_mutex, m, call, to_errno)
#define MUTEX_INIT(m, call, to_errno) LOCK_INIT(LT_PRIM_MUTEX, lt_snap_mutex, m, 0, call, to_errno)
#define MUTEX_DESTROY(m, call, to_errno) LOCK_DESTROY(LT_PRIM_MUTEX, lt_snap_mutex, m, call, to_errno)

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

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) { MUTEX_RELEASE(m, LT_NEXT(mutex_unlock, m), same_errno); }

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    MUTEX_INIT(m, LT_NEXT(mutex_init, m, a), same_errno);
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m) { MUTEX_DESTROY(m, LT_NEXT(mutex_destroy, m), same_errno); }

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

/* C11.  The real mtx_* is called (not our pthread binding), so a library
 * preloaded after ours that wraps them still sees the program's calls. */
#define MTX(m) ((pthread_mutex_t *)(m))
/* glibc's unlock of a C11 mutex fails only for a recursive one the caller does
 * not hold. */
static inline int thrd_unlock_errno(int r) { return thrd_errno(r, EPERM); }

EXPORT int mtx_lock(mtx_t *m)
{
    if (LT_LIKELY(lt_want(LT_PRIM_MUTEX)) && try_first_ok() && mutex_try_first(MTX(m)))
        ACQUIRE_FAST(LT_PRIM_MUTEX, lt_snap_mutex, MTX(m), LT_FL_WRITE, lt_real_mutex_trylock(MTX(m)));
    MUTEX_ACQUIRE_AS(MTX(m), LT_FL_WRITE, 0, LT_REAL(mtx_lock)(m), thrd_lock_errno);
}

EXPORT int mtx_trylock(mtx_t *m)
{
    MUTEX_ACQUIRE_AS(MTX(m), LT_FL_WRITE | LT_FL_TRY, 0, LT_REAL(mtx_trylock)(m), thrd_lock_errno);
}

EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
    MUTEX_ACQUIRE_AS(MTX(m), LT_FL_WRITE | clock_flags(CLOCK_REALTIME), CLOCK_REALTIME, LT_REAL(mtx_timedlock)(m, t),
                     thrd_lock_errno);
}

EXPORT int mtx_unlock(mtx_t *m) { MUTEX_RELEASE(MTX(m), LT_REAL(mtx_unlock)(m), thrd_unlock_errno); }

EXPORT int mtx_init(mtx_t *m, int type) { MUTEX_INIT(MTX(m), LT_REAL(mtx_init)(m, type), thrd_lock_errno); }

/* mtx_destroy returns nothing (glibc's does nothing). */
EXPORT void mtx_destroy(mtx_t *m)
{
    if (lt_want(LT_PRIM_MUTEX))
        REC(LT_EV_DESTROY, LT_PRIM_MUTEX, 0, MTX(m), lt_snap_mutex(MTX(m)), 0, 0, LT_STACK_HERE);
    LT_REAL(mtx_destroy)(m);
}
