#include "clock.h"

#include "config.h"
#include "state.h"

#include <cpuid.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

lt_tsc_scale lt_tsc;
/* Its own cache line: written at each anchor, while lt_tsc is read by every record. */
alignas(64) uint64_t lt_anchor_due = UINT64_MAX;
bool lt_anchor_any_record;

/* Clocksources the kernel reads in the vDSO on x86 (no system call for
 * clock_gettime): the TSC itself, KVM's and Hyper-V's paravirtual pages. */
static bool vdso_clocksource(void)
{
    char buf[64] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[strcspn(buf, "\n")] = 0;
    return !strcmp(buf, "tsc") || !strcmp(buf, "kvm-clock") || !strcmp(buf, "hyperv_clocksource_tsc_page");
}

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
 * P-, C- and T-state.  A hypervisor may hide the leaf while the kernel still
 * knows the TSC is invariant (it says so with both flags in /proc/cpuinfo). */
static bool cpuid_invariant_tsc(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return false;
    __cpuid(0x80000007u, a, b, c, d);
    return (d >> 8) & 1u;
}

/* Both flags on the first processor's "flags" line. */
static bool cpuinfo_invariant_tsc(void)
{
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    static char buf[16384];
    ssize_t got = 0, r;
    while (got < (ssize_t)sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += r;
    close(fd);
    buf[got > 0 ? got : 0] = 0;
    char *flags = strstr(buf, "\nflags");
    if (!flags)
        return false;
    char *end = strchr(flags + 1, '\n');
    if (end)
        *end = 0;
    return strstr(flags, " constant_tsc") && strstr(flags, " nonstop_tsc");
}

static bool tsc_invariant(void) { return cpuid_invariant_tsc() || cpuinfo_invariant_tsc(); }

/* A (tsc, ns) pair read as close together as we can manage: the tightest of
 * a few tries, so a preemption in the middle does not skew it.  *spread:
 * ticks between the two TSC reads around the clock_gettime. */
static void sample(uint64_t *tsc, uint64_t *ns, uint64_t *spread, int tries)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < tries; ++i) {
        _mm_lfence();
        uint64_t a = __rdtsc();
        _mm_lfence();
        uint64_t n = lt_now_mono();
        _mm_lfence();
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
    *spread = best;
}

void lt_clock_setup(const char *mode)
{
    if (mode && !strcmp(mode, "monotonic"))
        return;
    if (mode && *mode && strcmp(mode, "tsc") && strcmp(mode, "auto"))
        lt_warn("LOCKTRACE_CLOCK=%s is not auto, tsc or monotonic; using auto", mode);
    if (!tsc_invariant()) {
        if (mode && !strcmp(mode, "tsc"))
            lt_warn("LOCKTRACE_CLOCK=tsc: this CPU's TSC is not invariant; using monotonic");
        return;
    }
    uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0, spread;
    sample(&t0, &n0, &spread, 8);
    // 2 ms of calibration: ~1e-5 scale error with ~20 ns sampling jitter;
    // the decoder corrects the rest with the anchors.
    do
        sample(&t1, &n1, &spread, 8);
    while (n1 - n0 < 2000000);
    if (t1 <= t0)
        return;
    lt_tsc.tsc0 = t1;
    lt_tsc.ns0 = n1;
    lt_anchor_any_record = vdso_clocksource();
    __atomic_store_n(&lt_tsc.mult, (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)), __ATOMIC_RELEASE);
}

uint32_t lt_clock_kind(void) { return lt_tsc.mult ? LT_CLOCK_TSC : LT_CLOCK_MONOTONIC; }

static uint64_t g_first_anchor;  /* stamp of this file's first anchor */

void lt_clock_anchors_reset(void)
{
    g_first_anchor = 0;
    __atomic_store_n(&lt_anchor_due, lt_tsc.mult ? 0 : UINT64_MAX, __ATOMIC_RELAXED);
}

void lt_clock_anchor(bool force)
{
    lt_file_header *h = lt_g.hdr;
    if (!lt_tsc.mult || !h || !h->anchors_capacity || !h->anchors_offset)
        return;
    uint64_t due = __atomic_load_n(&lt_anchor_due, __ATOMIC_RELAXED);
    uint64_t now = lt_now();
    if (!force && now < due)
        return;
    // Spaced by at least 1 ms and 1/1024 of the trace's age: a few thousand
    // anchors cover hours, and two are never so close that their reading
    // jitter would make a rate of its own.
    uint64_t age = g_first_anchor ? now - g_first_anchor : 0;
    uint64_t gap = age / 1024 > 1000000 ? age / 1024 : 1000000;
    if (!__atomic_compare_exchange_n(&lt_anchor_due, &due, now + gap, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
        !force)
        return; // another thread writes this one
    uint64_t tsc = 0, mono = 0, spread = 0;
    sample(&tsc, &mono, &spread, 3);
    uint64_t stamp = lt_tsc_to_ns(tsc);
    uint64_t spread_ns = lt_tsc_to_ns(tsc + spread) - stamp;
    if (!g_first_anchor)
        g_first_anchor = stamp;
    struct lt_clock_anchor *e;
    uint64_t i = __atomic_fetch_add(&h->anchors_head, 1, __ATOMIC_RELAXED);
    e = (struct lt_clock_anchor *)((uint8_t *)h + h->anchors_offset) + (i & (h->anchors_capacity - 1));
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->stamp_ns = stamp;
    e->mono_ns = mono;
    e->spread_ns = spread_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)spread_ns;
    e->check = lt_anchor_check(i + 1, stamp, mono, e->spread_ns);
    __atomic_store_n(&e->seq, i + 1, __ATOMIC_RELEASE);
}
