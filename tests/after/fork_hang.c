/* The parent forks; the child deadlocks two threads (ABBA) while the parent
 * waits for it.  With LOCKTRACE_WATCHDOG the child's own watchdog (restarted
 * after fork) must report the child's hang from the child's own trace. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;

static void *take(void *arg)
{
    int first_a = arg != NULL;
    pthread_mutex_lock(first_a ? &a : &b);
    pthread_barrier_wait(&both);
    pthread_mutex_lock(first_a ? &b : &a); /* each waits for the other's lock forever */
    return NULL;
}

int main(void)
{
    pid_t child = fork();
    if (child == 0) {
        pthread_barrier_init(&both, NULL, 2);
        pthread_t t1, t2;
        pthread_create(&t1, NULL, take, (void *)1);
        pthread_create(&t2, NULL, take, NULL);
        printf("child %d deadlocking\n", (int)getpid());
        fflush(stdout);
        pthread_join(t1, NULL);
        return 0;
    }
    printf("parent %d waiting for child %d\n", (int)getpid(), (int)child);
    fflush(stdout);
    int st;
    waitpid(child, &st, 0);
    return 0;
}
