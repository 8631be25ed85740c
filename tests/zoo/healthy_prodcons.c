/*
 * Healthy: a bounded queue with one mutex and two condition variables, two
 * producers and two consumers, waits in predicate loops, broadcast at the end.
 */
#include "zoo.h"

#define CAP 4
#define ITEMS 2000

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int q[CAP], head, count, producers_left = 2;

ZOO_FN static void *producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        ZOO_CHECK(pthread_mutex_lock(&qlock));
        while (count == CAP)
            ZOO_CHECK(pthread_cond_wait(&not_full, &qlock));
        q[(head + count++) % CAP] = i;
        ZOO_CHECK(pthread_cond_signal(&not_empty));
        ZOO_CHECK(pthread_mutex_unlock(&qlock));
    }
    ZOO_CHECK(pthread_mutex_lock(&qlock));
    if (--producers_left == 0)
        ZOO_CHECK(pthread_cond_broadcast(&not_empty));
    ZOO_CHECK(pthread_mutex_unlock(&qlock));
    return NULL;
}

ZOO_FN static void *consumer(void *arg)
{
    long got = 0;
    (void)arg;
    for (;;) {
        ZOO_CHECK(pthread_mutex_lock(&qlock));
        while (count == 0 && producers_left > 0)
            ZOO_CHECK(pthread_cond_wait(&not_empty, &qlock));
        if (count == 0) {
            ZOO_CHECK(pthread_mutex_unlock(&qlock));
            break;
        }
        head = (head + 1) % CAP;
        count--;
        got++;
        ZOO_CHECK(pthread_cond_signal(&not_full));
        ZOO_CHECK(pthread_mutex_unlock(&qlock));
    }
    return (void *)got;
}

int main(void)
{
    pthread_t p1 = zoo_spawn(producer, NULL), p2 = zoo_spawn(producer, NULL);
    pthread_t c1 = zoo_spawn(consumer, NULL), c2 = zoo_spawn(consumer, NULL);
    void *g1, *g2;
    pthread_join(p1, NULL);
    pthread_join(p2, NULL);
    pthread_join(c1, &g1);
    pthread_join(c2, &g2);
    long total = (long)g1 + (long)g2;
    printf("healthy_prodcons: consumed %ld\n", total);
    return total == 2 * ITEMS ? 0 : 1;
}
