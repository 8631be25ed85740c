/* A library the workload dlopens: its constructor takes a lock, so the
 * shim sees its code on a stack right after the dlopen. */
#include <pthread.h>
static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
__attribute__((constructor)) static void plugin_init(void)
{
    pthread_mutex_lock(&plugin_lock);
    pthread_mutex_unlock(&plugin_lock);
}
int plugin_fn(void) { return 42; }
