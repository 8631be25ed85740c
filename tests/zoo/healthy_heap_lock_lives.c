/*
 * Healthy: heap mutexes whose memory comes back for new mutexes.  Each round
 * mallocs two mutexes, takes them in one order, destroys and frees them;
 * the next round gets the same addresses from malloc and takes its (new)
 * mutexes in the other order.  Different locks, no inversion: the lock-order
 * graph must keep the lives apart.
 */
#include "zoo.h"

ZOO_FN static void round_of(int flip)
{
    pthread_mutex_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    ZOO_CHECK(pthread_mutex_init(a, NULL));
    ZOO_CHECK(pthread_mutex_init(b, NULL));
    pthread_mutex_t *first = flip ? b : a, *second = flip ? a : b;
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    ZOO_CHECK(pthread_mutex_destroy(a));
    ZOO_CHECK(pthread_mutex_destroy(b));
    free(b);
    free(a);
}

ZOO_FN static void *worker(void *arg)
{
    round_of(arg != NULL);
    return NULL;
}

int main(void)
{
    /* Each round on its own thread, one after the other, in turns. */
    for (int i = 0; i < 6; i++)
        pthread_join(zoo_spawn(worker, (void *)(intptr_t)(i & 1)), NULL);
    printf("done\n");
    return 0;
}
