// libFuzzer target: the bytes are a file given to the real commands, exactly
// as a user runs them: `report --json`, `report`, `timeline`, `dump`.  The
// file goes through the bundle unpacker first, so this covers bundles and raw
// traces alike, and the presentation code (symbolization, JSON) behind them.
// Like main(): TraceError or another std::exception is a clean exit 2; only a
// crash, a sanitizer report, a timeout or unbounded memory is a bug.
#include "bundle/unpack.h"
#include "commands.h"
#include "core/trace_reader.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {
int g_fd = -1;
std::string g_path;

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
    lt::bundle::install_bundle_support();
    g_fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (g_fd < 0) { perror("memfd_create"); abort(); }
    g_path = "/proc/self/fd/" + std::to_string(g_fd);
    // The commands print a lot: keep libFuzzer's own output (stderr) readable.
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) { dup2(null, STDOUT_FILENO); close(null); }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (ftruncate(g_fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(g_fd, data + done, size - done, off_t(done));
        if (w <= 0) abort();
        done += size_t(w);
    }
    run({"report", "--json", g_path});
    run({"report", g_path});
    run({"timeline", g_path});
    run({"dump", g_path});
    return 0;
}
