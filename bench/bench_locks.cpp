// lt_bench: Google Benchmark timings of the workloads in workloads.h.
// scripts/bench.sh runs this same binary untraced and under the shim and
// compares the JSON it writes.  ns/op is wall-clock time divided by the ops
// of all threads (UseRealTime), so blocking and hand-offs are counted.
#include <benchmark/benchmark.h>

#include "workloads.h"

namespace {

void run_workload(benchmark::State &state, const ltbench::Workload *w) {
    const int t = state.thread_index();
    for (auto _ : state) w->op(t);
}

void register_all() {
    ltbench::objects(); // create and init every object before any thread runs
    for (const auto &w : ltbench::kWorkloads)
        for (int n : w.threads) {
            if (n == 0) break;
            benchmark::RegisterBenchmark(w.name, run_workload, &w)
                ->Threads(n)
                ->UseRealTime()
                ->Unit(benchmark::kNanosecond);
        }
}

} // namespace

int main(int argc, char **argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
