/*
 * Bug: invalid-lock (EDEADLK).  An error-checking mutex is locked twice by the
 * same thread; glibc refuses the second lock with EDEADLK instead of hanging,
 * and the program carries on as if it held it twice.
 */
#include "zoo.h"

static pthread_mutex_t registry_lock;

ZOO_FN static void register_name(void)
{
    int rc = pthread_mutex_lock(&registry_lock); /* BUG: caller holds it */
    printf("register_name: lock returned %s\n", rc ? strerror(rc) : "0");
}

ZOO_FN static void add_entry(void)
{
    ZOO_CHECK(pthread_mutex_lock(&registry_lock));
    register_name();
    pthread_mutex_unlock(&registry_lock);
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    ZOO_CHECK(pthread_mutex_init(&registry_lock, &a));
    add_entry();
    return 0;
}
