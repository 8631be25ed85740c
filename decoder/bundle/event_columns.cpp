#include "event_columns.h"
#include "bundle_format.h"

#include <cstring>

namespace lt::bundle {

namespace {

template <typename T> T get(const uint8_t* col, uint64_t i)
{
    T v;
    memcpy(&v, col + i * sizeof(T), sizeof v);
    return v;
}

} // namespace

ColumnEncoder::ColumnEncoder(char* dst, uint64_t n)
{
    time_ = dst;
    addr_ = time_ + 8 * n;
    addr2_ = addr_ + 8 * n;
    s0_ = addr2_ + 8 * n;
    s1_ = s0_ + 8 * n;
    stack_ = s1_ + 8 * n;
    result_ = stack_ + 4 * n;
    arg_ = result_ + 4 * n;
    type_ = arg_ + 4 * n;
    prim_ = type_ + 2 * n;
    flags_ = prim_ + n;
}

void encode_columns(const std::vector<const Event*>& ev, std::string& out)
{
    size_t base = out.size();
    out.resize(base + ev.size() * kBytesPerRecord);
    ColumnEncoder enc(&out[base], ev.size());
    for (const Event* e : ev) enc.put(*e);
}

void decode_columns(const uint8_t* d, uint64_t n, lt_event* out)
{
    const uint8_t* time = d;
    const uint8_t* addr = time + 8 * n;
    const uint8_t* addr2 = addr + 8 * n;
    const uint8_t* s0 = addr2 + 8 * n;
    const uint8_t* s1 = s0 + 8 * n;
    const uint8_t* stack = s1 + 8 * n;
    const uint8_t* result = stack + 4 * n;
    const uint8_t* arg = result + 4 * n;
    const uint8_t* type = arg + 4 * n;
    const uint8_t* prim = type + 2 * n;
    const uint8_t* flags = prim + n;
    uint64_t t = 0;
    for (uint64_t i = 0; i < n; i++) {
        lt_event& e = out[i];
        t += get<uint64_t>(time, i);
        e.time_ns = t;
        e.addr = get<uint64_t>(addr, i);
        e.addr2 = get<uint64_t>(addr2, i);
        e.state[0] = get<uint64_t>(s0, i);
        e.state[1] = get<uint64_t>(s1, i);
        e.stack_id = get<uint32_t>(stack, i);
        e.result = int32_t(get<uint32_t>(result, i));
        e.arg = get<uint32_t>(arg, i);
        e.type = get<uint16_t>(type, i);
        e.prim = prim[i];
        e.flags = flags[i];
    }
}

} // namespace lt::bundle
