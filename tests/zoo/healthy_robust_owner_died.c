/*
 * Healthy: robust mutexes used as POSIX intends.  A worker dies holding each
 * one; the next lock returns EOWNERDEAD and hands the mutex over.  The first
 * is repaired (pthread_mutex_consistent) and destroyed; the second is given up
 * (unlocked while inconsistent), so the next lock fails with ENOTRECOVERABLE,
 * and it is destroyed too.  None of this is a bug: no error or warning.
 */
#include "zoo.h"

static pthread_mutex_t journal_lock;
static pthread_mutex_t spool_lock;

ZOO_FN static void *crashing_writer(void *arg)
{
    ZOO_CHECK(pthread_mutex_lock((pthread_mutex_t *)arg));
    return NULL; /* ends holding it: the robust list releases it as "owner died" */
}

ZOO_FN static void recover_journal(void)
{
    int rc = pthread_mutex_lock(&journal_lock);
    if (rc != EOWNERDEAD) {
        fprintf(stderr, "journal: expected EOWNERDEAD, got %d\n", rc);
        abort();
    }
    ZOO_CHECK(pthread_mutex_consistent(&journal_lock));
    ZOO_CHECK(pthread_mutex_unlock(&journal_lock));
    ZOO_CHECK(pthread_mutex_lock(&journal_lock)); /* usable again */
    ZOO_CHECK(pthread_mutex_unlock(&journal_lock));
    ZOO_CHECK(pthread_mutex_destroy(&journal_lock));
}

ZOO_FN static void abandon_spool(void)
{
    int rc = pthread_mutex_lock(&spool_lock);
    if (rc != EOWNERDEAD) {
        fprintf(stderr, "spool: expected EOWNERDEAD, got %d\n", rc);
        abort();
    }
    ZOO_CHECK(pthread_mutex_unlock(&spool_lock)); /* not made consistent: unrecoverable now */
    rc = pthread_mutex_lock(&spool_lock);
    if (rc != ENOTRECOVERABLE) {
        fprintf(stderr, "spool: expected ENOTRECOVERABLE, got %d\n", rc);
        abort();
    }
    ZOO_CHECK(pthread_mutex_destroy(&spool_lock));
}

int main(void)
{
    pthread_mutexattr_t a;
    ZOO_CHECK(pthread_mutexattr_init(&a));
    ZOO_CHECK(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
    ZOO_CHECK(pthread_mutex_init(&journal_lock, &a));
    ZOO_CHECK(pthread_mutex_init(&spool_lock, &a));
    pthread_join(zoo_spawn(crashing_writer, &journal_lock), NULL);
    pthread_join(zoo_spawn(crashing_writer, &spool_lock), NULL);
    recover_journal();
    abandon_spool();
    printf("main: recovered the journal, gave up the spool\n");
    return 0;
}
