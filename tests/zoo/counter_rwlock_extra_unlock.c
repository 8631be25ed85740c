/*
 * Bug: counter-overflow.  handle_request() releases the table's read lock
 * itself, and its caller releases it again: every request leaves the glibc
 * rwlock's reader count one lower.  After two requests the count has wrapped
 * below zero; the next reader gets EAGAIN ("maximum number of readers") and
 * the next writer waits forever for readers that do not exist.
 */
#include "zoo.h"

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static int table[16];

ZOO_FN static int handle_request(int key)
{
    int v = table[key & 15];
    pthread_rwlock_unlock(&table_lock); /* BUG: the caller unlocks too */
    return v;
}

ZOO_FN static int serve(int key)
{
    ZOO_CHECK(pthread_rwlock_rdlock(&table_lock));
    int v = handle_request(key);
    pthread_rwlock_unlock(&table_lock);
    return v;
}

ZOO_FN static void *late_reader(void *arg)
{
    (void)arg;
    int rc = pthread_rwlock_rdlock(&table_lock);
    printf("late_reader: rdlock returned %s\n", rc ? strerror(rc) : "0");
    if (rc == 0)
        pthread_rwlock_unlock(&table_lock);
    return NULL;
}

ZOO_FN static void *table_writer(void *arg)
{
    (void)arg;
    printf("table_writer: taking the write lock (hangs: the reader count wrapped)\n");
    fflush(stdout);
    ZOO_CHECK(pthread_rwlock_wrlock(&table_lock));
    table[0]++;
    pthread_rwlock_unlock(&table_lock);
    printf("table_writer: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    serve(1);
    serve(2);
    printf("main: served two requests\n");
    fflush(stdout);
    pthread_join(zoo_spawn(late_reader, NULL), NULL);
    pthread_join(zoo_spawn(table_writer, NULL), NULL);
    return 0;
}
