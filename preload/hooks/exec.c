// Exec hooks: the exec family and posix_spawn.  An EXEC event before the
// new image replaces this one, or, from a program that has recorded no lock
// event yet (a wrapper), its trace file handed over to the new image; with
// LOCKTRACE_FOLLOW_EXEC=0 (or in an untraced fork child) the new image's
// LD_PRELOAD loses liblocktrace.
#define _GNU_SOURCE
#include "hook.h"
#include "../env.h"
#include "../life.h"

#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static bool strip_wanted(void)
{
    // The configuration is loaded once output[] is set (never empty then): a
    // fork child whose own file is not made yet has its parent's.
    return lt_strip_exec || (lt_g.cfg.output[0] && !lt_g.cfg.follow_exec);
}

static size_t env_count(char *const *env)
{
    size_t n = 0;
    while (env && env[n])
        ++n;
    return n;
}

/* Before the exec: a program that has recorded nothing hands its trace over
 * to the next one (life.h); any other records the EXEC. */
static void exec_begin(const char *path, char *const argv[])
{
    int e = errno;
    // Another thread is making this process's file (its first lock call, a
    // join say): let it finish, or the new image would leave the file half
    // made, with no header.  Bounded: 1 s.  (Sleeping here must not act on
    // a pending cancel: exec is no cancellation point.)
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_RUNNING) {
        int cancel_state;
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
        for (int i = 0; i < 1000 && __atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_RUNNING; i++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        pthread_setcancelstate(cancel_state, NULL);
    }
    // A fork child that has recorded nothing has no file yet: exec alone
    // does not make one (the new image starts its own).  A vfork child's
    // file is its parent's: never handed over.
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY && !in_vfork_child() &&
        !strip_wanted() && lt_exec_hand_over(argv ? argv[0] : NULL)) {
        errno = e;
        return;
    }
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY && lt_want(LT_PRIM_PROCESS))
        lt_record(LT_EV_EXEC, LT_PRIM_PROCESS, 0, path, 0, 0, 0, 0, 0, LT_STACK_HERE);
    errno = e;
}

/* The exec came back (it failed): the trace is this program's again. */
static int exec_returned(int r)
{
    int e = errno;
    lt_exec_failed();
    errno = e;
    return r;
}

#define WITH_ENV(env, body)                                                                                   \
    do {                                                                                                      \
        char *const *use_env = (env);                                                                         \
        size_t cap_ = strip_wanted() ? env_count(use_env) + 1 : 1;                                            \
        char *copy_[cap_];                                                                                    \
        char buf_[strip_wanted() ? 8192 : 1];                                                                 \
        if (strip_wanted())                                                                                   \
            use_env = lt_env_without_us(use_env, copy_, cap_, buf_, sizeof buf_);                                     \
        body;                                                                                                 \
    } while (0)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    exec_begin(path, argv);
    WITH_ENV(envp, return exec_returned(LT_REAL(execve)(path, argv, use_env)));
}

EXPORT int execv(const char *path, char *const argv[])
{
    exec_begin(path, argv);
    if (!strip_wanted())
        return exec_returned(LT_REAL(execv)(path, argv));
    WITH_ENV(environ, return exec_returned(LT_REAL(execve)(path, argv, use_env)));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    exec_begin(file, argv);
    WITH_ENV(envp, return exec_returned(LT_REAL(execvpe)(file, argv, use_env)));
}

EXPORT int execvp(const char *file, char *const argv[])
{
    exec_begin(file, argv);
    if (!strip_wanted())
        return exec_returned(LT_REAL(execvp)(file, argv));
    WITH_ENV(environ, return exec_returned(LT_REAL(execvpe)(file, argv, use_env)));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    exec_begin(NULL, argv);
    WITH_ENV(envp, return exec_returned(LT_REAL(fexecve)(fd, argv, use_env)));
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    exec_begin(path, argv);
    WITH_ENV(envp, return exec_returned(LT_REAL(execveat)(dirfd, path, argv, use_env, flags)));
}

/* posix_spawn runs the new program without going through our exec hooks:
 * only the environment needs our attention (LOCKTRACE_FOLLOW_EXEC=0). */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, return LT_REAL(posix_spawn)(pid, path, fa, attr, argv, use_env));
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    WITH_ENV(envp, return LT_REAL(posix_spawnp)(pid, file, fa, attr, argv, use_env));
}

/* execl*: gather the list, then the matching execv* hook above. */
#define COLLECT_ARGS(first, ap, argv)                                                                         \
    size_t n_ = 1;                                                                                            \
    va_list cnt_;                                                                                             \
    va_copy(cnt_, ap);                                                                                        \
    while (va_arg(cnt_, char *))                                                                              \
        ++n_;                                                                                                 \
    va_end(cnt_);                                                                                             \
    char *argv[n_ + 1];                                                                                       \
    argv[0] = (char *)(first);                                                                                \
    for (size_t i_ = 1; i_ <= n_; ++i_)                                                                       \
        argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
