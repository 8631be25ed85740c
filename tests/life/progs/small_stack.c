/* Threads with the smallest stack POSIX allows (PTHREAD_STACK_MIN, 16 KiB
 * here) taking locks, in a fork child whose first lock call is made on such
 * a thread (glibc's own tst-cond16 does this): whatever the tracer does on a
 * thread's or process's first event must fit in that stack.
 *   life_small_stack */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long count;

static void *tf(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; ++i) {
        pthread_mutex_lock(&m);
        count++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static int run_threads(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN);
    pthread_t t[8];
    for (int i = 0; i < 8; ++i)
        if (pthread_create(&t[i], &a, tf, NULL) != 0) return 2;
    for (int i = 0; i < 8; ++i) pthread_join(t[i], NULL);
    return count == 800 ? 0 : 1;
}

int main(void)
{
    pid_t p = fork();
    if (p == 0) _exit(run_threads());  /* the child's first lock call is on a small stack */
    int st;
    waitpid(p, &st, 0);
    printf("fork child: %s %d\n", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    printf("parent: %d\n", run_threads());
    return 0;
}
