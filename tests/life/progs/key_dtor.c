/* Threads whose pthread key destructors use locks after the start routine has
 * ended (glibc runs key destructors after the cleanup handlers, where the shim
 * writes a thread's end).
 *   life_key_dtor unlock N   N threads (every third detached) each return
 *                            holding mutex `m`; the key destructor unlocks it
 *                            (the next thread's lock waits for that).
 *   life_key_dtor keep       one thread returns holding `kept`; its destructor
 *                            takes and releases `other`, then takes `late` and
 *                            keeps it: two mutexes really left locked by a
 *                            thread that ended.
 *   life_key_dtor stuck [S]  one thread's destructor waits for `stuck`, which
 *                            main holds: main gives up joining it after 300 ms
 *                            and exits with the thread still waiting (after
 *                            sleeping S seconds first, if given: a live hang
 *                            for the watchdog, tests/after/watchdog_report.sh).
 * Prints what it can observe (counts, trylock results): the same traced as
 * plain.  Addresses of the mutexes go to stderr for the test. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t kept = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t late = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;
static sem_t detached_done;
static long counter;       /* under m */
static long other_uses;    /* under other */

static void release_m(void *p)
{
    pthread_mutex_unlock(p);
    sem_post(&detached_done);
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    counter++;
    pthread_setspecific(key, &m);
    return NULL; /* still holding m: the destructor releases it */
}

static void keep_destructor(void *p)
{
    (void)p;
    pthread_mutex_lock(&other);
    other_uses++;
    pthread_mutex_unlock(&other);
    pthread_mutex_lock(&late);
}

static void *keeper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&kept);
    pthread_setspecific(key, &kept);
    pthread_exit(NULL);
}

static pthread_mutex_t stuck = PTHREAD_MUTEX_INITIALIZER;

static void stuck_destructor(void *p)
{
    (void)p;
    pthread_mutex_lock(&stuck);
    pthread_mutex_unlock(&stuck);
}

static void *sticker(void *arg)
{
    pthread_mutex_lock(&other);
    pthread_mutex_unlock(&other);
    pthread_setspecific(key, &stuck);
    return arg;
}

static const char *busy(pthread_mutex_t *x)
{
    int r = pthread_mutex_trylock(x);
    if (r == 0) {
        pthread_mutex_unlock(x);
        return "free";
    }
    return r == EBUSY ? "locked" : strerror(r);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "unlock")) {
        long n = atol(argv[2]);
        if (pthread_key_create(&key, release_m) != 0 || sem_init(&detached_done, 0, 0) != 0)
            return 2;
        const long wave = 16;
        for (long base = 0; base < n; base += wave) {
            pthread_t t[wave];
            long k = 0;
            for (; k < wave && base + k < n; ++k) {
                pthread_attr_t a;
                pthread_attr_init(&a);
                if ((base + k) % 3 == 2)
                    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&t[k], &a, holder, NULL) != 0)
                    return 2;
                pthread_attr_destroy(&a);
            }
            for (long j = 0; j < k; ++j)
                if ((base + j) % 3 != 2)
                    pthread_join(t[j], NULL);
            for (long j = 0; j < k; ++j)
                while (sem_wait(&detached_done) != 0)
                    ;
        }
        pthread_mutex_lock(&m);
        printf("threads %ld, counter %ld, m after them: ", n, counter);
        pthread_mutex_unlock(&m);
        printf("%s\n", busy(&m));
        fprintf(stderr, "m at %p\n", (void *)&m);
        return counter == n ? 0 : 1;
    }
    if (argc > 1 && !strcmp(argv[1], "keep")) {
        if (pthread_key_create(&key, keep_destructor) != 0)
            return 2;
        pthread_t t;
        if (pthread_create(&t, NULL, keeper, NULL) != 0)
            return 2;
        pthread_join(t, NULL);
        printf("other used %ld time(s); after the thread: kept %s, other %s, late %s\n", other_uses, busy(&kept),
               busy(&other), busy(&late));
        fprintf(stderr, "kept at %p, other at %p, late at %p\n", (void *)&kept, (void *)&other, (void *)&late);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "stuck")) {
        if (pthread_key_create(&key, stuck_destructor) != 0)
            return 2;
        pthread_mutex_lock(&stuck);
        pthread_t t;
        if (pthread_create(&t, NULL, sticker, NULL) != 0)
            return 2;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 300 * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        int r = pthread_timedjoin_np(t, NULL, &until);
        printf("join: %s\n", r == ETIMEDOUT ? "timed out (the destructor waits)" : r ? strerror(r) : "joined");
        fprintf(stderr, "stuck at %p\n", (void *)&stuck);
        fflush(stdout);
        if (argc > 2)
            sleep((unsigned)atoi(argv[2]));
        _exit(0);
    }
    fprintf(stderr, "usage: life_key_dtor unlock N | keep | stuck [SECONDS]\n");
    return 2;
}
