/*
 * Bug: unlock-not-owner, caught by an error-checking mutex: the unlock from
 * the wrong thread fails with EPERM (and the program ignores it).
 */
#include "zoo.h"

static pthread_mutex_t job_lock;

ZOO_FN static void *cancel_job(void *arg)
{
    (void)arg;
    int rc = pthread_mutex_unlock(&job_lock); /* BUG: not the owner */
    printf("cancel_job: unlock returned %s\n", rc ? strerror(rc) : "0");
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    ZOO_CHECK(pthread_mutex_init(&job_lock, &a));
    ZOO_CHECK(pthread_mutex_lock(&job_lock));
    pthread_join(zoo_spawn(cancel_job, NULL), NULL);
    ZOO_CHECK(pthread_mutex_unlock(&job_lock));
    return 0;
}
