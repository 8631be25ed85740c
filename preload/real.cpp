#include "real.h"
#include "state.h"

#include <dlfcn.h>

lt_real_table lt_real;
lt_next_table lt_next;

template <typename T> static void bind(T &slot, const char *name, const char *version = nullptr)
{
    if (slot)
        return;
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : nullptr;
    if (!p)
        p = dlsym(RTLD_NEXT, name);
    __atomic_store_n(&slot, reinterpret_cast<T>(p), __ATOMIC_RELEASE);
}

/* Binds lt_next.fn to the next definition of name when it lies outside
 * glibc (the object that holds our link-time alias target `glibc_fn`).
 * True when the slot holds another library's function. */
template <typename T> static bool bind_next(T &slot, const char *name, T glibc_fn)
{
    if (slot)
        return true;
    void *p = dlsym(RTLD_NEXT, name);
    Dl_info mine{}, next{};
    if (!p || !dladdr(reinterpret_cast<void *>(glibc_fn), &mine) || !dladdr(p, &next) ||
        next.dli_fbase == mine.dli_fbase)
        return false;
    __atomic_store_n(&slot, reinterpret_cast<T>(p), __ATOMIC_RELEASE);
    return true;
}

static void resolve_next(void)
{
    auto &n = lt_next;
    // Only a wrapped lock call turns the try-first fast path off (lt_next.any);
    // a wrapped pthread_setspecific, say, has nothing to do with it.
    bool locks = bind_next(n.mutex_lock, "pthread_mutex_lock", lt_real_mutex_lock);
    locks |= bind_next(n.mutex_trylock, "pthread_mutex_trylock", lt_real_mutex_trylock);
    locks |= bind_next(n.mutex_unlock, "pthread_mutex_unlock", lt_real_mutex_unlock);
    locks |= bind_next(n.mutex_init, "pthread_mutex_init", lt_real_mutex_init);
    locks |= bind_next(n.mutex_destroy, "pthread_mutex_destroy", lt_real_mutex_destroy);
    locks |= bind_next(n.rwlock_rdlock, "pthread_rwlock_rdlock", lt_real_rwlock_rdlock);
    locks |= bind_next(n.rwlock_tryrdlock, "pthread_rwlock_tryrdlock", lt_real_rwlock_tryrdlock);
    locks |= bind_next(n.rwlock_wrlock, "pthread_rwlock_wrlock", lt_real_rwlock_wrlock);
    locks |= bind_next(n.rwlock_trywrlock, "pthread_rwlock_trywrlock", lt_real_rwlock_trywrlock);
    locks |= bind_next(n.rwlock_unlock, "pthread_rwlock_unlock", lt_real_rwlock_unlock);
    locks |= bind_next(n.rwlock_init, "pthread_rwlock_init", lt_real_rwlock_init);
    locks |= bind_next(n.rwlock_destroy, "pthread_rwlock_destroy", lt_real_rwlock_destroy);
    bind_next(n.key_create, "pthread_key_create", lt_real_key_create);
    bind_next(n.setspecific, "pthread_setspecific", lt_real_setspecific);
    if (locks)
        __atomic_store_n(&lt_next.any, 1, __ATOMIC_RELEASE);
}

void lt_resolve(void)
{
    // dlsym may allocate and take locks; whatever it calls is not traced.
    lt_mute_guard mute;
    auto &r = lt_real;
    bind(r.rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
    bind(r.rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
    bind(r.rwlock_clockrdlock, "pthread_rwlock_clockrdlock", "GLIBC_2.34");
    bind(r.rwlock_clockwrlock, "pthread_rwlock_clockwrlock", "GLIBC_2.34");
    bind(r.mutex_timedlock, "pthread_mutex_timedlock");
    bind(r.mutex_clocklock, "pthread_mutex_clocklock", "GLIBC_2.34");
    bind(r.mutex_consistent, "pthread_mutex_consistent");
    // The condvar ABI changed in 2.3.2; the default symbol is the new one but
    // ask for it by version so an old-ABI alias can never be picked.
    bind(r.cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
    bind(r.cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
    bind(r.cond_signal, "pthread_cond_signal", "GLIBC_2.3.2");
    bind(r.cond_broadcast, "pthread_cond_broadcast", "GLIBC_2.3.2");
    bind(r.cond_init, "pthread_cond_init", "GLIBC_2.3.2");
    bind(r.cond_destroy, "pthread_cond_destroy", "GLIBC_2.3.2");
    bind(r.cond_clockwait, "pthread_cond_clockwait", "GLIBC_2.34");
    if (!r.cond_clockwait)
        bind(r.cond_clockwait, "pthread_cond_clockwait", "GLIBC_2.30");
    // C11 threads moved into libc proper in 2.34 (2.28's are libpthread's).
    bind(r.mtx_lock, "mtx_lock", "GLIBC_2.34");
    bind(r.mtx_trylock, "mtx_trylock", "GLIBC_2.34");
    bind(r.mtx_timedlock, "mtx_timedlock", "GLIBC_2.34");
    bind(r.mtx_unlock, "mtx_unlock", "GLIBC_2.34");
    bind(r.mtx_init, "mtx_init", "GLIBC_2.34");
    bind(r.mtx_destroy, "mtx_destroy", "GLIBC_2.34");
    bind(r.cnd_wait, "cnd_wait", "GLIBC_2.34");
    bind(r.cnd_timedwait, "cnd_timedwait", "GLIBC_2.34");
    bind(r.cnd_signal, "cnd_signal", "GLIBC_2.34");
    bind(r.cnd_broadcast, "cnd_broadcast", "GLIBC_2.34");
    bind(r.cnd_init, "cnd_init", "GLIBC_2.34");
    bind(r.cnd_destroy, "cnd_destroy", "GLIBC_2.34");
    bind(r.spin_lock, "pthread_spin_lock", "GLIBC_2.34");
    bind(r.spin_trylock, "pthread_spin_trylock", "GLIBC_2.34");
    bind(r.spin_unlock, "pthread_spin_unlock", "GLIBC_2.34");
    bind(r.spin_init, "pthread_spin_init", "GLIBC_2.34");
    bind(r.spin_destroy, "pthread_spin_destroy", "GLIBC_2.34");
    bind(r.once, "pthread_once", "GLIBC_2.34");
    bind(r.call_once, "call_once", "GLIBC_2.34");
    bind(r.barrier_wait, "pthread_barrier_wait", "GLIBC_2.34");
    bind(r.barrier_init, "pthread_barrier_init", "GLIBC_2.34");
    bind(r.barrier_destroy, "pthread_barrier_destroy", "GLIBC_2.34");
    bind(r.sem_wait, "sem_wait");
    bind(r.sem_trywait, "sem_trywait");
    bind(r.sem_timedwait, "sem_timedwait");
    bind(r.sem_clockwait, "sem_clockwait");
    bind(r.sem_post, "sem_post");
    bind(r.sem_init, "sem_init");
    bind(r.sem_destroy, "sem_destroy");
    bind(r.sem_open, "sem_open");
    bind(r.sem_close, "sem_close");
    bind(r.syscall, "syscall");
    bind(r.fork, "fork");
    bind(r.fork_raw, "_Fork");
    bind(r.execve, "execve");
    bind(r.execv, "execv");
    bind(r.execvp, "execvp");
    bind(r.execvpe, "execvpe");
    bind(r.fexecve, "fexecve");
    bind(r.execveat, "execveat");
    bind(r.posix_spawn, "posix_spawn", "GLIBC_2.15");
    bind(r.posix_spawnp, "posix_spawnp", "GLIBC_2.15");
    bind(r.dlopen, "dlopen");
    bind(r.dlclose, "dlclose");
    bind(r.setname, "pthread_setname_np");
    bind(r.create, "pthread_create", "GLIBC_2.34");
    bind(r.thread_exit, "pthread_exit", "GLIBC_2.34");
    bind(r.thrd_create, "thrd_create", "GLIBC_2.34");
    bind(r.join, "pthread_join", "GLIBC_2.34");
    bind(r.tryjoin, "pthread_tryjoin_np", "GLIBC_2.34");
    bind(r.timedjoin, "pthread_timedjoin_np", "GLIBC_2.34");
    bind(r.clockjoin, "pthread_clockjoin_np", "GLIBC_2.34");
    bind(r.thrd_join, "thrd_join", "GLIBC_2.34");
    bind(r.exit, "exit");
    bind(r.exit_now, "_exit");
    bind(r.exit_now2, "_Exit");
    bind(r.libc_start_main, "__libc_start_main");
    resolve_next();
}
