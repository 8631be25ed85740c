/*
 * Bug: lost-wakeup.  Three workers sleep on a start gate; open_gate() sets it
 * and wakes only one of them (FUTEX_WAKE with 1 instead of INT_MAX).  The two
 * others sleep forever on a gate that is open.
 */
#include "zoo.h"

#define NWORKERS 3

static uint32_t start_gate;
static int worker_tids[NWORKERS];

ZOO_FN static void wait_gate(void)
{
    while (__atomic_load_n(&start_gate, __ATOMIC_ACQUIRE) == 0)
        zoo_futex_wait(&start_gate, 0);
}

ZOO_FN static void open_gate(void)
{
    __atomic_store_n(&start_gate, 1, __ATOMIC_RELEASE);
    long n = zoo_futex_wake(&start_gate, 1); /* BUG: should wake everyone */
    printf("open_gate: woke %ld of %d\n", n, NWORKERS);
}

ZOO_FN static void *gate_worker(void *arg)
{
    printf("gate_worker %d: waiting for the gate\n", (int)(intptr_t)arg);
    __atomic_store_n(&worker_tids[(intptr_t)arg], zoo_gettid(), __ATOMIC_RELEASE);
    fflush(stdout);
    wait_gate();
    printf("gate_worker %d: started\n", (int)(intptr_t)arg);
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t t[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        t[i] = zoo_spawn(gate_worker, (void *)(intptr_t)i);
    for (int i = 0; i < NWORKERS; i++)
        zoo_wait_asleep(&worker_tids[i]); /* all of them asleep on the gate */
    open_gate();
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(t[i], NULL);
    return 0;
}
