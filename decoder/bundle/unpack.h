// Reading a bundle back (format: bundle_format.h, man/locktrace-bundle.5).
//
// The bundle's events are rebuilt into an in-memory raw trace, validated by
// the normal reader, and its stacks are answered from the bundle's own symbol
// table, so no binary of the traced program is needed.  The commands' entry
// (analysis.h) sends a file here when its first bytes say so.
#pragma once

#include "core/trace_reader.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lt::bundle {

// Whether a file whose first 8 bytes are `lead` is for this reader: a bundle,
// or a zstd file that is not one (read_bundle says so, in words).
bool is_bundle_lead(const uint8_t lead[8]);

// The bundle at `path` as a trace.  Throws TraceError: not a bundle, or
// ("PATH: corrupt bundle: ...") one that cannot be read.  `live_view`: set to
// the text of its LIVE section (core/live_view.h), empty when it has none.
std::unique_ptr<Trace> read_bundle(const std::string& path, std::string* live_view = nullptr);

// The JSON sections of a bundle, for `pack --info` style listings.
struct BundleInfo {
    uint32_t version = 0;
    uint32_t flags = 0;
    uint64_t payload_bytes = 0, file_bytes = 0;
    nlohmann::json meta, findings;
};
// Throws TraceError if `path` is not a readable bundle.
BundleInfo read_info(const std::string& path);

} // namespace lt::bundle
