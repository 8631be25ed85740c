/*
 * Lock classes of LT_PRIM_PROBE events, shared by the shim's Capstone probes
 * (preload/probes) and the decoder.  Part of the trace format (format.h):
 *
 *   addr2 = class | word size in bytes << 8
 *
 * The class is the low byte of addr2; the word size is that of the lock word
 * whose values state[0] and state[1] hold.
 */
#ifndef LOCKTRACE_PROBE_CLASSES_H
#define LOCKTRACE_PROBE_CLASSES_H

#define LT_PROBE_CLASS_USER 1u      /* user probe: a word of (addr2 >> 8) bytes */
#define LT_PROBE_CLASS_PL_RWLOCK 2u /* parking_lot::RawRwLock, usize word */
#define LT_PROBE_CLASS_PL_MUTEX 3u  /* parking_lot::RawMutex, u8 word */
#define LT_PROBE_CLASS_PL_PARK 4u   /* parking_lot_core park/unpark: addr = parking key */

#endif
