/* pthread_cancel of threads blocked in the waits that are cancellation
 * points: cond wait / timedwait (the mutex must be re-taken before the
 * cleanup handler runs) and sem_wait / sem_timedwait.
 *   life_cancel */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile int waiting, cleanup_held_mutex, cleanups;

static void unlock_in_cleanup(void *arg)
{
    (void)arg;
    /* The mutex is ours again when the cleanup runs: trylock from another
     * thread would fail, and unlock here must succeed. */
    cleanup_held_mutex = pthread_mutex_unlock(&m) == 0;
    cleanups++;
}

static void count_cleanup(void *arg) { (void)arg; cleanups++; }

static void *cond_waiter(void *arg)
{
    int timed = *(int *)arg;
    pthread_mutex_lock(&m);
    pthread_cleanup_push(unlock_in_cleanup, NULL);
    waiting = 1;
    for (;;) {
        if (timed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 3600;
            pthread_cond_timedwait(&cv, &m, &ts);
        } else {
            pthread_cond_wait(&cv, &m);
        }
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void *sem_waiter(void *arg)
{
    int timed = *(int *)arg;
    pthread_cleanup_push(count_cleanup, NULL);
    waiting = 1;
    for (;;) {
        if (timed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 3600;
            sem_timedwait(&sem, &ts);
        } else {
            sem_wait(&sem);
        }
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void run(const char *what, void *(*fn)(void *), int timed)
{
    pthread_t t;
    void *ret;
    waiting = 0;
    cleanup_held_mutex = 0;
    int before = cleanups;
    pthread_create(&t, NULL, fn, &timed);
    /* Wait until the thread is blocked: it has said so under the mutex (or
     * before sem_wait) and the mutex is free again. */
    while (!waiting) sched_yield();
    if (fn == cond_waiter) { pthread_mutex_lock(&m); pthread_mutex_unlock(&m); }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_cancel(t);
    pthread_join(t, &ret);
    int relock = pthread_mutex_trylock(&m);
    if (relock == 0) pthread_mutex_unlock(&m);
    printf("%-14s canceled=%d cleanups=%d cleanup_held_mutex=%d mutex_free_after=%d\n", what,
           ret == PTHREAD_CANCELED, cleanups - before, cleanup_held_mutex, relock == 0);
}

int main(void)
{
    sem_init(&sem, 0, 0);
    for (int round = 0; round < 20; ++round) {
        run("cond_wait", cond_waiter, 0);
        run("cond_timedwait", cond_waiter, 1);
        run("sem_wait", sem_waiter, 0);
        run("sem_timedwait", sem_waiter, 1);
    }
    return 0;
}
