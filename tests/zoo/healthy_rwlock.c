/*
 * Healthy: readers and writers on glibc rwlocks (default and writer-preferring),
 * with try variants whose EBUSY is handled.  Must produce no error or warning.
 */
#include "zoo.h"

#define NREADERS 3
#define ROUNDS 2000

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t pref_lock;
static int table[64];

ZOO_FN static void *reader(void *arg)
{
    long sum = 0;
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        ZOO_CHECK(pthread_rwlock_rdlock(&table_lock));
        sum += table[i & 63];
        ZOO_CHECK(pthread_rwlock_unlock(&table_lock));
        if (pthread_rwlock_tryrdlock(&pref_lock) == 0) {
            sum += table[(i + 1) & 63];
            ZOO_CHECK(pthread_rwlock_unlock(&pref_lock));
        }
    }
    return (void *)sum;
}

ZOO_FN static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS / 4; i++) {
        ZOO_CHECK(pthread_rwlock_wrlock(&table_lock));
        table[i & 63]++;
        ZOO_CHECK(pthread_rwlock_unlock(&table_lock));
        int rc = pthread_rwlock_trywrlock(&pref_lock);
        if (rc == 0)
            ZOO_CHECK(pthread_rwlock_unlock(&pref_lock));
        else if (rc != EBUSY)
            abort();
        ZOO_CHECK(pthread_rwlock_wrlock(&pref_lock));
        table[(i + 7) & 63]++;
        ZOO_CHECK(pthread_rwlock_unlock(&pref_lock));
    }
    return NULL;
}

int main(void)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    ZOO_CHECK(pthread_rwlock_init(&pref_lock, &a));
    pthread_t t[NREADERS + 2];
    for (int i = 0; i < NREADERS; i++)
        t[i] = zoo_spawn(reader, NULL);
    t[NREADERS] = zoo_spawn(writer, NULL);
    t[NREADERS + 1] = zoo_spawn(writer, NULL);
    for (int i = 0; i < NREADERS + 2; i++)
        pthread_join(t[i], NULL);
    ZOO_CHECK(pthread_rwlock_destroy(&pref_lock));
    printf("healthy_rwlock: ok\n");
    return 0;
}
