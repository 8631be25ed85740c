/*
 * Healthy: timed waits given timeouts the library rejects with EINVAL (a
 * tv_nsec out of range, a negative one, a clock the call does not support).
 * The program checks for EINVAL; the locks themselves are fine, so this is
 * not an invalid lock: no error or warning (an info note at most).
 */
#include "zoo.h"

#include <semaphore.h>

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cfg_cv = PTHREAD_COND_INITIALIZER;
static sem_t tickets;

ZOO_FN static void expect_einval(const char *what, int rc)
{
    if (rc != EINVAL) {
        fprintf(stderr, "%s: expected EINVAL, got %d\n", what, rc);
        abort();
    }
}

ZOO_FN static void wait_config_with_bad_timeout(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ZOO_CHECK(pthread_mutex_lock(&cfg_lock));
    ts.tv_nsec = -1;
    expect_einval("cond_timedwait", pthread_cond_timedwait(&cfg_cv, &cfg_lock, &ts));
    ts.tv_nsec = 2000000000;
    expect_einval("cond_timedwait", pthread_cond_timedwait(&cfg_cv, &cfg_lock, &ts));
    ZOO_CHECK(pthread_mutex_unlock(&cfg_lock));
}

ZOO_FN static void take_ticket_with_bad_clock(void)
{
    struct timespec ts = {0, 0};
    if (sem_clockwait(&tickets, CLOCK_PROCESS_CPUTIME_ID, &ts) != -1) abort();
    expect_einval("sem_clockwait", errno);
    ts.tv_nsec = 1000000000;
    if (sem_timedwait(&tickets, &ts) != -1) abort(); /* value 0: it must check the timeout */
    expect_einval("sem_timedwait", errno);
}

int main(void)
{
    if (sem_init(&tickets, 0, 0) != 0) abort();
    wait_config_with_bad_timeout();
    take_ticket_with_bad_clock();
    sem_post(&tickets);
    if (sem_wait(&tickets) != 0) abort();
    sem_destroy(&tickets);
    printf("main: every bad timeout was refused with EINVAL\n");
    return 0;
}
