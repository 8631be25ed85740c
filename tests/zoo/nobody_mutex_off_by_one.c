/*
 * Bug: held-by-nobody.  The slot table and its mutex share a struct;
 * mark_all_slots() loops one slot too far and writes 1 into the first word of
 * the mutex, which glibc reads as "locked".  No thread took it, so nobody will
 * ever unlock it: every later locker sleeps forever.
 */
#include "zoo.h"

#define NSLOTS 4

struct slot_table {
    int used[NSLOTS];
    pthread_mutex_t lock;
};

static struct slot_table slots = {.lock = PTHREAD_MUTEX_INITIALIZER};

ZOO_FN static void mark_all_slots(struct slot_table *t)
{
    int *u = t->used;
    for (int i = 0; i <= NSLOTS; i++) /* BUG: <= writes one int past used[] */
        u[i] = 1;
}

ZOO_FN static void take_slot(struct slot_table *t, int i)
{
    ZOO_CHECK(pthread_mutex_lock(&t->lock));
    t->used[i % NSLOTS] = 1;
    ZOO_CHECK(pthread_mutex_unlock(&t->lock));
}

ZOO_FN static void *slot_worker(void *arg)
{
    for (int i = 0; i < 5; i++)
        take_slot(&slots, (int)(intptr_t)arg + i);
    return NULL;
}

ZOO_FN static void *late_worker(void *arg)
{
    (void)arg;
    printf("late_worker: taking the slot lock (hangs: held by nobody)\n");
    fflush(stdout);
    take_slot(&slots, 0);
    printf("late_worker: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    pthread_join(zoo_spawn(slot_worker, (void *)1), NULL);
    mark_all_slots(&slots);
    pthread_t a = zoo_spawn(late_worker, NULL);
    pthread_t b = zoo_spawn(late_worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
