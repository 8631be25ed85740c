/*
 * Bug: a spinlock never released.  record_error returns early on a bad code
 * while holding stats_lock; the thread that did so ends, and the next thread
 * to count an error spins on stats_lock for ever.
 */
#include "zoo.h"

static pthread_spinlock_t stats_lock;
static int errors;

ZOO_FN static int record_error(int code)
{
    pthread_spin_lock(&stats_lock);
    if (code < 0)
        return -1; /* forgot pthread_spin_unlock */
    errors++;
    pthread_spin_unlock(&stats_lock);
    return 0;
}

ZOO_FN static void *bad_request(void *arg)
{
    (void)arg;
    record_error(-1);
    return NULL;
}

ZOO_FN static void *good_request(void *arg)
{
    (void)arg;
    record_error(5);
    return NULL;
}

int main(void)
{
    ZOO_CHECK(pthread_spin_init(&stats_lock, PTHREAD_PROCESS_PRIVATE));
    printf("main: stats_lock=%p (hangs)\n", (void *)&stats_lock);
    pthread_join(zoo_spawn(bad_request, NULL), NULL);
    pthread_join(zoo_spawn(good_request, NULL), NULL);
    printf("%d errors\n", errors);
    return 0;
}
