/* Two threads sleep on a futex word nobody ever wakes (a hand-rolled event
 * that is never set).  A futex word has no owner: the report must show the
 * waiters and that no wake came, and must not invent a holder. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

uint32_t ready_event;  /* 0 = not set; set_event() is never called */

static void wait_event(uint32_t *word)
{
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void *waiter(void *arg)
{
    (void)arg;
    wait_event(&ready_event);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, waiter, NULL);
    pthread_create(&b, NULL, waiter, NULL);
    printf("ready\n");
    fflush(stdout);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
