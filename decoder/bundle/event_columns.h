// Events of one ring as columns (struct of arrays), the RING section body.
// Each column holds one field of every record, so runs of equal addresses,
// small time deltas and repeated stack ids sit next to each other and zstd
// finds them.  Each column is stored as the offset of every value from the
// column's smallest, in as few bytes as the largest offset needs: a ring's
// addresses of a few nearby locks take one or two bytes, not eight, and zstd,
// whose time grows with its input, gets a third of the bytes.  Layout:
// bundle_format.h.
#pragma once

#include "bundle_format.h"
#include "core/trace_reader.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lt::bundle {

// One ring's columns, written in two passes over its records (pack feeds every
// thread's encoder from one pass over the time-merged events, so each event is
// read in memory order): observe() each record to learn every column's range,
// then attach() scratch memory and put() the same records in the same order.
class ColumnEncoder {
public:
    // observe() and put() take a run of consecutive records of this ring: the
    // encoder's state then lives in registers for the whole run rather than
    // in memory that every byte store might alias.
    void observe(const Event* e, size_t n)
    {
        if (n == 0) return;
        if (count_ == 0) time0_ = prev_ = e->time_ns;
        // The five 64-bit columns keep their range; the six narrow fields
        // (stack_id, type, prim, flags, then result, arg: two 8-byte words of
        // the event) are only ORed, their base being 0: two operations an
        // event for six columns.
        uint64_t lo[kWide], hi[kWide], v[kColumns], prev = prev_;
        uint64_t or_a = or_a_, or_b = or_b_;
#pragma GCC unroll 5
        for (size_t k = 0; k < kWide; k++) lo[k] = lo_[k], hi[k] = hi_[k];
        for (size_t i = 0; i < n; i++) {
            values(e[i], prev, v);
#pragma GCC unroll 5
            for (size_t k = 0; k < kWide; k++) {
                lo[k] = v[k] < lo[k] ? v[k] : lo[k];
                hi[k] = v[k] > hi[k] ? v[k] : hi[k];
            }
            uint64_t a, b;
            __builtin_memcpy(&a, &e[i].stack_id, 8);
            __builtin_memcpy(&b, &e[i].result, 8);
            or_a |= a;
            or_b |= b;
        }
#pragma GCC unroll 5
        for (size_t k = 0; k < kWide; k++) lo_[k] = lo[k], hi_[k] = hi[k];
        or_a_ = or_a;
        or_b_ = or_b;
        prev_ = prev;
        count_ += n;
    }
    // Bytes put() writes at `dst`: the columns, each followed by 8 bytes of
    // slack (stores are 8 bytes wide whatever the column's width).
    uint64_t scratch_bytes() const;
    void attach(char* dst);
    void put(const Event* e, size_t n)
    {
        // Wide and narrow columns in two loops over blocks of events that stay
        // in L1: each loop's pointers, bases and widths fit in registers.
        for (size_t i = 0; i < n; i += kBlock) {
            size_t m = n - i < kBlock ? n - i : kBlock;
            put_wide(e + i, m);
            put_narrow(e + i, m);
        }
    }
    uint64_t count() const { return count_; }
    // The section's fixed part: `rh` (slot, flags, lost, torn filled in by the
    // caller) completed with count and time0, then the column headers.
    std::string header(RingHeader rh) const;
    // Column k's bytes once every record was put().
    const char* column(size_t k) const { return start_[k]; }
    uint64_t column_bytes(size_t k) const { return count_ * width(k); }
    // Header plus columns: the RING section's length (known after observe()).
    uint64_t body_bytes() const;

private:
    static constexpr size_t kBlock = 256;
    void put_wide(const Event* e, size_t n)
    {
        char* p[kWide];
        uint64_t base[kWide], w[kWide], v[kColumns], prev = prev_;
#pragma GCC unroll 5
        for (size_t k = 0; k < kWide; k++) p[k] = p_[k], base[k] = base_[k], w[k] = width_[k];
        for (size_t i = 0; i < n; i++) {
            values(e[i], prev, v);
#pragma GCC unroll 5
            for (size_t k = 0; k < kWide; k++) {
                uint64_t x = v[k] - base[k];
                __builtin_memcpy(p[k], &x, 8);
                p[k] += w[k];
            }
        }
#pragma GCC unroll 5
        for (size_t k = 0; k < kWide; k++) p_[k] = p[k];
        prev_ = prev;
    }
    void put_narrow(const Event* e, size_t n) // their bases are 0
    {
        constexpr size_t kNarrow = kColumns - kWide;
        char* p[kNarrow];
        uint64_t w[kNarrow];
#pragma GCC unroll 6
        for (size_t k = 0; k < kNarrow; k++) p[k] = p_[kWide + k], w[k] = width_[kWide + k];
        for (size_t i = 0; i < n; i++) {
            uint64_t v[kNarrow] = {e[i].stack_id, uint32_t(e[i].result), e[i].arg, e[i].type, e[i].prim, e[i].flags};
#pragma GCC unroll 6
            for (size_t k = 0; k < kNarrow; k++) {
                __builtin_memcpy(p[k], &v[k], 8);
                p[k] += w[k];
            }
        }
#pragma GCC unroll 6
        for (size_t k = 0; k < kNarrow; k++) p_[kWide + k] = p[k];
    }
    unsigned width(size_t k) const;
    uint64_t base(size_t k) const;
    static void values(const Event& e, uint64_t& prev, uint64_t* v)
    {
        // Timestamps are monotonic within a ring except across a nested signal
        // handler record; the delta wraps modulo 2^64 and decodes back exactly.
        v[0] = e.time_ns - prev;
        prev = e.time_ns;
        v[1] = e.addr;
        v[2] = e.addr2;
        v[3] = e.state[0];
        v[4] = e.state[1];
        v[5] = e.stack_id;
        v[6] = uint32_t(e.result);
        v[7] = e.arg;
        v[8] = e.type;
        v[9] = e.prim;
        v[10] = e.flags;
    }
    uint64_t count_ = 0, time0_ = 0, prev_ = 0;
    static constexpr size_t kWide = 5; // time delta, addr, addr2, state[0], state[1]
    uint64_t lo_[kWide] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
    uint64_t hi_[kWide] = {};
    uint64_t or_a_ = 0, or_b_ = 0;
    uint64_t base_[kColumns] = {};
    unsigned width_[kColumns] = {};
    char* p_[kColumns] = {};
    char* start_[kColumns] = {};
};

// Calls f(thread, first, n) for each run of consecutive events of one thread.
template <typename F> void for_each_run(const std::vector<Event>& ev, F f)
{
    size_t n = ev.size();
    for (size_t i = 0; i < n;) {
        uint32_t t = ev[i].thread;
        size_t j = i + 1;
        while (j < n && ev[j].thread == t) j++;
        f(t, &ev[i], j - i);
        i = j;
    }
}

// Checks a RING section body (`len` bytes) and reads its headers; on a bad
// one returns false with `why` set.  `columns` then points at the first column.
bool read_ring_header(const uint8_t* data, uint64_t len, RingHeader* rh, ColumnHeader* cols,
                      const uint8_t** columns, std::string* why);

// Reads `rh.count` records from the columns read_ring_header() found into raw
// ring records, in order; `seq` is left for the caller.
void decode_columns(const RingHeader& rh, const ColumnHeader* cols, const uint8_t* columns, lt_event* out);

} // namespace lt::bundle
