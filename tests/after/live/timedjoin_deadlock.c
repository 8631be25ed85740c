/*
 * A deadlock through a timed join: main holds config_lock and waits in
 * pthread_timedjoin_np, with an hour's timeout, for "loader" to end; the
 * loader needs config_lock first.  Hangs until the timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void load_config(void)
{
    pthread_mutex_lock(&config_lock); /* waits for main, which waits for us */
    pthread_mutex_unlock(&config_lock);
}

static void *loader_main(void *arg)
{
    (void)arg;
    load_config();
    return NULL;
}

__attribute__((noinline)) static int wait_for_loader(pthread_t loader)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3600;
    return pthread_timedjoin_np(loader, NULL, &until); /* BUG: joins holding config_lock */
}

int main(void)
{
    fprintf(stderr, "hangs: main holds config_lock and joins loader, which waits for config_lock\n");
    pthread_mutex_lock(&config_lock);
    pthread_t l;
    pthread_create(&l, NULL, loader_main, NULL);
    pthread_setname_np(l, "loader");
    int r = wait_for_loader(l);
    pthread_mutex_unlock(&config_lock);
    return r;
}
