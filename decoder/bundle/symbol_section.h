// The SYMS section of a bundle (man/locktrace-bundle.5): the frames of every
// stored address and the names of the lock addresses, as the packing
// machine's binaries gave them, so the bundle reads the same without them.
// A plain JSON entry per address: zstd, which compresses the section, already
// keeps each repeated name once (a string table of our own measured no smaller
// once compressed).
#pragma once

#include "core/symbols.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lt::bundle {

// Address -> its frames, innermost first, the last the function it lies in
// (Symbolizer::frames()).
using AddressFrames = std::map<uint64_t, std::vector<Frame>>;

// The section's JSON text.  Addresses of which nothing is known (no function,
// no module) are left out.
std::string encode_symbols(const AddressFrames& frames, const nlohmann::json& data,
                           const std::vector<std::string>& notes);

// Fills `table` from the section; throws on a malformed one (wrong types,
// missing members).  Entries written before inlined frames were kept (six
// fields) read as frames of their own.
void decode_symbols(const nlohmann::json& j, SymbolTable* table);

} // namespace lt::bundle
