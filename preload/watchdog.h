// The watchdog (LOCKTRACE_WATCHDOG=SECONDS, man/liblocktrace.7): a thread of
// the shim that turns a hang into a report.  It reads only the trace's own
// rings (head counters and each thread's newest record), so the hot path pays
// nothing for it; it is never traced and takes no application lock.
//
// A hang episode: at least one traced thread's newest record is a blocking
// before-event (an ATTEMPT that is not a try, or a WAIT_BEGIN) older than
// SECONDS, and no ring's head has moved for SECONDS.  Then, once per episode
// (a new episode needs some head to move first), it
//   1. records a LT_MARK_WATCHDOG mark in the trace header,
//   2. runs `locktrace report TRACE` (LOCKTRACE_DECODER, else `locktrace` next
//      to liblocktrace.so) without LD_PRELOAD, writing TRACE.report.txt and
//      copying it to stderr,
//   3. with LOCKTRACE_WATCHDOG_ACTION=abort, calls abort().
#pragma once
#include "cdecl.h"

LT_C_BEGIN
/* Starts the thread if LOCKTRACE_WATCHDOG is set.  Call once the trace file
 * is set up (from the shim's constructor). */
void lt_watchdog_start(void) LT_HIDDEN;
/* In a fork child (the parent's watchdog thread did not survive fork): starts
 * a new one for the child's own trace if the watchdog is enabled. */
void lt_watchdog_after_fork(void) LT_HIDDEN;
LT_C_END
