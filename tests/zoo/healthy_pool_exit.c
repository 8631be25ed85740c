/*
 * Healthy: a small thread pool whose idle workers are still asleep (condition
 * variable in a predicate loop, a futex event, a semaphore) when main calls
 * exit().  Daemon-style threads left waiting at a normal exit are not a hang
 * or a lost wakeup: this must produce no error or warning.
 */
#include "zoo.h"
#include <semaphore.h>

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static int queued, done;
static uint32_t shutdown_word;
static sem_t slots;

ZOO_FN static void *pool_worker(void *arg)
{
    (void)arg;
    for (;;) {
        ZOO_CHECK(pthread_mutex_lock(&qlock));
        while (queued == 0)
            ZOO_CHECK(pthread_cond_wait(&work_cv, &qlock));
        queued--;
        done++;
        ZOO_CHECK(pthread_mutex_unlock(&qlock));
    }
    return NULL;
}

ZOO_FN static void *watcher(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&shutdown_word, __ATOMIC_ACQUIRE) == 0)
        zoo_futex_wait(&shutdown_word, 0);
    return NULL;
}

ZOO_FN static void *slot_waiter(void *arg)
{
    (void)arg;
    while (sem_wait(&slots) == -1 && errno == EINTR) {
    }
    return NULL;
}

int main(void)
{
    sem_init(&slots, 0, 0);
    for (int i = 0; i < 3; i++)
        pthread_detach(zoo_spawn(pool_worker, NULL));
    pthread_detach(zoo_spawn(watcher, NULL));
    pthread_detach(zoo_spawn(slot_waiter, NULL));
    for (int i = 0; i < 200; i++) {
        ZOO_CHECK(pthread_mutex_lock(&qlock));
        queued++;
        ZOO_CHECK(pthread_cond_signal(&work_cv));
        ZOO_CHECK(pthread_mutex_unlock(&qlock));
    }
    for (;;) {
        ZOO_CHECK(pthread_mutex_lock(&qlock));
        int d = done;
        ZOO_CHECK(pthread_mutex_unlock(&qlock));
        if (d == 200)
            break;
        zoo_sleep_ms(1);
    }
    zoo_sleep_ms(50); /* the pool goes idle: everyone asleep */
    printf("healthy_pool_exit: %d jobs done, exiting with idle workers\n", done);
    exit(0);
}
