// locktrace: record and explain lock behaviour of a program.
#include "commands.h"
#include "core/trace_reader.h"
#include "locktrace_build.h"

#include <cstdio>
#include <string>
#include <exception>
#include <vector>

int main(int argc, char** argv)
{
    CLI::App app{"locktrace: record every lock transition of a program, then explain who held and who waited", "locktrace"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "locktrace " LOCKTRACE_VERSION " (reads trace format " + std::to_string(LT_FORMAT_VERSION) + ")");
    std::vector<std::pair<CLI::App*, lt::CommandRun>> cmds;
    auto add = [&](lt::CommandRun (*f)(CLI::App&)) {
        size_t before = app.get_subcommands({}).size();
        lt::CommandRun run = f(app);
        cmds.emplace_back(app.get_subcommands({})[before], std::move(run));
    };
    add(lt::add_run_command);
    add(lt::add_report_command);
    add(lt::add_timeline_command);
    add(lt::add_dump_command);
    add(lt::add_pack_command);
    add(lt::add_export_command);
    add(lt::add_snapshot_command);

    // A wrong command line is a usage error: exit 2, like an unreadable trace
    // (CLI11's own codes, 105-109, would read as a traced program's status after `run`).
    if (argc < 2) {
        fputs(app.help().c_str(), stderr);
        return lt::kExitUsage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const std::string first = argv[1];
        std::string names;
        bool known = false;
        for (auto& c : cmds) {
            names += (names.empty() ? "" : ", ") + c.first->get_name();
            known |= c.first->check_name(first);
        }
        if (e.get_exit_code() != 0 && first[0] != '-' && !known) {
            fprintf(stderr, "locktrace: unknown command '%s' (commands: %s; see locktrace --help)\n", first.c_str(),
                    names.c_str());
            return lt::kExitUsage;
        }
        int rc = app.exit(e);
        return rc == 0 ? 0 : lt::kExitUsage;
    }
    try {
        for (auto& [sub, run] : cmds)
            if (sub->parsed()) return run();
    } catch (const lt::TraceError& e) {
        fprintf(stderr, "locktrace: %s\n", e.what());
        return lt::kExitBadTrace;
    } catch (const std::exception& e) {
        fprintf(stderr, "locktrace: error: %s\n", e.what());
        return lt::kExitBadTrace;
    }
    return 0;
}
