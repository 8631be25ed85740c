// Event timestamps: CLOCK_MONOTONIC nanoseconds.
//
// When the kernel itself keeps CLOCK_MONOTONIC on the TSC (clocksource "tsc":
// invariant and synchronised across CPUs), read the TSC directly and convert
// with a scale calibrated against clock_gettime at start: about a third of
// the cost of the vDSO call.  The conversion is monotonic, so ordering
// between threads is exact; the absolute value may drift from the kernel's
// clock by the calibration error (~1e-5).
//
// "After" events (lock acquired, wait ended) fence the TSC read behind the
// real call, so they can never be stamped earlier than the moment the lock
// was actually taken (and so never before the previous owner's RELEASE).
#pragma once
#include "cdecl.h"

#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

struct lt_tsc_scale {
    uint64_t tsc0;  /* TSC at the reference point */
    uint64_t ns0;   /* CLOCK_MONOTONIC at the reference point */
    uint64_t mult;  /* ns per tick, 32.32 fixed point; 0 = use clock_gettime */
};

LT_C_BEGIN
extern struct lt_tsc_scale lt_tsc LT_HIDDEN;
/* Once per process image; honours LOCKTRACE_CLOCK. */
void lt_clock_setup(const char *mode) LT_HIDDEN;
LT_C_END

static inline uint64_t lt_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t lt_tsc_to_ns(uint64_t tsc)
{
    int64_t d = (int64_t)(tsc - lt_tsc.tsc0);
    __int128 ns = ((__int128)d * (__int128)lt_tsc.mult) >> 32;
    return lt_tsc.ns0 + (uint64_t)(int64_t)ns;
}

/* before == true: a "before" event, no fence needed (an early read only
 * makes the stamp smaller). */
static inline uint64_t lt_clock(bool before)
{
    if (__builtin_expect(lt_tsc.mult == 0, 0))
        return lt_now_mono();
    if (!before)
        _mm_lfence();
    return lt_tsc_to_ns(__rdtsc());
}

/* The shim's own time stamps (slots, modules, marks): an "after" reading. */
static inline uint64_t lt_now(void) { return lt_clock(false); }
