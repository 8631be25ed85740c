// Process and thread state of the shim: what every other part of it reads.
// The bottom layer: it records nothing and calls nothing else of the shim.
//
//   lt_g            the process: its trace file's mapping, the private control
//                   array of thread slots, the configuration
//   lt_init_state   NONE -> RUNNING -> READY (or OFF) of the lazy set-up (life.h)
//   lt_tls          the calling thread: its slot, and whether it may record now
//   lt_mute_guard   RAII: the shim's own libc/libunwind/dlsym use goes untraced
#pragma once
#include "cdecl.h"
#include "config.h"

#include <locktrace/format.h>
#include <stddef.h>
#include <stdint.h>

#define LT_LIKELY(x) __builtin_expect(!!(x), 1)
#define LT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The lock-order pairs a thread noted lately (book.cpp): a nested
 * acquisition it made before goes no further than here, instead of to a
 * shared table entry that every thread taking that pair writes.  `tag` is
 * the pair's hash (0 = empty), `entry` its index in the shared table
 * (LT_ORDER_NONE: the table had no room for it), `pending` the times taken
 * since its count there was last brought up to date (and LT_ORDER_USED). */
#define LT_ORDER_SEEN 256
#define LT_ORDER_USED 0x80000000u /* in pending: taken again since the last look */
#define LT_ORDER_NONE 0xffffffffu
struct lt_order_seen {
    uint64_t tag;
    uint32_t entry;
    uint32_t pending;
};

/* Per thread slot, in private memory (never in the file): where this
 * process mapped the slot's ring.  Mappings stay after the thread exits so a
 * recycled slot needs no new mapping. */
struct lt_tctl {
    struct lt_event *ring;
    uint64_t mask; /* ring capacity - 1 */
    struct lt_thread *slot;
    int32_t tid;
    uint32_t index;
    struct lt_stack_cache *stack_cache; /* null if stacks are off (stacks.h) */
    uint64_t stack_lo, stack_hi;        /* this thread's stack, 0 if unknown */
    /* Set by lt_slot_release.  The thread keeps recording after its
     * THREAD_EXIT (key and thread_local destructors run later), so its slot
     * is handed on only once the kernel no longer knows the tid (`lingering`
     * cleared by the claim that checked).  `ended` keeps a second exit
     * record (pthread_exit of an unwrapped thread) out. */
    uint8_t ended;
    uint8_t lingering;
    uint8_t attempt_busy;   /* the pending ATTEMPT's word showed the lock taken */
    struct lt_book *book;   /* right after the ring, in the same mapping */
    uint64_t attempt_addr;  /* the lock of the acquire call in progress, 0 if none */
    uint64_t attempt_ns;    /* its ATTEMPT's time */
    /* 4 KiB, touched only as pairs are noted; zero in a fork child (the
     * whole array is dropped there) and kept by a recycled slot (the table
     * it points into is the same). */
    struct lt_order_seen order_seen[LT_ORDER_SEEN];
};

struct lt_trace {
    int fd;
    struct lt_file_header *hdr; /* mapping of [0, rings_offset) */
    size_t map_len;
    struct lt_thread *threads;
    struct lt_module *modules;
    uint8_t *stacks;
    uint32_t stack_entry_size;
    uint32_t stack_depth;
    uint64_t ring_bytes; /* a slot's ring and its book (lt_slot_bytes) */
    struct lt_order_pair *order; /* order_table_capacity entries */
    struct lt_lock_life *lives;  /* lives_capacity entries */
    struct lt_tctl *ctl; /* max_threads entries, anonymous private mapping */
    size_t ctl_len;
    /* Address space reserved up front for all rings and unwind caches, so a
     * thread's first event never maps anything into a hole the program just
     * unmapped (its futex calls there must keep failing with EFAULT). */
    uint8_t *ring_area; /* rings of slots [0, ring_area_len / ring_bytes) (lt_rings_reserve), PROT_NONE until used */
    size_t ring_area_len;
    struct lt_stack_cache *caches; /* max_threads entries, or null (stacks.h) */
    struct lt_config cfg;
    char path[1100];
};

enum { LT_INIT_NONE = 0, LT_INIT_RUNNING = 1, LT_INIT_READY = 2, LT_INIT_OFF = 3 };

/* Kept tiny: it lives in the static TLS block of every thread. */
struct lt_tls_state {
    struct lt_tctl *ctl; /* null until the thread's ring exists */
    uint8_t depth;       /* > 0 while inside lt_record (signal nesting) */
    uint8_t mute;        /* > 0: pass through untraced (shim's own calls) */
    uint8_t off;         /* 1: this thread is not traced (dropped, exited, child untraced) */
    uint8_t rec_mute;    /* mute when the outermost lt_record began */
    /* > 0 inside the shim's own machinery (lt_mute_guard: libunwind, dlsym,
     * set-up; the watchdog thread), not the program's code merely muted
     * (atfork handlers): its lock calls go straight to glibc, never to a
     * library preloaded after ours (lt_next_table). */
    uint8_t internal;
    uint8_t rec_internal; /* internal when the outermost lt_record began */
    /* Frame of the outermost lt_record in progress, 0 if none.  A signal
     * handler that siglongjmps out of the recorder leaves depth (and perhaps
     * mute) raised; the next call from a frame at or above this one proves
     * that record abandoned, and both are put back (lt_heal). */
    uintptr_t rec_frame;
    /* The hook's return address into the program, stored by REC (hook.h)
     * just before it records: picks the stack cache's set (stacks.h).  A
     * signal handler's record may change it under an outer one: that only
     * sends the outer lookup to another set, where it misses and walks. */
    uint64_t caller;
};

LT_C_BEGIN
extern struct lt_trace lt_g LT_HIDDEN;
extern int lt_init_state LT_HIDDEN;
/* exec hooks drop liblocktrace from LD_PRELOAD when this is set. */
extern bool lt_strip_exec LT_HIDDEN;
extern __thread struct lt_tls_state lt_tls __attribute__((tls_model("initial-exec"))) LT_HIDDEN;
/* Bit (1 << prim) per traced family; all ones until initialisation decides. */
extern uint32_t lt_families_active LT_HIDDEN;

/* The calling thread's stack, [*lo, *hi), or 0 and 0 if unknown. */
void lt_thread_stack(uint64_t *lo, uint64_t *hi) LT_HIDDEN;
/* Asks glibc for the calling thread's stack now, where allocating is safe
 * (thread start, before fork), so that lt_thread_stack never has to. */
void lt_thread_stack_prepare(void) LT_HIDDEN;
LT_C_END

#ifdef __cplusplus
struct lt_mute_guard {
    lt_mute_guard()
    {
        ++lt_tls.mute;
        ++lt_tls.internal;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    ~lt_mute_guard()
    {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        --lt_tls.internal;
        --lt_tls.mute;
    }
    lt_mute_guard(const lt_mute_guard &) = delete;
    lt_mute_guard &operator=(const lt_mute_guard &) = delete;
};

/* errno is saved and restored around every slow path of the shim. */
struct lt_errno_guard {
    int saved;
    lt_errno_guard();
    ~lt_errno_guard();
};
#endif
