/*
 * Healthy: a hand-rolled futex mutex under contention, a futex event that
 * wakes everyone, and a futex ping-pong.  Every wait has a wake that reaches
 * it; must produce no error or warning.
 */
#include "zoo.h"

#define NTHREADS 4
#define ROUNDS 3000

static uint32_t counter_lock;
static long counter;
static uint32_t go;
static uint32_t turn; /* ping-pong: 0 main's turn, 1 partner's */

ZOO_FN static void *adder(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) == 0)
        zoo_futex_wait(&go, 0);
    for (int i = 0; i < ROUNDS; i++) {
        zoo_fmutex_lock(&counter_lock);
        counter++;
        zoo_fmutex_unlock(&counter_lock);
    }
    return NULL;
}

ZOO_FN static void *partner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 1)
            zoo_futex_wait(&turn, 0);
        __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
        zoo_futex_wake(&turn, 1);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        t[i] = zoo_spawn(adder, NULL);
    zoo_sleep_ms(20);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    zoo_futex_wake(&go, INT_MAX);
    pthread_t p = zoo_spawn(partner, NULL);
    for (int i = 0; i < 200; i++) {
        __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
        zoo_futex_wake(&turn, 1);
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0)
            zoo_futex_wait(&turn, 1);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    pthread_join(p, NULL);
    printf("healthy_futex: counter %ld\n", counter);
    return counter == (long)NTHREADS * ROUNDS ? 0 : 1;
}
