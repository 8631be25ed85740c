/* Small programs for the shim's smoke tests; argv[1] picks one.  Each does a
 * known number of lock operations so the test can count the records. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <errno.h>
#include <linux/futex.h>
#include <alloca.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long counter;

static void *locker(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; ++i) {
        pthread_mutex_lock(&m);
        ++counter;
        pthread_mutex_unlock(&m);
        pthread_rwlock_rdlock(&rw);
        pthread_rwlock_unlock(&rw);
        pthread_rwlock_wrlock(&rw);
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

/* threads N ITER: N threads, each ITER x (mutex, rdlock, wrlock); exit 7 */
static int threads(int n, long iter)
{
    pthread_t t[64];
    for (int i = 0; i < n; ++i) {
        pthread_create(&t[i], NULL, locker, (void *)iter);
        char name[16];
        snprintf(name, sizeof name, "locker-%d", i);
        pthread_setname_np(t[i], name);
    }
    for (int i = 0; i < n; ++i)
        pthread_join(t[i], NULL);
    return counter == n * iter ? 7 : 1;
}

/* sequential N: N short-lived threads one after the other (slot recycling) */
static int sequential(int n)
{
    for (int i = 0; i < n; ++i) {
        pthread_t t;
        pthread_create(&t, NULL, locker, (void *)1L);
        pthread_join(t, NULL);
    }
    return counter == n ? 0 : 1;
}

/* fork: parent and child each lock 10 times; child exits 3 */
static int do_fork(void)
{
    locker((void *)10L);
    pid_t p = fork();
    if (p == 0) {
        locker((void *)10L);
        exit(3);
    }
    int st = 0;
    waitpid(p, &st, 0);
    locker((void *)10L);
    printf("child %d\n", (int)p);
    return WIFEXITED(st) && WEXITSTATUS(st) == 3 ? 0 : 1;
}

/* exec: lock 5 times, then exec ourselves as "threads 1 5" */
static int do_exec(const char *self)
{
    locker((void *)5L);
    execl(self, self, "threads", "1", "5", (char *)NULL);
    perror("execl");
    return 1;
}

/* exec-first: exec before taking any lock, as a wrapper (taskset, setsid)
 * does: the exec'd image takes the trace file over. */
static int do_exec_first(const char *self)
{
    execl(self, self, "threads", "1", "5", (char *)NULL);
    perror("execl");
    return 1;
}

/* exec-fails: an exec that comes back (no such file), then locks: the
 * file stays this program's own. */
static int do_exec_fails(void)
{
    execl("/nonexistent/locktrace-workload", "locktrace-workload", (char *)NULL);
    locker((void *)5L);
    return 7;
}

/* futex: a ping-pong on a raw futex word between two threads */
static uint32_t fword;
static void *futex_waiter(void *a)
{
    (void)a;
    while (__atomic_load_n(&fword, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}
static int futex(void)
{
    pthread_t t;
    pthread_create(&t, NULL, futex_waiter, NULL);
    usleep(20000);
    __atomic_store_n(&fword, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(t, NULL);
    return 0;
}

/* signal: a handler that takes a mutex interrupts a thread that is busy
 * locking another one; the program must stay correct. */
static pthread_mutex_t hm = PTHREAD_MUTEX_INITIALIZER;
static volatile long handled;
static void handler(int s)
{
    (void)s;
    if (pthread_mutex_trylock(&hm) == 0) {
        pthread_mutex_unlock(&hm);
        ++handled;
    }
}
static int signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t self = getpid();
    pid_t kid = fork();
    if (kid == 0) {
        for (int i = 0; i < 2000; ++i) {
            kill(self, SIGUSR1);
            usleep(100);
        }
        _exit(0);
    }
    int st;
    while (waitpid(kid, &st, WNOHANG) == 0)
        locker((void *)100L);
    return handled > 0 ? 0 : 1;
}

/* dlopen PATH: load a plugin whose constructor locks, call it, close it */
static int do_dlopen(const char *path)
{
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*fn)(void) = (int (*)(void))dlsym(h, "plugin_fn");
    locker((void *)1L);
    int r = fn ? fn() : 0;
    dlclose(h);
    return r == 42 ? 0 : 1;
}

/* positions N: lock one mutex from N different stack positions (the same
 * call chain under a frame of a different size each time), in a new thread
 * and in main: more places than the shim's stack cache holds, so it walks
 * again and again (libunwind's fast trace after the first few walks). */
static pthread_mutex_t positions_mutex = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void lock_at_position(void)
{
    pthread_mutex_lock(&positions_mutex);
    pthread_mutex_unlock(&positions_mutex);
}

__attribute__((noinline)) static void at_position(long k)
{
    volatile char *frame = alloca(16 * (size_t)(k + 1));
    frame[0] = 0;
    lock_at_position();
    __asm__ volatile("" ::: "memory"); /* keep the frame alive past the call */
}

static void *positions_thread(void *arg)
{
    for (long k = 0; k < (long)arg; ++k)
        at_position(k);
    return NULL;
}

static int positions(long n)
{
    pthread_t t;
    pthread_create(&t, NULL, positions_thread, (void *)n);
    pthread_join(t, NULL);
    positions_thread((void *)n);
    return 0;
}

/* sites: one function locks and unlocks one mutex from 12 lines in turn
 * (24 call sites at one stack depth, as a function with many early-return
 * unlocks has), called from 4 depths of recursion (96 call chains), `rounds`
 * times over. */
static pthread_mutex_t site_mutex = PTHREAD_MUTEX_INITIALIZER;
#define SITE pthread_mutex_lock(&site_mutex); pthread_mutex_unlock(&site_mutex);
static __attribute__((noinline)) void twelve_sites(void)
{
    SITE SITE SITE SITE SITE SITE SITE SITE SITE SITE SITE SITE
}
static __attribute__((noinline)) void at_depth(int d)
{
    if (d > 0)
        at_depth(d - 1);
    else
        twelve_sites();
    __asm__ volatile("" ::: "memory"); /* not a tail call: one frame per level */
}
static int sites(long rounds)
{
    for (long r = 0; r < rounds; ++r)
        for (int d = 0; d < 4; ++d)
            at_depth(d);
    printf("sites mutex %p\n", (void *)&site_mutex);
    return 0;
}

/* keys: lock in a new thread and in main (stacks get unwound in both, in
 * both of the unwinder's modes), then print how many pthread keys the
 * program can still create */
static int keys(void)
{
    pthread_t t;
    pthread_create(&t, NULL, locker, (void *)10L);
    pthread_join(t, NULL);
    locker((void *)10L);
    positions(200);
    int n = 0;
    pthread_key_t k;
    while (n < 100000 && pthread_key_create(&k, NULL) == 0)
        ++n;
    printf("keys %d\n", n);
    return 0;
}

/* longjmp: a signal handler that siglongjmps out of whatever it interrupted
 * (the shim's recorder among others) while this thread signals a condvar in
 * a loop; afterwards 1000 signals of another condvar (cv_after), which must
 * be recorded as ordinary events: not NESTED, not lost, with their stack. */
static sigjmp_buf jump_back;
static volatile sig_atomic_t jumps;
static pthread_cond_t cv_loop = PTHREAD_COND_INITIALIZER, cv_after = PTHREAD_COND_INITIALIZER;
static volatile int sender_done, jump_armed;
static void jump_handler(int s)
{
    (void)s;
    ++jumps;
    siglongjmp(jump_back, 1);
}
static void *jump_sender(void *target)
{
    while (!__atomic_load_n(&jump_armed, __ATOMIC_ACQUIRE))
        usleep(100);
    for (int i = 0; i < 3000; ++i) {
        pthread_kill(*(pthread_t *)target, SIGUSR2);
        usleep(50);
    }
    __atomic_store_n(&sender_done, 1, __ATOMIC_RELEASE);
    return NULL;
}
static int do_longjmp(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = jump_handler;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t self = pthread_self(), t;
    pthread_cond_signal(&cv_loop); /* the thread's ring exists before the first signal */
    pthread_create(&t, NULL, jump_sender, &self);
    sigsetjmp(jump_back, 1);
    __atomic_store_n(&jump_armed, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&sender_done, __ATOMIC_ACQUIRE))
        pthread_cond_signal(&cv_loop);
    pthread_join(t, NULL);
    signal(SIGUSR2, SIG_IGN);
    for (int i = 0; i < 1000; ++i)
        pthread_cond_signal(&cv_after);
    printf("jumps %d cv_after %p\n", (int)jumps, (void *)&cv_after);
    return jumps > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "threads";
    if (!strcmp(mode, "threads"))
        return threads(argc > 2 ? atoi(argv[2]) : 4, argc > 3 ? atol(argv[3]) : 1000);
    if (!strcmp(mode, "sequential"))
        return sequential(argc > 2 ? atoi(argv[2]) : 20);
    if (!strcmp(mode, "fork"))
        return do_fork();
    if (!strcmp(mode, "exec"))
        return do_exec(argv[0]);
    if (!strcmp(mode, "exec-first"))
        return do_exec_first(argv[0]);
    if (!strcmp(mode, "exec-fails"))
        return do_exec_fails();
    if (!strcmp(mode, "futex"))
        return futex();
    if (!strcmp(mode, "dlopen") && argc > 2)
        return do_dlopen(argv[2]);
    if (!strcmp(mode, "signals"))
        return signals();
    if (!strcmp(mode, "keys"))
        return keys();
    if (!strcmp(mode, "positions"))
        return positions(argc > 2 ? atol(argv[2]) : 300);
    if (!strcmp(mode, "longjmp"))
        return do_longjmp();
    if (!strcmp(mode, "sites"))
        return sites(argc > 2 ? atol(argv[2]) : 1000);
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
