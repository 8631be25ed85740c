/* Another lock tracer preloaded beside ours (tests/life case preload_other_tracer):
 * it interposes pthread_mutex_lock/trylock/unlock through dlsym(RTLD_NEXT),
 * the way LTTng-UST's or mutrace's wrappers do, counts the calls it sees and
 * prints the counts on stderr at exit.  Whichever of the two comes first in
 * LD_PRELOAD, both must see the program's calls and the program must behave
 * the same. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static unsigned long n_lock, n_trylock, n_unlock;
static int (*real_lock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);

/* Bound on first use as well as in the constructor: another library's
 * constructor (ours, say) may take a mutex before this one's has run. */
__attribute__((constructor)) static void bind(void)
{
    real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
    real_trylock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_trylock");
    real_unlock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_unlock");
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    __atomic_fetch_add(&n_lock, 1, __ATOMIC_RELAXED);
    if (!real_lock)
        bind();
    return real_lock(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    __atomic_fetch_add(&n_trylock, 1, __ATOMIC_RELAXED);
    if (!real_trylock)
        bind();
    return real_trylock(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    __atomic_fetch_add(&n_unlock, 1, __ATOMIC_RELAXED);
    if (!real_unlock)
        bind();
    return real_unlock(m);
}

__attribute__((destructor)) static void report(void)
{
    fprintf(stderr, "other_tracer: lock=%lu trylock=%lu unlock=%lu\n", n_lock, n_trylock, n_unlock);
}
