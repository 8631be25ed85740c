/*
 * Healthy: locks that were never passed to an init function but are valid
 * all the same: static initializers (normal, recursive, error-checking
 * mutexes; rwlocks, a writer-preferring one among them) and zero-filled
 * memory from calloc, which is what PTHREAD_MUTEX_INITIALIZER and
 * PTHREAD_RWLOCK_INITIALIZER spell.  Two threads use them all: no finding.
 */
#include "zoo.h"

static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nested = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t checked = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t index_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

struct shard {
    pthread_mutex_t lock;
    pthread_rwlock_t map;
    long hits;
};

static struct shard *shard;
static long total;

ZOO_FN static void *use_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        ZOO_CHECK(pthread_mutex_lock(&plain));
        ZOO_CHECK(pthread_mutex_lock(&nested));
        ZOO_CHECK(pthread_mutex_lock(&nested));
        total++;
        ZOO_CHECK(pthread_mutex_unlock(&nested));
        ZOO_CHECK(pthread_mutex_unlock(&nested));
        ZOO_CHECK(pthread_mutex_unlock(&plain));
        ZOO_CHECK(pthread_mutex_lock(&checked));
        ZOO_CHECK(pthread_mutex_unlock(&checked));
        ZOO_CHECK(pthread_rwlock_rdlock(&table));
        ZOO_CHECK(pthread_rwlock_unlock(&table));
        ZOO_CHECK(pthread_rwlock_wrlock(&index_lock));
        ZOO_CHECK(pthread_rwlock_unlock(&index_lock));
        ZOO_CHECK(pthread_mutex_lock(&shard->lock));
        shard->hits++;
        ZOO_CHECK(pthread_mutex_unlock(&shard->lock));
        ZOO_CHECK(i % 3 ? pthread_rwlock_rdlock(&shard->map) : pthread_rwlock_wrlock(&shard->map));
        ZOO_CHECK(pthread_rwlock_unlock(&shard->map));
    }
    return NULL;
}

int main(void)
{
    shard = calloc(1, sizeof *shard); /* all zero: valid default locks */
    if (!shard) abort();
    pthread_t a = zoo_spawn(use_all, NULL), b = zoo_spawn(use_all, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("main: total %ld, shard hits %ld\n", total, shard->hits);
    free(shard);
    return 0;
}
