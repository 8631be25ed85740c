// locktrace export: work in progress (AFTER helper).
#include "commands.h"
#include <cstdio>
namespace lt {
CommandRun add_export_command(CLI::App& app)
{
    app.add_subcommand("export", "(being written)");
    return [] { fprintf(stderr, "locktrace: export is not finished yet\n"); return 2; };
}
} // namespace lt
