#include "recorder.h"

#include "book.h"
#include "clock.h"
#include "life.h"
#include "modules.h"
#include "stacks.h"
#include "state.h"
#include "tracefile.h"

#include <pthread.h>
#include <unistd.h>

/* Reserves the next record index.  xadd without a lock prefix: one
 * instruction, so a signal handler on this thread cannot split it, and no
 * other thread ever writes this head. */
static inline uint64_t reserve_index(uint64_t *head)
{
    uint64_t i = 1;
    __asm__ volatile("xaddq %0, %1" : "+r"(i), "+m"(*head)::"memory");
    return i;
}

static inline uint64_t write_event(lt_tctl *c, uint64_t now, uint16_t type, uint8_t prim, uint8_t flags, uint64_t addr,
                               uint64_t addr2, uint64_t s0, uint64_t s1, int32_t result, uint32_t arg, uint32_t stack)
{
    uint64_t i = reserve_index(&c->slot->head);
    lt_event *e = &c->ring[i & c->mask];
    // Invalidate first: a reader never takes a half-written record for the old one.
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_RELEASE);
    e->time_ns = now;
    e->addr = addr;
    e->addr2 = addr2;
    e->state[0] = s0;
    e->state[1] = s1;
    e->stack_id = stack;
    e->type = type;
    e->prim = prim;
    e->flags = flags;
    e->result = result;
    e->arg = arg;
    __atomic_store_n(&e->seq, i + 1, __ATOMIC_RELEASE);
    // The ring wrapped: a moment off the usual path for a clock anchor, where
    // reading CLOCK_MONOTONIC makes no system call (the hot path makes none).
    if (LT_UNLIKELY(!(i & c->mask)) && lt_anchor_any_record)
        lt_clock_anchor_if_due(now);
    return i;
}

/* In a fork child, the thread that forked holds what it held before (its
 * held set at the fork): its locks are written as ACQUIRED (LT_FL_INTERNAL)
 * right after its THREAD_START, so the child's own history and held set are
 * complete.  (Every parent thread's locks are in the file's inherited
 * table, written by life.cpp.) */
static void write_inherited_locks(void)
{
    const lt_inherited *held;
    uint32_t n = lt_inherited_locks_take(&held);
    for (uint32_t k = 0; k < n; ++k)
        for (int32_t j = 0; j < held[k].count; ++j)
            lt_record(LT_EV_ACQUIRED, (lt_prim)held[k].prim, held[k].flags | LT_FL_INTERNAL,
                      (const void *)held[k].addr, 0, 0, 0, 0, 0, held[k].stack);
}

/* First event of a thread: process init if needed, then a slot and a ring. */
static __attribute__((noinline)) lt_tctl *thread_setup(void)
{
    if (lt_tls.off || lt_tls.mute || !lt_init())
        return nullptr;
    lt_tctl *c;
    {
        lt_mute_guard mute;
        lt_errno_guard keep_errno;
        // The slot and ring set-up may reach cancellation points: a pending
        // deferred cancel must wait for the program's own next one.
        int cancel_state;
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
        uint64_t now = lt_now();
        int tid = (int)gettid();
        bool recycled;
        c = lt_slot_claim(tid, now, &recycled);
        if (!c) {
            lt_tls.off = 1;
            pthread_setcancelstate(cancel_state, nullptr);
            return nullptr;
        }
        lt_thread_stack(&c->stack_lo, &c->stack_hi);
        lt_stacks_thread_begin(c, recycled);
        lt_tls.ctl = c;
        lt_stacks_warm_up();
        lt_clock_anchor_if_due(now);
        write_event(c, now, LT_EV_THREAD_START, LT_PRIM_THREAD, 0, (uint64_t)pthread_self(), 0, 0, 0, tid, 0, 0);
        pthread_setcancelstate(cancel_state, nullptr);
    }
    write_inherited_locks();
    return c;
}

/* A dlopen happened since the last refresh: record the new modules before
 * the next event of anyone who notices. */
static __attribute__((noinline)) void refresh_modules(lt_tctl *c)
{
    uint32_t added = lt_modules_refresh();
    if (added)
        write_event(c, lt_now(), LT_EV_DLOPEN, LT_PRIM_PROCESS, 0, 0, 0, 0, 0, (int32_t)added, 0, 0);
}

/* Is the record in progress (rec_frame) one this call cannot be nested in?
 * A signal handler that interrupted it runs below its frame on the same stack
 * (or on an alternate stack outside the thread's stack); a call from at or
 * above that frame, on the thread's stack, can only come after a siglongjmp
 * (or longjmp) left it for good. */
static inline bool record_abandoned(const lt_tls_state &t, uintptr_t frame)
{
    lt_tctl *c = t.ctl;
    return t.rec_frame && c && frame >= t.rec_frame && frame < c->stack_hi;
}

static __attribute__((noinline)) void heal(lt_tls_state &t)
{
    t.mute = t.rec_mute;
    t.internal = t.rec_internal;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t.depth = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t.rec_frame = 0;
}

bool lt_want_slow(uintptr_t frame)
{
    lt_tls_state &t = lt_tls;
    if (t.off)
        return false;
    if (t.mute && record_abandoned(t, frame))
        heal(t);
    return !t.mute;
}

uint32_t lt_record(lt_event_type type, lt_prim prim, uint32_t flags, const void *addr, uint64_t addr2, uint64_t s0,
                   uint64_t s1, int32_t result, uint32_t arg, uint32_t stack)
{
    lt_tls_state &t = lt_tls;
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    // The counter is read first, so that its latency (tens of cycles, and
    // unfenced) overlaps the checks and the stack lookup below instead of
    // holding up the stores of the record.
    uint64_t raw = lt_now_raw();
    if (LT_UNLIKELY(t.mute | t.off) && !lt_want_slow(frame))
        return 0;
    lt_tctl *c = t.ctl;
    if (LT_UNLIKELY(!c)) {
        c = thread_setup();
        if (!c)
            return 0;
        raw = lt_now_raw(); // after the thread's start record
    }
    if (LT_UNLIKELY(t.depth) && record_abandoned(t, frame))
        heal(t);
    uint8_t depth = t.depth;
    if (LT_LIKELY(!depth)) {
        t.rec_mute = t.mute;
        t.rec_internal = t.internal;
        t.rec_frame = frame;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    t.depth = (uint8_t)(depth + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (LT_UNLIKELY(depth)) {
        // A signal handler interrupted this thread inside the recorder.
        flags |= LT_FL_NESTED;
        stack = 0;
    } else {
        if (LT_UNLIKELY(__atomic_load_n(&lt_modules_stale, __ATOMIC_RELAXED))) {
            refresh_modules(c);
            raw = lt_now_raw(); // after the DLOPEN record
        }
        if (stack == LT_STACK_HERE)
            stack = LT_LIKELY(lt_g.stack_depth)
                        ? lt_stack_here(c->stack_cache, (uint64_t)(uintptr_t)__builtin_return_address(0), t.caller)
                        : 0;
    }
    uint64_t now = lt_now_of(raw);
    // An anchor now and then (clock.h): before a wait the clock read is
    // lost in it; elsewhere only where CLOCK_MONOTONIC is read in the vDSO.
    if (!depth)
        lt_clock_anchor_from_record(now, type == LT_EV_WAIT_BEGIN);
    bool book = lt_book_wants((uint16_t)type, (uint8_t)prim);
    // A RELEASE says whether the thread held the lock (its held set, before
    // this release takes it out).
    if (book && type == LT_EV_RELEASE)
        result = lt_book_release(c, now, (uint8_t)prim, (uint64_t)(uintptr_t)addr);
    uint64_t index = write_event(c, now, (uint16_t)type, (uint8_t)prim, (uint8_t)flags, (uint64_t)(uintptr_t)addr,
                                 addr2, s0, s1, result, arg, stack);
    if (book && type != LT_EV_RELEASE)
        lt_book_note(c, index, now, (uint16_t)type, (uint8_t)prim, (uint8_t)flags, (uint64_t)(uintptr_t)addr, s0,
                     result, stack);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t.depth = depth;
    if (LT_LIKELY(!depth)) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t.rec_frame = 0;
    }
    return stack;
}

/* It keeps its slot and goes on recording: pthread key and thread_local
 * destructors run after this and may unlock what the thread held
 * (lt_slot_release). */
void lt_thread_end(void)
{
    lt_tctl *c = lt_tls.ctl;
    if (!c || c->ended)
        return;
    lt_record(LT_EV_THREAD_EXIT, LT_PRIM_THREAD, 0, (const void *)pthread_self(), 0, 0, 0, c->tid, 0, LT_STACK_NONE);
    lt_book_flush(c);
    uint64_t now = lt_now();
    lt_clock_anchor_if_due(now);
    lt_slot_release(c, now);
}

void lt_attach_current_thread(void)
{
    if (!lt_tls.ctl && !lt_tls.mute && !lt_tls.off)
        thread_setup();
}
