// The Capstone probes' placement list, `<trace>.probes`, written by the shim
// next to a raw trace (format in preload/probes/README.md): which probes were
// placed, which were refused and why.  The trace format has no table for it.
// The file is untrusted: lines and counts are capped, malformed lines are
// skipped and counted, nothing in it can make the reader fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

struct ProbeEntry {
    uint32_t id = 0;
    bool placed = false;
    std::string set;      // "user", "parking_lot", "libc-futex", ...
    uint64_t address = 0; // in the traced process
    std::string function;
    std::string module;
    std::string reason;   // empty for placed probes
};

struct ProbesSidecar {
    bool present = false;          // the file existed and could be opened
    std::string path;
    std::string summary;           // the shim's "probes: N placed, M refused; ..." comment
    std::vector<ProbeEntry> probes;
    size_t placed = 0, refused = 0;
    size_t malformed = 0;          // lines skipped (wrong field count, bad id/status/address, too long)
    bool truncated = false;        // stopped at the line or byte cap
    std::vector<std::string> notes; // what was skipped, for the report
};

// Reads `<trace_path>.probes` if it exists; `present` is false otherwise.
ProbesSidecar read_probes_sidecar(const std::string& trace_path);
// Parses the text of a sidecar (exposed for tests and other callers).
ProbesSidecar parse_probes_sidecar(const std::string& text);

} // namespace lt
