/*
 * Questionable (warning): unlock-not-owner used as a hand-over.  The main
 * thread locks the mutex and then waits for the loader to unlock it, locking
 * it again: a normal mutex used as a binary semaphore.  glibc's normal mutex
 * lets this work, but POSIX leaves it undefined (an error-checking mutex
 * refuses it); a semaphore is the right tool.  Reported as a warning: the
 * owner knows it gave the lock away, so no critical section is shared.
 */
#include "zoo.h"

static pthread_mutex_t loaded = PTHREAD_MUTEX_INITIALIZER;
static int config_value;

ZOO_FN static void *load_config(void *arg)
{
    (void)arg;
    config_value = 42;
    pthread_mutex_unlock(&loaded); /* unlocks the main thread's lock */
    return NULL;
}

ZOO_FN static void wait_loaded(void)
{
    ZOO_CHECK(pthread_mutex_lock(&loaded));
    pthread_t t = zoo_spawn(load_config, NULL);
    ZOO_CHECK(pthread_mutex_lock(&loaded)); /* waits for the loader's unlock */
    ZOO_CHECK(pthread_mutex_unlock(&loaded));
    pthread_join(t, NULL);
}

int main(void)
{
    wait_loaded();
    printf("main: config %d\n", config_value);
    return 0;
}
