/*
 * Bug: unlock-not-owner.  The request thread locks the cache mutex (a normal
 * one) and hands the request to a completion thread, which unlocks it.
 * glibc accepts this silently; it is undefined behaviour.
 */
#include "zoo.h"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

ZOO_FN static void *complete_request(void *arg)
{
    (void)arg;
    pthread_mutex_unlock(&cache_lock); /* BUG: locked by another thread */
    return NULL;
}

ZOO_FN static void start_request(void)
{
    ZOO_CHECK(pthread_mutex_lock(&cache_lock));
    pthread_join(zoo_spawn(complete_request, NULL), NULL);
}

int main(void)
{
    start_request();
    printf("main: finished\n");
    return 0;
}
