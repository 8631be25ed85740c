/*
 * Bug: lost-wakeup.  The job struct has two adjacent futex words, `started`
 * and `finished`.  finish_job() sets `finished` but wakes `started`, the word
 * next to it: the wake finds nobody and the waiter sleeps forever.
 */
#include "zoo.h"

struct job {
    uint32_t started;
    uint32_t finished;
};

static struct job job;
static int waiter_tid;

ZOO_FN static void wait_finished(struct job *j)
{
    while (__atomic_load_n(&j->finished, __ATOMIC_ACQUIRE) == 0)
        zoo_futex_wait(&j->finished, 0);
}

ZOO_FN static void finish_job(struct job *j)
{
    __atomic_store_n(&j->finished, 1, __ATOMIC_RELEASE);
    long n = zoo_futex_wake(&j->started, INT_MAX); /* BUG: wrong word */
    printf("finish_job: woke %ld\n", n);
}

ZOO_FN static void *waiter(void *arg)
{
    (void)arg;
    printf("waiter: waiting for the job (hangs)\n");
    __atomic_store_n(&waiter_tid, zoo_gettid(), __ATOMIC_RELEASE);
    fflush(stdout);
    wait_finished(&job);
    printf("waiter: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    __atomic_store_n(&job.started, 1, __ATOMIC_RELEASE);
    pthread_t w = zoo_spawn(waiter, NULL);
    zoo_wait_asleep(&waiter_tid);
    finish_job(&job);
    pthread_join(w, NULL);
    return 0;
}
