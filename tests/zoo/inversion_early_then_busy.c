/*
 * Bug: lock-order inversion taken once each way at start-up, then forgotten
 * by the rings.  configure() takes config then cache; refresh() on another
 * thread takes cache then config; they run one after the other, so this run
 * does not hang.  Then ten million other lock calls follow, far more than a
 * ring holds.  The report must still name the inversion, both sites and
 * both threads, from the lock order kept for the whole run.
 */
#include "zoo.h"

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static long work;

ZOO_FN static void configure(void)
{
    pthread_mutex_lock(&config_lock);
    pthread_mutex_lock(&cache_lock); /* site: config_then_cache */
    pthread_mutex_unlock(&cache_lock);
    pthread_mutex_unlock(&config_lock);
}

ZOO_FN static void *refresh(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cache_lock);
    pthread_mutex_lock(&config_lock); /* site: cache_then_config */
    pthread_mutex_unlock(&config_lock);
    pthread_mutex_unlock(&cache_lock);
    return NULL;
}

ZOO_FN static void busy(void)
{
    for (int i = 0; i < 5000000; i++) { /* 10 M lock calls */
        pthread_mutex_lock(&work_lock);
        work++;
        pthread_mutex_unlock(&work_lock);
    }
}

int main(void)
{
    configure();
    pthread_join(zoo_spawn(refresh, NULL), NULL);
    busy();
    printf("done: %ld\n", work);
    return 0;
}
