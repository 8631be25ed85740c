/*
 * Healthy: one thread takes each of 1000 mutexes exactly 100 times, round
 * after round, more locks than a thread's totals table holds (256).  The
 * locks that got an entry must be counted exactly (100 acquisitions, whole
 * run); the rest are a note, never a wrong count or a finding.
 */
#include "zoo.h"

#define N_LOCKS 1000
#define ROUNDS 100

static pthread_mutex_t many[N_LOCKS];

int main(void)
{
    for (int k = 0; k < N_LOCKS; k++)
        pthread_mutex_init(&many[k], NULL);
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < N_LOCKS; k++) {
            pthread_mutex_lock(&many[k]);
            pthread_mutex_unlock(&many[k]);
        }
    printf("many %p size %zu\n", (void *)many, sizeof many);
    return 0;
}
