/*
 * Bug: counter-overflow (small).  A cache keeps per-bucket byte counters in
 * an array placed just before its glibc rwlock.  record_read() takes the
 * bucket from the caller unchecked; one caller passes NBUCKETS, so "8 bytes
 * read" lands on the rwlock's __readers word: +8 is exactly one reader in
 * glibc's encoding (the count lives above 3 flag bits).  The lock now counts
 * a phantom reader that the history never saw take it; readers still come
 * and go, but the next writer waits forever for that reader to leave.
 */
#include "zoo.h"

#define NBUCKETS 2

struct cache {
    uint32_t bytes[NBUCKETS];
    pthread_rwlock_t lock;
    int generation;
};

static struct cache cache = {.lock = PTHREAD_RWLOCK_INITIALIZER};

ZOO_FN static void record_read(struct cache *c, unsigned bucket, uint32_t n)
{
    /* BUG: bucket == NBUCKETS is one past the array: it is lock.__readers. */
    uint32_t *slot = c->bytes + bucket;
    *slot += n;
}

ZOO_FN static void *lookup(void *arg)
{
    struct cache *c = arg;
    ZOO_CHECK(pthread_rwlock_rdlock(&c->lock));
    int g = c->generation;
    ZOO_CHECK(pthread_rwlock_unlock(&c->lock));
    printf("lookup: generation %d\n", g);
    return NULL;
}

ZOO_FN static void *refresh(void *arg)
{
    struct cache *c = arg;
    printf("refresh: taking the write lock (hangs)\n");
    ZOO_CHECK(pthread_rwlock_wrlock(&c->lock));
    c->generation++;
    ZOO_CHECK(pthread_rwlock_unlock(&c->lock));
    printf("refresh: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    /* Healthy use first: readers come and go, the word and history agree. */
    for (int i = 0; i < 3; i++)
        pthread_join(zoo_spawn(lookup, &cache), NULL);
    record_read(&cache, 0, 8);
    record_read(&cache, NBUCKETS, 8); /* the stray store: one phantom reader */
    pthread_join(zoo_spawn(lookup, &cache), NULL); /* readers still get in */
    pthread_t w = zoo_spawn(refresh, &cache);       /* hangs */
    pthread_join(w, NULL);
    return 0;
}
