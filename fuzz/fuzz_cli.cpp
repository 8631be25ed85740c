// libFuzzer target: the bytes are a file given to the real commands, exactly
// as a user runs them: `report --json`, `report`, `timeline`, `dump`.  The
// commands send a bundle to the bundle reader first, so this covers bundles and raw
// traces alike, and the presentation code (symbolization, JSON) behind them.
// Like main(): TraceError or another std::exception is a clean exit 2; only a
// crash, a sanitizer report, a timeout or unbounded memory is a bug.
#include "commands.h"
#include "core/trace_reader.h"
#include "fuzz_input.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {
lt::fuzz::InputFile* g_input;

void run(std::vector<std::string> args)
{
    CLI::App app{"locktrace"};
    std::vector<std::pair<CLI::App*, lt::CommandRun>> cmds;
    auto add = [&](lt::CommandRun (*f)(CLI::App&)) {
        size_t before = app.get_subcommands({}).size();
        lt::CommandRun r = f(app);
        cmds.emplace_back(app.get_subcommands({})[before], std::move(r));
    };
    add(lt::add_report_command);
    add(lt::add_timeline_command);
    add(lt::add_dump_command);
    std::vector<const char*> argv{"locktrace"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    try {
        app.parse(int(argv.size()), const_cast<char**>(argv.data()));
        for (auto& [sub, r] : cmds)
            if (sub->parsed()) r();
    } catch (const std::exception&) {
    }
    fflush(stdout);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    g_input = new lt::fuzz::InputFile("fuzz-input");
    // The commands print a lot: keep libFuzzer's own output (stderr) readable.
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) { dup2(null, STDOUT_FILENO); close(null); }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    g_input->set(data, size);
    const std::string& path = g_input->path();
    run({"report", "--json", path});
    run({"report", path});
    run({"timeline", path});
    run({"dump", path});
    return 0;
}
