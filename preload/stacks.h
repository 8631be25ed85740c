// Call stacks: raw return addresses from libunwind, deduplicated into the
// file's lock-free stack table (open addressing on a hash of the pcs; an
// entry is claimed by CAS on its state word and published READY).
#pragma once
#include "cdecl.h"
#include <stdint.h>

#define LT_CACHE_SETS 64
#define LT_CACHE_WAYS 8
#define LT_CACHE_FRAMES 24

/* Per-thread unwind cache (private memory, one per thread slot; its pages
 * are touched only as entries are used).  Each set's 8 tags share a cache
 * line, so a lookup reads one line of tags and one entry. */
struct lt_stack_cache_entry {
    uint64_t fp;                  /* lt_stack_here's frame when it was filled */
    uint32_t id;                  /* stack id */
    uint32_t n;                   /* return addresses checked */
    uint64_t pc[LT_CACHE_FRAMES]; /* each return address of the chain ... */
    uint32_t off[LT_CACHE_FRAMES]; /* ... and where it sits, bytes above fp */
};
struct __attribute__((aligned(64))) lt_stack_cache {
    uint64_t tag[LT_CACHE_SETS * LT_CACHE_WAYS]; /* 0 = empty way */
    uint64_t stack_lo, stack_hi;                 /* this thread's stack */
    uint8_t victim[LT_CACHE_SETS];
    struct lt_stack_cache_entry e[LT_CACHE_SETS * LT_CACHE_WAYS];
};

#define LT_UNWIND_KEY 0xfffffff0u

struct lt_tctl;

LT_C_BEGIN
/* Once per process: one unwind cache per thread slot (lt_g.caches). */
void lt_stacks_reserve_caches(void) __attribute__((visibility("hidden")));
/* A thread took slot c (recycled: another thread's before): its cache, empty,
 * scanning the thread's stack (c->stack_lo, c->stack_hi). */
void lt_stacks_thread_begin(struct lt_tctl *c, bool recycled) __attribute__((visibility("hidden")));
/* In a fork child: the parent's unwind caches are dropped. */
void lt_stacks_after_fork(void) __attribute__((visibility("hidden")));
bool lt_stacks_key_create(unsigned *key, void (*dtor)(void *)) __attribute__((visibility("hidden")));
/* false when LT_UNWIND_KEY was never handed out (then it is no key at all) */
bool lt_stacks_set_cache(uintptr_t v) __attribute__((visibility("hidden")));
void lt_stacks_thread_end(void) __attribute__((visibility("hidden")));
/* Once per process image: libunwind caching policy. */
void lt_stacks_setup(void) __attribute__((visibility("hidden")));
/* Per thread, at setup: let libunwind allocate its per-thread state now. */
void lt_stacks_warm_up(void) __attribute__((visibility("hidden")));
/* Unwinds the caller (the shim's own frames dropped) and returns its stack
 * id (index + 1), or 0 if stacks are off or the table is full.  cache may
 * be null; site (the hook's call into the recorder) and caller (the hook's
 * return address into the program, or 0) pick the cache set. */
uint32_t lt_stack_here(struct lt_stack_cache *cache, uint64_t site, uint64_t caller)
    __attribute__((visibility("hidden")));
/* Stores a stack unwound elsewhere (a fork parent's), returns its id or 0. */
uint32_t lt_stack_intern(const uint64_t *pc, uint32_t n) __attribute__((visibility("hidden")));
/* Copies up to max pcs of stack `id` of this process's table; their number. */
uint32_t lt_stack_copy(uint32_t id, uint64_t *pc, uint32_t max) __attribute__((visibility("hidden")));
LT_C_END
