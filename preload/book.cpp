#include "book.h"

#include <errno.h>

static inline uint32_t xadd32(uint32_t *p, uint32_t v)
{
    // Unlocked: one instruction, so a signal handler cannot split it, and
    // no other thread writes this book.
    __asm__ volatile("xaddl %0, %1" : "+r"(v), "+m"(*p)::"memory");
    return v;
}

static inline bool committed(uint64_t seq) { return seq != 0 && seq != LT_HELD_BUSY; }

/* Did the word snapshot of an ATTEMPT show the lock taken (for this mode)?
 * glibc's rwlock __readers: bit 1 write-locked, readers counted from bit 3. */
static inline bool word_busy(uint8_t prim, uint8_t flags, uint64_t s0)
{
    uint32_t w = (uint32_t)s0;
    if (prim == LT_PRIM_RWLOCK)
        return (flags & LT_FL_READ) ? (w & 2u) != 0 : (w & ~5u) != 0;
    if (prim == LT_PRIM_PROBE)
        return s0 != 0;
    return w != 0;
}

/* ----- lock lives ----- */

static bool g_lives_used; /* some lock was destroyed: lives must be looked up */

static inline uint32_t life_slot(uint64_t addr, uint32_t cap)
{
    return (uint32_t)(((addr >> 3) * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & (cap - 1);
}

static const uint32_t k_life_probes = 32;

static uint32_t life_of(uint64_t addr)
{
    lt_file_header *h = lt_g.hdr;
    uint32_t cap = h->lives_capacity, i = life_slot(addr, cap);
    for (uint32_t p = 0; p < k_life_probes; ++p, i = (i + 1) & (cap - 1)) {
        lt_lock_life *e = &lt_g.lives[i];
        uint64_t a = __atomic_load_n(&e->addr, __ATOMIC_ACQUIRE);
        if (a == addr)
            return __atomic_load_n(&e->life, __ATOMIC_RELAXED);
        if (!a)
            return 0;
    }
    return 0;
}

void lt_life_bump(uint64_t addr)
{
    lt_file_header *h = lt_g.hdr;
    uint32_t cap = h->lives_capacity, i = life_slot(addr, cap);
    for (uint32_t p = 0; p < k_life_probes; ++p, i = (i + 1) & (cap - 1)) {
        lt_lock_life *e = &lt_g.lives[i];
        uint64_t a = __atomic_load_n(&e->addr, __ATOMIC_ACQUIRE);
        if (!a && __atomic_compare_exchange_n(&e->addr, &a, addr, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            a = addr;
        if (a == addr) {
            __atomic_fetch_add(&e->life, 1u, __ATOMIC_RELEASE);
            if (!__atomic_load_n(&g_lives_used, __ATOMIC_RELAXED))
                __atomic_store_n(&g_lives_used, true, __ATOMIC_RELAXED);
            return;
        }
    }
    __atomic_fetch_add(&h->lives_overflow, 1, __ATOMIC_RELAXED);
}

/* ----- lock order ----- */

static const uint32_t k_order_probes = 32;
/* Pairs looked at per acquisition: the locks taken last are the ones an
 * order is about; a thread holding more pairs only its newest. */
static const uint32_t k_order_depth = 8;

/* Adds n to a complete entry's count (saturating).  An atomic add: it
 * happens once per pair new to a thread and once per k_order_pending_max
 * repeats, so the counts of threads that ended are exact. */
static void order_count(uint32_t entry, uint32_t n)
{
    uint32_t *count = &lt_g.order[entry].count;
    if (__atomic_load_n(count, __ATOMIC_RELAXED) <= UINT32_MAX - n)
        __atomic_fetch_add(count, n, __ATOMIC_RELAXED);
    else
        __atomic_store_n(count, UINT32_MAX, __ATOMIC_RELAXED);
}

static const uint32_t k_order_busy = LT_ORDER_NONE - 1; /* another thread is writing the entry */

/* The pair's entry in the shared table, claimed and filled if it is new;
 * LT_ORDER_NONE if there is no room near its hash. */
static uint32_t order_entry(uint64_t hs, const lt_held *held, uint64_t addr, uint32_t held_life, uint32_t taken_life,
                            uint8_t prim, uint8_t mode, uint32_t stack, uint64_t now, int32_t tid, uint32_t gate)
{
    uint64_t busy = (hs & ~UINT64_C(3)) | 2u, done = busy | 1u;
    lt_file_header *h = lt_g.hdr;
    uint32_t cap = h->order_table_capacity, i = (uint32_t)(hs >> 20) & (cap - 1);
    for (uint32_t p = 0; p < k_order_probes; ++p, i = (i + 1) & (cap - 1)) {
        lt_order_pair *e = &lt_g.order[i];
        uint64_t k = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
        if (!k && __atomic_compare_exchange_n(&e->key, &k, busy, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            e->held = held->addr;
            e->taken = addr;
            e->held_life = held_life;
            e->taken_life = taken_life;
            e->first_ns = now;
            e->count = 1;
            e->gate = gate;
            e->tid = tid;
            e->held_prim = held->prim;
            e->taken_prim = prim;
            e->modes = (uint8_t)(held->mode | mode << 2);
            e->held_stack = held->stack_id;
            e->taken_stack = stack;
            __atomic_store_n(&e->key, done, __ATOMIC_RELEASE);
            return i;
        }
        if (k == busy)
            return k_order_busy; // another thread is recording this very pair now
        if (k == done && e->held == held->addr && e->taken == addr && e->held_life == held_life &&
            e->taken_life == taken_life && e->held_prim == held->prim && e->taken_prim == prim) {
            order_count(i, 1);
            return i;
        }
    }
    __atomic_fetch_add(&h->order_overflow, 1, __ATOMIC_RELAXED);
    return LT_ORDER_NONE;
}

/* Counts what the thread held back into its entry now.  The pending count
 * is taken with one instruction, so a signal handler's note on the same pair
 * (lt_book_flush runs outside the recorder) is not counted twice. */
static void seen_flush(lt_order_seen *s)
{
    uint32_t entry = s->entry, n = __atomic_exchange_n(&s->pending, 0u, __ATOMIC_RELAXED) & ~LT_ORDER_USED;
    if (n && entry < k_order_busy)
        order_count(entry, n);
}

/* A pair's count is brought up to date at least this often. */
static const uint32_t k_order_pending_max = 4096;

/* Lock `addr` is taken while `held` is held.  A pair the thread noted lately
 * is counted in its own memory (lt_tctl.order_seen); the shared table is
 * read and written only for a pair new to the thread, so threads that take
 * the same pairs all the time do not pass its cache lines back and forth.
 * A signal handler that interrupted the recorder (nested) goes straight to
 * the table: the entry it would use may be half-written. */
static void order_note(lt_tctl *c, bool nested, const lt_held *held, uint64_t addr, uint8_t prim, uint8_t mode,
                       uint32_t stack, uint64_t now, uint32_t gate)
{
    bool lives = __atomic_load_n(&g_lives_used, __ATOMIC_RELAXED);
    uint32_t held_life = lives ? life_of(held->addr) : 0, taken_life = lives ? life_of(addr) : 0;
    uint64_t hs = lt_order_hash(held->addr, addr, held_life, taken_life, held->prim, prim);
    if (nested) {
        order_entry(hs, held, addr, held_life, taken_life, prim, mode, stack, now, c->tid, gate);
        return;
    }
    uint64_t tag = hs | 1u;
    lt_order_seen *s = &c->order_seen[(uint32_t)(hs >> 4) & (LT_ORDER_SEEN - 1)];
    if (LT_LIKELY(s->tag == tag)) {
        uint32_t n = s->pending + 1;
        s->pending = n | LT_ORDER_USED;
        if ((n & ~LT_ORDER_USED) >= k_order_pending_max)
            seen_flush(s);
        return;
    }
    // Second chance: a pair taken again since the last look keeps its place,
    // so that pairs seen once or twice do not push out the ones taken all
    // the time.
    if (s->pending & LT_ORDER_USED) {
        s->pending &= ~LT_ORDER_USED;
        order_entry(hs, held, addr, held_life, taken_life, prim, mode, stack, now, c->tid, gate);
        return;
    }
    seen_flush(s);
    uint32_t entry = order_entry(hs, held, addr, held_life, taken_life, prim, mode, stack, now, c->tid, gate);
    if (entry == k_order_busy)
        return;
    // A handler nesting here does not use the filter: plain stores will do.
    s->tag = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    s->entry = entry;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    s->tag = tag;
}

void lt_book_flush(lt_tctl *c)
{
    for (uint32_t k = 0; k < LT_ORDER_SEEN; ++k)
        if (c->order_seen[k].pending)
            seen_flush(&c->order_seen[k]);
}

/* ----- totals ----- */

static const uint32_t k_totals_probes = 16;

static lt_lock_totals *totals_of(lt_book *b, uint64_t addr, uint8_t prim)
{
    const uint32_t mask = lt_g.cfg.totals_locks - 1;
    uint32_t i = (uint32_t)(((addr >> 3) * UINT64_C(0x9e3779b97f4a7c15)) >> 48) & mask;
    for (uint32_t p = 0; p < k_totals_probes; ++p, i = (i + 1) & mask) {
        lt_lock_totals *t = &b->totals[i];
        uint64_t a = __atomic_load_n(&t->addr, __ATOMIC_RELAXED);
        if (LT_LIKELY(a == addr))
            return t;
        if (!a) {
            // CAS: a signal handler may claim the same entry meanwhile.
            if (__atomic_compare_exchange_n(&t->addr, &a, addr, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                t->prim = prim;
                return t;
            }
            if (a == addr)
                return t;
        }
    }
    b->totals_overflow++;
    return nullptr;
}

static inline void bump(uint64_t *p) { __atomic_store_n(p, *p + 1, __ATOMIC_RELAXED); }

/* ----- held set ----- */

static void held_take(lt_tctl *c, lt_book *b, uint64_t index, uint64_t now, uint8_t prim, uint8_t flags,
                      uint64_t addr, uint32_t stack)
{
    uint32_t n = b->held_count;
    if (n > LT_HELD_MAX)
        n = LT_HELD_MAX;
    for (uint32_t k = n; k-- > 0;) {
        lt_held *h = &b->held[k];
        if (h->addr == addr && h->prim == prim && committed(h->seq)) {
            __atomic_store_n(&h->depth, (uint16_t)(h->depth + 1), __ATOMIC_RELAXED);
            return;
        }
    }
    uint8_t mode = (flags & LT_FL_READ) ? LT_FL_READ : LT_FL_WRITE;
    if (!(flags & LT_FL_TRY) && n) {
        // The oldest lock held is the gate of the pairs with the others.
        uint32_t seen = 0, gate_k = n;
        for (uint32_t k = 0; k < n; ++k)
            if (committed(b->held[k].seq) && b->held[k].addr != addr) {
                gate_k = k;
                break;
            }
        for (uint32_t k = n; k-- > 0 && seen < k_order_depth;) {
            const lt_held *h = &b->held[k];
            if (committed(h->seq) && h->addr != addr) {
                uint32_t gate = k != gate_k && gate_k < n ? lt_order_gate(b->held[gate_k].addr) : 0;
                order_note(c, (flags & LT_FL_NESTED) != 0, h, addr, prim, mode, stack, now, gate);
                ++seen;
            }
        }
    }
    if (n >= LT_HELD_MAX) {
        bump(&b->held_overflow);
        return;
    }
    uint32_t k = xadd32(&b->held_count, 1);
    if (k >= LT_HELD_MAX) {
        xadd32(&b->held_count, (uint32_t)-1);
        bump(&b->held_overflow);
        return;
    }
    lt_held *h = &b->held[k];
    __atomic_store_n(&h->seq, LT_HELD_BUSY, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_RELEASE);
    h->addr = addr;
    h->time_ns = now;
    h->stack_id = stack;
    h->depth = 1;
    h->prim = prim;
    h->mode = mode;
    __atomic_store_n(&h->seq, index + 1, __ATOMIC_RELEASE);
}

/* Frees entry k of n in use: the top entry moves into it (complete before
 * the top is freed), then the count drops past every free entry on top. */
static void held_free(lt_book *b, uint32_t k, uint32_t n)
{
    lt_held *h = &b->held[k];
    if (k + 1 < n) {
        const lt_held *top = &b->held[n - 1];
        uint64_t seq = __atomic_load_n(&top->seq, __ATOMIC_RELAXED);
        __atomic_store_n(&h->seq, committed(seq) ? LT_HELD_BUSY : 0, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_RELEASE);
        if (committed(seq)) {
            h->addr = top->addr;
            h->time_ns = top->time_ns;
            h->stack_id = top->stack_id;
            h->depth = top->depth;
            h->prim = top->prim;
            h->mode = top->mode;
            __atomic_store_n(&h->seq, seq, __ATOMIC_RELEASE);
        }
        h = &b->held[n - 1];
    }
    __atomic_store_n(&h->seq, 0, __ATOMIC_RELEASE);
    while (n > 0 && b->held[n - 1].seq == 0)
        --n;
    __atomic_store_n(&b->held_count, n, __ATOMIC_RELEASE);
}

/* False if the thread does not hold it (by its held set). */
static bool held_drop(lt_book *b, uint64_t addr, uint8_t prim, uint64_t now, lt_lock_totals *t)
{
    uint32_t n = b->held_count;
    if (n > LT_HELD_MAX)
        n = LT_HELD_MAX;
    for (uint32_t k = n; k-- > 0;) {
        lt_held *h = &b->held[k];
        if (h->addr != addr || h->prim != prim || !committed(h->seq))
            continue;
        if (h->depth > 1) {
            __atomic_store_n(&h->depth, (uint16_t)(h->depth - 1), __ATOMIC_RELAXED);
            return true;
        }
        uint64_t held_ns = now > h->time_ns ? now - h->time_ns : 0;
        if (t && held_ns > t->hold_ns_longest) {
            t->longest_hold_stack = h->stack_id;
            t->hold_longest_at_ns = now;
            __atomic_store_n(&t->hold_ns_longest, held_ns, __ATOMIC_RELAXED);
        }
        held_free(b, k, n);
        return true;
    }
    return false;
}

/* ----- one event ----- */

static void wait_ends(lt_tctl *c, lt_lock_totals *t, uint64_t addr, uint64_t now, uint8_t flags, uint32_t stack)
{
    if (flags & LT_FL_TRY)
        return;
    if (t)
        bump(&t->blocking_calls);
    if (c->attempt_addr != addr)
        return; // the fast path (a try that succeeded), or an ATTEMPT a signal handler overwrote
    c->attempt_addr = 0;
    if (!t || !c->attempt_busy)
        return;
    uint64_t waited = now > c->attempt_ns ? now - c->attempt_ns : 0;
    bump(&t->contended);
    __atomic_store_n(&t->wait_ns_total, t->wait_ns_total + waited, __ATOMIC_RELAXED);
    if (waited > t->wait_ns_longest) {
        t->longest_wait_stack = stack;
        t->wait_longest_at_ns = now;
        __atomic_store_n(&t->wait_ns_longest, waited, __ATOMIC_RELAXED);
    }
}

void lt_book_note(lt_tctl *c, uint64_t index, uint64_t now, uint16_t type, uint8_t prim, uint8_t flags,
                  uint64_t addr, uint64_t s0, int32_t result, uint32_t stack)
{
    lt_book *b = c->book;
    if (LT_UNLIKELY(!b))
        return;
    switch (type) {
    case LT_EV_ATTEMPT:
        if (!(flags & LT_FL_TRY)) {
            c->attempt_ns = now;
            c->attempt_busy = word_busy(prim, flags, s0);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            c->attempt_addr = addr;
        }
        return;
    case LT_EV_ACQUIRED: {
        lt_lock_totals *t = totals_of(b, addr, prim);
        if (t)
            bump((flags & LT_FL_READ) ? &t->acquired_read : &t->acquired_write);
        if (!(flags & LT_FL_INTERNAL))
            wait_ends(c, t, addr, now, flags, stack);
        held_take(c, b, index, now, prim, flags, addr, stack);
        return;
    }
    case LT_EV_TIMEDOUT:
    case LT_EV_FAILED: {
        lt_lock_totals *t = totals_of(b, addr, prim);
        if (t) {
            if (type == LT_EV_TIMEDOUT)
                bump(&t->timeouts);
            else
                bump((flags & LT_FL_TRY) && result == EBUSY ? &t->try_failures : &t->failures);
        }
        wait_ends(c, t, addr, now, flags, stack);
        return;
    }
    case LT_EV_DESTROY:
        lt_life_bump(addr);
        return;
    }
}

int32_t lt_book_release(lt_tctl *c, uint64_t now, uint8_t prim, uint64_t addr)
{
    lt_book *b = c->book;
    if (LT_UNLIKELY(!b))
        return LT_RELEASE_UNKNOWN;
    lt_lock_totals *t = totals_of(b, addr, prim);
    if (held_drop(b, addr, prim, now, t))
        return LT_RELEASE_HELD;
    if (b->held_overflow)
        return LT_RELEASE_UNKNOWN;
    if (t)
        bump(&t->unmatched_releases);
    return LT_RELEASE_UNMATCHED;
}
