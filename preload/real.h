// The real libc functions behind our hooks.
//
// The basic mutex/rwlock entry points are bound at link time to glibc's
// non-default "__pthread_*@GLIBC_2.2.5" aliases (same code as the public
// names, but nobody else defines them, so the reference can never resolve back
// to our own hook).  They work before anything is initialised, which is what
// lets a custom malloc call pthread_mutex_lock while dlsym is still running.
// Everything else is looked up once with dlsym/dlvsym(RTLD_NEXT).
#pragma once
#include "cdecl.h"
#include "state.h"
#include <pthread.h>
#include <semaphore.h>
#include <sys/types.h>
#include <threads.h>
#include <time.h>

LT_C_BEGIN
int lt_real_mutex_lock(pthread_mutex_t *);
int lt_real_mutex_trylock(pthread_mutex_t *);
int lt_real_mutex_unlock(pthread_mutex_t *);
int lt_real_mutex_init(pthread_mutex_t *, const pthread_mutexattr_t *);
int lt_real_mutex_destroy(pthread_mutex_t *);
int lt_real_rwlock_rdlock(pthread_rwlock_t *);
int lt_real_rwlock_tryrdlock(pthread_rwlock_t *);
int lt_real_rwlock_wrlock(pthread_rwlock_t *);
int lt_real_rwlock_trywrlock(pthread_rwlock_t *);
int lt_real_rwlock_unlock(pthread_rwlock_t *);
int lt_real_rwlock_init(pthread_rwlock_t *, const pthread_rwlockattr_t *);
int lt_real_rwlock_destroy(pthread_rwlock_t *);
int lt_real_key_create(pthread_key_t *, void (*)(void *));
int lt_real_setspecific(pthread_key_t, const void *) __attribute__((access(none, 2)));
LT_C_END
__asm__(".symver lt_real_mutex_lock,__pthread_mutex_lock@GLIBC_2.2.5\n"
        ".symver lt_real_mutex_trylock,__pthread_mutex_trylock@GLIBC_2.2.5\n"
        ".symver lt_real_mutex_unlock,__pthread_mutex_unlock@GLIBC_2.2.5\n"
        ".symver lt_real_mutex_init,__pthread_mutex_init@GLIBC_2.2.5\n"
        ".symver lt_real_mutex_destroy,__pthread_mutex_destroy@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_rdlock,__pthread_rwlock_rdlock@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_tryrdlock,__pthread_rwlock_tryrdlock@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_wrlock,__pthread_rwlock_wrlock@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_trywrlock,__pthread_rwlock_trywrlock@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_unlock,__pthread_rwlock_unlock@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_init,__pthread_rwlock_init@GLIBC_2.2.5\n"
        ".symver lt_real_rwlock_destroy,__pthread_rwlock_destroy@GLIBC_2.2.5\n"
        ".symver lt_real_key_create,__pthread_key_create@GLIBC_2.2.5\n"
        ".symver lt_real_setspecific,__pthread_setspecific@GLIBC_2.2.5\n");

/* The program's mutex/rwlock calls go on to whatever comes next in the lookup
 * order.  That is glibc, called through the aliases above (null entries
 * here), unless a library preloaded after ours wraps the function too
 * (another lock tracer, say): then its wrapper, so that it sees the
 * program's calls as it would without us.  The shim's own internal locks
 * always go straight to glibc. */
struct lt_next_table {
    int (*mutex_lock)(pthread_mutex_t *);
    int (*mutex_trylock)(pthread_mutex_t *);
    int (*mutex_unlock)(pthread_mutex_t *);
    int (*mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
    int (*mutex_destroy)(pthread_mutex_t *);
    int (*rwlock_rdlock)(pthread_rwlock_t *);
    int (*rwlock_tryrdlock)(pthread_rwlock_t *);
    int (*rwlock_wrlock)(pthread_rwlock_t *);
    int (*rwlock_trywrlock)(pthread_rwlock_t *);
    int (*rwlock_unlock)(pthread_rwlock_t *);
    int (*rwlock_init)(pthread_rwlock_t *, const pthread_rwlockattr_t *);
    int (*rwlock_destroy)(pthread_rwlock_t *);
    int (*key_create)(pthread_key_t *, void (*)(void *));
    int (*setspecific)(pthread_key_t, const void *) __attribute__((access(none, 2)));
    /* Some mutex/rwlock entry above is another library's: the hooks then call the
     * blocking function itself, not the try-variant first, so that library
     * sees the same calls as the program made. */
    int any;
};

struct lt_real_table {
    int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
    int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
    int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
    int (*mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
    int (*mutex_consistent)(pthread_mutex_t *);
    int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
    int (*cond_signal)(pthread_cond_t *);
    int (*cond_broadcast)(pthread_cond_t *);
    int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
    int (*cond_destroy)(pthread_cond_t *);
    int (*mtx_lock)(mtx_t *);
    int (*mtx_trylock)(mtx_t *);
    int (*mtx_timedlock)(mtx_t *, const struct timespec *);
    int (*mtx_unlock)(mtx_t *);
    int (*mtx_init)(mtx_t *, int);
    void (*mtx_destroy)(mtx_t *);
    int (*cnd_wait)(cnd_t *, mtx_t *);
    int (*cnd_timedwait)(cnd_t *, mtx_t *, const struct timespec *);
    int (*cnd_signal)(cnd_t *);
    int (*cnd_broadcast)(cnd_t *);
    int (*cnd_init)(cnd_t *);
    void (*cnd_destroy)(cnd_t *);
    int (*spin_lock)(pthread_spinlock_t *);
    int (*spin_trylock)(pthread_spinlock_t *);
    int (*spin_unlock)(pthread_spinlock_t *);
    int (*spin_init)(pthread_spinlock_t *, int);
    int (*spin_destroy)(pthread_spinlock_t *);
    int (*once)(pthread_once_t *, void (*)(void));
    void (*call_once)(once_flag *, void (*)(void));
    int (*barrier_wait)(pthread_barrier_t *);
    int (*barrier_init)(pthread_barrier_t *, const pthread_barrierattr_t *, unsigned);
    int (*barrier_destroy)(pthread_barrier_t *);
    int (*sem_wait)(sem_t *);
    int (*sem_trywait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*sem_init)(sem_t *, int, unsigned);
    int (*sem_destroy)(sem_t *);
    sem_t *(*sem_open)(const char *, int, ...);
    int (*sem_close)(sem_t *);
    long (*syscall)(long, ...);
    pid_t (*fork)(void);
    pid_t (*fork_raw)(void); /* _Fork */
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    int (*posix_spawn)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]);
    int (*posix_spawnp)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]);
    void *(*dlopen)(const char *, int);
    int (*dlclose)(void *);
    int (*setname)(pthread_t, const char *);
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    void (*thread_exit)(void *) __attribute__((noreturn));
    int (*thrd_create)(unsigned long *, int (*)(void *), void *);
    int (*join)(pthread_t, void **);
    int (*tryjoin)(pthread_t, void **);
    int (*timedjoin)(pthread_t, void **, const struct timespec *);
    int (*clockjoin)(pthread_t, void **, clockid_t, const struct timespec *);
    int (*thrd_join)(thrd_t, int *);
    void (*exit)(int) __attribute__((noreturn));
    void (*exit_now)(int) __attribute__((noreturn)); /* _exit */
    void (*exit_now2)(int) __attribute__((noreturn)); /* _Exit */
    int (*libc_start_main)(int (*)(int, char **, char **), int, char **, void (*)(void), void (*)(void),
                           void (*)(void), void *);
};

LT_C_BEGIN
extern struct lt_real_table lt_real __attribute__((visibility("hidden")));
extern struct lt_next_table lt_next __attribute__((visibility("hidden")));
/* Fills lt_real.  Idempotent, safe to call from any hook. */
void lt_resolve(void) __attribute__((visibility("hidden")));
LT_C_END

#define LT_REAL(fn) (__builtin_expect(lt_real.fn != 0, 1) ? lt_real.fn : (lt_resolve(), lt_real.fn))
/* The next definition of a program-facing mutex/rwlock call (see lt_next_table). */
#define LT_NEXT(fn, ...)                                                                                      \
    (__builtin_expect(lt_next.fn != 0, 0) && !lt_tls.internal ? lt_next.fn(__VA_ARGS__) : lt_real_##fn(__VA_ARGS__))
