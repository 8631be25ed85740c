/*
 * Bug: lock-order-inversion that did not hang this time.  save_user() takes
 * users then sessions; expire_sessions() takes sessions then users.  The two
 * threads run one after the other, so this run finishes (exit 0), but any
 * overlap would deadlock.
 */
#include "zoo.h"

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static int users, sessions;

ZOO_FN static void *save_user(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&users_lock));
    ZOO_CHECK(pthread_mutex_lock(&sessions_lock));
    users++;
    sessions++;
    pthread_mutex_unlock(&sessions_lock);
    pthread_mutex_unlock(&users_lock);
    return NULL;
}

ZOO_FN static void *expire_sessions(void *arg)
{
    (void)arg;
    ZOO_CHECK(pthread_mutex_lock(&sessions_lock));
    ZOO_CHECK(pthread_mutex_lock(&users_lock));
    sessions--;
    pthread_mutex_unlock(&users_lock);
    pthread_mutex_unlock(&sessions_lock);
    return NULL;
}

int main(void)
{
    pthread_join(zoo_spawn(save_user, NULL), NULL);
    pthread_join(zoo_spawn(expire_sessions, NULL), NULL);
    printf("main: users=%d sessions=%d, finished without hanging\n", users, sessions);
    return 0;
}
