// What every hook file shares: the thin-hook pattern (snapshot the object,
// lt_record the "before" event, call the real function, lt_record the
// "after" event) and the small helpers it needs.  Hooks hold no logic of
// their own beyond choosing the event: the recorder (recorder.h) does the
// recording, real.h finds the real function.
// (C, not C++: glibc's declarations carry C++ exception specifications that a
// C++ redefinition would have to repeat one by one.)
#pragma once
#include "../real.h"
#include "../recorder.h"
#include "snapshot.h"

#include <errno.h>
#include <threads.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))
/* Tells the stack cache the hook's return address into the program (its set,
 * stacks.h): every path that records with LT_STACK_HERE says it first. */
#define NOTE_CALLER() (lt_tls.caller = (uint64_t)(uintptr_t)__builtin_return_address(0))
/* The snapshot is taken once (its loads are atomics: the compiler would not
 * merge three copies of them). */
#define REC(type, prim, fl, addr, sn, res, arg, stack)                                                        \
    __extension__({                                                                                           \
        struct lt_snap sn_ = (sn);                                                                            \
        NOTE_CALLER();                                                                                        \
        lt_record((type), (prim), (fl), (addr), sn_.addr2, sn_.s0, sn_.s1, (res), (arg), (stack));            \
    })

static inline enum lt_event_type acquire_outcome(int r)
{
    if (r == 0 || r == EOWNERDEAD)
        return LT_EV_ACQUIRED;
    return r == ETIMEDOUT ? LT_EV_TIMEDOUT : LT_EV_FAILED;
}

/* The C11 calls (mtx_*, cnd_*, thrd_join) return a thrd_* code; events
 * carry errno values, so each is recorded as the error glibc mapped to it.
 * thrd_error does not say which error it was: `fallback` is the one glibc
 * can give for that call. */
static inline int same_errno(int r) { return r; }
static inline int thrd_errno(int r, int fallback)
{
    switch (r) {
    case thrd_success: return 0;
    case thrd_busy: return EBUSY;
    case thrd_nomem: return ENOMEM;
    case thrd_timedout: return ETIMEDOUT;
    default: return fallback;
    }
}
static inline int thrd_lock_errno(int r) { return thrd_errno(r, EINVAL); }

static inline uint32_t clock_flags(clockid_t clk)
{
    return LT_FL_TIMED | (clk == CLOCK_REALTIME ? LT_FL_REALTIME : 0);
}

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

#define ACQUIRE_FAST(prim, snap, obj, fl, try_call)                                                           \
    do {                                                                                                      \
        if (LT_LIKELY(try_call == 0)) {                                                                       \
            REC(LT_EV_ACQUIRED, (prim), (fl), obj, snap(obj), 0, 0, LT_STACK_HERE);                           \
            return 0;                                                                                         \
        }                                                                                                     \
    } while (0)

/* A lock's acquire and release: the ATTEMPT before the call that can block,
 * its outcome after; the RELEASE before the real unlock (the recorded hold
 * ends inside the real one, so the next owner's ACQUIRED is always later in
 * the trace).  to_errno: how the call's return value reads as an errno. */
#define LOCK_ACQUIRE(prim, snap, obj, fl, arg, call, to_errno)                                                \
    do {                                                                                                      \
        if (!lt_want(prim))                                                                                   \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_ATTEMPT, (prim), (fl), obj, snap(obj), 0, (arg), LT_STACK_HERE);              \
        int r = call, e = to_errno(r);                                                                        \
        REC(acquire_outcome(e), (prim), (fl), obj, snap(obj), e, (arg), st);                                  \
        return r;                                                                                             \
    } while (0)

#define LOCK_RELEASE(prim, snap, obj, call, to_errno)                                                         \
    do {                                                                                                      \
        if (!lt_want(prim))                                                                                   \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_RELEASE, (prim), LT_FL_WRITE, obj, snap(obj), 0, 0, LT_STACK_HERE);           \
        int r = call;                                                                                         \
        if (r)                                                                                                \
            REC(LT_EV_RELEASE_FAILED, (prim), LT_FL_WRITE, obj, snap(obj), to_errno(r), 0, st);               \
        return r;                                                                                             \
    } while (0)

/* init: after the call; destroy: before it, and its failure after. */
#define LOCK_INIT(prim, snap, obj, arg, call, to_errno)                                                       \
    do {                                                                                                      \
        int r = call;                                                                                         \
        if (lt_want(prim))                                                                                    \
            REC(LT_EV_INIT, (prim), 0, obj, snap(obj), to_errno(r), (arg), LT_STACK_HERE);                    \
        return r;                                                                                             \
    } while (0)

#define LOCK_DESTROY(prim, snap, obj, call, to_errno)                                                         \
    do {                                                                                                      \
        if (!lt_want(prim))                                                                                   \
            return call;                                                                                      \
        uint32_t st = REC(LT_EV_DESTROY, (prim), 0, obj, snap(obj), 0, 0, LT_STACK_HERE);                     \
        int r = call;                                                                                         \
        if (r)                                                                                                \
            REC(LT_EV_DESTROY_FAILED, (prim), 0, obj, snap(obj), to_errno(r), 0, st);                         \
        return r;                                                                                             \
    } while (0)

/* A vfork child must leave the parent's trace alone, exit status included
 * (vfork.S sets lt_tls.off = 2 around the system call). */
static inline bool in_vfork_child(void) { return lt_tls.off == 2; }
