#include "event_columns.h"
#include "bundle_format.h"

#include <cstring>

namespace lt::bundle {

namespace {

template <typename T> void put(char*& p, T v)
{
    memcpy(p, &v, sizeof v);
    p += sizeof v;
}

template <typename T> T get(const uint8_t* col, uint64_t i)
{
    T v;
    memcpy(&v, col + i * sizeof(T), sizeof v);
    return v;
}

} // namespace

void encode_columns(const std::vector<const Event*>& ev, std::string& out)
{
    size_t n = ev.size();
    size_t base = out.size();
    out.resize(base + n * kBytesPerRecord);
    // One pass over the events, eleven output streams: each event's cache
    // line is read once.
    char* time = &out[base];
    char* addr = time + 8 * n;
    char* addr2 = addr + 8 * n;
    char* s0 = addr2 + 8 * n;
    char* s1 = s0 + 8 * n;
    char* stack = s1 + 8 * n;
    char* result = stack + 4 * n;
    char* arg = result + 4 * n;
    char* type = arg + 4 * n;
    char* prim = type + 2 * n;
    char* flags = prim + n;
    uint64_t prev = 0;
    for (const Event* e : ev) {
        // Timestamps are monotonic within a ring except across a nested signal
        // handler record; the delta wraps modulo 2^64 and decodes back exactly.
        put<uint64_t>(time, e->time_ns - prev);
        prev = e->time_ns;
        put<uint64_t>(addr, e->addr);
        put<uint64_t>(addr2, e->addr2);
        put<uint64_t>(s0, e->state[0]);
        put<uint64_t>(s1, e->state[1]);
        put<uint32_t>(stack, e->stack_id);
        put<uint32_t>(result, uint32_t(e->result));
        put<uint32_t>(arg, e->arg);
        put<uint16_t>(type, e->type);
        put<uint8_t>(prim, e->prim);
        put<uint8_t>(flags, e->flags);
    }
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
