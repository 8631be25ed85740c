/*
 * A deadlock through stdio's own lock: "logger" takes stdout's FILE lock
 * (flockfile, to write a multi-line record in one piece) and then needs
 * stats_lock; "counter" holds stats_lock and prints, which waits for the
 * FILE lock inside the C library.  Hangs for ever.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int count, logger_holds;

__attribute__((noinline)) static void log_record(void)
{
    flockfile(stdout);
    __atomic_store_n(&logger_holds, 1, __ATOMIC_RELEASE);
    /* Until the counter, holding stats_lock, waits for the FILE lock. */
    while (__atomic_load_n(&stats_lock.__data.__lock, __ATOMIC_ACQUIRE) == 0) usleep(1000);
    usleep(100 * 1000);
    pthread_mutex_lock(&stats_lock); /* BUG: takes stats_lock holding the FILE lock */
    fprintf(stdout, "count %d\n", count);
    pthread_mutex_unlock(&stats_lock);
    funlockfile(stdout);
}

static void *logger_main(void *arg)
{
    (void)arg;
    log_record();
    return NULL;
}

__attribute__((noinline)) static void count_and_print(void)
{
    while (!__atomic_load_n(&logger_holds, __ATOMIC_ACQUIRE)) usleep(1000);
    pthread_mutex_lock(&stats_lock);
    count++;
    printf("counted %d\n", count); /* waits for stdout's lock, held by the logger */
    pthread_mutex_unlock(&stats_lock);
}

static void *counter_main(void *arg)
{
    (void)arg;
    count_and_print();
    return NULL;
}

int main(void)
{
    fprintf(stderr, "hangs: logger holds stdout's lock and waits for stats_lock, held by counter\n");
    pthread_t l, c;
    pthread_create(&l, NULL, logger_main, NULL);
    pthread_setname_np(l, "logger");
    pthread_create(&c, NULL, counter_main, NULL);
    pthread_setname_np(c, "counter");
    pthread_join(l, NULL);
    pthread_join(c, NULL);
    return 0;
}
