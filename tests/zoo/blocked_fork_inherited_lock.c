/*
 * Bug: fork while another thread holds a lock.  The loader thread holds the
 * registry mutex when main forks; in the child only main lives on, and its
 * first registry update blocks forever: nobody in the child can ever unlock
 * it.  The child's report must say the lock was inherited locked from the
 * parent's loader thread and where that thread took it.
 */
#include "zoo.h"

#include <sys/wait.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int loading;

ZOO_FN static void *loader(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&registry_lock); /* site: loader_takes */
    loading = 1;
    for (;;)
        zoo_sleep_ms(1000); /* holds the registry while it loads */
    return NULL;
}

ZOO_FN static void update_registry(void)
{
    printf("child %d: updating the registry (hangs: inherited locked)\n", (int)getpid());
    pthread_mutex_lock(&registry_lock);
    pthread_mutex_unlock(&registry_lock);
}

int main(void)
{
    pthread_t t = zoo_spawn(loader, NULL);
    pthread_setname_np(t, "loader");
    while (!loading)
        zoo_sleep_ms(1);
    pid_t child = fork();
    if (child == 0) {
        update_registry();
        _exit(0);
    }
    waitpid(child, NULL, 0);
    return 0;
}
