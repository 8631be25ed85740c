// The lock-heavy workloads that `make bench` times untraced and traced.
//
// One definition serves three programs: the Google Benchmark binary (lt_bench)
// that measures ns/op, the fixed-count runner (lt_workload) that checks the
// shim really recorded every call and generates big traces for the decoder's
// speed test, and the table printer (lt_bench_table) that describes them.
//
// Every call below goes through the PLT to libc, so LD_PRELOAD'ed wrappers see
// it exactly as they would in an unmodified program.
#ifndef LOCKTRACE_BENCH_WORKLOADS_H
#define LOCKTRACE_BENCH_WORKLOADS_H

#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ltbench {

constexpr int kMaxThreads = 16;

// Objects of one thread (uncontended workloads) or of everyone (contended
// ones).  A cache line each, so "uncontended" really shares nothing.
struct alignas(64) LockSet {
    pthread_rwlock_t rw;
    pthread_mutex_t m;
    pthread_cond_t c;
    sem_t s;
};

// Objects of one ping-pong pair: threads 2k and 2k+1.
struct alignas(64) Pair {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;                    // cond ping-pong: whose move it is (0 or 1), under m
    alignas(64) std::atomic<uint32_t> word; // futex ping-pong: 1 = ball at thread 2k+1
    alignas(64) sem_t to_odd;    // sem ping-pong: 2k posts, 2k+1 waits
    sem_t to_even;               //                2k+1 posts, 2k waits
};

struct Objects {
    LockSet own[kMaxThreads];
    LockSet shared;
    Pair pairs[kMaxThreads / 2];
};

inline void die(const char *what, int err) {
    std::fprintf(stderr, "lt_bench: %s: %s\n", what, std::strerror(err));
    std::exit(2);
}

inline void init_lock_set(LockSet &l) {
    int e;
    if ((e = pthread_rwlock_init(&l.rw, nullptr))) die("pthread_rwlock_init", e);
    if ((e = pthread_mutex_init(&l.m, nullptr))) die("pthread_mutex_init", e);
    if ((e = pthread_cond_init(&l.c, nullptr))) die("pthread_cond_init", e);
    if (sem_init(&l.s, 0, 0)) die("sem_init", errno);
}

// Initialised explicitly (not with static initialisers) so a traced run also
// exercises the init wrappers; done once, before any thread starts.
inline Objects &objects() {
    static Objects *o = [] {
        auto *p = new Objects;
        for (auto &l : p->own) init_lock_set(l);
        init_lock_set(p->shared);
        for (auto &pr : p->pairs) {
            int e;
            if ((e = pthread_mutex_init(&pr.m, nullptr))) die("pthread_mutex_init", e);
            if ((e = pthread_cond_init(&pr.c, nullptr))) die("pthread_cond_init", e);
            pr.turn = 0;
            pr.word.store(0);
            if (sem_init(&pr.to_odd, 0, 0) || sem_init(&pr.to_even, 0, 0)) die("sem_init", errno);
        }
        return p;
    }();
    return *o;
}

// Like Rust std and parking_lot_core: the raw system call through libc's
// syscall(), which is what the shim's syscall wrapper interposes.
inline long futex_wait(std::atomic<uint32_t> *w, uint32_t expected) {
    return syscall(SYS_futex, reinterpret_cast<uint32_t *>(w), FUTEX_WAIT_PRIVATE, expected,
                   nullptr, nullptr, 0);
}
inline long futex_wake(std::atomic<uint32_t> *w, int n) {
    return syscall(SYS_futex, reinterpret_cast<uint32_t *>(w), FUTEX_WAKE_PRIVATE, n, nullptr,
                   nullptr, 0);
}

// ---- one operation of each workload; `t` is the thread's index -------------

// The in-loop floors: the same calls, each preceded by one clock read and
// nothing else, so that what the clock costs *inside the loop* (where an
// unfenced read overlaps with the work around it) is measured, not added up
// from a back-to-back micro-benchmark.  The value is kept alive in a register
// only: a tracer must also store it, which is part of its record's cost.
struct NoStamp {
    static void stamp() {}
};
struct RdtscStamp {
    static void stamp() {
        unsigned long long v = __rdtsc();
        asm volatile("" ::"r"(v));
    }
};
// rdtscp waits for every earlier instruction to finish before it reads the
// counter: the "fenced" stamp a tracer would need for stamps that order
// themselves without help from the decoder.
struct RdtscpStamp {
    static void stamp() {
        unsigned aux;
        unsigned long long v = __rdtscp(&aux);
        asm volatile("" ::"r"(v), "r"(aux));
    }
};
struct GettimeStamp {
    static void stamp() {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        asm volatile("" ::"r"(&ts) : "memory");
    }
};

template <class S = NoStamp> inline void op_rwlock_rd(LockSet &l) {
    S::stamp(); pthread_rwlock_rdlock(&l.rw);
    S::stamp(); pthread_rwlock_unlock(&l.rw);
}
template <class S = NoStamp> inline void op_rwlock_wr(LockSet &l) {
    S::stamp(); pthread_rwlock_wrlock(&l.rw);
    S::stamp(); pthread_rwlock_unlock(&l.rw);
}
inline void op_mutex(LockSet &l) {
    pthread_mutex_lock(&l.m);
    pthread_mutex_unlock(&l.m);
}
inline void op_sem(LockSet &l) {
    sem_post(&l.s);
    sem_wait(&l.s);
}
template <class S = NoStamp> inline void op_mutex_signal(LockSet &l) {
    S::stamp(); pthread_mutex_lock(&l.m);
    S::stamp(); pthread_cond_signal(&l.c);
    S::stamp(); pthread_mutex_unlock(&l.m);
}
// The reference loop ("rdlock/rdlock/wrlock/mutex+signal"), one
// iteration, on one rwlock L, one mutex M and one condvar C that nobody waits on:
//   rdlock(L); rdlock(L); unlock(L); unlock(L);   -- a recursive read hold
//   wrlock(L); unlock(L);
//   lock(M); cond_signal(C); unlock(M);          -- the usual "publish + notify"
// 9 calls.  The default rwlock prefers readers, so the recursive rdlock is legal
// even on the shared (contended) variant.
template <class S = NoStamp> inline void op_reference(LockSet &l) {
    S::stamp(); pthread_rwlock_rdlock(&l.rw);
    S::stamp(); pthread_rwlock_rdlock(&l.rw);
    S::stamp(); pthread_rwlock_unlock(&l.rw);
    S::stamp(); pthread_rwlock_unlock(&l.rw);
    op_rwlock_wr<S>(l);
    op_mutex_signal<S>(l);
}
// A lock hammer's mix: each op is the next of rdlock+unlock, rdlock+unlock,
// wrlock+unlock, lock+cond_signal+unlock (2.25 calls per op on average).
template <class S = NoStamp> inline void op_mix(LockSet &l) {
    static thread_local unsigned turn;
    switch (turn++ & 3) {
    case 0:
    case 1: op_rwlock_rd<S>(l); break;
    case 2: op_rwlock_wr<S>(l); break;
    default: op_mutex_signal<S>(l); break;
    }
}

// Ping-pong: one op = one hand-off.  Even threads serve, odd threads return.
inline void op_cond_pingpong(Pair &p, bool odd) {
    pthread_mutex_lock(&p.m);
    if (!odd) {
        p.turn = 1;
        pthread_cond_signal(&p.c);
        while (p.turn != 0) pthread_cond_wait(&p.c, &p.m);
    } else {
        while (p.turn != 1) pthread_cond_wait(&p.c, &p.m);
        p.turn = 0;
        pthread_cond_signal(&p.c);
    }
    pthread_mutex_unlock(&p.m);
}
inline void op_futex_pingpong(Pair &p, bool odd) {
    if (!odd) {
        p.word.store(1, std::memory_order_release);
        futex_wake(&p.word, 1);
        while (p.word.load(std::memory_order_acquire) == 1) futex_wait(&p.word, 1);
    } else {
        while (p.word.load(std::memory_order_acquire) == 0) futex_wait(&p.word, 0);
        p.word.store(0, std::memory_order_release);
        futex_wake(&p.word, 1);
    }
}
inline void op_sem_pingpong(Pair &p, bool odd) {
    if (!odd) {
        sem_post(&p.to_odd);
        while (sem_wait(&p.to_even) != 0) {}
    } else {
        while (sem_wait(&p.to_odd) != 0) {}
        sem_post(&p.to_even);
    }
}

enum class Sharing { own, shared, pairs };

struct Workload {
    const char *name;
    Sharing sharing;
    void (*op)(int t);
    // Threads counts `make bench` runs it with (0-terminated).
    int threads[3];
    double calls_per_op;    // pthread / sem / syscall calls made per op by one thread
    // Fewest events a working shim must record per op (per thread), counting
    // one acquired for an acquire (the uncontended fast path: no attempt),
    // one release for an unlock/post, one wake for a signal/futex wake; waits
    // counted only where they must happen.
    double min_events_per_op;
    const char *what;
    // The same op with one rdtsc / one clock_gettime / one rdtscp before
    // each call (the in-loop floors); null where `make bench` does not
    // measure one.
    void (*floor_rdtsc)(int t) = nullptr;
    void (*floor_gettime)(int t) = nullptr;
    void (*floor_rdtscp)(int t) = nullptr;
};

inline LockSet &own(int t) { return objects().own[t % kMaxThreads]; }
inline Pair &pair_of(int t) { return objects().pairs[(t / 2) % (kMaxThreads / 2)]; }

inline const Workload kWorkloads[] = {
    {"reference", Sharing::own, [](int t) { op_reference(own(t)); }, {1, 4, 0}, 9, 9,
     "THE loop: rdlock;rdlock;unlock;unlock;wrlock;unlock;lock;cond_signal;unlock (own objects)",
     [](int t) { op_reference<RdtscStamp>(own(t)); },
     [](int t) { op_reference<GettimeStamp>(own(t)); },
     [](int t) { op_reference<RdtscpStamp>(own(t)); }},
    {"mix", Sharing::shared, [](int t) { (void)t; op_mix(objects().shared); }, {1, 4, 0}, 2.25, 2.25,
     "hammer mix: rdlock, rdlock, wrlock, lock+cond_signal in turn, one rwlock/mutex/cond for all",
     [](int t) { (void)t; op_mix<RdtscStamp>(objects().shared); },
     [](int t) { (void)t; op_mix<GettimeStamp>(objects().shared); },
     [](int t) { (void)t; op_mix<RdtscpStamp>(objects().shared); }},
    {"reference_shared", Sharing::shared, [](int t) { (void)t; op_reference(objects().shared); },
     {4, 0, 0}, 9, 9, "the same loop, every thread on the same rwlock/mutex/cond"},
    {"rwlock_rd", Sharing::own, [](int t) { op_rwlock_rd(own(t)); }, {1, 4, 0}, 2, 2,
     "rdlock+unlock, own rwlock"},
    {"rwlock_rd_shared", Sharing::shared, [](int t) { (void)t; op_rwlock_rd(objects().shared); },
     {4, 0, 0}, 2, 2, "rdlock+unlock, one rwlock for all (readers share it)"},
    {"rwlock_wr", Sharing::own, [](int t) { op_rwlock_wr(own(t)); }, {1, 4, 0}, 2, 2,
     "wrlock+unlock, own rwlock"},
    {"rwlock_wr_shared", Sharing::shared, [](int t) { (void)t; op_rwlock_wr(objects().shared); },
     {4, 0, 0}, 2, 2, "wrlock+unlock, one rwlock for all (writers block)"},
    {"mutex", Sharing::own, [](int t) { op_mutex(own(t)); }, {1, 4, 0}, 2, 2,
     "lock+unlock, own mutex"},
    {"mutex_shared", Sharing::shared, [](int t) { (void)t; op_mutex(objects().shared); },
     {4, 0, 0}, 2, 2, "lock+unlock, one mutex for all"},
    {"sem", Sharing::own, [](int t) { op_sem(own(t)); }, {1, 4, 0}, 2, 2,
     "sem_post+sem_wait, own semaphore (never sleeps)"},
    {"cond_pingpong", Sharing::pairs, [](int t) { op_cond_pingpong(pair_of(t), t & 1); },
     {2, 4, 0}, 4, 4, "hand-off through mutex+condvar, threads in pairs"},
    {"futex_pingpong", Sharing::pairs, [](int t) { op_futex_pingpong(pair_of(t), t & 1); },
     {2, 4, 0}, 2, 1, "hand-off through syscall(SYS_futex) WAIT/WAKE_PRIVATE, threads in pairs"},
    {"sem_pingpong", Sharing::pairs, [](int t) { op_sem_pingpong(pair_of(t), t & 1); },
     {2, 4, 0}, 2, 2, "hand-off through two semaphores, threads in pairs"},
};

inline const Workload *find_workload(const char *name) {
    for (const auto &w : kWorkloads)
        if (std::strcmp(w.name, name) == 0) return &w;
    return nullptr;
}

} // namespace ltbench

#endif
