/* Signal handlers that take locks, delivered by the thousand while the
 * interrupted threads are in lock-heavy loops (so many land inside the
 * shim's wrappers).  The handler only uses try-locks and sem_post, which are
 * safe there; what it got is counted, and the totals printed do not depend
 * on timing.
 *   life_signals */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 3
#define SIGNALS 30000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t handler_m = PTHREAD_MUTEX_INITIALIZER;
static sem_t handler_sem;
static long shared_count, loops_done;
static volatile sig_atomic_t stop;
static long handled, handler_took, handler_busy;

static void handler(int sig)
{
    (void)sig;
    int saved = errno;
    int r = pthread_mutex_trylock(&handler_m);
    if (r == 0) {
        if (pthread_rwlock_tryrdlock(&rw) == 0) pthread_rwlock_unlock(&rw);
        __atomic_fetch_add(&handler_took, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&handler_m);
    } else if (r == EBUSY) {
        __atomic_fetch_add(&handler_busy, 1, __ATOMIC_RELAXED);
    }
    sem_post(&handler_sem);
    __atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
    errno = saved;
}

static void *worker(void *arg)
{
    (void)arg;
    long i = 0;
    for (; !stop; ++i) {
        pthread_mutex_lock(&m);
        shared_count++;
        pthread_mutex_unlock(&m);
        pthread_rwlock_rdlock(&rw);
        pthread_rwlock_unlock(&rw);
    }
    __atomic_fetch_add(&loops_done, i, __ATOMIC_RELAXED);
    return NULL;
}

static void *signaller(void *arg)
{
    pthread_t *targets = arg;
    for (int i = 0; i < SIGNALS; ++i) {
        pthread_kill(targets[i % WORKERS], SIGUSR1);
        if (i % 4 == 0) sched_yield();
    }
    stop = 1;
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sem_init(&handler_sem, 0, 0);
    pthread_t w[WORKERS], s;
    for (int i = 0; i < WORKERS; ++i) pthread_create(&w[i], NULL, worker, NULL);
    pthread_create(&s, NULL, signaller, w);
    pthread_join(s, NULL);
    for (int i = 0; i < WORKERS; ++i) pthread_join(w[i], NULL);
    /* Signals still pending on exited threads are discarded: count only what
     * the handler reported, which must all add up. */
    long posts = 0;
    while (sem_trywait(&handler_sem) == 0) posts++;
    int ok = shared_count == loops_done && posts == handled &&
             handler_took + handler_busy == handled && handled > 0;
    printf("lock loops and handler bookkeeping: %s\n", ok ? "consistent" : "INCONSISTENT");
    fprintf(stderr, "loops %ld, signals handled: %ld (took %ld, busy %ld)\n", loops_done, handled, handler_took,
            handler_busy);
    return ok ? 0 : 1;
}
