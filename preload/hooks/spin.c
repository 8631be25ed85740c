// Spinlock hooks: lock, trylock, unlock, init, destroy.  A spin that has not
// got the lock is a blocked wait like a mutex's: ATTEMPT before the real
// pthread_spin_lock, which may spin for ever.
#define _GNU_SOURCE
#include "hook.h"

EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
    // Uncontended: the try takes it and the lock could not have spun.
    if (LT_LIKELY(lt_want(LT_PRIM_SPIN)))
        ACQUIRE_FAST(LT_PRIM_SPIN, lt_snap_spin, (void *)s, LT_FL_WRITE, LT_REAL(spin_trylock)(s));
    LOCK_ACQUIRE(LT_PRIM_SPIN, lt_snap_spin, (void *)s, LT_FL_WRITE, 0, LT_REAL(spin_lock)(s), same_errno);
}

EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
    LOCK_ACQUIRE(LT_PRIM_SPIN, lt_snap_spin, (void *)s, LT_FL_WRITE | LT_FL_TRY, 0, LT_REAL(spin_trylock)(s),
                 same_errno);
}

EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
    LOCK_RELEASE(LT_PRIM_SPIN, lt_snap_spin, (void *)s, LT_REAL(spin_unlock)(s), same_errno);
}

EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
    LOCK_INIT(LT_PRIM_SPIN, lt_snap_spin, (void *)s, 0, LT_REAL(spin_init)(s, pshared), same_errno);
}

EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
    LOCK_DESTROY(LT_PRIM_SPIN, lt_snap_spin, (void *)s, LT_REAL(spin_destroy)(s), same_errno);
}
