/*
 * Bug: held-by-nobody.  save_config() copies the whole config struct while
 * holding its write lock, so the copy contains a write-locked rwlock;
 * restore_config() copies it back over the live struct, lock words included.
 * The live rwlock now says "write-locked by the saver", which released it
 * long ago: every reader and writer after that sleeps forever.
 */
#include "zoo.h"

struct config {
    int values[4];
    pthread_rwlock_t lock;
};

static struct config live = {.lock = PTHREAD_RWLOCK_INITIALIZER};
static struct config saved;

ZOO_FN static void save_config(void)
{
    ZOO_CHECK(pthread_rwlock_wrlock(&live.lock));
    saved = live; /* copies the lock words too, in their locked state */
    ZOO_CHECK(pthread_rwlock_unlock(&live.lock));
}

ZOO_FN static void restore_config(void)
{
    live = saved; /* BUG: overwrites the live lock with a locked copy */
}

ZOO_FN static int read_value(int i)
{
    ZOO_CHECK(pthread_rwlock_rdlock(&live.lock));
    int v = live.values[i & 3];
    ZOO_CHECK(pthread_rwlock_unlock(&live.lock));
    return v;
}

ZOO_FN static void *config_reader(void *arg)
{
    printf("config_reader: reading (hangs: lock held by nobody)\n");
    fflush(stdout);
    int v = read_value((int)(intptr_t)arg);
    printf("config_reader: got %d (unexpected)\n", v);
    return NULL;
}

ZOO_FN static void *saver_thread(void *arg)
{
    (void)arg;
    save_config();
    return NULL;
}

int main(void)
{
    read_value(0);
    pthread_join(zoo_spawn(saver_thread, NULL), NULL);
    read_value(1);
    restore_config();
    pthread_t a = zoo_spawn(config_reader, (void *)1);
    pthread_t b = zoo_spawn(config_reader, (void *)2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
