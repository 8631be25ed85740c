#include "stacks.h"

#include "modules.h"
#include "recorder.h"
#include "tracefile.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

/* Frames of the shim itself on top of the stack: recorder + hook, and a few
 * more in case the compiler chose not to inline. */
#define LT_SELF_FRAMES_MAX 6

void lt_stacks_setup(void)
{
    // Per-thread caches: unwinding takes no lock once a thread is warm.
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static uint64_t hash_pcs(const uint64_t *pc, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (uint32_t i = 0; i < n; ++i) {
        h ^= pc[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h ? h : 1;
}

static lt_stack_entry *entry(uint32_t i) { return (lt_stack_entry *)(lt_g.stacks + (uint64_t)i * lt_g.stack_entry_size); }

static bool same(const lt_stack_entry *e, uint64_t h, const uint64_t *pc, uint32_t n)
{
    return e->hash == h && e->depth == n && !memcmp(e + 1, pc, n * sizeof *pc);
}

/* Unknown pc: a library came in through dlopen since the last refresh. */
static void check_modules(const uint64_t *pc, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i)
        if (!lt_modules_cover(pc[i])) {
            lt_modules_refresh();
            return;
        }
}

static uint32_t intern(const uint64_t *pc, uint32_t n)
{
    lt_file_header *h = lt_g.hdr;
    uint32_t cap = h->stack_table_capacity;
    uint64_t hs = hash_pcs(pc, n);
    uint32_t i = (uint32_t)hs & (cap - 1);
    for (uint32_t probe = 0; probe < 64; ++probe, i = (i + 1) & (cap - 1)) {
        lt_stack_entry *e = entry(i);
        uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
        if (st == LT_SLOT_EMPTY) {
            if (__atomic_compare_exchange_n(&e->state, &st, (uint32_t)LT_SLOT_BUSY, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                check_modules(pc, n);
                e->hash = hs;
                e->depth = n;
                memcpy(e + 1, pc, n * sizeof *pc);
                __atomic_store_n(&e->state, (uint32_t)LT_SLOT_READY, __ATOMIC_RELEASE);
                return i + 1;
            }
        }
        // Someone else is filling this entry: give it a moment, it may be ours.
        for (int spin = 0; st == LT_SLOT_BUSY && spin < 1000; ++spin) {
            __builtin_ia32_pause();
            st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
        }
        if (st == LT_SLOT_READY && same(e, hs, pc, n))
            return i + 1;
    }
    __atomic_fetch_add(&h->stacks_dropped, 1, __ATOMIC_RELAXED);
    return 0;
}

uint32_t lt_stack_here(void)
{
    uint32_t depth = lt_g.stack_depth;
    if (!depth)
        return 0;
    void *raw[LT_MAX_STACK_DEPTH + LT_SELF_FRAMES_MAX];
    int got;
    {
        lt_errno_guard keep_errno;
        lt_mute_guard mute; // libunwind's own locks and allocations are not the program's
        got = unw_backtrace(raw, (int)(depth + LT_SELF_FRAMES_MAX));
    }
    int skip = 0;
    while (skip < got && (uint64_t)raw[skip] >= lt_self_lo && (uint64_t)raw[skip] < lt_self_hi)
        ++skip;
    uint32_t n = (uint32_t)(got - skip);
    if (n > depth)
        n = depth;
    if (n == 0)
        return 0;
    return intern((const uint64_t *)(raw + skip), n);
}
