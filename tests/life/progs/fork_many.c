/* Forks N children one after another.  "idle" children take no lock (half
 * leave with exit, half with _exit, some exec /bin/true); "lock" children
 * take a mutex their parent held before the fork, and one of their own.
 * Prints how many children exited 0.
 *   life_fork_many idle|lock N */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;

static void child(int locking, int i)
{
    if (locking) {
        pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
        for (int k = 0; k < 10; ++k) {
            pthread_mutex_lock(&shared);
            pthread_mutex_lock(&own);
            pthread_mutex_unlock(&own);
            pthread_mutex_unlock(&shared);
        }
        exit(0);
    }
    if (i % 10 == 0)
        execl("/bin/true", "true", (char *)NULL);
    if (i % 2)
        exit(0);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "idle") && strcmp(argv[1], "lock")))
        return 2;
    int locking = !strcmp(argv[1], "lock"), n = atoi(argv[2]), good = 0;
    for (int i = 0; i < n; ++i) {
        pthread_mutex_lock(&shared);
        pthread_mutex_unlock(&shared);
        fflush(stdout);
        pid_t p = fork();
        if (p < 0)
            return 3;
        if (p == 0)
            child(locking, i);
        int st;
        if (waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ++good;
    }
    printf("%d of %d children exited 0\n", good, n);
    return 0;
}
