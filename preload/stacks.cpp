#include "stacks.h"

#include "modules.h"
#include "state.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

/* Frames of the shim itself on top of the stack: recorder + hook, and a few
 * more in case the compiler chose not to inline. */
#define LT_SELF_FRAMES_MAX 6

/* libunwind checks addresses with write()/msync()/pipe2(), which are
 * cancellation points: a deferred pthread_cancel pending on the thread would
 * be acted upon inside the recorder, unwinding the thread out of a half-made
 * record with the recorder muted, and its cleanup handlers' unlocks and its
 * exit would go unrecorded (glibc's tst-cond25).  Cancellation stays off for
 * the walk; a pending request is acted upon at the program's next
 * cancellation point, as without the shim. */
struct lt_no_cancel_guard {
    int old;
    lt_no_cancel_guard() { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old); }
    ~lt_no_cancel_guard() { pthread_setcancelstate(old, &old); }
};

/*
 * The unwinder proper, libunwind either way, in one of two modes per thread.
 *
 * The cursor API (unw_step per frame) needs no per-thread state, but this
 * libunwind (1.6) has no per-thread DWARF cache compiled in: each unw_step
 * takes its global cache lock with two rt_sigprocmask calls, ~5 us a walk.
 * Our cache in front (lt_stack_here) makes a walk rare, one per call chain
 * and stack position per thread, but a thread whose lock calls come from
 * more places than the cache holds (recursion, alloca, many call sites)
 * would walk on every call.
 *
 * unw_backtrace's fast trace caches each return address's frame layout per
 * thread and walks without locks or system calls (~10x faster), but its
 * cache is 256 KiB per thread, made and filled on first use, and libunwind
 * hangs it on a pthread key.  So a thread switches to it only after
 * LT_FAST_TRACE_AFTER walks, and the key is not the program's: libunwind asks
 * for it from inside our walk (lt_tls.internal), and the pthread_key_create
 * and pthread_setspecific hooks (hooks/unwind_keys.c) hand it LT_UNWIND_KEY, a value no
 * real key can take, and keep the cache pointer here.  The program keeps all
 * of its PTHREAD_KEYS_MAX keys.  At the thread's end (lt_stacks_thread_end)
 * we run libunwind's destructor as glibc would have, in rounds until it lets
 * go, and the thread's later walks (key destructors) use the cursor API.
 */
#define LT_FAST_TRACE_AFTER 32

static void (*g_unw_cache_free)(void *);
static __thread void *t_unw_cache __attribute__((tls_model("initial-exec")));
static __thread uint32_t t_walks __attribute__((tls_model("initial-exec")));
static __thread uint8_t t_unw_gone __attribute__((tls_model("initial-exec")));

bool lt_stacks_key_create(unsigned *key, void (*dtor)(void *))
{
    if (__atomic_load_n(&g_unw_cache_free, __ATOMIC_ACQUIRE))
        return false; // only the one key libunwind makes once
    __atomic_store_n(&g_unw_cache_free, dtor, __ATOMIC_RELEASE);
    *key = LT_UNWIND_KEY;
    return true;
}

bool lt_stacks_set_cache(uintptr_t v)
{
    if (!__atomic_load_n(&g_unw_cache_free, __ATOMIC_ACQUIRE))
        return false;
    t_unw_cache = reinterpret_cast<void *>(v);
    return true;
}

void lt_stacks_thread_end(void)
{
    t_unw_gone = 1;
    void (*cache_free)(void *) = __atomic_load_n(&g_unw_cache_free, __ATOMIC_ACQUIRE);
    if (!t_unw_cache || !cache_free)
        return;
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    // Debian's 1.6 destructor sets the key again for up to 4 rounds (so
    // that other destructors may still unwind) before it frees the cache.
    for (int round = 0; round < 8 && t_unw_cache; ++round) {
        void *c = t_unw_cache;
        t_unw_cache = nullptr;
        cache_free(c);
    }
}

/* The two walkers: each out of line, so that only the one running has its
 * frame on the stack (the cursor walk's context and cursor are ~2 KiB, and so
 * are unw_backtrace's own), and each leaves its own frame out: pc[0] is the
 * return address into the caller. */
static __attribute__((noinline)) int walk_cursor(uint64_t *pc, int max)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0 || unw_step(&cur) <= 0)
        return 0;
    int n = 0;
    do {
        unw_word_t ip = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        pc[n++] = ip;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}

static __attribute__((noinline)) int walk_fast(uint64_t *pc, int max)
{
    void *buf[LT_MAX_STACK_DEPTH + LT_SELF_FRAMES_MAX + 2];
    int cap = (int)(sizeof buf / sizeof *buf);
    int got = unw_backtrace(buf, max + 1 < cap ? max + 1 : cap);
    // buf[0] is the return address into this function.
    for (int i = 1; i < got; ++i)
        pc[i - 1] = (uint64_t)(uintptr_t)buf[i];
    return got > 0 ? got - 1 : 0;
}

static inline int unwind_here(uint64_t *pc, int max)
{
    if (++t_walks > LT_FAST_TRACE_AFTER && !t_unw_gone)
        return walk_fast(pc, max);
    return walk_cursor(pc, max);
}

void lt_stacks_warm_up(void)
{
    // libunwind fills its per-thread caches on a thread's first unwind: do it
    // during thread setup, not in the middle of some later lock call.
    if (!lt_g.stack_depth)
        return;
    uint64_t raw[4];
    lt_errno_guard keep_errno;
    lt_no_cancel_guard no_cancel;
    lt_mute_guard mute;
    unwind_here(raw, 4);
}

static bool g_caches_dirty; /* unused slots' caches may hold a parent's entries */

void lt_stacks_reserve_caches(void)
{
    if (!lt_g.cfg.stack_depth)
        return;
    void *sc = mmap(nullptr, (size_t)lt_g.cfg.max_threads * sizeof(lt_stack_cache), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (sc != MAP_FAILED)
        lt_g.caches = (lt_stack_cache *)sc;
}

void lt_stacks_thread_begin(lt_tctl *c, bool recycled)
{
    c->stack_cache = lt_g.caches ? &lt_g.caches[c->index] : nullptr;
    if (!c->stack_cache)
        return;
    // A new thread, a new stack.  A slot used for the first time in this
    // file has a cache nobody wrote since it was mapped or dropped at fork:
    // zero already, and not touched here (in a fork child, writing it would
    // copy the parent's pages).
    if (recycled || g_caches_dirty) // the tags say which entries hold anything
        memset(c->stack_cache, 0, offsetof(lt_stack_cache, e));
    c->stack_cache->stack_lo = c->stack_lo;
    c->stack_cache->stack_hi = c->stack_hi;
}

void lt_stacks_after_fork(void)
{
    // Private anonymous memory: dropping the pages zeroes them without
    // copying the parent's.
    if (lt_g.caches && madvise(lt_g.caches, (size_t)lt_g.cfg.max_threads * sizeof(lt_stack_cache), MADV_DONTNEED) != 0)
        g_caches_dirty = true; // mlockall: every slot's cache is cleared when it is taken
}

void lt_stacks_setup(void)
{
    // Per-thread caches where libunwind has them (this Debian build falls
    // back to its global cache, lock and signal mask included).
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

uint32_t lt_stack_intern(const uint64_t *pc, uint32_t n)
{
    if (!lt_g.stack_depth || !n || !lt_g.hdr)
        return 0;
    return intern(pc, n < lt_g.stack_depth ? n : lt_g.stack_depth);
}

uint32_t lt_stack_copy(uint32_t id, uint64_t *pc, uint32_t max)
{
    if (!id || !lt_g.stack_depth || !lt_g.hdr || id > lt_g.hdr->stack_table_capacity)
        return 0;
    const lt_stack_entry *e = entry(id - 1);
    if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != LT_SLOT_READY)
        return 0;
    uint32_t n = e->depth < max ? e->depth : max;
    memcpy(pc, e + 1, n * sizeof *pc);
    return n;
}

static inline bool cache_hit(const lt_stack_cache_entry *e, uint64_t fp)
{
    for (uint32_t k = 0; k < e->n; ++k)
        if (*(const volatile uint64_t *)(fp + e->off[k]) != e->pc[k])
            return false;
    return true;
}

/* Where each return address of the unwound chain sits on the stack: the
 * first copy of pc[k] above slot k-1.  Bounded by the thread's stack. */
static bool find_slots(lt_stack_cache *cache, uint64_t fp, const uint64_t *pc, uint64_t *slot, uint32_t n)
{
    uint64_t p = fp;
    for (uint32_t k = 0; k < n; ++k) {
        while (p + 8 <= cache->stack_hi && *(const uint64_t *)p != pc[k])
            p += 8;
        if (p + 8 > cache->stack_hi)
            return false;
        slot[k] = p;
        p += 8;
    }
    return true;
}

/*
 * A per-thread cache in front of the unwinder.  Key: this function's frame
 * address, the hook's call site into the recorder and the hook's return
 * address into the program.  Hit: every return-address slot of the chain
 * found last time from that frame address still holds the same return
 * address.  Same stack pointer and the same return address in every frame
 * means the same call chain, found for a dozen loads instead of a walk.
 *
 * The program's return address picks the set because one function often
 * calls one lock function from many lines (a dozen unlocks on as many
 * paths), all at the same stack depth: keyed by frame and hook site alone,
 * those chains share one set and, past its ways, evict each other on every
 * call (a walk each time).  64 sets of 8 ways (512 chains a thread, up to
 * 156 KiB, touched only as used) hold the ~80 chains a memcached worker
 * thread takes its locks from with no more walks than chains; with 128
 * chains in 4-way sets, it walked on 1 to 3 records in 100.
 */
static inline uint64_t tag_of(uint64_t fp, uint64_t site, uint64_t caller)
{
    // The products' high bits mix every bit of site and caller; fp differs
    // between chains in its low bits (frames are 16-byte aligned).
    return (fp ^ (site * 0x9e3779b97f4a7c15ull) ^ (caller * 0xc2b2ae3d27d4eb4full)) | 1; // 0: an empty way
}

static inline uint32_t set_of(uint64_t tag) { return (uint32_t)((tag >> 4) ^ (tag >> 40)) & (LT_CACHE_SETS - 1); }

/* The walk, on a cache miss: out of line so that a hit (the common case)
 * does not pay for this frame's size (libunwind's context and cursor).
 * fp is lt_stack_here's frame: the chain cached is what lies above it. */
static __attribute__((noinline)) uint32_t stack_miss(lt_stack_cache *cache, uint64_t fp, uint64_t tag,
                                                     uint32_t depth)
{
    uint64_t raw[LT_MAX_STACK_DEPTH + LT_SELF_FRAMES_MAX + 1];
    int got;
    {
        lt_errno_guard keep_errno;
        lt_no_cancel_guard no_cancel;
        lt_mute_guard mute; // libunwind's own locks and allocations are not the program's
        got = unwind_here(raw, (int)(depth + LT_SELF_FRAMES_MAX + 1));
    }
    if (lt_g.hdr)
        __atomic_fetch_add(&lt_g.hdr->stack_walks, 1, __ATOMIC_RELAXED);
    // raw[0] is a pc in this function: drop it, so that pc[0] is a pc in
    // lt_stack_here (its return address lies below fp) and pc[1..] are the
    // return addresses stored above fp.
    if (got <= 1)
        return 0;
    const uint64_t *pc = raw + 1;
    got -= 1;
    uint32_t skip = 0;
    while (skip < (uint32_t)got && pc[skip] >= lt_self_lo && pc[skip] < lt_self_hi)
        ++skip;
    uint32_t n = (uint32_t)got - skip;
    if (n > depth)
        n = depth;
    if (n == 0)
        return 0;
    // The program's frames only: the shim's own below them (the start-routine
    // wrapper every thread runs in, see hooks/thread.c) mean nothing to the
    // user.  The cache below still checks the raw chain.
    uint64_t mine[LT_MAX_STACK_DEPTH];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; ++i)
        if (pc[skip + i] < lt_self_lo || pc[skip + i] >= lt_self_hi)
            mine[k++] = pc[skip + i];
    // (A chain of nothing but shim frames keeps them: an id of 0 would not
    // be cached, and every later call from there would walk again.)
    uint32_t id = k ? intern(mine, k) : intern(pc + skip, n);
    // Return addresses above fp: ours (they pin which hook called) and the
    // program's.
    uint32_t chain = skip + n - 1;
    if (!cache || !id || chain == 0 || chain > LT_CACHE_FRAMES)
        return id;
    uint64_t slot[LT_CACHE_FRAMES];
    if (!find_slots(cache, fp, pc + 1, slot, chain) || slot[chain - 1] - fp > UINT32_MAX)
        return id;
    uint32_t set = set_of(tag);
    uint32_t way = set * LT_CACHE_WAYS + cache->victim[set]++ % LT_CACHE_WAYS;
    lt_stack_cache_entry *e = &cache->e[way];
    cache->tag[way] = 0; // a signal handler must never take a half-filled entry for valid
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < chain; ++i) {
        e->pc[i] = pc[1 + i];
        e->off[i] = (uint32_t)(slot[i] - fp);
    }
    e->fp = fp;
    e->n = chain;
    e->id = id;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cache->tag[way] = tag;
    return id;
}

uint32_t lt_stack_here(lt_stack_cache *cache, uint64_t site, uint64_t caller)
{
    uint32_t depth = lt_g.stack_depth;
    if (!depth)
        return 0;
    uint64_t fp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    if (!cache || depth + 4 > LT_CACHE_FRAMES || fp < cache->stack_lo || fp >= cache->stack_hi)
        return stack_miss(nullptr, fp, 0, depth);
    uint64_t tag = tag_of(fp, site, caller);
    uint32_t base = set_of(tag) * LT_CACHE_WAYS;
    for (uint32_t w = 0; w < LT_CACHE_WAYS; ++w)
        if (cache->tag[base + w] == tag) {
            const lt_stack_cache_entry *e = &cache->e[base + w];
            if (e->fp == fp && cache_hit(e, fp))
                return e->id;
        }
    return stack_miss(cache, fp, tag, depth);
}
