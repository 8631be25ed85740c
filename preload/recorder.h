// The recording API: the one entry point every hook (and the Capstone probe
// layer) uses to put an event into the calling thread's ring.
//
//   if (lt_want(LT_PRIM_MUTEX)) {
//       uint32_t st = lt_record(LT_EV_ATTEMPT, LT_PRIM_MUTEX, LT_FL_WRITE, m, kind,
//                               s0, s1, 0, 0, LT_STACK_HERE);
//       int r = real_lock(m);
//       lt_record(LT_EV_ACQUIRED, LT_PRIM_MUTEX, LT_FL_WRITE, m, kind, s0', s1', r, 0, st);
//   }
//
// lt_want(prim)   cheap inline test: is this family traced, and may this thread
//                 record right now (not inside the shim's own libc/libunwind/dlsym
//                 use, not a thread that was dropped or has exited)?  Hooks call
//                 it first so an untraced call costs one load and a branch.
//                 Before the shim is initialised it says yes: the first
//                 lt_record() does the lazy initialisation.
//
// lt_record(...)  writes one struct lt_event (see include/locktrace/format.h for
//                 the meaning of addr/addr2/state/result/arg per primitive).
//                 `stack` is LT_STACK_NONE (no stack), LT_STACK_HERE (unwind the
//                 caller now, deduplicated into the stack table), or an id
//                 returned by an earlier lt_record (an "after" event reusing its
//                 "before" event's stack: same call site, no second unwind).
//                 Returns the stack id it stored (0 if none).
//                 Hot path: TLS load, unfenced TSC read (clock.h), one unlocked xadd, 64-byte
//                 store, release store; no allocation, no lock, no system call.
//                 Called from a signal handler that interrupted the recorder
//                 itself, it still records (reserve-before-write makes the two
//                 records nest) with LT_FL_NESTED and no stack.  errno is never
//                 changed.  The first event of a thread sets up its ring (that
//                 one-time step may allocate and make system calls).
//
// lt_thread_end() the calling thread's THREAD_EXIT (hooks/thread.c).
//
// Below it: the process and thread state (state.h, lt_mute_guard), the trace
// file's slots (tracefile.h), stacks, modules, the clock, and the lazy set-up
// of the process (life.h) that a thread's first event asks for.
#pragma once
#include "cdecl.h"
#include "state.h"

#include <locktrace/format.h>
#include <stdint.h>

#define LT_STACK_NONE 0u
#define LT_STACK_HERE 0xffffffffu

LT_C_BEGIN
/* Sets up the calling thread's ring now instead of at its first event
 * (writes THREAD_START).  Initialises the process if needed. */
void lt_attach_current_thread(void) LT_HIDDEN;

uint32_t lt_record(enum lt_event_type type, enum lt_prim prim, uint32_t flags, const void *addr, uint64_t addr2,
                   uint64_t state0, uint64_t state1, int32_t result, uint32_t arg, uint32_t stack) LT_HIDDEN;
/* Slow half of lt_want: the thread is muted or off.  Heals a mute left by a
 * record abandoned through siglongjmp (see rec_frame); says whether the
 * thread may record now. */
bool lt_want_slow(uintptr_t frame) LT_HIDDEN;
/* The thread is ending (return, pthread_exit or cancellation): THREAD_EXIT,
 * and the slot is released (it goes on recording until it really ends). */
void lt_thread_end(void) LT_HIDDEN;
LT_C_END

static inline bool lt_want(enum lt_prim prim)
{
    if (!((__atomic_load_n(&lt_families_active, __ATOMIC_RELAXED) >> prim) & 1u))
        return false;
    if (LT_LIKELY(!(lt_tls.mute | lt_tls.off)))
        return true;
    return lt_want_slow((uintptr_t)__builtin_frame_address(0));
}
