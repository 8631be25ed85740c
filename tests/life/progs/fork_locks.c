/* fork() from a thread that holds locks, and from the main thread while
 * another thread holds one.  The children use the locks they inherited the
 * way POSIX allows, start threads of their own, and exit with a code the
 * parent prints.
 *   life_fork_locks */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#define EBUSY_EXPECTED EBUSY

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;   /* taken by the forking thread */
/* Read-held: glibc ties a write-held rwlock to the holder's tid, which the
 * child's thread does not have, so only a read hold can be released there. */
static pthread_rwlock_t held_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;  /* taken by a thread that is not forking */
static pthread_mutex_t work = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *child_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; ++i) {
        pthread_mutex_lock(&work);
        total++;
        pthread_mutex_unlock(&work);
    }
    return NULL;
}

static int child_body(int own_locks)
{
    if (own_locks) {
        /* The forking thread held these: in the child it still does. */
        if (pthread_mutex_unlock(&held) != 0) return 10;
        if (pthread_rwlock_unlock(&held_rw) != 0) return 11;
        for (int i = 0; i < 100; ++i) {
            pthread_mutex_lock(&held);
            pthread_rwlock_wrlock(&held_rw);
            pthread_rwlock_unlock(&held_rw);
            pthread_mutex_unlock(&held);
        }
    } else if (pthread_mutex_trylock(&other) != EBUSY_EXPECTED) {
        return 12;  /* held by a thread that does not exist here: must stay busy */
    }
    pthread_t t[4];
    for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, child_worker, NULL);
    for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
    return total == 4000 ? 3 : 13;
}

static int wait_child(pid_t p)
{
    int st;
    if (waitpid(p, &st, 0) != p) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *forker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held);
    pthread_rwlock_rdlock(&held_rw);
    pid_t p = fork();
    if (p == 0) _exit(child_body(1));
    pthread_rwlock_unlock(&held_rw);
    pthread_mutex_unlock(&held);
    printf("fork from the thread holding the locks: child exit %d\n", wait_child(p));
    return NULL;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int other_taken, may_release;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&other);
    pthread_mutex_lock(&gate);
    other_taken = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!may_release) pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    pthread_mutex_unlock(&other);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, forker, NULL);
    pthread_join(t, NULL);

    pthread_create(&t, NULL, holder, NULL);
    pthread_mutex_lock(&gate);
    while (!other_taken) pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    pid_t p = fork();
    if (p == 0) _exit(child_body(0));
    printf("fork while another thread holds a lock: child exit %d\n", wait_child(p));
    pthread_mutex_lock(&gate);
    may_release = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    return 0;
}
