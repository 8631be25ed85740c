/*
 * Bug: destroy-while-in-use (condition variable).  Shutdown destroys the work
 * condition variable while a worker still sleeps on it, never woken.  glibc's
 * pthread_cond_destroy waits for the waiters to leave, so shutdown hangs.
 */
#include "zoo.h"

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static int worker_tid;
static int have_work;

ZOO_FN static void *wait_for_work(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&work_lock));
    __atomic_store_n(&worker_tid, zoo_gettid(), __ATOMIC_RELEASE);
    while (!have_work) ZOO_CHECK(pthread_cond_wait(&work_cv, &work_lock));
    ZOO_CHECK(pthread_mutex_unlock(&work_lock));
    return NULL;
}

ZOO_FN static void shutdown_workers(void)
{
    printf("shutdown: destroying the work condvar\n");
    pthread_cond_destroy(&work_cv); /* BUG: the worker was never woken */
    printf("shutdown: done\n");
}

int main(void)
{
    pthread_t w = zoo_spawn(wait_for_work, NULL);
    zoo_wait_asleep(&worker_tid);
    shutdown_workers();
    pthread_join(w, NULL);
    return 0;
}
