// The trace file of this process: creation, layout, thread slots and rings,
// what happens to it across fork, and the end-of-process stamp.
#pragma once
#include "cdecl.h"
#include "config.h"

#include <locktrace/format.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Per thread slot, in private memory (never in the file): where this
 * process mapped the slot's ring.  Mappings stay after the thread exits so a
 * recycled slot needs no new mapping. */
struct lt_tctl {
    struct lt_event *ring;
    uint64_t mask; /* ring capacity - 1 */
    struct lt_thread *slot;
    int32_t tid;
    uint32_t index;
    struct lt_stack_cache *stack_cache; /* null if stacks are off */
    uint64_t stack_lo, stack_hi;        /* this thread's stack, 0 if unknown */
    /* Set by lt_thread_detach.  The thread keeps recording after its
     * THREAD_EXIT (key and thread_local destructors run later), so its slot
     * is handed on only once the kernel no longer knows the tid (`lingering`
     * cleared by the attach that checked).  `ended` keeps a second exit
     * record (pthread_exit of an unwrapped thread) out. */
    uint8_t ended;
    uint8_t lingering;
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
    uint64_t ring_bytes;
    struct lt_tctl *ctl; /* max_threads entries, anonymous private mapping */
    size_t ctl_len;
    /* Address space reserved up front for all rings and unwind caches, so a
     * thread's first event never maps anything into a hole the program just
     * unmapped (its futex calls there must keep failing with EFAULT). */
    uint8_t *ring_area; /* rings of slots [0, ring_area_len / ring_bytes) (tracefile.cpp lt_init), PROT_NONE until used */
    size_t ring_area_len;
    struct lt_stack_cache *caches; /* max_threads entries, or null */
    struct lt_config cfg;
    char path[1100];
};

enum { LT_INIT_NONE = 0, LT_INIT_RUNNING = 1, LT_INIT_READY = 2, LT_INIT_OFF = 3 };

LT_C_BEGIN
extern struct lt_trace lt_g __attribute__((visibility("hidden")));
extern int lt_init_state __attribute__((visibility("hidden")));
/* exec hooks drop liblocktrace from LD_PRELOAD when this is set. */
extern bool lt_strip_exec __attribute__((visibility("hidden")));

/* Removes liblocktrace from this process's LD_PRELOAD (hooks_process.c). */
void lt_strip_preload_env(void) __attribute__((visibility("hidden")));

/* Lazy process-wide initialisation.  True once the trace file is ready;
 * false while another thread is initialising or if tracing is off. */
bool lt_init(void) __attribute__((visibility("hidden")));
/* Claims a thread slot and a ring for the calling thread; null = untraced. */
struct lt_tctl *lt_thread_attach(int tid, uint64_t now_ns) __attribute__((visibility("hidden")));
/* Marks the slot EXITED (after the THREAD_EXIT record).  The thread goes on
 * recording into it until it really ends; only then may the slot be reused. */
void lt_thread_detach(struct lt_tctl *c, uint64_t now_ns) __attribute__((visibility("hidden")));
/* In a fork child: ACQUIRED records for the locks the forking thread held. */
void lt_write_inherited_locks(void) __attribute__((visibility("hidden")));
/* Remembers the status given to exit() / returned by main. */
void lt_note_exit_status(int status) __attribute__((visibility("hidden")));
/* The program is about to limit its address space: give back the part of
 * the ring reservation no thread has claimed yet (hooks_process.c). */
void lt_ring_area_trim(void) __attribute__((visibility("hidden")));
/* Stamps end_monotonic_ns / exit_status now (used by _exit). */
void lt_stamp_end(void) __attribute__((visibility("hidden")));
LT_C_END

#include "clock.h"
static inline uint64_t lt_now(void) { return lt_clock(false); }
