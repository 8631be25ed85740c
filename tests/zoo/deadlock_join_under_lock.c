/*
 * Bug: deadlock through a join.  load_all takes registry_lock, starts a loader
 * thread and joins it while still holding the lock; the loader needs
 * registry_lock to register what it loaded, so it never ends.
 */
#include "zoo.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static int plugins;

ZOO_FN static void register_plugin(void)
{
    ZOO_CHECK(pthread_mutex_lock(&registry_lock));
    plugins++;
    pthread_mutex_unlock(&registry_lock);
}

ZOO_FN static void *loader(void *arg)
{
    (void)arg;
    register_plugin();
    return NULL;
}

ZOO_FN static void load_all(void)
{
    ZOO_CHECK(pthread_mutex_lock(&registry_lock));
    pthread_t t = zoo_spawn(loader, NULL);
    pthread_join(t, NULL);
    pthread_mutex_unlock(&registry_lock);
}

int main(void)
{
    printf("main: registry_lock=%p (hangs)\n", (void *)&registry_lock);
    load_all();
    printf("%d plugins\n", plugins);
    return 0;
}
