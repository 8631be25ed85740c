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

// Writes the columns of one ring, a record at a time, into `n` *
// kBytesPerRecord bytes at `dst`.  pack feeds every thread's encoder in one
// pass over the time-merged events, so each event is read once, in memory
// order, instead of being gathered per thread through pointers.
class ColumnEncoder {
public:
    ColumnEncoder(char* dst, uint64_t n);
    void put(const Event& e)
    {
        // Timestamps are monotonic within a ring except across a nested signal
        // handler record; the delta wraps modulo 2^64 and decodes back exactly.
        put_field(time_, e.time_ns - prev_);
        prev_ = e.time_ns;
        put_field(addr_, e.addr);
        put_field(addr2_, e.addr2);
        put_field(s0_, e.state[0]);
        put_field(s1_, e.state[1]);
        put_field(stack_, e.stack_id);
        put_field(result_, uint32_t(e.result));
        put_field(arg_, e.arg);
        put_field(type_, e.type);
        put_field(prim_, e.prim);
        put_field(flags_, e.flags);
    }

private:
    template <typename T> static void put_field(char*& p, T v)
    {
        __builtin_memcpy(p, &v, sizeof v);
        p += sizeof v;
    }
    char *time_, *addr_, *addr2_, *s0_, *s1_, *stack_, *result_, *arg_, *type_, *prim_, *flags_;
    uint64_t prev_ = 0;
};

// Appends the columns of `events` (one thread's records, in ring order) to `out`.
void encode_columns(const std::vector<const Event*>& events, std::string& out);

// Reads `count` records from `data` (exactly count * kBytesPerRecord bytes)
// into raw ring records, in order; `seq` is left for the caller.
void decode_columns(const uint8_t* data, uint64_t count, lt_event* out);

} // namespace lt::bundle
