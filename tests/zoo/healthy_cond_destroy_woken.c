/*
 * Healthy: a condition variable destroyed right after its waiters were
 * woken, before they have returned from pthread_cond_wait (they still need
 * the mutex, which the destroyer holds).  POSIX allows this: "it shall be safe
 * to destroy an initialized condition variable upon which no threads are
 * currently blocked", and woken threads are no longer blocked on it.  Once
 * with a broadcast, once with one signal per waiter.  No error or warning.
 */
#include "zoo.h"

#define WAITERS 3

static pthread_mutex_t round_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t round_cv;
static int asleep_tid[WAITERS];
static int released;

ZOO_FN static void *round_waiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    ZOO_CHECK(pthread_mutex_lock(&round_lock));
    __atomic_store_n(&asleep_tid[i], zoo_gettid(), __ATOMIC_RELEASE);
    while (!released) ZOO_CHECK(pthread_cond_wait(&round_cv, &round_lock));
    ZOO_CHECK(pthread_mutex_unlock(&round_lock));
    return NULL;
}

ZOO_FN static void finish_round(int broadcast)
{
    pthread_t t[WAITERS];
    released = 0;
    memset(asleep_tid, 0, sizeof asleep_tid);
    ZOO_CHECK(pthread_cond_init(&round_cv, NULL));
    for (int i = 0; i < WAITERS; i++) t[i] = zoo_spawn(round_waiter, (void *)(intptr_t)i);
    for (int i = 0; i < WAITERS; i++) zoo_wait_asleep(&asleep_tid[i]);
    ZOO_CHECK(pthread_mutex_lock(&round_lock));
    released = 1;
    if (broadcast) {
        ZOO_CHECK(pthread_cond_broadcast(&round_cv));
    } else {
        for (int i = 0; i < WAITERS; i++) ZOO_CHECK(pthread_cond_signal(&round_cv));
    }
    ZOO_CHECK(pthread_cond_destroy(&round_cv)); /* the waiters are woken, not yet returned */
    ZOO_CHECK(pthread_mutex_unlock(&round_lock));
    for (int i = 0; i < WAITERS; i++) pthread_join(t[i], NULL);
}

int main(void)
{
    finish_round(1);
    finish_round(0);
    printf("main: two rounds, condvar destroyed after each\n");
    return 0;
}
