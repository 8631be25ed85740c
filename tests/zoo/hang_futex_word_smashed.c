/*
 * Bug: a hand-rolled futex mutex whose word is overwritten by a stray store
 * (reset_stats() clears one int too many with the value 2, "locked with
 * waiters").  Every thread then sleeps in FUTEX_WAIT on a lock that nobody
 * holds.  The lock's uncontended paths never enter the kernel, so from the
 * trace alone no owner can be known: the report must say "hang", show every
 * sleeper and its word, and not invent an owner.
 */
#include "zoo.h"

struct stats {
    uint32_t counts[3];
    uint32_t lock; /* hand-rolled futex mutex */
};

static struct stats st;

ZOO_FN static void reset_stats(struct stats *s)
{
    uint32_t *c = s->counts;
    for (int i = 0; i <= 3; i++) /* BUG: one past the end, onto the lock word */
        c[i] = 2;
}

ZOO_FN static void bump(struct stats *s, int i)
{
    zoo_fmutex_lock(&s->lock);
    s->counts[i % 3]++;
    zoo_fmutex_unlock(&s->lock);
}

ZOO_FN static void *stats_worker(void *arg)
{
    printf("stats_worker %d: bumping (hangs)\n", (int)(intptr_t)arg);
    fflush(stdout);
    bump(&st, (int)(intptr_t)arg);
    printf("stats_worker: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    bump(&st, 0);
    reset_stats(&st);
    pthread_t a = zoo_spawn(stats_worker, (void *)1);
    pthread_t b = zoo_spawn(stats_worker, (void *)2);
    zoo_sleep_ms(50);
    bump(&st, 0); /* main joins the sleepers */
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
