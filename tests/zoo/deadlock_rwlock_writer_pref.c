/*
 * Bug: deadlock on one writer-preferring rwlock.  lookup() holds a read lock
 * and calls lookup_parent(), which takes the read lock again.  In between a
 * writer arrived; with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP the second
 * read lock waits behind the writer, and the writer waits for the first read
 * lock to go: a cycle through a single lock.
 */
#include "zoo.h"

static pthread_rwlock_t tree_lock;
static pthread_barrier_t reader_in;
static int writer_tid;

ZOO_FN static int lookup_parent(void)
{
    ZOO_CHECK(pthread_rwlock_rdlock(&tree_lock)); /* recursive read lock */
    pthread_rwlock_unlock(&tree_lock);
    return 0;
}

ZOO_FN static void *lookup(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_rwlock_rdlock(&tree_lock));
    pthread_barrier_wait(&reader_in);
    zoo_wait_asleep(&writer_tid); /* the writer has queued up meanwhile */
    lookup_parent();
    pthread_rwlock_unlock(&tree_lock);
    return NULL;
}

ZOO_FN static void *rebalance(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&reader_in);
    __atomic_store_n(&writer_tid, zoo_gettid(), __ATOMIC_RELEASE);
    ZOO_CHECK(pthread_rwlock_wrlock(&tree_lock));
    pthread_rwlock_unlock(&tree_lock);
    return NULL;
}

int main(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    ZOO_CHECK(pthread_rwlock_init(&tree_lock, &attr));
    pthread_barrier_init(&reader_in, NULL, 2);
    printf("main: tree_lock=%p (hangs)\n", (void *)&tree_lock);
    fflush(stdout);
    pthread_t r = zoo_spawn(lookup, NULL);
    pthread_t w = zoo_spawn(rebalance, NULL);
    pthread_join(r, NULL);
    pthread_join(w, NULL);
    return 0;
}
