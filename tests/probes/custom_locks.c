/* Hand-rolled locks the shim cannot see by symbol interposition: a test-and-set
 * spin lock and a futex lock (Drepper's three-state mutex).  Probed by
 * LOCKTRACE_PROBES="my_spin_lock=acquire,my_spin_unlock=release,
 * my_futex_lock=acquire,my_futex_unlock=release".
 *
 * Prints "spin=0x... futex=0x... threads=T iters=N" and checks that the
 * counters protected by each lock are exact (a probe that broke a function
 * would show here).  Exit 0 = counters right. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int spin_word, futex_word;
static long spin_count, futex_count;

__attribute__((noinline)) void my_spin_lock(int *w)
{
    while (__atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE)) {
        int spins = 0;
        while (__atomic_load_n(w, __ATOMIC_RELAXED))
            if (++spins < 100)
                __builtin_ia32_pause();
            else
                sched_yield(); /* the holder may be preempted: 2 cores, many threads */
    }
}

__attribute__((noinline)) void my_spin_unlock(int *w) { __atomic_store_n(w, 0, __ATOMIC_RELEASE); }

/* 0 free, 1 locked, 2 locked with waiters */
__attribute__((noinline)) void my_futex_lock(int *w)
{
    int c = 0;
    if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    }
}

__attribute__((noinline)) void my_futex_unlock(int *w)
{
    if (__atomic_fetch_sub(w, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(w, 0, __ATOMIC_RELEASE);
        syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

static int iters = 20000;

__attribute__((noinline)) static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < iters; ++i) {
        my_spin_lock(&spin_word);
        ++spin_count;
        my_spin_unlock(&spin_word);
        my_futex_lock(&futex_word);
        ++futex_count;
        my_futex_unlock(&futex_word);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 4;
    if (argc > 1)
        iters = atoi(argv[1]);
    printf("spin=%p futex=%p threads=%d iters=%d\n", (void *)&spin_word, (void *)&futex_word, threads, iters);
    fflush(stdout);
    pthread_t t[16];
    for (int i = 0; i < threads; ++i)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads; ++i)
        pthread_join(t[i], NULL);
    long want = (long)threads * iters;
    if (spin_count != want || futex_count != want) {
        printf("WRONG counts: spin %ld futex %ld, want %ld\n", spin_count, futex_count, want);
        return 1;
    }
    printf("counts ok: %ld\n", want);
    return 0;
}
