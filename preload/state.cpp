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

/* The calling thread's stack from glibc.  pthread_getattr_np allocates (its
 * CPU set, and for the main thread the stdio buffers of /proc/self/maps), so
 * it is asked once, where allocating is safe (lt_thread_stack_prepare), and
 * the answer kept: a thread's first event may run in a signal handler that
 * interrupted malloc, or in the child of a _Fork made while another thread
 * held malloc's arena lock. */
static void stack_from_glibc(uint64_t *lo, uint64_t *hi)
{
    *lo = *hi = 0;
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

static __thread uint64_t t_stack_lo __attribute__((tls_model("initial-exec")));
static __thread uint64_t t_stack_hi __attribute__((tls_model("initial-exec")));

void lt_thread_stack_prepare(void)
{
    if (t_stack_hi)
        return;
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    uint64_t lo, hi;
    stack_from_glibc(&lo, &hi);
    t_stack_lo = lo;
    __atomic_signal_fence(__ATOMIC_SEQ_CST); // a handler that sees hi sees lo
    t_stack_hi = hi;
}

/* Bounds for the unwind cache's scans and the futex hooks' "is this word
 * surely mapped" test.  The main thread, threads started by the shim's
 * wrapper and any thread that forked were asked before
 * (lt_thread_stack_prepare; a fork child's thread keeps its parent thread's
 * TLS, and its stack); only others (threads the start table had no room
 * for) ask glibc here. */
void lt_thread_stack(uint64_t *lo, uint64_t *hi)
{
    if (t_stack_hi) {
        *lo = t_stack_lo;
        *hi = t_stack_hi;
        return;
    }
    stack_from_glibc(lo, hi);
}
