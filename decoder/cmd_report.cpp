// `locktrace report TRACE [--json]`: findings first, then blocked threads (on
// what, since when, who holds it and where they took it), then per-lock
// summaries; present/report.h builds it, text or JSON renders it.
// Exit status: 0 no error finding, 1 error findings, 2 the trace could not be read.
#include "analysis.h"
#include "commands.h"
#include "present/report.h"

#include <cstdio>
#include <memory>

namespace lt {

namespace {

struct ReportOptions {
    std::string trace;
    bool json = false;
    bool all_locks = false;
    std::string live_view;
    SymbolOptions symbols;
};

int run_report(const ReportOptions& o)
{
    AnalysisSteps steps;
    steps.symbols = o.symbols;
    steps.live_view_file = o.live_view;
    const Analysis a = analyse(o.trace, steps);
    const Report r = build_report(*a.trace, a.model, *a.symbols, a.findings);
    const std::string out = o.json ? report_json(r) : report_text(r, o.all_locks);
    fwrite(out.data(), 1, out.size(), stdout);
    fflush(stdout);
    return r.errors ? 1 : 0;
}

} // namespace

CommandRun add_report_command(CLI::App& app)
{
    auto o = std::make_shared<ReportOptions>();
    CLI::App* sub = app.add_subcommand("report", "Explain a trace: findings, blocked threads and who holds what, per-lock summary");
    sub->add_option("trace", o->trace, "Trace file (of a running, exited or killed process)")->required();
    sub->add_flag("--json", o->json, "One JSON object instead of text (schema in locktrace(1))");
    sub->add_flag("--all-locks", o->all_locks, "List every lock in the text summary, not only the 20 most waited on");
    sub->add_option("--live-view", o->live_view,
                    "Use this live view file (TRACE.live, as the watchdog writes it) instead of reading the running "
                    "process");
    add_symbol_options(sub, o->symbols);
    return [o] { return run_report(*o); };
}

} // namespace lt
