// What one timestamp costs on this machine: the floor under the cost of any
// record that carries its own time.  The shim stamps "before" records with a
// bare rdtsc and "after" records with lfence+rdtsc (preload/clock.h), and
// falls back to clock_gettime where the TSC is unusable.  `make bench` weighs
// these against the untraced reference loop (scripts/bench.sh).
#include <benchmark/benchmark.h>

#include <ctime>
#include <x86intrin.h>

static void clock_rdtsc(benchmark::State& s)
{
    for (auto _ : s) benchmark::DoNotOptimize(__rdtsc());
}
BENCHMARK(clock_rdtsc);

static void clock_lfence_rdtsc(benchmark::State& s)
{
    for (auto _ : s) {
        _mm_lfence();
        benchmark::DoNotOptimize(__rdtsc());
    }
}
BENCHMARK(clock_lfence_rdtsc);

static void clock_gettime_monotonic(benchmark::State& s)
{
    timespec ts;
    for (auto _ : s) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        benchmark::DoNotOptimize(ts);
    }
}
BENCHMARK(clock_gettime_monotonic);

BENCHMARK_MAIN();
