// One file per subcommand (cmd_*.cpp).  Each registers itself on the CLI11 app
// and returns the function that runs it, which returns the process exit status.
#pragma once

#include "analysis.h"

#include <CLI/CLI.hpp>

#include <functional>

namespace lt {

using CommandRun = std::function<int()>;

CommandRun add_run_command(CLI::App& app);
CommandRun add_report_command(CLI::App& app);
CommandRun add_timeline_command(CLI::App& app);
CommandRun add_dump_command(CLI::App& app);
CommandRun add_pack_command(CLI::App& app);     // cmd_pack.cpp
CommandRun add_export_command(CLI::App& app);   // cmd_export.cpp
CommandRun add_snapshot_command(CLI::App& app); // cmd_snapshot.cpp

// --skip-frames PATTERN and --debug-dir DIR, each repeatable, for the
// commands that symbolize stacks (locktrace(1) says what they do).
void add_symbol_options(CLI::App* sub, SymbolOptions& o);

// Exit status when the trace cannot be read (malformed, missing, ...).
constexpr int kExitBadTrace = 2;
constexpr int kExitUsage = 2; // a command line CLI11 refused

} // namespace lt
