/* A library with its own locks, loaded and unloaded again and again by
 * life_dlopen. */
#include <pthread.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int turn;
static long sum;

static void *worker(void *arg)
{
    long me = (long)arg;
    for (int i = 0; i < 50; ++i) {
        pthread_mutex_lock(&m);
        while (turn != me) pthread_cond_wait(&cv, &m);
        sum += i;
        turn = !turn;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m);
        pthread_rwlock_rdlock(&rw);
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

long life_dlmod_run(void)
{
    pthread_t t[2];
    sum = 0;
    turn = 0;
    for (long i = 0; i < 2; ++i) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    return sum;
}
