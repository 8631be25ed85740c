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
 *   addr2    = lock class | word size in bytes << 8, see LT_PROBE_CLASS_*.
 * libc's inline futex calls appear as LT_PRIM_FUTEX events with LT_FL_INTERNAL.
 */
#ifndef LOCKTRACE_PROBES_H
#define LOCKTRACE_PROBES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Lock classes carried in addr2 of LT_PRIM_PROBE events (low byte). */
#define LT_PROBE_CLASS_USER 1u      /* user probe: a word of (addr2 >> 8) bytes */
#define LT_PROBE_CLASS_PL_RWLOCK 2u /* parking_lot::RawRwLock, usize word */
#define LT_PROBE_CLASS_PL_MUTEX 3u  /* parking_lot::RawMutex, u8 word */
#define LT_PROBE_CLASS_PL_PARK 4u   /* parking_lot_core park/unpark: addr = parking key */

void lt_probes_init(const char *trace_path) __attribute__((visibility("hidden")));

#ifdef __cplusplus
}
#endif
#endif
