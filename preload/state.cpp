// Definitions of the process and thread state (state.h).
#include "state.h"

#include <errno.h>
#include <pthread.h>

lt_trace lt_g;
int lt_init_state;
bool lt_strip_exec;
__thread lt_tls_state lt_tls __attribute__((tls_model("initial-exec")));
uint32_t lt_families_active = ~0u;

lt_errno_guard::lt_errno_guard() : saved(errno) {}
lt_errno_guard::~lt_errno_guard() { errno = saved; }

/* Bounds for the unwind cache's scans and the futex hooks' "is this word
 * surely mapped" test.  The thread that forked runs on the same stack in the
 * child: its bounds are known, and asking again would parse /proc/self/maps
 * for the main thread. */
void lt_thread_stack(int tid, uint64_t *lo, uint64_t *hi)
{
    *lo = *hi = 0;
    if (tid == lt_g.fork_stack_tid && lt_g.fork_stack_hi) {
        *lo = lt_g.fork_stack_lo;
        *hi = lt_g.fork_stack_hi;
        return;
    }
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    void *base = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
        *lo = (uint64_t)(uintptr_t)base;
        *hi = (uint64_t)(uintptr_t)base + size;
    }
    pthread_attr_destroy(&attr);
}
