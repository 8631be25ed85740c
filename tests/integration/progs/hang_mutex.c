/* Two threads block forever on a mutex held by a third, which sleeps while
 * holding it.  Prints "ready" when the waiters are about to lock. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

pthread_mutex_t accounts_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t started;

static void *hold_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&accounts_lock);
    pthread_barrier_wait(&started);
    for (;;) sleep(1);
    return NULL;
}

static void *wait_for_accounts(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&started);
    pthread_mutex_lock(&accounts_lock);
    pthread_mutex_unlock(&accounts_lock);
    return NULL;
}

int main(void)
{
    pthread_t h, w1, w2;
    pthread_barrier_init(&started, NULL, 3);
    pthread_create(&h, NULL, hold_forever, NULL);
    pthread_create(&w1, NULL, wait_for_accounts, NULL);
    pthread_create(&w2, NULL, wait_for_accounts, NULL);
    printf("ready\n");
    fflush(stdout);
    pthread_join(w1, NULL);
    pthread_join(w2, NULL);
    return 0;
}
