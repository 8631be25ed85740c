/*
 * Bug: a leaked read lock, found hours later.  handle_request() returns early
 * on a cache hit without unlocking the table's rwlock; its thread goes on
 * serving (ten million more lock calls, far more than its ring holds) and
 * then idles.  main's writer blocks forever.  The report must name the
 * server thread as the reader and the line that took the read lock, although
 * that acquisition left the ring long ago.
 */
#include "zoo.h"

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int served_enough;
static long hits;

ZOO_FN static int handle_request(int key)
{
    ZOO_CHECK(pthread_rwlock_rdlock(&table_lock)); /* site: leak */
    if (key == 42)
        return 1; /* BUG: returns with the read lock held */
    pthread_rwlock_unlock(&table_lock);
    return 0;
}

ZOO_FN static void count_hit(void)
{
    pthread_mutex_lock(&stats_lock);
    hits++;
    pthread_mutex_unlock(&stats_lock);
}

ZOO_FN static void *server(void *arg)
{
    (void)arg;
    handle_request(42);
    for (int i = 0; i < 5000000; i++) /* 10 M lock calls */
        count_hit();
    served_enough = 1;
    for (;;)
        zoo_sleep_ms(1000);
    return NULL;
}

ZOO_FN static void rebuild_table(void)
{
    printf("rebuild_table: taking the table for writing (hangs: a reader leaked it)\n");
    ZOO_CHECK(pthread_rwlock_wrlock(&table_lock));
    pthread_rwlock_unlock(&table_lock);
}

int main(void)
{
    pthread_t t = zoo_spawn(server, NULL);
    pthread_setname_np(t, "server");
    while (!served_enough)
        zoo_sleep_ms(10);
    rebuild_table();
    return 0;
}
