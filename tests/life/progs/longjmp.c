/* siglongjmp out of a signal handler that interrupted lock calls (often in
 * the middle of the shim's wrappers), thousands of times; afterwards the
 * locks and the tracing must still work.  The calls interrupted are ones
 * that leave no state behind when cut short (try-locks of locks another
 * thread holds, sem_trywait of an empty semaphore, a signal to a condvar
 * nobody waits on): jumping out of a real lock acquisition can leave a
 * half-taken lock in glibc itself, traced or not.
 *   life_longjmp */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define JUMPS 1000

static pthread_mutex_t busy_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t busy_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static sem_t empty_sem;
static pthread_mutex_t after = PTHREAD_MUTEX_INITIALIZER;  /* used once the jumps are over */
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int holding, done;
static sigjmp_buf env;
static volatile sig_atomic_t armed, stop_kicking;
static pthread_t main_thread;

static void handler(int sig)
{
    (void)sig;
    if (armed) {
        armed = 0;
        siglongjmp(env, 1);
    }
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&busy_m);
    pthread_rwlock_wrlock(&busy_rw);
    pthread_mutex_lock(&gate);
    holding = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!done) pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    pthread_rwlock_unlock(&busy_rw);
    pthread_mutex_unlock(&busy_m);
    return NULL;
}

static void *kicker(void *arg)
{
    (void)arg;
    while (!stop_kicking) {
        pthread_kill(main_thread, SIGUSR1);
        usleep(100);
    }
    return NULL;
}

static int check(const char *what, int got, int want)
{
    if (got == want) return 0;
    printf("%s returned %d, expected %d\n", what, got, want);
    return 1;
}

int main(void)
{
    sem_init(&empty_sem, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    main_thread = pthread_self();
    pthread_t h, k;
    pthread_create(&h, NULL, holder, NULL);
    pthread_mutex_lock(&gate);
    while (!holding) pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    pthread_create(&k, NULL, kicker, NULL);

    volatile long jumps = 0, rounds = 0;
    int bad = 0;
    if (sigsetjmp(env, 1)) jumps++;
    while (jumps < JUMPS && !bad) {
        armed = 1;
        bad |= check("mutex_trylock", pthread_mutex_trylock(&busy_m), EBUSY);
        bad |= check("rwlock_tryrdlock", pthread_rwlock_tryrdlock(&busy_rw), EBUSY);
        bad |= check("rwlock_trywrlock", pthread_rwlock_trywrlock(&busy_rw), EBUSY);
        int r = sem_trywait(&empty_sem);
        bad |= check("sem_trywait errno", r == -1 ? errno : 0, EAGAIN);
        bad |= check("cond_signal", pthread_cond_signal(&idle_cv), 0);
        armed = 0;
        rounds++;
    }
    stop_kicking = 1;
    pthread_join(k, NULL);
    pthread_mutex_lock(&gate);
    done = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate);
    pthread_join(h, NULL);
    if (bad) return 1;
    /* Everything still works, and is still traced (the test looks for these
     * 1000 acquisitions of `after` in the trace). */
    for (int i = 0; i < 1000; ++i) {
        if (pthread_mutex_lock(&after) != 0) return 1;
        pthread_mutex_unlock(&after);
    }
    int free_m = pthread_mutex_trylock(&busy_m) == 0;
    printf("jumps=%d busy_mutex_free_at_end=%d\n", JUMPS, free_m);
    fprintf(stderr, "rounds %ld; marker mutex at %p\n", (long)rounds, (void *)&after);
    return free_m ? 0 : 1;
}
