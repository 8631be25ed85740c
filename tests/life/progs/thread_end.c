/* Threads that end by returning, by pthread_exit and by cancellation, and a
 * C11 thread (thrd_create), each
 * after using a lock (and a cancelled one whose cleanup handler unlocks);
 * then as many pthread keys as the system gives a program.  Prints how each
 * thread ended and the number of keys: the same traced as plain.
 *   life_thread_end */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <threads.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void unlock_it(void *p) { pthread_mutex_unlock(p); }

static void *by_return(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return (void *)1;
}

static void *by_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_exit((void *)2);
}

static void *by_cancel(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_cleanup_push(unlock_it, &m);
    for (;;)
        pause(); /* a cancellation point; the lock is released by the cleanup handler */
    pthread_cleanup_pop(0);
    return NULL;
}

static int c11_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return 4;
}

int main(void)
{
    void *(*fns[])(void *) = {by_return, by_exit, by_cancel};
    for (int i = 0; i < 3; ++i) {
        pthread_t t;
        void *r;
        if (pthread_create(&t, NULL, fns[i], NULL) != 0)
            return 1;
        if (i == 2) {
            usleep(20000);
            pthread_cancel(t);
        }
        pthread_join(t, &r);
        printf("thread %d ended with %s\n", i, r == PTHREAD_CANCELED ? "cancel" : r == (void *)1 ? "1" : r == (void *)2 ? "2" : "?");
    }
    thrd_t c11;
    int c11_result = 0;
    if (thrd_create(&c11, c11_thread, NULL) != thrd_success || thrd_join(c11, &c11_result) != thrd_success)
        return 1;
    printf("C11 thread ended with %d\n", c11_result);
    pthread_mutex_lock(&m); /* the cancelled thread's cleanup released it */
    pthread_mutex_unlock(&m);
    int keys = 0;
    pthread_key_t k;
    while (keys < 100000 && pthread_key_create(&k, NULL) == 0)
        ++keys;
    printf("pthread keys created: %d (PTHREAD_KEYS_MAX %d)\n", keys, PTHREAD_KEYS_MAX);
    return 0;
}
