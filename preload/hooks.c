// Thin hooks: every lock entry point records its "before" event, calls the
// real function, records its "after" event.  All logic lives in recorder.*.
// (C, not C++: glibc's declarations carry C++ exception specifications that a
// C++ redefinition would have to repeat one by one.)
#define _GNU_SOURCE
#include "real.h"
#include "recorder.h"
#include "snapshot.h"
#include "stacks.h"
#include "tracefile.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* The snapshot is taken once (its loads are atomics: the compiler would not
 * merge three copies of them). */
#define REC(type, prim, fl, addr, sn, res, arg, stack)                                                        \
    __extension__({                                                                                           \
        struct lt_snap sn_ = (sn);                                                                            \
        lt_record((type), (prim), (fl), (addr), sn_.addr2, sn_.s0, sn_.s1, (res), (arg), (stack));            \
    })

static inline enum lt_event_type acquire_outcome(int r)
{
    if (r == 0 || r == EOWNERDEAD)
        return LT_EV_ACQUIRED;
    return r == ETIMEDOUT ? LT_EV_TIMEDOUT : LT_EV_FAILED;
}

static inline uint32_t clock_flags(clockid_t clk)
{
    return LT_FL_TIMED | (clk == CLOCK_REALTIME ? LT_FL_REALTIME : 0);
}

/* ---- mutex ---------------------------------------------------------------- */

#define MUTEX_ACQUIRE(m, fl, arg, call)                                                                       \
    do {                                                                                                      \
        if (!lt_want(LT_PRIM_MUTEX))                                                                          \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_ATTEMPT, LT_PRIM_MUTEX, (fl), m, lt_snap_mutex(m), 0, (arg), LT_STACK_HERE);  \
        int r = call;                                                                                         \
        REC(acquire_outcome(r), LT_PRIM_MUTEX, (fl), m, lt_snap_mutex(m), r, (arg), st);                      \
        return r;                                                                                             \
    } while (0)

/*
 * Uncontended fast path of the blocking acquires: the real try-variant first.
 * When it takes the lock the call could not have blocked, so one ACQUIRED
 * event says it all (the decoder reads an ACQUIRED with no ATTEMPT before it
 * as an uncontended acquisition).  Busy or any error leaves the lock as it
 * was, and the usual path follows: ATTEMPT, written before the call that can
 * block, then the real blocking call, whose result the program gets.
 *
 * Only where the try is provably the blocking call's own first step (glibc
 * 2.36): mutexes of the four plain kinds (normal, recursive, error-checking,
 * adaptive) with no other bit in __kind: not robust (its trylock returns
 * EOWNERDEAD with the lock taken), not priority-inheriting or -protected, not
 * process-shared, no elision.  rwlocks: tryrdlock is never more permissive than
 * rdlock (with writer preference it gives up when rdlock would wait), trywrlock
 * takes exactly the states wrlock takes at once; the self-deadlock checks
 * (EDEADLK) come from the blocking call after the try said EBUSY.  Timed
 * variants keep the plain path: glibc checks their timeout first.
 */
/* Not when another library preloaded after ours wraps these calls (see
 * lt_next_table): it must see the program's lock call, not a try first. */
static inline bool try_first_ok(void)
{
    return LT_LIKELY(!__atomic_load_n(&lt_next.any, __ATOMIC_RELAXED));
}

#define LT_MUTEX_PLAIN_KINDS 3 /* PTHREAD_MUTEX_{TIMED,RECURSIVE,ERRORCHECK,ADAPTIVE}_NP */

static inline bool mutex_try_first(pthread_mutex_t *m)
{
    return (unsigned)LT_LOAD(m->__data.__kind) <= LT_MUTEX_PLAIN_KINDS;
}

#define ACQUIRE_FAST(prim, snap, obj, fl, try_call)                                                           \
    do {                                                                                                      \
        if (LT_LIKELY(try_call == 0)) {                                                                       \
            REC(LT_EV_ACQUIRED, (prim), (fl), obj, snap(obj), 0, 0, LT_STACK_HERE);                           \
            return 0;                                                                                         \
        }                                                                                                     \
    } while (0)

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

/* ---- rwlock --------------------------------------------------------------- */

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

/* ---- condition variables ------------------------------------------------- */

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

/* ---- semaphores ----------------------------------------------------------- */

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

/* ---- raw futex through syscall() ------------------------------------------ */

/*
 * Reading a futex word must never fault: programs (and the kernel's own
 * futex tests) pass unmapped addresses and expect EFAULT.  A word is read
 * only when its page is known to be mapped: it lies in the live part of this
 * thread's stack, or an earlier futex call on that page came back with a
 * result that means the kernel itself read the word.  Otherwise state[0] is 0.
 * (A page the program unmaps later, futex words and all, stays "known" until
 * evicted: only a use-after-unmap of a futex word can be caught by that.)
 */
#define LT_SAFE_PAGES 256
static uint64_t lt_safe_pages[LT_SAFE_PAGES];

static inline uint32_t safe_slot(uint64_t page) { return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 56); }

static inline bool on_live_stack(uintptr_t a, size_t len)
{
    struct lt_tctl *c = lt_tls.ctl;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return c && a >= sp && a + len <= c->stack_hi;
}

static inline bool readable(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    if (a < 4096)
        return false;
    if (on_live_stack(a, len))
        return true;
    uint64_t first = a >> 12, last = (a + len - 1) >> 12;
    for (uint64_t pg = first; pg <= last; ++pg)
        if (__atomic_load_n(&lt_safe_pages[safe_slot(pg)], __ATOMIC_RELAXED) != pg + 1)
            return false;
    return true;
}

static inline void proven_readable(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    for (uint64_t pg = a >> 12; pg <= (a + len - 1) >> 12; ++pg)
        __atomic_store_n(&lt_safe_pages[safe_slot(pg)], pg + 1, __ATOMIC_RELAXED);
}

static inline uint64_t futex_word(const void *p)
{
    if (((uintptr_t)p & 3) || !readable(p, 4))
        return 0;
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

/* Results after which the kernel has certainly read the word. */
static inline bool kernel_read_it(long r, int e)
{
    return r >= 0 || e == EAGAIN || e == ETIMEDOUT || e == EINTR || e == EDEADLK || e == ESRCH;
}

enum futex_kind { FK_OTHER, FK_WAIT, FK_WAKE, FK_REQUEUE };

static enum futex_kind futex_kind(int cmd)
{
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
        return FK_WAIT;
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_WAKE_OP:
    case FUTEX_UNLOCK_PI:
        return FK_WAKE;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI:
        return FK_REQUEUE;
    default:
        return FK_OTHER;
    }
}

static long futex_hook(long a1, long a2, long a3, long a4, long a5, long a6)
{
    const void *uaddr = (const void *)a1;
    int op = (int)a2;
    int cmd = op & FUTEX_CMD_MASK;
    enum futex_kind kind = futex_kind(cmd);
    long (*real)(long, ...) = LT_REAL(syscall);
    if (kind == FK_OTHER)
        return real(SYS_futex, a1, a2, a3, a4, a5, a6);
    uint64_t vals = (uint32_t)a3 | (uint64_t)(uint32_t)a6 << 32;
    uint32_t fl = (op & FUTEX_CLOCK_REALTIME) ? LT_FL_REALTIME : 0;
    if (kind == FK_WAIT) {
        if (cmd == FUTEX_TRYLOCK_PI)
            fl |= LT_FL_TRY;
        else if (a4)
            fl |= LT_FL_TIMED;
        // LOCK_PI and LOCK_PI2 time out on CLOCK_REALTIME / CLOCK_MONOTONIC by op.
        if (cmd == FUTEX_LOCK_PI && a4)
            fl |= LT_FL_REALTIME;
        uint32_t st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5, futex_word(uaddr), vals,
                                0, (uint32_t)op, LT_STACK_HERE);
        long r = real(SYS_futex, a1, a2, a3, a4, a5, a6);
        int e = errno;
        if (kernel_read_it(r, e))
            proven_readable(uaddr, 4);
        lt_record(LT_EV_WAIT_END, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5, futex_word(uaddr), vals,
                  r < 0 ? -e : (int32_t)r, (uint32_t)op, st);
        return r;
    }
    long r = real(SYS_futex, a1, a2, a3, a4, a5, a6);
    int e = errno;
    // Private wakes never touch the word; these ops do.
    if ((cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_CMP_REQUEUE_PI || cmd == FUTEX_UNLOCK_PI) && kernel_read_it(r, e))
        proven_readable(uaddr, 4);
    if (cmd == FUTEX_WAKE_OP && r >= 0 && ((uintptr_t)a5 & 3) == 0)
        proven_readable((const void *)a5, 4);
    // A wake that woke someone found a sleeper whose FUTEX_WAIT had the kernel
    // read this very word: it is mapped (the sleeper may not have run yet to
    // say so itself, and the snapshot is what tells a too-small wake count).
    if (kind == FK_WAKE && r > 0)
        proven_readable(uaddr, 4);
    lt_record(kind == FK_WAKE ? LT_EV_WAKE : LT_EV_REQUEUE, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5,
              futex_word(uaddr), vals, r < 0 ? -e : (int32_t)r, (uint32_t)op, LT_STACK_HERE);
    return r;
}

/* futex_waitv: one WAIT_BEGIN / WAIT_END per waiter, addr2 = the array,
 * arg = the waiter's flags with bit 31 set (tells them from futex ops). */
#define LT_WAITV_ARG 0x80000000u
/* The kernel's FUTEX2_VALID_MASK (6.12): size bits and PRIVATE, nothing else;
 * and only 32-bit futexes are implemented. */
#define LT_FUTEX2_SIZE_MASK 0x03u
#define LT_FUTEX2_VALID_MASK (LT_FUTEX2_SIZE_MASK | FUTEX_PRIVATE_FLAG)
#define LT_FUTEX2_SIZE_U32 0x02u

/* The checks the kernel makes before it reads any futex word (syscall entry,
 * futex2_setup_timeout, futex_parse_waitv, get_futex_key's alignment): a call
 * that fails them gets EINVAL/EFAULT without a word being touched, so the
 * shim must not touch one either. */
static bool waitv_call_valid(const struct futex_waitv *w, unsigned long nr, long flags, long timeout, long clk)
{
    if (flags || nr == 0 || nr > FUTEX_WAITV_MAX || !w)
        return false;
    if (timeout && clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME)
        return false;
    // The array is read (copy_from_user) before anything else: it must be
    // known mapped; 8-aligned so that our own loads of it are plain.
    if (((uintptr_t)w & 7) || !readable(w, nr * sizeof *w))
        return false;
    for (unsigned long i = 0; i < nr; ++i) {
        uint32_t f = w[i].flags;
        if ((f & ~LT_FUTEX2_VALID_MASK) || w[i].__reserved || (f & LT_FUTEX2_SIZE_MASK) != LT_FUTEX2_SIZE_U32 ||
            (w[i].val >> 32) || (w[i].uaddr & 3) || w[i].uaddr < 4096)
            return false;
    }
    return true;
}

static long futex_waitv_hook(long a1, long a2, long a3, long a4, long a5, long a6)
{
    const struct futex_waitv *w = (const struct futex_waitv *)a1;
    unsigned long nr = (unsigned int)a2; /* the kernel takes an unsigned int */
    long (*real)(long, ...) = LT_REAL(syscall);
    if (!waitv_call_valid(w, nr, (unsigned int)a3, a4, (int)a5)) {
        // Not traced: the kernel rejects it, or the array is not known to be
        // mapped.  A call that got as far as sleeping proves the array readable.
        long r = real(SYS_futex_waitv, a1, a2, a3, a4, a5, a6);
        int e = errno;
        if (nr > 0 && nr <= FUTEX_WAITV_MAX && w && (r >= 0 || e == ETIMEDOUT || e == EINTR))
            proven_readable(w, nr * sizeof *w);
        errno = e;
        return r;
    }
    // Copies: another thread may change the array under the call.
    struct futex_waitv v[FUTEX_WAITV_MAX];
    memcpy(v, w, nr * sizeof *w);
    uint32_t fl = a4 ? clock_flags((clockid_t)a5) : 0;
    uint32_t st = LT_STACK_HERE;
    for (unsigned long i = 0; i < nr; ++i)
        st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, fl, (const void *)(uintptr_t)v[i].uaddr, (uint64_t)a1,
                       futex_word((const void *)(uintptr_t)v[i].uaddr), v[i].val, 0, LT_WAITV_ARG | v[i].flags, st);
    long r = real(SYS_futex_waitv, a1, a2, a3, a4, a5, a6);
    int e = errno;
    // Only a call that slept had the kernel read (and queue) every word; an
    // early EAGAIN or EFAULT stops at the word that failed, and an index
    // return may come from a wake during setup: then only that word is known.
    bool read_all = e == ETIMEDOUT || e == EINTR;
    for (unsigned long i = 0; i < nr; ++i) {
        const void *u = (const void *)(uintptr_t)v[i].uaddr;
        if (read_all || (r >= 0 && (unsigned long)r == i))
            proven_readable(u, 4);
        lt_record(LT_EV_WAIT_END, LT_PRIM_FUTEX, fl, u, (uint64_t)a1, futex_word(u), v[i].val, r < 0 ? -e : (int32_t)r,
                  LT_WAITV_ARG | v[i].flags, st);
    }
    errno = e;
    return r;
}

/* ---- unmapping: forget pages the futex code believed readable ------------- */

/* A page unmapped (or made unreadable) by the program must leave the known-
 * readable set, or a later futex call on a stale address (the kernel answers
 * EFAULT) would make the shim fault where the kernel did not. */
static void forget_pages(uintptr_t a, size_t len)
{
    if (len == 0)
        return;
    uint64_t first = a >> 12, last = (a + len - 1) >> 12;
    if (last < first)
        last = UINT64_MAX >> 12;
    if (last - first < LT_SAFE_PAGES) {
        for (uint64_t pg = first; pg <= last; ++pg) {
            uint64_t *s = &lt_safe_pages[safe_slot(pg)];
            if (__atomic_load_n(s, __ATOMIC_RELAXED) == pg + 1)
                __atomic_store_n(s, 0, __ATOMIC_RELAXED);
        }
        return;
    }
    for (unsigned i = 0; i < LT_SAFE_PAGES; ++i) {
        uint64_t v = __atomic_load_n(&lt_safe_pages[i], __ATOMIC_RELAXED);
        if (v && v - 1 >= first && v - 1 <= last)
            __atomic_store_n(&lt_safe_pages[i], 0, __ATOMIC_RELAXED);
    }
}

static void forget_all_pages(void)
{
    for (unsigned i = 0; i < LT_SAFE_PAGES; ++i)
        __atomic_store_n(&lt_safe_pages[i], 0, __ATOMIC_RELAXED);
}

/* What the unmapping calls do to the set, by syscall number (from munmap(),
 * shmdt(), ... or from syscall() itself).  Done before the call: a word
 * forgotten too early only costs a snapshot. */
static void forget_for_syscall(long nr, long a1, long a2, long a3)
{
    if (nr == SYS_munmap || nr == SYS_mremap)
        forget_pages((uintptr_t)a1, (size_t)a2);
    else if (nr == SYS_mprotect && !(a3 & PROT_READ))
        forget_pages((uintptr_t)a1, (size_t)a2);
    else if (nr == SYS_shmdt)
        forget_all_pages(); /* the segment's size is not in the call */
}

/* These are plain system-call wrappers in glibc (no cancellation point, errno
 * from the return value): made the same way here, so no lookup is needed. */
static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5)
{
    long r;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

EXPORT int munmap(void *a, size_t len)
{
    forget_for_syscall(SYS_munmap, (long)a, (long)len, 0);
    return (int)raw_syscall(SYS_munmap, (long)a, (long)len, 0, 0, 0);
}

EXPORT int mprotect(void *a, size_t len, int prot)
{
    forget_for_syscall(SYS_mprotect, (long)a, (long)len, prot);
    return (int)raw_syscall(SYS_mprotect, (long)a, (long)len, prot, 0, 0);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *target = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        target = va_arg(ap, void *);
        va_end(ap);
    }
    forget_for_syscall(SYS_mremap, (long)old, (long)old_len, 0);
    if (target)
        forget_pages((uintptr_t)target, new_len);
    return (void *)raw_syscall(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)target);
}

EXPORT int shmdt(const void *a)
{
    forget_for_syscall(SYS_shmdt, (long)a, 0, 0);
    return (int)raw_syscall(SYS_shmdt, (long)a, 0, 0, 0, 0);
}

/* Rust and others pass 32-bit values through the variadic list: read all six
 * as long, as the kernel does with the registers. */
EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (LT_LIKELY(number != SYS_futex && number != SYS_futex_waitv) || !lt_want(LT_PRIM_FUTEX)) {
        forget_for_syscall(number, a1, a2, a3);
        return LT_REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
    }
    if (number == SYS_futex)
        return futex_hook(a1, a2, a3, a4, a5, a6);
    return futex_waitv_hook(a1, a2, a3, a4, a5, a6);
}

/* ---- libunwind's per-thread frame cache ------------------------------------ */
/* libunwind's fast trace asks for a pthread key for its per-thread cache from
 * inside our stack walks: it gets one of ours, not one of the program's
 * (stacks.cpp, "The unwinder proper"). */
EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
    if (LT_UNLIKELY(lt_tls.internal) && lt_stacks_key_create(key, dtor))
        return 0;
    return LT_NEXT(key_create, key, dtor);
}

EXPORT int pthread_setspecific(pthread_key_t key, const void *v)
{
    if (LT_UNLIKELY(key == LT_UNWIND_KEY) && lt_stacks_set_cache((uintptr_t)v))
        return 0;
    return LT_NEXT(setspecific, key, v);
}
