// Measures decoding speed on a trace: reading every ring (validated, merged by
// time) and building the model.  usage: ltdecode_bench TRACE [ROUNDS]
#include "core/model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TRACE [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    using clk = std::chrono::steady_clock;
    // CPU time as well as wall time: on a loaded machine the wall clock says
    // more about the neighbours than about the decoder.
    auto cpu = [] {
        rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    // Best of the rounds: the neighbours only ever add time.
    double best[3][2] = {{1e30, 1e30}, {1e30, 1e30}, {1e30, 1e30}};  // scan, read, read+model x wall, cpu
    auto keep = [&best](int k, double w, double c) {
        best[k][0] = std::min(best[k][0], w);
        best[k][1] = std::min(best[k][1], c);
    };
    size_t nevents = 0;
    try {
        for (int r = 0; r < rounds; r++) {
            {
                lt::Trace trace(argv[1]);
                double s0 = cpu();
                auto w0 = clk::now();
                uint64_t n = 0, sum = 0;
                trace.scan([&](const lt::Event* ev, size_t k) {
                    n += k;
                    for (size_t i = 0; i < k; i++) sum += ev[i].addr;  // touch them
                });
                double ws = std::chrono::duration<double>(clk::now() - w0).count(), cs = cpu() - s0;
                keep(0, ws, cs);
                printf("round %d: scan (streamed read): %.3fs wall (%.1f M events/s), %.3fs cpu (%.1f M events/s)%s\n", r,
                       ws, n / ws / 1e6, cs, n / cs / 1e6, sum == 1 ? " " : "");
            }
            double c0 = cpu();
            auto t0 = clk::now();
            lt::Trace trace(argv[1]);
            std::vector<lt::Event> ev = trace.read_events();
            auto t1 = clk::now();
            double c1 = cpu();
            size_t n = ev.size();
            ev.clear();
            ev.shrink_to_fit();
            auto t2 = clk::now();
            double c2 = cpu();
            lt::Model m = lt::Model::build(trace);
            auto t3 = clk::now();
            double c3 = cpu();
            double read_s = std::chrono::duration<double>(t1 - t0).count();
            double model_s = std::chrono::duration<double>(t3 - t2).count();
            keep(1, read_s, c1 - c0);
            keep(2, model_s, c3 - c2);
            nevents = n;
            printf("round %d: %zu events, %zu threads, %zu locks\n"
                   "  read:       %.3fs wall (%.1f M events/s), %.3fs cpu (%.1f M events/s)\n"
                   "  read+model: %.3fs wall (%.1f M events/s), %.3fs cpu (%.1f M events/s)\n",
                   r, n, trace.threads().size(), m.locks.size(), read_s, n / read_s / 1e6, c1 - c0,
                   n / (c1 - c0) / 1e6, model_s, n / model_s / 1e6, c3 - c2, n / (c3 - c2) / 1e6);
        }
        static const char* const what[] = {"scan", "read", "read+model"};
        for (int k = 0; k < 3; k++)
            printf("best of %d: %-10s %.3fs wall (%.1f M events/s), %.3fs cpu (%.1f M events/s)\n", rounds, what[k],
                   best[k][0], nevents / best[k][0] / 1e6, best[k][1], nevents / best[k][1] / 1e6);
    } catch (const lt::TraceError& e) {
        fprintf(stderr, "ltdecode_bench: %s\n", e.what());
        return 2;
    }
    return 0;
}
