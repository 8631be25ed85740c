/* A holder keeps a mutex and a rwlock (write) while another thread tries each
 * with a short timeout, twice; then the holder lets go and the other thread
 * gets both.  Expected: 2 timed-out waits per lock, then one acquisition. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

pthread_mutex_t timed_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t timed_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t held, tried;

static struct timespec in_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&timed_mutex);
    pthread_rwlock_wrlock(&timed_rwlock);
    pthread_barrier_wait(&held);
    pthread_barrier_wait(&tried);
    pthread_rwlock_unlock(&timed_rwlock);
    pthread_mutex_unlock(&timed_mutex);
    return NULL;
}

static int failures;

static void *impatient(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&held);
    for (int i = 0; i < 2; i++) {
        struct timespec ts = in_ms(20);
        if (pthread_mutex_timedlock(&timed_mutex, &ts) != ETIMEDOUT) failures++;
        ts = in_ms(20);
        if (pthread_rwlock_timedwrlock(&timed_rwlock, &ts) != ETIMEDOUT) failures++;
    }
    pthread_barrier_wait(&tried);
    pthread_mutex_lock(&timed_mutex);
    pthread_mutex_unlock(&timed_mutex);
    pthread_rwlock_wrlock(&timed_rwlock);
    pthread_rwlock_unlock(&timed_rwlock);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_barrier_init(&held, NULL, 2);
    pthread_barrier_init(&tried, NULL, 2);
    pthread_create(&a, NULL, holder, NULL);
    pthread_create(&b, NULL, impatient, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("%d\n", failures);
    return failures != 0;
}
