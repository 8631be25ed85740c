/*
 * Bug: lost-wakeup.  notify_done() signals the condition variable before the
 * waiter has started waiting, and wait_done() waits without checking a
 * predicate: the signal is lost (a condvar has no memory), so the wait never
 * returns.
 */
#include "zoo.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

ZOO_FN static void notify_done(void)
{
    ZOO_CHECK(pthread_mutex_lock(&m));
    ZOO_CHECK(pthread_cond_signal(&done_cv));
    ZOO_CHECK(pthread_mutex_unlock(&m));
}

ZOO_FN static void wait_done(void)
{
    ZOO_CHECK(pthread_mutex_lock(&m));
    ZOO_CHECK(pthread_cond_wait(&done_cv, &m)); /* BUG: no predicate, no loop */
    ZOO_CHECK(pthread_mutex_unlock(&m));
}

ZOO_FN static void *finisher(void *arg)
{
    (void)arg;
    printf("finisher: work done, signalling\n");
    fflush(stdout);
    notify_done();
    return NULL;
}

int main(void)
{
    pthread_join(zoo_spawn(finisher, NULL), NULL); /* signals before anyone waits */
    printf("main: waiting for done (hangs)\n");
    fflush(stdout);
    wait_done();
    printf("main: done (unexpected)\n");
    return 0;
}
