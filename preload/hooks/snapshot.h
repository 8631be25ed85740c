// Snapshots of the lock words, in the encoding format.h documents, for glibc
// 2.36 x86-64 layouts (taken from the public struct definitions in
// <bits/struct_mutex.h>, <bits/struct_rwlock.h>, <bits/thread-shared-types.h>;
// sem_t is opaque: its first 8 bytes are value | nwaiters << 32).
// Loads are relaxed atomics: other threads change these words under us.
#pragma once
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

struct lt_snap {
    uint64_t addr2, s0, s1;
};

#define LT_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static inline struct lt_snap lt_snap_mutex(pthread_mutex_t *m)
{
    struct lt_snap s;
    s.s0 = (uint32_t)LT_LOAD(m->__data.__lock) | (uint64_t)LT_LOAD(m->__data.__count) << 32;
    s.s1 = (uint32_t)LT_LOAD(m->__data.__owner) | (uint64_t)LT_LOAD(m->__data.__nusers) << 32;
    s.addr2 = (uint32_t)LT_LOAD(m->__data.__kind);
    return s;
}

static inline struct lt_snap lt_snap_rwlock(pthread_rwlock_t *rw)
{
    struct lt_snap s;
    s.s0 = LT_LOAD(rw->__data.__readers) | (uint64_t)LT_LOAD(rw->__data.__writers) << 32;
    s.s1 = LT_LOAD(rw->__data.__wrphase_futex) | (uint64_t)LT_LOAD(rw->__data.__writers_futex) << 32;
    s.addr2 = (uint32_t)LT_LOAD(rw->__data.__cur_writer) | (uint64_t)LT_LOAD(rw->__data.__flags) << 32;
    return s;
}

static inline struct lt_snap lt_snap_cond(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct lt_snap s;
    s.s0 = LT_LOAD(c->__data.__wseq.__value64);
    s.s1 = LT_LOAD(c->__data.__wrefs) | (uint64_t)LT_LOAD(c->__data.__g1_orig_size) << 32;
    s.addr2 = (uint64_t)(uintptr_t)m;
    return s;
}

/* pthread_barrier_t is opaque: glibc's struct pthread_barrier is
 * { unsigned in, current_round, count; int shared; unsigned out; }. */
static inline struct lt_snap lt_snap_barrier(pthread_barrier_t *b)
{
    const uint64_t *w = (const uint64_t *)b;
    struct lt_snap s = {0, LT_LOAD(w[0]), (uint32_t)LT_LOAD(w[1]) | (uint64_t)LT_LOAD(((const uint32_t *)b)[4]) << 32};
    return s;
}
static inline uint32_t lt_barrier_count(struct lt_snap s) { return (uint32_t)s.s1; }

static inline struct lt_snap lt_snap_spin(pthread_spinlock_t *sp)
{
    struct lt_snap s = {0, (uint32_t)LT_LOAD(*sp), 0};
    return s;
}

static inline struct lt_snap lt_snap_sem(sem_t *sem)
{
    struct lt_snap s = {0, LT_LOAD(*(uint64_t *)sem), 0};
    return s;
}
