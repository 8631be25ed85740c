// Reader-writer lock hooks.
#define _GNU_SOURCE
#include "hook.h"

#include <unistd.h>

#define RWLOCK_ACQUIRE(rw, fl, arg, call)                                                                     \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_RWLOCK))                                                                         \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_ATTEMPT, LT_PRIM_RWLOCK, (fl), rw, lt_snap_rwlock(rw), 0, (arg), LT_STACK_HERE); \
        int r = call;                                                                                         \
        REC(acquire_outcome(r), LT_PRIM_RWLOCK, (fl), rw, lt_snap_rwlock(rw), r, (arg), st);                  \
        return r;                                                                                             \
    } while (0)

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    if (LT_LIKELY(lt_want(LT_PRIM_RWLOCK)) && try_first_ok())
        ACQUIRE_FAST(LT_PRIM_RWLOCK, lt_snap_rwlock, rw, LT_FL_READ, lt_real_rwlock_tryrdlock(rw));
    RWLOCK_ACQUIRE(rw, LT_FL_READ, 0, LT_NEXT(rwlock_rdlock, rw));
}
EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    RWLOCK_ACQUIRE(rw, LT_FL_READ | LT_FL_TRY, 0, LT_NEXT(rwlock_tryrdlock, rw));
}
EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *t)
{
    RWLOCK_ACQUIRE(rw, LT_FL_READ | clock_flags(CLOCK_REALTIME), CLOCK_REALTIME,
                   LT_REAL(rwlock_timedrdlock)(rw, t));
}
EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *t)
{
    RWLOCK_ACQUIRE(rw, LT_FL_READ | clock_flags(clk), (uint32_t)clk, LT_REAL(rwlock_clockrdlock)(rw, clk, t));
}
EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    if (LT_LIKELY(lt_want(LT_PRIM_RWLOCK)) && try_first_ok())
        ACQUIRE_FAST(LT_PRIM_RWLOCK, lt_snap_rwlock, rw, LT_FL_WRITE, lt_real_rwlock_trywrlock(rw));
    RWLOCK_ACQUIRE(rw, LT_FL_WRITE, 0, LT_NEXT(rwlock_wrlock, rw));
}
EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    RWLOCK_ACQUIRE(rw, LT_FL_WRITE | LT_FL_TRY, 0, LT_NEXT(rwlock_trywrlock, rw));
}
EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *t)
{
    RWLOCK_ACQUIRE(rw, LT_FL_WRITE | clock_flags(CLOCK_REALTIME), CLOCK_REALTIME,
                   LT_REAL(rwlock_timedwrlock)(rw, t));
}
EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *t)
{
    RWLOCK_ACQUIRE(rw, LT_FL_WRITE | clock_flags(clk), (uint32_t)clk, LT_REAL(rwlock_clockwrlock)(rw, clk, t));
}

/* glibc records the writer's tid in __cur_writer: that tells a write unlock
 * from a read unlock. */
static inline uint32_t rwlock_unlock_mode(pthread_rwlock_t *rw)
{
    int writer = LT_LOAD(rw->__data.__cur_writer);
    if (writer == 0)
        return LT_FL_READ;
    struct lt_tctl *c = lt_tls.ctl;
    int self = c ? c->tid : (int)gettid();
    return writer == self ? LT_FL_WRITE : LT_FL_READ;
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    if (!lt_want(LT_PRIM_RWLOCK))
        return LT_NEXT(rwlock_unlock, rw);
    uint32_t fl = rwlock_unlock_mode(rw);
    uint32_t st = REC(LT_EV_RELEASE, LT_PRIM_RWLOCK, fl, rw, lt_snap_rwlock(rw), 0, 0, LT_STACK_HERE);
    int r = LT_NEXT(rwlock_unlock, rw);
    if (r)
        REC(LT_EV_RELEASE_FAILED, LT_PRIM_RWLOCK, fl, rw, lt_snap_rwlock(rw), r, 0, st);
    return r;
}

EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *a)
{
    int r = LT_NEXT(rwlock_init, rw, a);
    if (lt_want(LT_PRIM_RWLOCK))
        REC(LT_EV_INIT, LT_PRIM_RWLOCK, 0, rw, lt_snap_rwlock(rw), r, 0, LT_STACK_HERE);
    return r;
}

EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    if (!lt_want(LT_PRIM_RWLOCK))
        return LT_NEXT(rwlock_destroy, rw);
    uint32_t st = REC(LT_EV_DESTROY, LT_PRIM_RWLOCK, 0, rw, lt_snap_rwlock(rw), 0, 0, LT_STACK_HERE);
    int r = LT_NEXT(rwlock_destroy, rw);
    if (r)
        REC(LT_EV_DESTROY_FAILED, LT_PRIM_RWLOCK, 0, rw, lt_snap_rwlock(rw), r, 0, st);
    return r;
}
