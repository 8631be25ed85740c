/*
 * Bug: destroy-while-in-use.  shutdown_pool() destroys the pool mutex while a
 * worker still holds it; glibc answers EBUSY, which the program ignores.
 */
#include "zoo.h"

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t worker_holds;

ZOO_FN static void *pool_worker(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&pool_lock));
    pthread_barrier_wait(&worker_holds);
    zoo_sleep_ms(100);
    pthread_mutex_unlock(&pool_lock);
    return NULL;
}

ZOO_FN static void shutdown_pool(void)
{
    int rc = pthread_mutex_destroy(&pool_lock); /* BUG: a worker holds it */
    printf("shutdown_pool: destroy returned %s\n", rc ? strerror(rc) : "0");
}

int main(void)
{
    pthread_barrier_init(&worker_holds, NULL, 2);
    pthread_t w = zoo_spawn(pool_worker, NULL);
    pthread_barrier_wait(&worker_holds);
    shutdown_pool();
    pthread_join(w, NULL);
    return 0;
}
