// Fork hooks: fork, _Fork, and the parent's side of vfork (vfork.S).
#define _GNU_SOURCE
#include "hook.h"
#include "../life.h"

#include <unistd.h>

/* The child's side (new file, parent's mappings dropped) is done by our
 * pthread_atfork child handler, before the program's own handlers run. */

EXPORT pid_t fork(void)
{
    int e = errno;
    lt_fork_prepare();
    errno = e;
    pid_t p = LT_REAL(fork)();
    e = errno;
    lt_fork_done(p == 0);
    if (p > 0 && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, p, 0, LT_STACK_HERE);
    errno = e;
    return p;
}

/* _Fork runs no atfork handlers: do the child's part here. */
EXPORT pid_t _Fork(void)
{
    int e = errno;
    lt_fork_prepare();
    errno = e;
    pid_t p = LT_REAL(fork_raw)();
    e = errno;
    if (p == 0)
        lt_fork_child();
    lt_fork_done(p == 0);
    if (p > 0 && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, p, 0, LT_STACK_HERE);
    errno = e;
    return p;
}

/* vfork itself is in vfork.S.  In the parent, after the child has exec'd or
 * exited (the stack is ours again): record it, or turn the raw error into
 * errno. */
_Static_assert(__builtin_offsetof(struct lt_tls_state, off) == 10, "LT_TLS_OFF in vfork.S");

LT_HIDDEN long lt_vfork_parent(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    int e = errno;
    if (lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_FORK, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, (int32_t)r, 1, LT_STACK_HERE);
    errno = e;
    return r;
}
