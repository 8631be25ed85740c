/*
 * Bug: deadlock.  worker_a takes lock_a then lock_b, worker_b takes lock_b
 * then lock_a; a barrier makes sure each holds its first lock before asking
 * for the second.
 */
#include "zoo.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

ZOO_FN static void *worker_a(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&lock_a));
    pthread_barrier_wait(&both_hold_one);
    ZOO_CHECK(pthread_mutex_lock(&lock_b));
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return NULL;
}

ZOO_FN static void *worker_b(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&lock_b));
    pthread_barrier_wait(&both_hold_one);
    ZOO_CHECK(pthread_mutex_lock(&lock_a));
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&both_hold_one, NULL, 2);
    printf("main: lock_a=%p lock_b=%p (hangs)\n", (void *)&lock_a, (void *)&lock_b);
    fflush(stdout);
    pthread_t a = zoo_spawn(worker_a, NULL);
    pthread_t b = zoo_spawn(worker_b, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
