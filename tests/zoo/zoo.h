/*
 * Helpers shared by the zoo programs: raw futex calls (through syscall(), as
 * hand-rolled locks and Rust's std do, so the shim sees them), sleeps used to
 * force an interleaving, and a check that dies loudly on an unexpected error.
 *
 * Every zoo program has exactly one bug (or none, for the healthy ones).  The
 * hanging ones hang deterministically within a fraction of a second; the
 * tests kill them.
 */
#ifndef LOCKTRACE_ZOO_H
#define LOCKTRACE_ZOO_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Keep every function a frame of its own so the report can name it. */
#define ZOO_FN __attribute__((noinline))

/* Hanging programs are killed: print as we go so their output is not lost. */
__attribute__((constructor)) static void zoo_unbuffered_stdout(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
}

static inline long zoo_futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts,
                             uint32_t *word2, uint32_t val3)
{
    return syscall(SYS_futex, word, op, val, ts, word2, val3);
}

/* Waits while *word == expected; returns when woken (or the word differs). */
static inline void zoo_futex_wait(uint32_t *word, uint32_t expected)
{
    zoo_futex(word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static inline long zoo_futex_wake(uint32_t *word, int n)
{
    return zoo_futex(word, FUTEX_WAKE_PRIVATE, (uint32_t)n, NULL, NULL, 0);
}

static inline void zoo_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* The calling thread's kernel id, published before it goes to sleep. */
static inline int zoo_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

/* Waits until thread `tid` (0 = not yet known) is asleep in the kernel
 * (state S in /proc).  Used after a thread announced it is about to wait, so
 * that a wake sent afterwards is sent to a real sleeper: the lost wakeups
 * must happen every time, not depend on scheduling. */
static inline void zoo_wait_asleep(const int *tid)
{
    for (;;) {
        int t = __atomic_load_n(tid, __ATOMIC_ACQUIRE);
        if (t) {
            char path[64], buf[256];
            snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
            FILE *f = fopen(path, "r");
            if (f) {
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[n] = 0;
                const char *close_paren = strrchr(buf, ')');
                if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'S')
                    return;
            }
        }
        zoo_sleep_ms(5);
    }
}

/* pthread calls return the error instead of setting errno. */
#define ZOO_CHECK(call)                                                                   \
    do {                                                                                  \
        int zoo_rc_ = (call);                                                             \
        if (zoo_rc_ != 0) {                                                               \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, strerror(zoo_rc_)); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

static inline pthread_t zoo_spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    ZOO_CHECK(pthread_create(&t, NULL, fn, arg));
    return t;
}

/* A hand-rolled futex mutex (0 free, 1 locked, 2 locked with waiters), the
 * classic three-state design.  Its uncontended paths never enter the kernel,
 * so a tracer sees only the slow paths: owners are unknowable from futex
 * calls alone. */
static inline void zoo_fmutex_lock(uint32_t *w)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        zoo_futex_wait(w, 2);
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void zoo_fmutex_unlock(uint32_t *w)
{
    if (__atomic_fetch_sub(w, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(w, 0, __ATOMIC_RELEASE);
        zoo_futex_wake(w, 1);
    }
}

#endif
