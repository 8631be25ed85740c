/* A thread blocked for good on a pthread mutex that main holds: with
 * LOCKTRACE_LIBC_FUTEX=1 its innermost open wait is glibc's own futex call
 * (inside pthread_mutex_lock), and the stack recorded there must reach
 * wait_for_gate through the trampoline.  Prints "gate=0x..." then "BLOCKED"
 * and stays hung until killed. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void wait_for_gate(void)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
}

static void *stuck_worker(void *arg)
{
    (void)arg;
    wait_for_gate();
    return NULL;
}

int main(void)
{
    printf("gate=%p\n", (void *)&gate);
    fflush(stdout);
    pthread_mutex_lock(&gate);
    pthread_t t;
    pthread_create(&t, NULL, stuck_worker, NULL);
    /* The mutex word becomes 2 (locked, with waiters) once the worker sleeps in the kernel. */
    while (__atomic_load_n((int *)&gate, __ATOMIC_RELAXED) != 2)
        usleep(1000);
    printf("BLOCKED\n");
    fflush(stdout);
    pthread_join(t, NULL);
    return 0;
}
