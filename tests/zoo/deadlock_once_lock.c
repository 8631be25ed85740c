/*
 * Bug: deadlock through a one-time initialisation.  The loader thread runs
 * init_config under pthread_once, and init_config needs config_lock; main
 * takes config_lock and then calls pthread_once on the same control, so it
 * waits for the loader's init_config, which waits for main.
 */
#include "zoo.h"

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_started, main_holds_lock;

static void wait_flag(int *flag)
{
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
        zoo_sleep_ms(1);
}

ZOO_FN static void init_config(void)
{
    __atomic_store_n(&init_started, 1, __ATOMIC_RELEASE);
    wait_flag(&main_holds_lock);
    ZOO_CHECK(pthread_mutex_lock(&config_lock));
    pthread_mutex_unlock(&config_lock);
}

ZOO_FN static void *loader(void *arg)
{
    (void)arg;
    pthread_once(&config_once, init_config);
    return NULL;
}

ZOO_FN static void read_config(void)
{
    ZOO_CHECK(pthread_mutex_lock(&config_lock));
    __atomic_store_n(&main_holds_lock, 1, __ATOMIC_RELEASE);
    pthread_once(&config_once, init_config);
    pthread_mutex_unlock(&config_lock);
}

int main(void)
{
    printf("main: config_once=%p config_lock=%p (hangs)\n", (void *)&config_once, (void *)&config_lock);
    pthread_t t = zoo_spawn(loader, NULL);
    wait_flag(&init_started);
    read_config();
    pthread_join(t, NULL);
    return 0;
}
