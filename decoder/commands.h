// One file per subcommand (cmd_*.cpp).  Each registers itself on the CLI11 app
// and returns the function that runs it, which returns the process exit status.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace lt {

using CommandRun = std::function<int()>;

CommandRun add_run_command(CLI::App& app);
CommandRun add_report_command(CLI::App& app);
CommandRun add_timeline_command(CLI::App& app);
CommandRun add_dump_command(CLI::App& app);
CommandRun add_pack_command(CLI::App& app);     // cmd_pack.cpp
CommandRun add_export_command(CLI::App& app);   // cmd_export.cpp
CommandRun add_snapshot_command(CLI::App& app); // cmd_snapshot.cpp

// --skip-frames PATTERN, repeatable: the user's own lock wrappers, which the
// user's site of a stack lies past (locktrace(1) says how they match).
inline void add_skip_frames_option(CLI::App* sub, std::vector<std::string>& patterns)
{
    sub->add_option("--skip-frames", patterns,
                    "Glob of a function, source file or module of your own lock wrappers: findings quote the "
                    "first frame past them (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// Exit status when the trace cannot be read (malformed, missing, ...).
constexpr int kExitBadTrace = 2;
constexpr int kExitUsage = 2; // a command line CLI11 refused

} // namespace lt
