// lt_workload WORKLOAD THREADS OPS: runs exactly OPS operations of one
// workload on each of THREADS threads, then exits.  Used by scripts/bench.sh
// to check that a traced run recorded what the workload did (events per op),
// and to generate big traces for the decoder's speed test.
#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "workloads.h"

static void usage() {
    std::fprintf(stderr, "usage: lt_workload WORKLOAD THREADS OPS | --list\nworkloads:\n");
    for (const auto &w : ltbench::kWorkloads) std::fprintf(stderr, "  %-18s %s\n", w.name, w.what);
    std::exit(2);
}

int main(int argc, char **argv) {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        // "name threads min_events_per_op" for every run `make bench` times
        for (const auto &w : ltbench::kWorkloads)
            for (int n : w.threads)
                if (n) std::printf("%s %d %g\n", w.name, n, w.min_events_per_op);
        return 0;
    }
    if (argc != 4) usage();
    const ltbench::Workload *w = ltbench::find_workload(argv[1]);
    char *end = nullptr;
    long threads = std::strtol(argv[2], &end, 10);
    if (!w || *end || threads < 1 || threads > ltbench::kMaxThreads) usage();
    long long ops = std::strtoll(argv[3], &end, 10);
    if (*end || ops < 0) usage();
    if (w->sharing == ltbench::Sharing::pairs && threads % 2) {
        std::fprintf(stderr, "lt_workload: %s needs an even number of threads\n", w->name);
        return 2;
    }
    ltbench::objects();
    // Start together so contended workloads really contend; a spin on an
    // atomic keeps the start-up out of the trace.
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < threads) std::this_thread::yield();
            for (long long i = 0; i < ops; ++i) w->op(t);
        });
    for (auto &th : pool) th.join();
    std::printf("%s threads=%ld ops_per_thread=%lld calls=%lld\n", w->name, threads, ops,
                (long long)((double)threads * (double)ops * w->calls_per_op));
    return 0;
}
