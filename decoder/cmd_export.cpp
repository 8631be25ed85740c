// `locktrace export TRACE --format perfetto|html -o FILE`: pictures of a trace
// (or bundle): Chrome/Perfetto trace-event JSON, or one self-contained HTML page.
#include "analysis.h"
#include "commands.h"
#include "export/html.h"
#include "export/perfetto.h"
#include "export/timeline_data.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

namespace lt {

namespace {

struct ExportCmd {
    std::string trace, format, out;
    SymbolOptions symbols;
};

int run_export(const ExportCmd& o)
{
    AnalysisSteps steps;
    steps.symbols = o.symbols;
    const Analysis a = analyse(o.trace, steps);
    exporter::TimelineData d = exporter::build_timeline(a.model, *a.symbols, a.findings);

    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!o.out.empty() && o.out != "-") {
        file.open(o.out, std::ios::out | std::ios::trunc);
        if (!file) {
            fprintf(stderr, "locktrace: %s: cannot write: %s\n", o.out.c_str(), strerror(errno));
            return 1;
        }
        out = &file;
    }
    if (o.format == "perfetto" || o.format == "json") exporter::write_perfetto(d, *out);
    else exporter::write_html(d, *out);
    out->flush();
    if (!*out) {
        fprintf(stderr, "locktrace: %s: write failed\n", o.out.c_str());
        return 1;
    }
    if (out != &std::cout)
        fprintf(stderr, "locktrace: wrote %s: %zu threads, %zu intervals, %zu wake arrows, %zu findings\n",
                o.out.c_str(), d.threads.size(), d.slices.size(), d.flows.size(), d.findings.size());
    return 0;
}

} // namespace

CommandRun add_export_command(CLI::App& app)
{
    auto o = std::make_shared<ExportCmd>();
    CLI::App* sub = app.add_subcommand("export", "Export the timeline: Perfetto/Chrome JSON or a self-contained HTML page");
    sub->add_option("trace", o->trace, "Trace file or bundle")->required();
    sub->add_option("-f,--format", o->format, "perfetto (Chrome trace-event JSON for ui.perfetto.dev) or html")
        ->required()
        ->check(CLI::IsMember({"perfetto", "json", "html"}));
    sub->add_option("-o,--output", o->out, "File to write (default: standard output)");
    add_symbol_options(sub, o->symbols);
    return [o] { return run_export(*o); };
}

} // namespace lt
