// Process life: the lazy set-up of the shim (first event or constructor,
// whichever comes first), fork (the child's own trace, the locks it
// inherits), and the exit status and end stamp.  It writes no event: the
// recorder above it asks for the set-up and writes what fork leaves behind.
#pragma once
#include "cdecl.h"

#include <stdint.h>

/* A lock the forking thread held at the moment of fork (count times), and
 * where it took it (an id in the child's stack table). */
struct lt_inherited {
    uint64_t addr;
    uint8_t prim, flags;
    int32_t count;
    uint32_t stack;
};

LT_C_BEGIN
/* Lazy process-wide initialisation.  True once the trace file is ready;
 * false while another thread is initialising or if tracing is off. */
bool lt_init(void) LT_HIDDEN;
/* In a fork child, for the thread that forked, once: the locks it held (to be
 * written as ACQUIRED right after its THREAD_START); 0 otherwise. */
uint32_t lt_inherited_locks_take(const struct lt_inherited **list) LT_HIDDEN;
/* Around the real fork and _Fork, in their hooks: the held-lock list for the
 * child, and the forking thread muted through the atfork handlers (prepare
 * ... done).  _Fork runs no atfork handlers: its hook calls lt_fork_child. */
void lt_fork_prepare(void) LT_HIDDEN;
void lt_fork_done(bool child) LT_HIDDEN;
void lt_fork_child(void) LT_HIDDEN;
/* Before an exec (not in a vfork child): a program that has recorded
 * nothing hands its trace over to the next one (tracefile.h); true if so,
 * and then no EXEC event is due.  lt_exec_failed when the exec came back. */
bool lt_exec_hand_over(const char *next_argv0) LT_HIDDEN;
void lt_exec_failed(void) LT_HIDDEN;
/* Remembers the status given to exit() / returned by main. */
void lt_note_exit_status(int status) LT_HIDDEN;
/* Stamps end_monotonic_ns / exit_status now (used by _exit); a program
 * that recorded nothing but thread, fork and dlopen events (a wrapper that
 * only forked and waited) removes its trace instead. */
void lt_stamp_end(void) LT_HIDDEN;
LT_C_END
