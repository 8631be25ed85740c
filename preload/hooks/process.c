// Process hooks: dlopen/dlclose (the module table), the address-space limit
// (the ring reservation gives way), exit and the status main returns.
#define _GNU_SOURCE
#include "hook.h"
#include "../life.h"
#include "../modules.h"
#include "../tracefile.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- dlopen / dlclose ------------------------------------------------------ */
/* dlopen itself is an assembly trampoline (dlopen_trampoline.S) that jumps to
 * the real one, so glibc sees the program's return address: the caller
 * decides the namespace and the RUNPATH/$ORIGIN search.  It calls this first;
 * the new objects are picked up by the next event's refresh. */
LT_HIDDEN void *lt_dlopen_prepare(void)
{
    int e = errno;
    void *real = (void *)LT_REAL(dlopen);
    __atomic_store_n(&lt_modules_stale, 1u, __ATOMIC_RELAXED);
    errno = e;
    return real;
}

EXPORT int dlclose(void *handle)
{
    int r = LT_REAL(dlclose)(handle);
    if (lt_want(LT_PRIM_PROCESS)) {
        // dlerror state must survive: refresh does not touch it.
        uint32_t added = lt_modules_refresh();
        NOTE_CALLER();
        lt_record(LT_EV_DLOPEN, LT_PRIM_PROCESS, 0, handle, 0, 0, 0, (int32_t)added, 1, LT_STACK_HERE);
    }
    return r;
}

/* ---- address-space limit ---------------------------------------------------- */
/* The rings' address space is reserved when the program starts (lt_init); a
 * program that then lowers RLIMIT_AS must not find it used up by us. */
static void *next_fn(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        ++lt_tls.mute; /* dlsym may allocate and lock */
        f = dlsym(RTLD_NEXT, name);
        --lt_tls.mute;
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void before_as_limit(int resource, const struct rlimit *lim)
{
    if (resource == RLIMIT_AS && lim && lim->rlim_cur != RLIM_INFINITY)
        lt_ring_area_trim();
}

#define RLIMIT_HOOK(name, rl_type)                                                                            \
    EXPORT int name(__rlimit_resource_t resource, const struct rl_type *lim)                                 \
    {                                                                                                         \
        static void *next;                                                                                    \
        int e = errno;                                                                                        \
        before_as_limit((int)resource, (const struct rlimit *)lim);                                           \
        int (*f)(__rlimit_resource_t, const struct rl_type *) =                                               \
            (int (*)(__rlimit_resource_t, const struct rl_type *))next_fn(&next, #name);                      \
        errno = e;                                                                                            \
        return f(resource, lim);                                                                              \
    }
RLIMIT_HOOK(setrlimit, rlimit)
RLIMIT_HOOK(setrlimit64, rlimit64)

#define PRLIMIT_HOOK(name, rl_type)                                                                           \
    EXPORT int name(pid_t pid, __rlimit_resource_t resource, const struct rl_type *lim, struct rl_type *old)  \
    {                                                                                                         \
        static void *next;                                                                                    \
        int e = errno;                                                                                        \
        if (pid == 0 || pid == getpid())                                                                      \
            before_as_limit((int)resource, (const struct rlimit *)lim);                                       \
        int (*f)(pid_t, __rlimit_resource_t, const struct rl_type *, struct rl_type *) =                      \
            (int (*)(pid_t, __rlimit_resource_t, const struct rl_type *, struct rl_type *))next_fn(&next, #name); \
        errno = e;                                                                                            \
        return f(pid, resource, lim, old);                                                                    \
    }
PRLIMIT_HOOK(prlimit, rlimit)
PRLIMIT_HOOK(prlimit64, rlimit64)

/* ---- exit ------------------------------------------------------------------ */

EXPORT void exit(int status)
{
    if (!in_vfork_child())
        lt_note_exit_status(status);
    LT_REAL(exit)(status);
}

EXPORT void _exit(int status)
{
    if (!in_vfork_child()) {
        lt_note_exit_status(status);
        lt_stamp_end();
    }
    LT_REAL(exit_now)(status);
}

EXPORT void _Exit(int status)
{
    if (!in_vfork_child()) {
        lt_note_exit_status(status);
        lt_stamp_end();
    }
    LT_REAL(exit_now2)(status);
}

/* Returning from main calls exit() inside libc, where no hook sees it: wrap
 * main to learn its status. */
static int (*g_real_main)(int, char **, char **);

static int main_wrapper(int argc, char **argv, char **envp)
{
    int status = g_real_main(argc, argv, envp);
    lt_note_exit_status(status);
    return status;
}

EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    g_real_main = main;
    return LT_REAL(libc_start_main)(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}
