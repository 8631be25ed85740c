/* Threads created and exiting by the thousand, each taking every kind of
 * lock the shim wraps.  Prints totals that do not depend on scheduling.
 *   life_churn NTHREADS */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t detached_done;
static long counter, write_sum, reads, signals; /* counter under m, write_sum under rw */

static void *worker(void *arg)
{
    long id = (long)arg;
    pthread_mutex_lock(&m);
    counter += id;
    signals++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    pthread_rwlock_rdlock(&rw);
    __atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_wrlock(&rw);
    write_sum += id;
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void *detached(void *arg)
{
    worker(arg);
    sem_post(&detached_done);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    const long wave = 32;
    sem_init(&detached_done, 0, 0);
    long started_detached = 0;
    for (long base = 0; base < n; base += wave) {
        pthread_t t[wave];
        long k = 0;
        for (; k < wave && base + k < n; ++k) {
            if ((base + k) % 5 == 4) {
                pthread_attr_t a;
                pthread_attr_init(&a);
                pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
                pthread_t d;
                if (pthread_create(&d, &a, detached, (void *)(base + k)) != 0) return 2;
                pthread_attr_destroy(&a);
                started_detached++;
                t[k] = 0;
            } else if (pthread_create(&t[k], NULL, worker, (void *)(base + k)) != 0) {
                return 2;
            }
        }
        for (long j = 0; j < k; ++j)
            if (t[j]) pthread_join(t[j], NULL);
    }
    for (long j = 0; j < started_detached; ++j)
        while (sem_wait(&detached_done) != 0) {}
    long want = n * (n - 1) / 2;
    printf("threads=%ld detached=%ld counter=%ld write_sum=%ld reads=%ld signals=%ld\n", n, started_detached,
           counter, write_sum, reads, signals);
    return counter == want && write_sum == want && reads == n && signals == n ? 0 : 1;
}
