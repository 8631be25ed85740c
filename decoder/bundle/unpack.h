// Reading a bundle back (format: bundle_format.h, man/locktrace-bundle.5).
//
// install_bundle_support() makes every command that opens a trace (report,
// timeline, dump, export, pack) accept a bundle exactly like a raw trace: the
// bundle's events are rebuilt into an in-memory raw trace, validated by the
// normal reader, and its stacks are answered from the bundle's own symbol
// table, so no binary of the traced program is needed.
#pragma once

#include "core/trace_reader.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lt::bundle {

// Registers the unpacker with lt::Trace (call once, from main).
void install_bundle_support();

// The Trace::Unpacker: false if `fd` is not a bundle; throws TraceError
// ("PATH: corrupt bundle: ...") if it is one but cannot be read.
bool unpack(const std::string& path, int fd, std::vector<uint8_t>* image, std::shared_ptr<const SymbolTable>* symbols,
            PackedAt* packed_at);

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
