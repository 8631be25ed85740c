// Barrier hooks: wait, init (the party count), destroy.  A thread in
// pthread_barrier_wait is in a wait begun before the call: one that never
// comes back (the barrier is short of a party) is on record.
#define _GNU_SOURCE
#include "hook.h"

EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    if (!lt_want(LT_PRIM_BARRIER))
        return LT_REAL(barrier_wait)(b);
    struct lt_snap sn = lt_snap_barrier(b);
    uint32_t count = lt_barrier_count(sn);
    uint32_t st = REC(LT_EV_WAIT_BEGIN, LT_PRIM_BARRIER, 0, b, sn, 0, count, LT_STACK_HERE);
    int r = LT_REAL(barrier_wait)(b);
    // The one thread told PTHREAD_BARRIER_SERIAL_THREAD passed like the others.
    REC(LT_EV_WAIT_END, LT_PRIM_BARRIER, 0, b, lt_snap_barrier(b), r == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : r,
        count, st);
    return r;
}

EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count)
{
    LOCK_INIT(LT_PRIM_BARRIER, lt_snap_barrier, b, count, LT_REAL(barrier_init)(b, a, count), same_errno);
}

EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
    LOCK_DESTROY(LT_PRIM_BARRIER, lt_snap_barrier, b, LT_REAL(barrier_destroy)(b), same_errno);
}
