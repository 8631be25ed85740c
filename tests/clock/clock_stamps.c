/* Threads pinned to different CPUs take one mutex and read CLOCK_MONOTONIC
 * themselves right before and after each lock call and after each unlock,
 * with sleeps of 0.1 ms to 30 ms (sometimes 300 ms) in between.  Each
 * thread's readings go to OUT, one line per lock call, so that
 * check_clock.py can hold the decoder's times of the same calls against
 * them.
 *
 *   clock_stamps SECONDS OUT
 *
 * OUT: "lock 0x<address>", then "<tid> <before lock> <after lock> <after unlock>"
 * (ns of CLOCK_MONOTONIC) per call. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct call {
    uint64_t before, locked, unlocked;
};

struct worker {
    pthread_t th;
    int cpu;
    int tid;
    uint64_t until;
    unsigned seed;
    struct call *calls;
    size_t n, cap;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("sched_setaffinity");
    w->tid = (int)syscall(SYS_gettid);
    while (mono() < w->until) {
        if (w->n == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 1024;
            w->calls = realloc(w->calls, w->cap * sizeof *w->calls);
            if (!w->calls)
                abort();
        }
        struct call *c = &w->calls[w->n++];
        c->before = mono();
        pthread_mutex_lock(&lock);
        c->locked = mono();
        pthread_mutex_unlock(&lock);
        c->unlocked = mono();
        unsigned r = rand_r(&w->seed);
        long ns = r % 50 == 0 ? 300000000L : 100000L + (long)(r % 30000) * 1000L;
        struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SECONDS OUT\n", argv[0]);
        return 2;
    }
    double secs = atof(argv[1]);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = ncpu < 2 ? 2 : (int)(ncpu > 8 ? 8 : ncpu);
    struct worker *w = calloc((size_t)n, sizeof *w);
    uint64_t until = mono() + (uint64_t)(secs * 1e9);
    for (int i = 0; i < n; i++) {
        w[i].cpu = (int)(i % (ncpu > 0 ? ncpu : 1));
        w[i].until = until;
        w[i].seed = 12345u + (unsigned)i;
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(w[i].th, NULL);
    FILE *f = fopen(argv[2], "w");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    fprintf(f, "lock %p\n", (void *)&lock);
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < w[i].n; k++)
            fprintf(f, "%d %llu %llu %llu\n", w[i].tid, (unsigned long long)w[i].calls[k].before,
                    (unsigned long long)w[i].calls[k].locked, (unsigned long long)w[i].calls[k].unlocked);
    fclose(f);
    return 0;
}
