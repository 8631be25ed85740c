/*
 * Bug: a barrier short of a party.  start_line is set up for the two workers
 * and main, but main goes straight to joining them and never arrives: both
 * workers wait at the barrier for ever.
 */
#include "zoo.h"

static pthread_barrier_t start_line;

ZOO_FN static void wait_for_everyone(void)
{
    pthread_barrier_wait(&start_line);
}

ZOO_FN static void *crew_worker(void *arg)
{
    (void)arg;
    wait_for_everyone();
    return NULL;
}

int main(void)
{
    ZOO_CHECK(pthread_barrier_init(&start_line, NULL, 3)); /* two workers and main */
    printf("main: start_line=%p (hangs)\n", (void *)&start_line);
    pthread_t a = zoo_spawn(crew_worker, NULL);
    pthread_t b = zoo_spawn(crew_worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
