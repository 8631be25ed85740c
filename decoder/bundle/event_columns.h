// Events of one ring as columns (struct of arrays), the RING section body.
// Each column holds one field of every record, so runs of equal addresses,
// small time deltas and repeated stack ids sit next to each other and zstd
// finds them.  See bundle_format.h for the column order.
#pragma once

#include "core/trace_reader.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt::bundle {

// Appends the columns of `events` (one thread's records, in ring order) to `out`.
void encode_columns(const std::vector<const Event*>& events, std::string& out);

// Reads `count` records from `data` (exactly count * kBytesPerRecord bytes)
// into raw ring records, in order; `seq` is left for the caller.
void decode_columns(const uint8_t* data, uint64_t count, lt_event* out);

} // namespace lt::bundle
