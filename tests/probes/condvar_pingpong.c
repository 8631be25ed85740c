/* Mutex + condvar ping-pong and a contended mutex: glibc's own futex calls
 * (mutex slow path, condvar waits and wakes, pthread_join) are what the libc
 * futex probes must show.  Prints "mutex=0x... cond=0x... hot=0x..." and
 * checks its own results. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
static int turn, rounds = 2000;
static long hot_count;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < rounds; ++i) {
        pthread_mutex_lock(&m);
        while (turn != me)
            pthread_cond_wait(&c, &m);
        turn = !me;
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; ++i) {
        pthread_mutex_lock(&hot);
        ++hot_count;
        for (volatile int k = 0; k < 50; ++k)
            ;
        pthread_mutex_unlock(&hot);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    printf("mutex=%p cond=%p hot=%p\n", (void *)&m, (void *)&c, (void *)&hot);
    fflush(stdout);
    pthread_t a, b, h[3];
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    for (int i = 0; i < 3; ++i)
        pthread_create(&h[i], NULL, hammer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    for (int i = 0; i < 3; ++i)
        pthread_join(h[i], NULL);
    if (hot_count != 60000) {
        printf("WRONG hot_count %ld\n", hot_count);
        return 1;
    }
    printf("ok\n");
    return 0;
}
