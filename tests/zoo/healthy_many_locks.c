/*
 * Healthy: one thread takes each of 1000 mutexes exactly 100 times, round
 * after round, more locks than a thread's totals table holds (256).  The
 * locks that got an entry must be counted exactly (100 acquisitions, whole
 * run); the rest are a note, never a wrong count or a finding.
 *
 * Then, with its table full, it takes each of 32 more mutexes 100 times, and
 * a second thread (whose table has room) takes each of them 50 times: where
 * the first thread found no room, the whole-run count is 50 and must say it
 * is a lower bound ("whole run, at least"), never a plain "whole run".
 */
#include "zoo.h"

#define N_LOCKS 1000
#define ROUNDS 100
#define N_LATE 32
#define LATE_SECOND 50

static pthread_mutex_t many[N_LOCKS];
static pthread_mutex_t late[N_LATE];

static void take_late(int times)
{
    for (int r = 0; r < times; r++)
        for (int k = 0; k < N_LATE; k++) {
            pthread_mutex_lock(&late[k]);
            pthread_mutex_unlock(&late[k]);
        }
}

static void *second(void *arg)
{
    (void)arg;
    take_late(LATE_SECOND);
    return NULL;
}

int main(void)
{
    for (int k = 0; k < N_LOCKS; k++)
        pthread_mutex_init(&many[k], NULL);
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < N_LOCKS; k++) {
            pthread_mutex_lock(&many[k]);
            pthread_mutex_unlock(&many[k]);
        }
    for (int k = 0; k < N_LATE; k++)
        pthread_mutex_init(&late[k], NULL);
    take_late(ROUNDS);
    pthread_t t;
    if (pthread_create(&t, NULL, second, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    printf("many %p size %zu\n", (void *)many, sizeof many);
    printf("late %p size %zu\n", (void *)late, sizeof late);
    return 0;
}
