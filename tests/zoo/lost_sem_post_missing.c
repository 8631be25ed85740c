/*
 * Bug: lost-wakeup.  The producer queues two items but posts the semaphore
 * only once (the post is missing on its batch path); the consumer takes the
 * first item and then waits forever for the second.
 */
#include "zoo.h"
#include <semaphore.h>

static sem_t items;
static int queue[8], qlen;

ZOO_FN static void produce_batch(void)
{
    queue[qlen++] = 1;
    queue[qlen++] = 2;
    sem_post(&items); /* BUG: one post for two items */
}

ZOO_FN static void *consumer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        printf("consumer: waiting for item %d\n", i);
        fflush(stdout);
        while (sem_wait(&items) == -1 && errno == EINTR) {
        }
        printf("consumer: got item %d\n", i);
        fflush(stdout);
    }
    return NULL;
}

int main(void)
{
    sem_init(&items, 0, 0);
    pthread_t c = zoo_spawn(consumer, NULL);
    zoo_sleep_ms(50);
    produce_batch();
    pthread_join(c, NULL);
    return 0;
}
