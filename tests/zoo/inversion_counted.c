/*
 * Bug: lock-order-inversion, with counts.  Two workers and then main take
 * users then sessions 45,000 times in all (20,000 + 20,000 + 5,000); after
 * that, main takes sessions then users once.  Nothing overlaps, so the run
 * finishes, but the orders disagree.  The report must count each order over
 * the whole run: 45000 and 1, exactly, since every thread ends normally
 * (each thread counts its repeats in its own memory and adds them to the
 * shared table as it ends).
 */
#include "zoo.h"

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static long users, sessions;

ZOO_FN static void save_users(int n)
{
    for (int i = 0; i < n; i++) {
        ZOO_CHECK(pthread_mutex_lock(&users_lock));
        ZOO_CHECK(pthread_mutex_lock(&sessions_lock));
        users++;
        sessions++;
        pthread_mutex_unlock(&sessions_lock);
        pthread_mutex_unlock(&users_lock);
    }
}

ZOO_FN static void *worker(void *arg)
{
    (void)arg;
    save_users(20000);
    return NULL;
}

ZOO_FN static void expire_session(void)
{
    ZOO_CHECK(pthread_mutex_lock(&sessions_lock));
    ZOO_CHECK(pthread_mutex_lock(&users_lock));
    sessions--;
    pthread_mutex_unlock(&users_lock);
    pthread_mutex_unlock(&sessions_lock);
}

int main(void)
{
    pthread_t a = zoo_spawn(worker, NULL), b = zoo_spawn(worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    save_users(5000);
    expire_session();
    printf("main: users=%ld sessions=%ld, finished without hanging\n", users, sessions);
    return 0;
}
