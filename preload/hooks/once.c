// One-time initialisation: pthread_once and C11's call_once (glibc's calls
// its internal pthread_once).  A call that finds the initialisation done
// records nothing: that is the common case, and it cannot block.  Otherwise
// the call is a wait, begun before it: the thread runs the init routine (its
// lock calls nest inside the wait) or waits for the thread that does.
#define _GNU_SOURCE
#include "hook.h"

/* glibc's control word: bit 1 (__PTHREAD_ONCE_DONE) once the routine has
 * returned. */
#define ONCE_DONE 2

struct once_wait {
    const void *ctl;
    uint32_t stack;
};

static struct lt_snap snap_once(const int *ctl)
{
    struct lt_snap s = {0, (uint32_t)LT_LOAD(*ctl), 0};
    return s;
}

static void once_after(struct once_wait *w, int r)
{
    REC(LT_EV_WAIT_END, LT_PRIM_ONCE, 0, w->ctl, snap_once(w->ctl), r, 0, w->stack);
}

/* The init routine was cancelled: glibc resets the control, the wait is over. */
static void once_cancelled(void *p) { once_after((struct once_wait *)p, ECANCELED); }

#define ONCE(word, call, ret)                                                                                 \
    do {                                                                                                      \
        if ((LT_LOAD(*(word)) & ONCE_DONE) || !lt_want(LT_PRIM_ONCE)) {                                       \
            call;                                                                                             \
            return ret;                                                                                       \
        }                                                                                                     \
        struct once_wait w = {(word), 0};                                                                     \
        w.stack = REC(LT_EV_WAIT_BEGIN, LT_PRIM_ONCE, 0, w.ctl, snap_once(word), 0, 0, LT_STACK_HERE);        \
        pthread_cleanup_push(once_cancelled, &w);                                                             \
        call;                                                                                                 \
        pthread_cleanup_pop(0);                                                                               \
        once_after(&w, 0);                                                                                    \
        return ret;                                                                                           \
    } while (0)

EXPORT int pthread_once(pthread_once_t *ctl, void (*init)(void))
{
    int r = 0;
    ONCE(ctl, r = LT_REAL(once)(ctl, init), r);
}

EXPORT void call_once(once_flag *flag, void (*init)(void))
{
    ONCE((int *)flag, LT_REAL(call_once)(flag, init), ); /* once_flag is { int } */
}
