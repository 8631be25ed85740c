/*
 * Healthy: timed locks and waits that time out on purpose, and try-locks that
 * find the lock busy; every outcome is handled.  Must stay clean.
 */
#include "zoo.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t holder_ready, tester_done;

static struct timespec in_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

ZOO_FN static void *holder(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&held));
    ZOO_CHECK(pthread_rwlock_wrlock(&rw));
    pthread_barrier_wait(&holder_ready);
    pthread_barrier_wait(&tester_done);
    ZOO_CHECK(pthread_rwlock_unlock(&rw));
    ZOO_CHECK(pthread_mutex_unlock(&held));
    return NULL;
}

ZOO_FN static int try_everything(void)
{
    int bad = 0;
    struct timespec ts = in_ms(30);
    bad += pthread_mutex_timedlock(&held, &ts) != ETIMEDOUT;
    bad += pthread_mutex_trylock(&held) != EBUSY;
    ts = in_ms(30);
    bad += pthread_rwlock_timedrdlock(&rw, &ts) != ETIMEDOUT;
    ts = in_ms(30);
    bad += pthread_rwlock_timedwrlock(&rw, &ts) != ETIMEDOUT;
    bad += pthread_rwlock_tryrdlock(&rw) != EBUSY;
    ZOO_CHECK(pthread_mutex_lock(&cm));
    ts = in_ms(30);
    bad += pthread_cond_timedwait(&cv, &cm, &ts) != ETIMEDOUT;
    ZOO_CHECK(pthread_mutex_unlock(&cm));
    return bad;
}

int main(void)
{
    pthread_barrier_init(&holder_ready, NULL, 2);
    pthread_barrier_init(&tester_done, NULL, 2);
    pthread_t h = zoo_spawn(holder, NULL);
    pthread_barrier_wait(&holder_ready);
    int bad = try_everything();
    pthread_barrier_wait(&tester_done);
    pthread_join(h, NULL);
    /* Now free: the same calls succeed. */
    ZOO_CHECK(pthread_mutex_trylock(&held));
    ZOO_CHECK(pthread_mutex_unlock(&held));
    struct timespec ts = in_ms(1000);
    ZOO_CHECK(pthread_rwlock_timedwrlock(&rw, &ts));
    ZOO_CHECK(pthread_rwlock_unlock(&rw));
    printf("healthy_timed: %d unexpected results\n", bad);
    return bad ? 1 : 0;
}
