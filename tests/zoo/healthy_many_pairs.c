/*
 * Healthy: one thread takes each of 2000 mutexes once while it holds a
 * table lock: 2000 lock-order pairs, all in one order.  With the default
 * lock-order table they are all kept; with LOCKTRACE_ORDER_PAIRS=256 most
 * are not, and the report must say so (and name the setting) rather than
 * stay silent about what it could not check.
 */
#include "zoo.h"

#define N 2000
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t rows[N];

int main(void)
{
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&rows[i], NULL);
    ZOO_CHECK(pthread_mutex_lock(&table_lock));
    for (int i = 0; i < N; i++) {
        ZOO_CHECK(pthread_mutex_lock(&rows[i]));
        pthread_mutex_unlock(&rows[i]);
    }
    pthread_mutex_unlock(&table_lock);
    printf("main: %d rows taken under the table lock\n", N);
    return 0;
}
