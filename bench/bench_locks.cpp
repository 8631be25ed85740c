// lt_bench: Google Benchmark timings of the workloads in workloads.h.
// scripts/bench.sh runs this same binary untraced and under the shim and
// compares the JSON it writes.  ns/op is wall-clock time divided by the ops
// of all threads (UseRealTime), so blocking and hand-offs are counted.
//
// --floor=rdtsc / --floor=gettime / --floor=rdtscp runs, under the same
// names, only the workloads that have a floor, each lock call preceded by one
// rdtsc, one clock_gettime or one rdtscp: the floor under any tracer that
// stamps every call, measured in the loop.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

#include "workloads.h"

namespace {

void run_op(benchmark::State &state, void (*op)(int)) {
    const int t = state.thread_index();
    for (auto _ : state) op(t);
}

void configure(benchmark::internal::Benchmark *b, int threads) {
    b->Threads(threads)->UseRealTime()->Unit(benchmark::kNanosecond);
}

void register_all(const char *floor) {
    ltbench::objects(); // create and init every object before any thread runs
    for (const auto &w : ltbench::kWorkloads)
        for (int n : w.threads) {
            if (n == 0) break;
            void (*op)(int) = !floor                            ? w.op
                              : std::strcmp(floor, "rdtsc") == 0   ? w.floor_rdtsc
                              : std::strcmp(floor, "rdtscp") == 0  ? w.floor_rdtscp
                                                                   : w.floor_gettime;
            if (op) configure(benchmark::RegisterBenchmark(w.name, run_op, op), n);
        }
}

} // namespace

int main(int argc, char **argv) {
    const char *floor = nullptr;
    for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], "--floor=", 8) == 0) {
            floor = argv[i] + 8;
            if (std::strcmp(floor, "rdtsc") != 0 && std::strcmp(floor, "gettime") != 0 &&
                std::strcmp(floor, "rdtscp") != 0) {
                std::fprintf(stderr, "lt_bench: --floor=rdtsc, --floor=gettime or --floor=rdtscp\n");
                return 2;
            }
            for (int j = i; j < argc; ++j) argv[j] = argv[j + 1];
            --argc;
            break;
        }
    register_all(floor);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
