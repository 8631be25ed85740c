/* Capstone probes: the shim's entry points into preload/probes.
 *
 *   lt_probes_init(trace_path)  once, from the shim's initialisation, after the
 *       recorder works.  Reads LOCKTRACE_PROBES, LOCKTRACE_PROBES_BUILTIN,
 *       LOCKTRACE_LIBC_FUTEX, LOCKTRACE_PROBES_VERBOSE; places the probes;
 *       writes the placement list (placed / refused and why, time taken) to
 *       "<trace_path>.probes" (trace_path may be null: no file).
 *
 * Events (include/locktrace/format.h, LT_PRIM_PROBE):
 *   addr     = the lock (first argument of the probed function)
 *   state[0] = lock word before (at entry), state[1] = lock word after (at return;
 *              == state[0] for events written at entry)
 *   arg      = probe id (line "probe <id> ..." of the .probes file)
 *   addr2    = lock class | word size in bytes << 8, see LT_PROBE_CLASS_* in
 *              include/locktrace/probe_classes.h (shared with the decoder).
 * libc's inline futex calls appear as LT_PRIM_FUTEX events with LT_FL_INTERNAL.
 */
#ifndef LOCKTRACE_PROBES_H
#define LOCKTRACE_PROBES_H

#include <locktrace/probe_classes.h>

#ifdef __cplusplus
extern "C" {
#endif

void lt_probes_init(const char *trace_path) __attribute__((visibility("hidden")));

#ifdef __cplusplus
}
#endif
#endif
