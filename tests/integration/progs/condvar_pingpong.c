/* Two threads hand a token back and forth ROUNDS times through a mutex and a
 * condition variable.  Healthy: nothing must be left held or blocked. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

pthread_mutex_t token_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t token_cond = PTHREAD_COND_INITIALIZER;
static int turn;
static int rounds;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&token_mutex);
        while (turn != me) pthread_cond_wait(&token_cond, &token_mutex);
        turn = !me;
        pthread_cond_signal(&token_cond);
        pthread_mutex_unlock(&token_mutex);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atoi(argv[1]) : 200;
    pthread_t a, b;
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
