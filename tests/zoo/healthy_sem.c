/*
 * Healthy: semaphores as a counting pool and as a ping-pong, with trywait
 * EAGAIN and timedwait ETIMEDOUT handled.
 */
#include "zoo.h"
#include <semaphore.h>

#define ROUNDS 1000

static sem_t ping, pong, pool;

ZOO_FN static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (sem_wait(&ping) == -1 && errno == EINTR) {
        }
        sem_post(&pong);
    }
    return NULL;
}

ZOO_FN static void *pool_user(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (sem_wait(&pool) == -1 && errno == EINTR) {
        }
        sem_post(&pool);
    }
    return NULL;
}

int main(void)
{
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    sem_init(&pool, 0, 2);
    pthread_t t = zoo_spawn(ponger, NULL);
    pthread_t u[3];
    for (int i = 0; i < 3; i++)
        u[i] = zoo_spawn(pool_user, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        sem_post(&ping);
        while (sem_wait(&pong) == -1 && errno == EINTR) {
        }
    }
    if (sem_trywait(&pong) == 0 || errno != EAGAIN)
        return 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (sem_timedwait(&pong, &ts) == 0 || errno != ETIMEDOUT)
        return 1;
    pthread_join(t, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(u[i], NULL);
    printf("healthy_sem: ok\n");
    return 0;
}
