// `locktrace dump TRACE`: every event, one per line, for when the analysis is in doubt.
#include "commands.h"
#include "core/trace_reader.h"

#include <cinttypes>
#include <cstdio>
#include <memory>

namespace lt {

namespace {

struct DumpOptions {
    std::string trace;
    bool no_header = false;
};

int run_dump(const DumpOptions& o)
{
    Trace trace(o.trace);
    const lt_file_header& h = trace.header();
    uint64_t t0 = h.start_monotonic_ns;
    bool have_t0 = t0 != 0;

    if (!o.no_header) {
        printf("# trace %s: pid %d, format %u, %zu threads, %zu modules, file %llu bytes%s\n", trace.path().c_str(), h.pid,
               h.version, trace.threads().size(), trace.modules().size(), (unsigned long long)trace.file_size(),
               trace.file_truncated() ? " (TRUNCATED)" : "");
        for (const ThreadInfo& t : trace.threads())
            printf("# thread tid %d slot %u gen %u name '%s' %s head %" PRIu64 " capacity %" PRIu64 "\n", t.tid, t.slot,
                   t.generation, t.name.c_str(), t.exited() ? "exited" : "live", t.head, t.ring_capacity);
        printf("# time_s tid type prim flags addr addr2 state0 state1 result arg stack\n");
    }
    std::string out;
    out.reserve(1 << 20);
    char line[320];
    uint64_t n_events = 0;
    trace.scan([&](const Event* ev, size_t n) {
        for (size_t k = 0; k < n; k++) {
            const Event& e = ev[k];
            if (!have_t0) {
                t0 = e.time_ns;
                have_t0 = true;
            }
            uint64_t rel = e.time_ns >= t0 ? e.time_ns - t0 : 0;
            int len = snprintf(line, sizeof line,
                               "%" PRIu64 ".%09" PRIu64 " %d %s %s %s 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
                               " 0x%" PRIx64 " %d %u %u\n",
                               rel / 1000000000u, rel % 1000000000u, e.tid, event_type_name(e.type), prim_name(e.prim),
                               flags_string(e.flags).c_str(), e.addr, e.addr2, e.state[0], e.state[1], e.result,
                               e.arg, e.stack_id);
            out.append(line, size_t(len));
        }
        n_events += n;
        if (out.size() > (1 << 20) - 64 * 1024) {
            fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
    });
    fwrite(out.data(), 1, out.size(), stdout);
    if (!o.no_header) {
        for (const ThreadInfo& t : trace.threads())
            printf("# thread tid %d: decoded %" PRIu64 ", lost %" PRIu64 ", torn %" PRIu64 "%s, cut %" PRIu64 "\n", t.tid,
                   t.decoded, t.lost, t.torn, t.last_record_torn ? " (last record torn)" : "", t.cut);
        printf("# total: %" PRIu64 " events, %" PRIu64 " lost to overwrite, %" PRIu64 " torn, %" PRIu64
               " cut by truncation\n",
               n_events, trace.total_lost(), trace.total_torn(), trace.total_cut());
    }
    return 0;
}

} // namespace

CommandRun add_dump_command(CLI::App& app)
{
    auto o = std::make_shared<DumpOptions>();
    CLI::App* sub = app.add_subcommand("dump", "Print every recorded event, one per line");
    sub->add_option("trace", o->trace, "Trace file")->required();
    sub->add_flag("--no-header", o->no_header, "Omit the '#' lines describing the trace and its threads");
    return [o] { return run_dump(*o); };
}

} // namespace lt
