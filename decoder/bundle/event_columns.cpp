#include "event_columns.h"

#include <cstddef>
#include <cstring>
#include <vector>

namespace lt::bundle {

namespace {

unsigned bytes_for(uint64_t range)
{
    unsigned w = 1;
    while (w < 8 && (range >> (8 * w)) != 0) w++;
    return w;
}

template <unsigned W> void load_column(const uint8_t* src, uint64_t n, uint64_t base, uint64_t* dst)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = 0;
        memcpy(&x, src + i * W, W);
        dst[i] = base + x;
    }
}

void load_column(unsigned w, const uint8_t* src, uint64_t n, uint64_t base, uint64_t* dst)
{
    switch (w) {
    case 1: return load_column<1>(src, n, base, dst);
    case 2: return load_column<2>(src, n, base, dst);
    case 3: return load_column<3>(src, n, base, dst);
    case 4: return load_column<4>(src, n, base, dst);
    case 5: return load_column<5>(src, n, base, dst);
    case 6: return load_column<6>(src, n, base, dst);
    case 7: return load_column<7>(src, n, base, dst);
    default: return load_column<8>(src, n, base, dst);
    }
}

} // namespace

// stack_id, type, prim, flags share the event's 8 bytes at or_a_'s source
// (in this order, little-endian), result and arg those at or_b_'s.
static_assert(offsetof(Event, type) == offsetof(Event, stack_id) + 4 && offsetof(Event, prim) == offsetof(Event, type) + 2 &&
                  offsetof(Event, flags) == offsetof(Event, prim) + 1 &&
                  offsetof(Event, result) == offsetof(Event, stack_id) + 8 &&
                  offsetof(Event, arg) == offsetof(Event, result) + 4,
              "ColumnEncoder::observe reads the narrow fields as two words");

unsigned ColumnEncoder::width(size_t k) const
{
    if (!count_) return 1;
    switch (k) {
    case 5: return bytes_for(uint32_t(or_a_));         // stack_id
    case 6: return bytes_for(uint32_t(or_b_));         // result
    case 7: return bytes_for(or_b_ >> 32);             // arg
    case 8: return bytes_for(uint16_t(or_a_ >> 32));   // type
    case 9: return 1;                                  // prim
    case 10: return 1;                                 // flags
    default: return bytes_for(hi_[k] - lo_[k]);
    }
}

uint64_t ColumnEncoder::base(size_t k) const { return count_ && k < kWide ? lo_[k] : 0; }

uint64_t ColumnEncoder::scratch_bytes() const
{
    uint64_t n = 0;
    for (size_t k = 0; k < kColumns; k++) n += column_bytes(k) + 8;
    return n;
}

void ColumnEncoder::attach(char* dst)
{
    for (size_t k = 0; k < kColumns; k++) {
        base_[k] = base(k);
        width_[k] = width(k);
        start_[k] = p_[k] = dst;
        dst += count_ * width_[k] + 8;
    }
    prev_ = time0_;
}

uint64_t ColumnEncoder::body_bytes() const
{
    uint64_t n = kRingFixedBytes;
    for (size_t k = 0; k < kColumns; k++) n += column_bytes(k);
    return n;
}

std::string ColumnEncoder::header(RingHeader rh) const
{
    rh.count = count_;
    rh.time0 = time0_;
    std::string out(kRingFixedBytes, '\0');
    memcpy(&out[0], &rh, sizeof rh);
    for (size_t k = 0; k < kColumns; k++) {
        ColumnHeader c{};
        c.base = base_[k];
        c.width = uint8_t(width_[k]);
        memcpy(&out[sizeof rh + k * sizeof c], &c, sizeof c);
    }
    return out;
}

bool read_ring_header(const uint8_t* data, uint64_t len, RingHeader* rh, ColumnHeader* cols,
                      const uint8_t** columns, std::string* why)
{
    if (len < kRingFixedBytes) {
        *why = "truncated RING header";
        return false;
    }
    memcpy(rh, data, sizeof *rh);
    uint64_t per_record = 0;
    for (size_t k = 0; k < kColumns; k++) {
        memcpy(&cols[k], data + sizeof *rh + k * sizeof(ColumnHeader), sizeof(ColumnHeader));
        if (cols[k].width < 1 || cols[k].width > kColumnMaxWidth[k]) {
            *why = "RING column " + std::to_string(k) + " of width " + std::to_string(cols[k].width);
            return false;
        }
        per_record += cols[k].width;
    }
    uint64_t body = len - kRingFixedBytes;
    if (rh->count > body / per_record || rh->count * per_record != body) {
        *why = "RING section length does not match its record count";
        return false;
    }
    *columns = data + kRingFixedBytes;
    return true;
}

void decode_columns(const RingHeader& rh, const ColumnHeader* cols, const uint8_t* p, lt_event* out)
{
    uint64_t n = rh.count;
    std::vector<uint64_t> v(n);
    for (size_t k = 0; k < kColumns; k++) {
        load_column(cols[k].width, p, n, cols[k].base, v.data());
        p += n * cols[k].width;
        switch (k) {
        case 0: {
            uint64_t t = rh.time0;
            for (uint64_t i = 0; i < n; i++) out[i].time_ns = t += v[i];
            break;
        }
        case 1: for (uint64_t i = 0; i < n; i++) out[i].addr = v[i]; break;
        case 2: for (uint64_t i = 0; i < n; i++) out[i].addr2 = v[i]; break;
        case 3: for (uint64_t i = 0; i < n; i++) out[i].state[0] = v[i]; break;
        case 4: for (uint64_t i = 0; i < n; i++) out[i].state[1] = v[i]; break;
        case 5: for (uint64_t i = 0; i < n; i++) out[i].stack_id = uint32_t(v[i]); break;
        case 6: for (uint64_t i = 0; i < n; i++) out[i].result = int32_t(uint32_t(v[i])); break;
        case 7: for (uint64_t i = 0; i < n; i++) out[i].arg = uint32_t(v[i]); break;
        case 8: for (uint64_t i = 0; i < n; i++) out[i].type = uint16_t(v[i]); break;
        case 9: for (uint64_t i = 0; i < n; i++) out[i].prim = uint8_t(v[i]); break;
        default: for (uint64_t i = 0; i < n; i++) out[i].flags = uint8_t(v[i]); break;
        }
    }
}

} // namespace lt::bundle
