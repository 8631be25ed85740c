/*
 * Bug: owner-exited.  flush_log() returns early on a full buffer without
 * unlocking, and its thread ends still holding the log mutex.  The next
 * writer (main) waits forever.
 */
#include "zoo.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_used = 100;

ZOO_FN static int flush_log(void)
{
    ZOO_CHECK(pthread_mutex_lock(&log_lock));
    if (log_used >= 100)
        return -1; /* BUG: returns with the lock held */
    pthread_mutex_unlock(&log_lock);
    return 0;
}

ZOO_FN static void *flusher(void *arg)
{
    (void)arg;
    flush_log();
    return NULL; /* the thread ends holding log_lock */
}

ZOO_FN static void write_log(void)
{
    printf("write_log: taking the log lock (hangs: its owner exited)\n");
    fflush(stdout);
    ZOO_CHECK(pthread_mutex_lock(&log_lock));
    log_used = 0;
    pthread_mutex_unlock(&log_lock);
}

int main(void)
{
    pthread_join(zoo_spawn(flusher, NULL), NULL);
    write_log();
    return 0;
}
