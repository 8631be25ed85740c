#include "clock.h"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

lt_tsc_scale lt_tsc;

static bool kernel_uses_tsc(void)
{
    char buf[32] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && !strncmp(buf, "tsc", 3) && (buf[3] == '\n' || buf[3] == 0);
}

/* A (tsc, ns) pair read as close together as we can manage: the tightest of
 * a few tries, so a preemption in the middle does not skew the scale. */
static void sample(uint64_t *tsc, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 8; ++i) {
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
}

void lt_clock_setup(const char *mode)
{
    if (mode && !strcmp(mode, "monotonic"))
        return;
    if (mode && *mode && strcmp(mode, "tsc") && strcmp(mode, "auto"))
        lt_warn("LOCKTRACE_CLOCK=%s is not auto, tsc or monotonic; using auto", mode);
    if (!kernel_uses_tsc()) {
        if (mode && !strcmp(mode, "tsc"))
            lt_warn("LOCKTRACE_CLOCK=tsc: the kernel clocksource is not tsc; using monotonic");
        return;
    }
    uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
    sample(&t0, &n0);
    // 2 ms of calibration: ~1e-5 scale error with ~20 ns sampling jitter.
    do
        sample(&t1, &n1);
    while (n1 - n0 < 2000000);
    if (t1 <= t0)
        return;
    lt_tsc.tsc0 = t1;
    lt_tsc.ns0 = n1;
    __atomic_store_n(&lt_tsc.mult, (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)), __ATOMIC_RELEASE);
}
