/* N threads x M iterations of: mutex lock/unlock, rdlock/unlock, and every
 * tenth iteration a wrlock/unlock.  The test checks the decoded counts.
 * usage: counts THREADS ITERATIONS   (ITERATIONS 0 = loop until killed) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

pthread_mutex_t counts_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t counts_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static long iterations;
static long total;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; iterations == 0 || i < iterations; i++) {
        pthread_mutex_lock(&counts_mutex);
        total++;
        pthread_mutex_unlock(&counts_mutex);
        pthread_rwlock_rdlock(&counts_rwlock);
        pthread_rwlock_unlock(&counts_rwlock);
        if (i % 10 == 0) {
            pthread_rwlock_wrlock(&counts_rwlock);
            pthread_rwlock_unlock(&counts_rwlock);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    iterations = argc > 2 ? atol(argv[2]) : 1000;
    pthread_t t[64];
    if (n < 1 || n > 64) return 2;
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("%ld\n", total);
    return 0;
}
