/* Two readers hold a rwlock and sleep; a writer blocks on it forever. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t readers_in;

static void *read_and_sleep(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&table_lock);
    pthread_barrier_wait(&readers_in);
    for (;;) sleep(1);
    return NULL;
}

static void *write_table(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&readers_in);
    pthread_rwlock_wrlock(&table_lock);
    pthread_rwlock_unlock(&table_lock);
    return NULL;
}

int main(void)
{
    pthread_t r1, r2, w;
    pthread_barrier_init(&readers_in, NULL, 3);
    pthread_create(&r1, NULL, read_and_sleep, NULL);
    pthread_create(&r2, NULL, read_and_sleep, NULL);
    pthread_create(&w, NULL, write_table, NULL);
    printf("ready\n");
    fflush(stdout);
    pthread_join(w, NULL);
    return 0;
}
