/*
 * Healthy: two threads take one mutex exactly 5,000,000 times in all
 * (2,500,000 each).  LOCKS and --json must say 5000000 acquisitions: the
 * totals of the whole run, not of what the rings still hold.
 */
#include "zoo.h"

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

ZOO_FN static void *add(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2500000; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t a = zoo_spawn(add, NULL), b = zoo_spawn(add, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("counter %ld\n", counter);
    return counter == 5000000 ? 0 : 1;
}
