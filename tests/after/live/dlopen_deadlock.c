/*
 * The loader deadlock: thread "scanner" holds registry_lock and calls
 * dlopen; thread "loader" is inside dlopen of a plugin whose constructor
 * calls registry_add, which takes registry_lock.  The loader holds the
 * dynamic loader's lock (_dl_load_lock, taken inside ld.so where no hook
 * sees it) while it waits for registry_lock; the scanner waits for the
 * loader's lock while it holds registry_lock.  Hangs for ever.
 *
 * Usage: dlopen_deadlock PLUGIN.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static int registered;
static const char *plugin_path;
static int scanner_holds;

/* Called by plugins' constructors (the program is linked with -rdynamic). */
__attribute__((noinline)) void registry_add(const char *name)
{
    pthread_mutex_lock(&registry_lock);
    registered++;
    printf("registered %s\n", name);
    pthread_mutex_unlock(&registry_lock);
}

__attribute__((noinline)) static void load_plugin(void)
{
    if (!dlopen(plugin_path, RTLD_NOW)) fprintf(stderr, "dlopen: %s\n", dlerror());
}

static void *loader_main(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&scanner_holds, __ATOMIC_ACQUIRE)) usleep(1000);
    load_plugin();
    return NULL;
}

__attribute__((noinline)) static void scan_plugins(void)
{
    pthread_mutex_lock(&registry_lock);
    __atomic_store_n(&scanner_holds, 1, __ATOMIC_RELEASE);
    /* Wait until the loader, inside dlopen, waits for registry_lock (glibc's
     * __lock is 2 once a waiter is there). */
    while (__atomic_load_n(&registry_lock.__data.__lock, __ATOMIC_ACQUIRE) != 2) usleep(1000);
    printf("scanner: loading libm while holding registry_lock (hangs)\n");
    fflush(stdout);
    dlopen("libm.so.6", RTLD_NOW);
    pthread_mutex_unlock(&registry_lock);
}

static void *scanner_main(void *arg)
{
    (void)arg;
    scan_plugins();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    plugin_path = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t s, l;
    pthread_create(&s, NULL, scanner_main, NULL);
    pthread_setname_np(s, "scanner");
    pthread_create(&l, NULL, loader_main, NULL);
    pthread_setname_np(l, "loader");
    pthread_join(s, NULL);
    pthread_join(l, NULL);
    return 0;
}
