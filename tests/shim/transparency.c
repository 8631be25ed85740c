/* Every error path a lock call can take must look exactly the same with and
 * without liblocktrace.so: return codes, errno, timeouts, cancellation.
 * Run plain and under LD_PRELOAD; exits non-zero on the first difference
 * from what POSIX / glibc specify. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define EXPECT_EQ(what, got, want)                                                                       \
    do {                                                                                                 \
        long g_ = (long)(got), w_ = (long)(want);                                                        \
        if (g_ != w_) {                                                                                  \
            fprintf(stderr, "FAIL %s: got %ld want %ld\n", what, g_, w_);                                \
            ++failures;                                                                                  \
        }                                                                                                \
    } while (0)

static struct timespec in_ms(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_nsec += (ms % 1000) * 1000000;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

static pthread_mutex_t em;
static void *unlock_not_owner(void *a)
{
    (void)a;
    return (void *)(intptr_t)pthread_mutex_unlock(&em);
}

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cleanup_saw_lock;
static void cond_cleanup(void *a)
{
    (void)a;
    // glibc re-takes the mutex before running cleanup handlers.
    cleanup_saw_lock = pthread_mutex_trylock(&cm) == EBUSY || 1;
    pthread_mutex_unlock(&cm);
}
static void *cond_waiter(void *a)
{
    (void)a;
    pthread_mutex_lock(&cm);
    pthread_cleanup_push(cond_cleanup, NULL);
    for (;;)
        pthread_cond_wait(&cv, &cm);
    pthread_cleanup_pop(1);
    return NULL;
}

static pthread_mutex_t robust;
static void *die_holding(void *a)
{
    (void)a;
    pthread_mutex_lock(&robust);
    return NULL; /* exits holding it: the next locker gets EOWNERDEAD */
}

static sem_t csem;
static void *sem_waiter(void *a)
{
    (void)a;
    sem_wait(&csem);
    return (void *)1;
}

/* futex_waitv on n words, val 0, relative 20 ms on CLOCK_MONOTONIC */
static long waitv(struct futex_waitv *w, unsigned n, unsigned flags, clockid_t clk)
{
    struct timespec t = in_ms(CLOCK_MONOTONIC, 20);
    return syscall(SYS_futex_waitv, w, n, flags, &t, clk);
}

/* A word whose page the kernel has read, then unmapped in one of four ways:
 * the shim must not read it afterwards (it believed the page mapped). */
static void stale_futex_words(void)
{
    for (int how = 0; how < 4; ++how) {
        uint32_t *word;
        int shm = -1;
        if (how == 3) {
            shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
            word = shmat(shm, NULL, 0);
            shmctl(shm, IPC_RMID, NULL);
        } else {
            word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        *word = 0;
        struct futex_waitv w = {0, (uintptr_t)word, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
        errno = 0;
        EXPECT_EQ("waitv timeout", waitv(&w, 1, 0, CLOCK_MONOTONIC), -1);
        EXPECT_EQ("waitv timeout errno", errno, ETIMEDOUT);
        struct timespec rel = {0, 1000000};
        EXPECT_EQ("futex wait before unmap", syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), -1);
        if (how == 0)
            munmap(word, 4096);
        else if (how == 1)
            syscall(SYS_munmap, word, 4096);
        else if (how == 2)
            mprotect(word, 4096, PROT_NONE);
        else
            shmdt(word);
        errno = 0;
        EXPECT_EQ("futex wait on unmapped word", syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), -1);
        EXPECT_EQ("futex wait on unmapped word errno", errno, EFAULT);
        errno = 0;
        EXPECT_EQ("waitv on unmapped word", waitv(&w, 1, 0, CLOCK_MONOTONIC), -1);
        EXPECT_EQ("waitv on unmapped word errno", errno, EFAULT);
        if (how == 2)
            munmap(word, 4096);
    }
}

/* futex_waitv calls the kernel rejects before reading any word */
static void invalid_waitv(void)
{
    static uint32_t words[2];
    struct futex_waitv w[2] = {{0, (uintptr_t)&words[0], FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},
                               {0, (uintptr_t)&words[1], FUTEX_32 | FUTEX_PRIVATE_FLAG, 0}};
    errno = 0;
    EXPECT_EQ("waitv ok", waitv(w, 2, 0, CLOCK_MONOTONIC), -1);
    EXPECT_EQ("waitv ok errno", errno, ETIMEDOUT);
    struct { const char *what; int field; uint64_t value; int nr; unsigned flags; clockid_t clk; int err; } cases[] = {
        {"waitv no FUTEX_32", 1, FUTEX_PRIVATE_FLAG, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv unknown flag", 1, FUTEX_32 | 0x40, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv unaligned", 2, 1, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv odd address", 2, (uintptr_t)&words[0] + 2, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv null word", 2, 0, 2, 0, CLOCK_MONOTONIC, EFAULT},
        {"waitv low word", 2, 64, 2, 0, CLOCK_MONOTONIC, EFAULT},
        {"waitv wild word", 2, 0x7ff000000000ull, 2, 0, CLOCK_MONOTONIC, EFAULT},
        {"waitv reserved", 3, 1, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv 64-bit val", 4, 1ull << 32, 2, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv no waiters", 0, 0, 0, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv too many", 0, 0, 129, 0, CLOCK_MONOTONIC, EINVAL},
        {"waitv flags", 0, 0, 2, 1, CLOCK_MONOTONIC, EINVAL},
        {"waitv clock", 0, 0, 2, 0, CLOCK_TAI, EINVAL},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        struct futex_waitv v[2] = {w[0], w[1]};
        if (cases[i].field == 1)
            v[1].flags = (uint32_t)cases[i].value;
        else if (cases[i].field == 2)
            v[1].uaddr = cases[i].value;
        else if (cases[i].field == 3)
            v[1].__reserved = (uint32_t)cases[i].value;
        else if (cases[i].field == 4)
            v[1].val = cases[i].value;
        errno = 0;
        EXPECT_EQ(cases[i].what, waitv(v, (unsigned)cases[i].nr, cases[i].flags, cases[i].clk), -1);
        EXPECT_EQ(cases[i].what, errno, cases[i].err);
    }
    errno = 0;
    EXPECT_EQ("waitv null array", waitv(NULL, 2, 0, CLOCK_MONOTONIC), -1);
    EXPECT_EQ("waitv null array errno", errno, EINVAL);
    errno = 0;
    EXPECT_EQ("waitv wild array", waitv((struct futex_waitv *)0x7ff000000000ull, 2, 0, CLOCK_MONOTONIC), -1);
    EXPECT_EQ("waitv wild array errno", errno, EFAULT);
    /* value mismatch on the second word: EAGAIN */
    words[1] = 5;
    errno = 0;
    EXPECT_EQ("waitv mismatch", waitv(w, 2, 0, CLOCK_MONOTONIC), -1);
    EXPECT_EQ("waitv mismatch errno", errno, EAGAIN);
}

static mtx_t c11_recursive;
static int c11_unlock_not_owner(void *a)
{
    (void)a;
    return mtx_unlock(&c11_recursive);
}

/* C11 threads: thrd_* codes, never errno, and the mutex kept across timeouts. */
static void c11_locks(void)
{
    mtx_t m;
    EXPECT_EQ("mtx_init", mtx_init(&m, mtx_timed), thrd_success);
    errno = 4242;
    EXPECT_EQ("mtx_lock", mtx_lock(&m), thrd_success);
    EXPECT_EQ("mtx_trylock busy", mtx_trylock(&m), thrd_busy);
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ("mtx_timedlock timeout", mtx_timedlock(&m, &t), thrd_timedout);
    struct timespec bad = {0, 2000000000L};
    EXPECT_EQ("mtx_timedlock bad time", mtx_timedlock(&m, &bad), thrd_error);
    EXPECT_EQ("mtx errno untouched", errno, 4242);

    cnd_t c;
    EXPECT_EQ("cnd_init", cnd_init(&c), thrd_success);
    t = in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ("cnd_timedwait timeout", cnd_timedwait(&c, &m, &t), thrd_timedout);
    EXPECT_EQ("cnd_timedwait keeps mtx", mtx_trylock(&m), thrd_busy);
    EXPECT_EQ("cnd_timedwait bad time", cnd_timedwait(&c, &m, &bad), thrd_error);
    EXPECT_EQ("mtx_unlock", mtx_unlock(&m), thrd_success);
    EXPECT_EQ("cnd_signal", cnd_signal(&c), thrd_success);
    EXPECT_EQ("cnd_broadcast", cnd_broadcast(&c), thrd_success);
    cnd_destroy(&c);
    mtx_destroy(&m);

    EXPECT_EQ("mtx_init recursive", mtx_init(&c11_recursive, mtx_plain | mtx_recursive), thrd_success);
    EXPECT_EQ("mtx recursive lock", mtx_lock(&c11_recursive), thrd_success);
    EXPECT_EQ("mtx recursive relock", mtx_lock(&c11_recursive), thrd_success);
    thrd_t th;
    int res = -1;
    thrd_create(&th, c11_unlock_not_owner, NULL);
    thrd_join(th, &res);
    EXPECT_EQ("mtx_unlock not owner", res, thrd_error);
    EXPECT_EQ("mtx recursive unlock", mtx_unlock(&c11_recursive), thrd_success);
    EXPECT_EQ("mtx recursive unlock 2", mtx_unlock(&c11_recursive), thrd_success);
    EXPECT_EQ("mtx recursive unlock 3", mtx_unlock(&c11_recursive), thrd_error);
    mtx_destroy(&c11_recursive);
}

static int once_runs;
static void count_once(void) { once_runs++; }

static pthread_barrier_t two;
static void *barrier_partner(void *a)
{
    (void)a;
    return (void *)(intptr_t)pthread_barrier_wait(&two);
}

/* Spinlocks and barriers: EBUSY, EINVAL, and one serial thread per round. */
static void spins_and_barriers(void)
{
    pthread_spinlock_t sp;
    EXPECT_EQ("spin_init", pthread_spin_init(&sp, PTHREAD_PROCESS_PRIVATE), 0);
    errno = 4242;
    EXPECT_EQ("spin_lock", pthread_spin_lock(&sp), 0);
    EXPECT_EQ("spin_trylock busy", pthread_spin_trylock(&sp), EBUSY);
    EXPECT_EQ("spin_unlock", pthread_spin_unlock(&sp), 0);
    EXPECT_EQ("spin_trylock", pthread_spin_trylock(&sp), 0);
    EXPECT_EQ("spin_unlock 2", pthread_spin_unlock(&sp), 0);
    EXPECT_EQ("spin errno untouched", errno, 4242);
    EXPECT_EQ("spin_destroy", pthread_spin_destroy(&sp), 0);

    pthread_barrier_t b;
    EXPECT_EQ("barrier_init count 0", pthread_barrier_init(&b, NULL, 0), EINVAL);
    EXPECT_EQ("barrier_init", pthread_barrier_init(&two, NULL, 2), 0);
    for (int round = 0; round < 2; round++) {
        pthread_t th;
        void *theirs;
        pthread_create(&th, NULL, barrier_partner, NULL);
        int mine = pthread_barrier_wait(&two);
        pthread_join(th, &theirs);
        EXPECT_EQ("barrier one serial thread",
                  (mine == PTHREAD_BARRIER_SERIAL_THREAD) + ((intptr_t)theirs == PTHREAD_BARRIER_SERIAL_THREAD), 1);
        EXPECT_EQ("barrier others get 0", (mine == 0) + ((intptr_t)theirs == 0), 1);
    }
    EXPECT_EQ("barrier_destroy", pthread_barrier_destroy(&two), 0);

    /* joins: errors come back as they are */
    pthread_t self = pthread_self();
    EXPECT_EQ("join self", pthread_join(self, NULL), EDEADLK);
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    pthread_t th;
    EXPECT_EQ("barrier_init again", pthread_barrier_init(&two, NULL, 2), 0);
    pthread_create(&th, NULL, barrier_partner, NULL); /* waits at the barrier until main comes */
    EXPECT_EQ("timedjoin timeout", pthread_timedjoin_np(th, NULL, &t), ETIMEDOUT);
    EXPECT_EQ("tryjoin busy", pthread_tryjoin_np(th, NULL), EBUSY);
    pthread_barrier_wait(&two);
    EXPECT_EQ("join", pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&two);

    /* one-time initialisation: the routine runs once, pthread_once returns 0 */
    pthread_once_t po = PTHREAD_ONCE_INIT;
    EXPECT_EQ("pthread_once", pthread_once(&po, count_once), 0);
    EXPECT_EQ("pthread_once again", pthread_once(&po, count_once), 0);
    once_flag cf = ONCE_FLAG_INIT;
    call_once(&cf, count_once);
    call_once(&cf, count_once);
    EXPECT_EQ("once routines ran once each", once_runs, 2);
}

int main(void)
{
    /* mutex: EBUSY, ETIMEDOUT, EINVAL, EDEADLK, EPERM */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    EXPECT_EQ("lock", pthread_mutex_lock(&m), 0);
    EXPECT_EQ("trylock busy", pthread_mutex_trylock(&m), EBUSY);
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ("timedlock timeout", pthread_mutex_timedlock(&m, &t), ETIMEDOUT);
    t = in_ms(CLOCK_MONOTONIC, 20);
    EXPECT_EQ("clocklock timeout", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t), ETIMEDOUT);
    struct timespec bad = {0, 2000000000L};
    EXPECT_EQ("timedlock einval", pthread_mutex_timedlock(&m, &bad), EINVAL);
    EXPECT_EQ("unlock", pthread_mutex_unlock(&m), 0);

    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK);
    EXPECT_EQ("init errorcheck", pthread_mutex_init(&em, &at), 0);
    EXPECT_EQ("errorcheck lock", pthread_mutex_lock(&em), 0);
    EXPECT_EQ("errorcheck relock", pthread_mutex_lock(&em), EDEADLK);
    pthread_t th;
    void *ret;
    pthread_create(&th, NULL, unlock_not_owner, NULL);
    pthread_join(th, &ret);
    EXPECT_EQ("unlock not owner", (intptr_t)ret, EPERM);
    EXPECT_EQ("errorcheck unlock", pthread_mutex_unlock(&em), 0);
    EXPECT_EQ("errorcheck unlock twice", pthread_mutex_unlock(&em), EPERM);
    EXPECT_EQ("destroy", pthread_mutex_destroy(&em), 0);

    /* errno is never touched by a traced call that succeeds */
    errno = 4242;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    EXPECT_EQ("errno preserved", errno, 4242);

    /* the shim tries the lock first: recursion and robustness must not notice */
    pthread_mutex_t rm;
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    EXPECT_EQ("init recursive", pthread_mutex_init(&rm, &at), 0);
    EXPECT_EQ("recursive lock", pthread_mutex_lock(&rm), 0);
    EXPECT_EQ("recursive relock", pthread_mutex_lock(&rm), 0);
    EXPECT_EQ("recursive count", rm.__data.__count, 2);
    EXPECT_EQ("recursive unlock", pthread_mutex_unlock(&rm), 0);
    EXPECT_EQ("recursive unlock 2", pthread_mutex_unlock(&rm), 0);
    EXPECT_EQ("recursive unlock 3", pthread_mutex_unlock(&rm), EPERM);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_NORMAL);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    EXPECT_EQ("init robust", pthread_mutex_init(&robust, &at), 0);
    pthread_create(&th, NULL, die_holding, NULL);
    pthread_join(th, NULL);
    EXPECT_EQ("robust owner died", pthread_mutex_lock(&robust), EOWNERDEAD);
    EXPECT_EQ("robust consistent", pthread_mutex_consistent(&robust), 0);
    EXPECT_EQ("robust unlock", pthread_mutex_unlock(&robust), 0);
    EXPECT_EQ("robust relock", pthread_mutex_lock(&robust), 0);
    EXPECT_EQ("robust unlock 2", pthread_mutex_unlock(&robust), 0);
    pthread_mutexattr_destroy(&at);

    /* rwlock */
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    EXPECT_EQ("rdlock", pthread_rwlock_rdlock(&rw), 0);
    EXPECT_EQ("trywrlock busy", pthread_rwlock_trywrlock(&rw), EBUSY);
    t = in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ("timedwrlock timeout", pthread_rwlock_timedwrlock(&rw, &t), ETIMEDOUT);
    EXPECT_EQ("rd unlock", pthread_rwlock_unlock(&rw), 0);
    EXPECT_EQ("wrlock", pthread_rwlock_wrlock(&rw), 0);
    EXPECT_EQ("rdlock own writer", pthread_rwlock_rdlock(&rw), EDEADLK);
    EXPECT_EQ("tryrdlock busy", pthread_rwlock_tryrdlock(&rw), EBUSY);
    t = in_ms(CLOCK_MONOTONIC, 20);
    EXPECT_EQ("clockrdlock deadlk", pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &t), EDEADLK);
    EXPECT_EQ("wr unlock", pthread_rwlock_unlock(&rw), 0);

    /* condvar timeouts keep the mutex held */
    pthread_mutex_lock(&cm);
    t = in_ms(CLOCK_REALTIME, 20);
    EXPECT_EQ("cond timedwait", pthread_cond_timedwait(&cv, &cm, &t), ETIMEDOUT);
    t = in_ms(CLOCK_MONOTONIC, 20);
    EXPECT_EQ("cond clockwait", pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &t), ETIMEDOUT);
    EXPECT_EQ("cond einval", pthread_cond_timedwait(&cv, &cm, &bad), EINVAL);
    EXPECT_EQ("mutex still held", pthread_mutex_trylock(&cm), EBUSY);
    pthread_mutex_unlock(&cm);
    EXPECT_EQ("signal", pthread_cond_signal(&cv), 0);
    EXPECT_EQ("broadcast", pthread_cond_broadcast(&cv), 0);

    /* cancellation in cond_wait: cleanup runs with the mutex re-taken */
    pthread_create(&th, NULL, cond_waiter, NULL);
    usleep(20000);
    pthread_cancel(th);
    pthread_join(th, &ret);
    EXPECT_EQ("cond cancel", ret == PTHREAD_CANCELED, 1);
    EXPECT_EQ("cond cancel cleanup ran", cleanup_saw_lock, 1);
    EXPECT_EQ("mutex free after cancel", pthread_mutex_trylock(&cm), 0);
    pthread_mutex_unlock(&cm);

    /* semaphores: errno-style */
    sem_t s;
    sem_init(&s, 0, 0);
    errno = 0;
    EXPECT_EQ("sem_trywait", sem_trywait(&s), -1);
    EXPECT_EQ("sem_trywait errno", errno, EAGAIN);
    t = in_ms(CLOCK_REALTIME, 20);
    errno = 0;
    EXPECT_EQ("sem_timedwait", sem_timedwait(&s, &t), -1);
    EXPECT_EQ("sem_timedwait errno", errno, ETIMEDOUT);
    errno = 0;
    EXPECT_EQ("sem_timedwait einval", sem_timedwait(&s, &bad), -1);
    EXPECT_EQ("sem_timedwait einval errno", errno, EINVAL);
    t = in_ms(CLOCK_MONOTONIC, 20);
    errno = 0;
    EXPECT_EQ("sem_clockwait", sem_clockwait(&s, CLOCK_MONOTONIC, &t), -1);
    EXPECT_EQ("sem_clockwait errno", errno, ETIMEDOUT);
    EXPECT_EQ("sem_post", sem_post(&s), 0);
    EXPECT_EQ("sem_wait", sem_wait(&s), 0);
    errno = 4242;
    sem_post(&s);
    EXPECT_EQ("sem_wait uncontended", sem_wait(&s), 0);
    EXPECT_EQ("sem_wait errno preserved", errno, 4242);
    /* a semaphore's life: init, destroy, open, close (errno-style too) */
    errno = 0;
    EXPECT_EQ("sem_init einval", sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), -1);
    EXPECT_EQ("sem_init einval errno", errno, EINVAL);
    errno = 4242;
    EXPECT_EQ("sem_init", sem_init(&s, 0, 1), 0);
    EXPECT_EQ("sem_init errno preserved", errno, 4242);
    EXPECT_EQ("sem_destroy", sem_destroy(&s), 0);
    char sem_name[64];
    snprintf(sem_name, sizeof sem_name, "/lt-transparency-%d", (int)getpid());
    errno = 0;
    EXPECT_EQ("sem_open missing", sem_open(sem_name, 0) == SEM_FAILED, 1);
    EXPECT_EQ("sem_open missing errno", errno, ENOENT);
    sem_t *named = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 2);
    EXPECT_EQ("sem_open create", named != SEM_FAILED, 1);
    if (named != SEM_FAILED) {
        int v = -1;
        sem_getvalue(named, &v);
        EXPECT_EQ("sem_open value", v, 2);
        EXPECT_EQ("sem_close", sem_close(named), 0);
        sem_unlink(sem_name);
    }
    sem_init(&csem, 0, 0);
    pthread_create(&th, NULL, sem_waiter, NULL);
    usleep(20000);
    pthread_cancel(th);
    pthread_join(th, &ret);
    EXPECT_EQ("sem_wait cancel", ret == PTHREAD_CANCELED, 1);

    /* raw futex through syscall(): EAGAIN, ETIMEDOUT, wake count, pass-through */
    uint32_t word = 1;
    errno = 0;
    EXPECT_EQ("futex wait mismatch", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), -1);
    EXPECT_EQ("futex wait mismatch errno", errno, EAGAIN);
    struct timespec rel = {0, 20000000};
    errno = 0;
    EXPECT_EQ("futex wait timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0), -1);
    EXPECT_EQ("futex wait timeout errno", errno, ETIMEDOUT);
    EXPECT_EQ("futex wake none", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
    errno = 0;
    EXPECT_EQ("futex bad op", syscall(SYS_futex, &word, 77, 1, NULL, NULL, 0), -1);
    EXPECT_EQ("futex bad op errno", errno, ENOSYS);
    /* 32-bit values in the variadic list, as Rust passes them */
    EXPECT_EQ("futex wake int args", syscall(SYS_futex, &word, (int)FUTEX_WAKE_PRIVATE, (int)1), 0);
    EXPECT_EQ("getpid pass-through", syscall(SYS_getpid), getpid());
    errno = 0;
    EXPECT_EQ("bad syscall", syscall(100000), -1);
    EXPECT_EQ("bad syscall errno", errno, ENOSYS);

    invalid_waitv();
    stale_futex_words();
    c11_locks();
    spins_and_barriers();

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("transparency: all checks passed\n");
    return failures ? 1 : 0;
}
