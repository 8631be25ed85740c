/*
 * Bug: lost-wakeup.  wait_ready() sleeps on the `ready` word until it turns
 * non-zero; publish() sets it but forgets FUTEX_WAKE.  The waiter had already
 * gone to sleep, so nothing ever wakes it.
 */
#include "zoo.h"

static uint32_t ready;
static int waiter_tid;

ZOO_FN static void wait_ready(void)
{
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) == 0)
        zoo_futex_wait(&ready, 0);
}

ZOO_FN static void publish(void)
{
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE); /* BUG: no futex wake */
}

ZOO_FN static void *consumer(void *arg)
{
    (void)arg;
    printf("consumer: waiting for ready (hangs)\n");
    __atomic_store_n(&waiter_tid, zoo_gettid(), __ATOMIC_RELEASE);
    fflush(stdout);
    wait_ready();
    printf("consumer: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    pthread_t c = zoo_spawn(consumer, NULL);
    zoo_wait_asleep(&waiter_tid); /* the consumer is asleep first */
    publish();
    pthread_join(c, NULL);
    return 0;
}
