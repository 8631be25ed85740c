/*
 * A careless fork: "allocator" allocates and frees in a loop while main forks
 * with _Fork(), which (unlike fork()) does not take malloc's locks around the
 * fork.  A child forked while the allocator was inside malloc or free has
 * main_arena's lock locked and no thread that will unlock it: its own malloc
 * sleeps for ever.  Every thread shares main_arena (M_ARENA_MAX 1), and the
 * sizes are past the per-thread cache, so each call takes the arena's lock.
 * Forks until a child hangs (at most 200 tries) and prints "hung child PID";
 * prints "no child hung" and exits 3 when none did.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void *allocator_main(void *arg)
{
    (void)arg;
    for (unsigned i = 0;; i++) {
        char *p = malloc(2048 + (i % 8) * 64);
        if (p) p[0] = (char)i;
        free(p);
    }
    return NULL;
}

__attribute__((noinline)) static void child_work(void)
{
    pthread_mutex_lock(&log_lock);  /* the child's first lock: it gets its own trace */
    pthread_mutex_unlock(&log_lock);
    char *buf = malloc(3000);       /* BUG: malloc in the child of _Fork with threads */
    if (buf) buf[0] = 1;
    free(buf);
}

/* Whether `pid` still runs after ~300 ms (a child that only mallocs is done in microseconds). */
static int still_running(pid_t pid)
{
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return 0;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 1;
}

int main(void)
{
    mallopt(M_ARENA_MAX, 1);
    pthread_mutex_lock(&log_lock);  /* main is traced before it forks */
    pthread_mutex_unlock(&log_lock);
    pthread_t a;
    pthread_create(&a, NULL, allocator_main, NULL);
    pthread_setname_np(a, "allocator");
    for (int tries = 1; tries <= 200; tries++) {
        pid_t pid = _Fork();
        if (pid == 0) {
            child_work();
            _exit(0);
        }
        if (pid < 0) return 2;
        if (still_running(pid)) {
            printf("hung child %d after %d forks\n", (int)pid, tries);
            fflush(stdout);
            pause();
        }
    }
    printf("no child hung\n");
    return 3;
}
