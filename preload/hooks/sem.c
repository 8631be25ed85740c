// Semaphore hooks.
#define _GNU_SOURCE
#include "hook.h"

#include <fcntl.h>
#include <stdarg.h>

struct sem_wait_ctx {
    sem_t *s;
    uint32_t flags, arg, stack;
};

static void sem_wait_cancelled(void *p)
{
    struct sem_wait_ctx *w = (struct sem_wait_ctx *)p;
    REC(LT_EV_FAILED, LT_PRIM_SEM, w->flags, w->s, lt_snap_sem(w->s), ECANCELED, w->arg, w->stack);
}

/* sem_* report errors through errno, which the recorder never touches. */
#define SEM_ACQUIRE(sem, fl, argv, call)                                                                      \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_SEM))                                                                            \
            return call;                                                                                      \
        struct sem_wait_ctx w = {(sem), (fl), (argv), 0};                                                     \
        w.stack = REC(LT_EV_ATTEMPT, LT_PRIM_SEM, w.flags, sem, lt_snap_sem(sem), 0, w.arg, LT_STACK_HERE);   \
        int r;                                                                                                \
        pthread_cleanup_push(sem_wait_cancelled, &w);                                                         \
        r = call;                                                                                             \
        pthread_cleanup_pop(0);                                                                               \
        int e = r ? errno : 0;                                                                                \
        REC(r ? acquire_outcome(e) : LT_EV_ACQUIRED, LT_PRIM_SEM, w.flags, sem, lt_snap_sem(sem), e, w.arg,    \
            w.stack);                                                                                         \
        return r;                                                                                             \
    } while (0)

/* sem_wait is a cancellation point even when it does not block (glibc 2.36
 * calls pthread_testcancel first, then its non-blocking step): the same order
 * here, before anything is recorded.  sem_trywait sets errno on failure; the
 * caller must not see that. */
EXPORT int sem_wait(sem_t *s)
{
    if (LT_LIKELY(lt_want(LT_PRIM_SEM))) {
        int saved = errno;
        pthread_testcancel();
        if (LT_REAL(sem_trywait)(s) == 0) {
            REC(LT_EV_ACQUIRED, LT_PRIM_SEM, 0, s, lt_snap_sem(s), 0, 0, LT_STACK_HERE);
            return 0;
        }
        errno = saved;
    }
    SEM_ACQUIRE(s, 0, 0, LT_REAL(sem_wait)(s));
}
EXPORT int sem_trywait(sem_t *s) { SEM_ACQUIRE(s, LT_FL_TRY, 0, LT_REAL(sem_trywait)(s)); }
EXPORT int sem_timedwait(sem_t *s, const struct timespec *t)
{
    SEM_ACQUIRE(s, clock_flags(CLOCK_REALTIME), CLOCK_REALTIME, LT_REAL(sem_timedwait)(s, t));
}
EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *t)
{
    SEM_ACQUIRE(s, clock_flags(clk), (uint32_t)clk, LT_REAL(sem_clockwait)(s, clk, t));
}

EXPORT int sem_post(sem_t *s)
{
    if (!lt_want(LT_PRIM_SEM))
        return LT_REAL(sem_post)(s);
    uint32_t st = REC(LT_EV_RELEASE, LT_PRIM_SEM, 0, s, lt_snap_sem(s), 0, 0, LT_STACK_HERE);
    int r = LT_REAL(sem_post)(s);
    if (r) {
        int e = errno;
        REC(LT_EV_RELEASE_FAILED, LT_PRIM_SEM, 0, s, lt_snap_sem(s), e, 0, st);
    }
    return r;
}

/* A semaphore's life: sem_init/sem_open start it (arg: the initial value, so
 * the decoder knows a binary semaphore used as a lock), sem_destroy/sem_close
 * end it.  Without them, semaphores that lived one after another at one
 * address (a malloc'd lock object freed and allocated again) read as one.
 * Errors are returned through errno, which the recorder never touches. */
static inline int sem_errno(int r) { return r ? errno : 0; }

EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
    LOCK_INIT(LT_PRIM_SEM, lt_snap_sem, s, value, LT_REAL(sem_init)(s, pshared, value), sem_errno);
}

EXPORT int sem_destroy(sem_t *s) { LOCK_DESTROY(LT_PRIM_SEM, lt_snap_sem, s, LT_REAL(sem_destroy)(s), sem_errno); }

/* A named semaphore opened without O_CREAT (or one that already existed)
 * starts its life here with the value it has now. */
EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
    mode_t mode = 0;
    unsigned value = 0;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = va_arg(ap, mode_t);
        value = va_arg(ap, unsigned);
        va_end(ap);
    }
    sem_t *s = LT_REAL(sem_open)(name, oflag, mode, value);
    if (s != SEM_FAILED && lt_want(LT_PRIM_SEM)) {
        struct lt_snap sn = lt_snap_sem(s);
        REC(LT_EV_INIT, LT_PRIM_SEM, 0, s, sn, 0, (uint32_t)sn.s0, LT_STACK_HERE);
    }
    return s;
}

EXPORT int sem_close(sem_t *s) { LOCK_DESTROY(LT_PRIM_SEM, lt_snap_sem, s, LT_REAL(sem_close)(s), sem_errno); }
