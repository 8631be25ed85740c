/*
 * Healthy: threads cancelled while they wait on a condition variable.  POSIX
 * re-acquires the mutex before the cancellation cleanup handlers run, and the
 * handlers release it.  One handler first checks that it really holds the
 * error-checking mutex by locking it again (EDEADLK is the answer it wants),
 * as glibc's own tests do.  No error or warning.
 */
#include "zoo.h"

static pthread_mutex_t queue_lock;       /* error-checking */
static pthread_mutex_t plain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t plain_cv = PTHREAD_COND_INITIALIZER;
static int waiting_tid[2];

ZOO_FN static void checking_cleanup(void *arg)
{
    (void)arg;
    int rc = pthread_mutex_lock(&queue_lock);
    if (rc != EDEADLK) {
        fprintf(stderr, "cleanup: expected EDEADLK, got %d\n", rc);
        abort();
    }
    ZOO_CHECK(pthread_mutex_unlock(&queue_lock));
}

ZOO_FN static void unlocking_cleanup(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_unlock(&plain_lock));
}

ZOO_FN static void *queue_consumer(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&queue_lock));
    pthread_cleanup_push(checking_cleanup, NULL);
    __atomic_store_n(&waiting_tid[0], zoo_gettid(), __ATOMIC_RELEASE);
    for (;;) pthread_cond_wait(&queue_cv, &queue_lock); /* only cancellation ends it */
    pthread_cleanup_pop(0);
    return NULL;
}

ZOO_FN static void *plain_consumer(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&plain_lock));
    pthread_cleanup_push(unlocking_cleanup, NULL);
    __atomic_store_n(&waiting_tid[1], zoo_gettid(), __ATOMIC_RELEASE);
    for (;;) pthread_cond_wait(&plain_cv, &plain_lock);
    pthread_cleanup_pop(0);
    return NULL;
}

ZOO_FN static void stop_consumer(pthread_t t, const int *tid, pthread_mutex_t *m)
{
    zoo_wait_asleep(tid);
    ZOO_CHECK(pthread_cancel(t));
    void *res;
    ZOO_CHECK(pthread_join(t, &res));
    if (res != PTHREAD_CANCELED) abort();
    ZOO_CHECK(pthread_mutex_lock(m)); /* the cleanup handler released it */
    ZOO_CHECK(pthread_mutex_unlock(m));
}

int main(void)
{
    pthread_mutexattr_t a;
    ZOO_CHECK(pthread_mutexattr_init(&a));
    ZOO_CHECK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
    ZOO_CHECK(pthread_mutex_init(&queue_lock, &a));
    pthread_t q = zoo_spawn(queue_consumer, NULL);
    pthread_t p = zoo_spawn(plain_consumer, NULL);
    stop_consumer(q, &waiting_tid[0], &queue_lock);
    stop_consumer(p, &waiting_tid[1], &plain_lock);
    ZOO_CHECK(pthread_mutex_destroy(&queue_lock));
    printf("main: both consumers cancelled cleanly\n");
    return 0;
}
