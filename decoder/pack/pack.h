// Writing a bundle (`locktrace pack`): the used parts of a trace, its stacks
// symbolized here, lock and thread names, the findings and a short machine
// description, in one zstd-compressed file.  Format: bundle_format.h.
#pragma once

#include "analysis.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt::bundle {

struct PackOptions {
    bool keep_cmdline = true;  // --no-cmdline clears it
    int level = 3;             // zstd level
    SymbolOptions symbols;     // --skip-frames, --debug-dir
};

struct PackResult {
    uint64_t raw_bytes = 0;      // size of the trace file read
    uint64_t payload_bytes = 0;  // before compression
    uint64_t bundle_bytes = 0;   // the file written
    uint64_t events = 0;
    uint64_t stacks = 0, frames = 0;
    size_t findings = 0;
};

// Throws TraceError if the trace cannot be read, std::runtime_error if the
// bundle cannot be written.  Writes to a temporary name and renames.
PackResult pack_trace(const std::string& trace_path, const std::string& out_path, const PackOptions& opt);

} // namespace lt::bundle
