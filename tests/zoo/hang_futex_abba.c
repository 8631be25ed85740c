/*
 * Bug: two hand-rolled futex mutexes taken in opposite orders (ABBA).  Both
 * threads end in FUTEX_WAIT; since these locks never call into the kernel when
 * uncontended, the trace cannot say who holds what.  Expected: "hang" with
 * both sleepers, their words and stacks, and no invented owner.
 */
#include "zoo.h"

static uint32_t lock_a, lock_b;
static pthread_barrier_t both_hold_one;

ZOO_FN static void *worker_a(void *arg)
{
    (void)arg;
    zoo_fmutex_lock(&lock_a);
    pthread_barrier_wait(&both_hold_one);
    zoo_fmutex_lock(&lock_b);
    zoo_fmutex_unlock(&lock_b);
    zoo_fmutex_unlock(&lock_a);
    return NULL;
}

ZOO_FN static void *worker_b(void *arg)
{
    (void)arg;
    zoo_fmutex_lock(&lock_b);
    pthread_barrier_wait(&both_hold_one);
    zoo_fmutex_lock(&lock_a);
    zoo_fmutex_unlock(&lock_a);
    zoo_fmutex_unlock(&lock_b);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&both_hold_one, NULL, 2);
    printf("main: two futex-lock workers, opposite orders (hangs)\n");
    fflush(stdout);
    pthread_t a = zoo_spawn(worker_a, NULL);
    pthread_t b = zoo_spawn(worker_b, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
