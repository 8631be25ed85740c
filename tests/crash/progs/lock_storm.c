/* lock_storm: worker threads run a fixed, cyclic schedule of lock operations
 * (mutex, rwlock read/write, condvar broadcast + timed wait, raw futex
 * wait/wake, semaphore post/wait, trylock) as fast as they can, until killed.
 *
 * The schedule is known to the checker (tests/crash/check_trace.cpp): worker
 * t first locks and unlocks its identity mutex id[t], then runs operation
 * i % LS_NOPS on mutex m[(t + i) % LS_NMUTEX] for i = 0, 1, 2 ...  So every
 * decoded trace of a killed run must show, per worker, exactly a prefix of
 * that schedule.  The addresses of all objects are printed first, before any
 * thread starts, so the checker can tell them apart.
 *
 *   lock_storm [THREADS [ITERATIONS]]     (ITERATIONS 0 = until killed)
 */
#define _GNU_SOURCE
#include "lock_storm.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t id_mutex[LS_MAX_THREADS];
static pthread_mutex_t m[LS_NMUTEX];
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint32_t fw; /* futex word */
static sem_t sem[LS_MAX_THREADS];

static unsigned long counters[LS_NMUTEX];   /* LS_OP_MUTEX steps: deterministic */
static unsigned long try_hits[LS_NMUTEX];   /* successful trylocks: depend on timing */
static unsigned long shared_value, generation;
static unsigned long iterations;

static void after_ns(struct timespec *ts, clockid_t clk, long ns)
{
    clock_gettime(clk, ts);
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void op(int t, unsigned long i)
{
    int k = (int)((t + i) % LS_NMUTEX);
    switch (i % LS_NOPS) {
    case LS_OP_MUTEX:
        pthread_mutex_lock(&m[k]);
        counters[k]++;
        pthread_mutex_unlock(&m[k]);
        break;
    case LS_OP_READ: {
        pthread_rwlock_rdlock(&rw);
        volatile unsigned long v = shared_value;
        (void)v;
        pthread_rwlock_unlock(&rw);
        break;
    }
    case LS_OP_WRITE:
        pthread_rwlock_wrlock(&rw);
        shared_value++;
        pthread_rwlock_unlock(&rw);
        break;
    case LS_OP_COND: {
        struct timespec ts;
        after_ns(&ts, CLOCK_REALTIME, 200000);
        pthread_mutex_lock(&cm);
        generation++;
        pthread_cond_broadcast(&cv);
        pthread_cond_timedwait(&cv, &cm, &ts);
        pthread_mutex_unlock(&cm);
        break;
    }
    case LS_OP_FUTEX:
        if ((i / LS_NOPS) & 1) {
            __atomic_add_fetch(&fw, 1, __ATOMIC_RELEASE);
            syscall(SYS_futex, &fw, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        } else {
            struct timespec rel = {0, 100000};
            uint32_t seen = __atomic_load_n(&fw, __ATOMIC_ACQUIRE);
            syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, seen, &rel, NULL, 0);
        }
        break;
    case LS_OP_SEM:
        sem_post(&sem[t]);
        sem_wait(&sem[t]);
        break;
    case LS_OP_TRY:
        if (pthread_mutex_trylock(&m[k]) == 0) {
            try_hits[k]++;
            pthread_mutex_unlock(&m[k]);
        }
        break;
    }
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    pthread_mutex_lock(&id_mutex[t]);
    pthread_mutex_unlock(&id_mutex[t]);
    for (unsigned long i = 0; iterations == 0 || i < iterations; i++)
        op(t, i);
    return NULL;
}

static void print_layout(int threads)
{
    /* One write(2) per line, before any worker starts: the lines are out
     * even if the process is killed a moment later. */
    char line[128];
    int n;
#define LINE(...)                                          \
    do {                                                   \
        n = snprintf(line, sizeof line, __VA_ARGS__);      \
        if (write(STDOUT_FILENO, line, (size_t)n) != n)    \
            exit(3);                                       \
    } while (0)
    LINE("threads %d\n", threads);
    for (int t = 0; t < threads; t++)
        LINE("id %d %p\n", t, (void *)&id_mutex[t]);
    for (int k = 0; k < LS_NMUTEX; k++)
        LINE("mutex %d %p\n", k, (void *)&m[k]);
    LINE("rwlock 0 %p\n", (void *)&rw);
    LINE("condmutex 0 %p\n", (void *)&cm);
    LINE("cond 0 %p\n", (void *)&cv);
    LINE("futex 0 %p\n", (void *)&fw);
    for (int t = 0; t < threads; t++)
        LINE("sem %d %p\n", t, (void *)&sem[t]);
    LINE("end\n");
#undef LINE
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 6;
    iterations = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    if (threads < 1 || threads > LS_MAX_THREADS) {
        fprintf(stderr, "lock_storm: THREADS must be 1..%d\n", LS_MAX_THREADS);
        return 2;
    }
    for (int t = 0; t < threads; t++) {
        pthread_mutex_init(&id_mutex[t], NULL);
        sem_init(&sem[t], 0, 0);
    }
    for (int k = 0; k < LS_NMUTEX; k++)
        pthread_mutex_init(&m[k], NULL);
    print_layout(threads);

    pthread_t th[LS_MAX_THREADS];
    for (int t = 0; t < threads; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0) {
            fprintf(stderr, "lock_storm: pthread_create failed\n");
            return 2;
        }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    unsigned long total = 0;
    for (int k = 0; k < LS_NMUTEX; k++)
        total += counters[k];
    /* Only what does not depend on timing: the same with and without the shim. */
    printf("done %lu %lu\n", total, shared_value);
    return 0;
}
