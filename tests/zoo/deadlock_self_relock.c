/*
 * Bug: deadlock of a thread with itself.  update_balance() holds the account
 * mutex (a normal, non-recursive one) and calls audit(), which locks it again.
 */
#include "zoo.h"

static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static long balance;

ZOO_FN static void audit(void)
{
    ZOO_CHECK(pthread_mutex_lock(&account_lock)); /* BUG: already held by the caller */
    printf("audit: balance %ld\n", balance);
    pthread_mutex_unlock(&account_lock);
}

ZOO_FN static void update_balance(long delta)
{
    ZOO_CHECK(pthread_mutex_lock(&account_lock)); /* site: first_lock */
    balance += delta;
    audit(); /* site: audit_call */
    pthread_mutex_unlock(&account_lock);
}

ZOO_FN static void *teller(void *arg)
{
    (void)arg;
    printf("teller: updating (hangs)\n");
    fflush(stdout);
    update_balance(10);
    return NULL;
}

int main(void)
{
    pthread_join(zoo_spawn(teller, NULL), NULL);
    return 0;
}
