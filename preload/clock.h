// Event timestamps: the trace's stamp clock (include/locktrace/format.h,
// struct lt_clock_anchor).
//
// Where the CPU's time-stamp counter is invariant (constant rate, runs in
// every C-state: CPUID 0x80000007 EDX bit 8, or the kernel's constant_tsc +
// nonstop_tsc flags), records are stamped from the TSC, whatever clocksource
// the kernel itself uses (kvm-clock, hyperv, xen on cloud VMs): one unfenced
// rdtsc and a multiply, against ~27 ns for the vDSO clock_gettime there.  The
// scale is calibrated against CLOCK_MONOTONIC at start; anchors (stamp,
// CLOCK_MONOTONIC) written now and then off the hot path let the decoder
// correct the scale's drift and notice a TSC that jumped (VM migration).
// Without an invariant TSC, or with LOCKTRACE_CLOCK=monotonic, records hold
// clock_gettime(CLOCK_MONOTONIC) itself.
//
// No stamp is fenced: an "after" event's rdtsc may run a little before the
// real call completed, so a lock's ACQUIRED may be stamped a few hundred ns
// before the previous owner's RELEASE.  The decoder orders one lock's
// records by what the lock allows (decoder/core/handover.h).
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
/* The stamp at or after which the next anchor is due (UINT64_MAX: none). */
extern uint64_t lt_anchor_due LT_HIDDEN;
/* CLOCK_MONOTONIC is read without a system call here: any record may write
 * an anchor that is due (lt_clock_anchor_from_record). */
extern bool lt_anchor_any_record LT_HIDDEN;
/* Once per process image; honours LOCKTRACE_CLOCK. */
void lt_clock_setup(const char *mode) LT_HIDDEN;
/* enum lt_clock_kind of the stamps this image writes. */
uint32_t lt_clock_kind(void) LT_HIDDEN;
/* Writes a (stamp, CLOCK_MONOTONIC) anchor into the trace file's table if
 * one is due (or always, with force).  Reads CLOCK_MONOTONIC: only from
 * places that make a system call anyway or are off the hot path.  Safe from
 * any thread and from signal handlers. */
void lt_clock_anchor(bool force) LT_HIDDEN;
/* A new trace file (process start, fork child): anchors start again. */
void lt_clock_anchors_reset(void) LT_HIDDEN;
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

/* A stamp in two steps, so that the recorder can read the counter early
 * and convert it late: the raw counter (0 where stamps are clock_gettime's,
 * and rdtsc is then never executed: the process may have made it fault) ... */
static inline uint64_t lt_now_raw(void) { return __builtin_expect(lt_tsc.mult != 0, 1) ? __rdtsc() : 0; }

/* ... and its stamp. */
static inline uint64_t lt_now_of(uint64_t raw)
{
    if (__builtin_expect(lt_tsc.mult == 0, 0))
        return lt_now_mono();
    return lt_tsc_to_ns(raw);
}

/* A stamp for a record (or any time the shim writes into the file). */
static inline uint64_t lt_now(void) { return lt_now_of(lt_now_raw()); }

/* An anchor is due: cheap enough for paths about to make a system call. */
static inline void lt_clock_anchor_if_due(uint64_t now)
{
    if (__builtin_expect(now >= __atomic_load_n(&lt_anchor_due, __ATOMIC_RELAXED), 0))
        lt_clock_anchor(false);
}

/* The recorder's check, on every record: one load and a compare.  Where
 * the kernel reads CLOCK_MONOTONIC in the vDSO (clocksource tsc, kvm-clock,
 * a hypervisor's TSC page) the anchor's reading costs tens of ns once per
 * millisecond or more, with no system call; elsewhere clock_gettime may
 * enter the kernel, and only records about to wait take the anchor. */
static inline void lt_clock_anchor_from_record(uint64_t now, bool about_to_wait)
{
    if (__builtin_expect(now >= __atomic_load_n(&lt_anchor_due, __ATOMIC_RELAXED), 0) &&
        (lt_anchor_any_record || about_to_wait))
        lt_clock_anchor(false);
}
