/*
 * Bug: deadlock, in C11 threads.  stock_worker takes stock_lock then
 * ledger_lock, ledger_worker takes ledger_lock then stock_lock; a condition
 * variable makes sure each holds its first lock before asking for the second.
 * glibc's mtx_lock never goes through the exported pthread_mutex_lock.
 */
#include "zoo.h"
#include <threads.h>

static mtx_t stock_lock;
static mtx_t ledger_lock;
static mtx_t gate;
static cnd_t gate_open;
static int holding;

/* Returns once both workers hold their first lock. */
ZOO_FN static void both_hold_one(void)
{
    mtx_lock(&gate);
    if (++holding == 2)
        cnd_broadcast(&gate_open);
    while (holding < 2)
        cnd_wait(&gate_open, &gate);
    mtx_unlock(&gate);
}

ZOO_FN static int stock_worker(void *arg)
{
    (void)arg;
    if (mtx_lock(&stock_lock) != thrd_success)
        abort();
    both_hold_one();
    mtx_lock(&ledger_lock);
    mtx_unlock(&ledger_lock);
    mtx_unlock(&stock_lock);
    return 0;
}

ZOO_FN static int ledger_worker(void *arg)
{
    (void)arg;
    if (mtx_lock(&ledger_lock) != thrd_success)
        abort();
    both_hold_one();
    mtx_lock(&stock_lock);
    mtx_unlock(&stock_lock);
    mtx_unlock(&ledger_lock);
    return 0;
}

int main(void)
{
    if (mtx_init(&stock_lock, mtx_plain) != thrd_success || mtx_init(&ledger_lock, mtx_plain) != thrd_success ||
        mtx_init(&gate, mtx_plain) != thrd_success || cnd_init(&gate_open) != thrd_success)
        abort();
    printf("main: stock_lock=%p ledger_lock=%p (hangs)\n", (void *)&stock_lock, (void *)&ledger_lock);
    thrd_t a, b;
    if (thrd_create(&a, stock_worker, NULL) != thrd_success || thrd_create(&b, ledger_worker, NULL) != thrd_success)
        abort();
    thrd_join(a, NULL);
    thrd_join(b, NULL);
    return 0;
}
