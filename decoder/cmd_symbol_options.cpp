// The options of every command that symbolizes stacks (report, timeline,
// export, pack, snapshot): where to find debug files, and which frames are
// the program's own lock wrappers.
#include "commands.h"

namespace lt {

void add_symbol_options(CLI::App* sub, SymbolOptions& o)
{
    sub->add_option("--skip-frames", o.skip_frames,
                    "Glob of a function, source file or module of your own lock wrappers: findings quote the "
                    "first frame past them (repeatable)")
        ->allow_extra_args(false) // one value each time: never the trace after it
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_option("--debug-dir", o.debug_dirs,
                    "Directory of separate debug files (DIR/.build-id/xx/rest.debug or by .gnu_debuglink), "
                    "searched before the standard places (repeatable)")
        ->allow_extra_args(false) // one value each time: never the trace after it
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

} // namespace lt
