// RING section columns (decoder/bundle/event_columns.h): what pack encodes
// decodes back to the same records, each column in the fewest bytes, and
// read_ring_header refuses widths and lengths that do not add up.
#include "bundle/event_columns.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace lt;
using namespace lt::bundle;

namespace {

Event ev(uint64_t t, uint64_t addr, int32_t result = 0)
{
    Event e{};
    e.time_ns = t;
    e.addr = addr;
    e.result = result;
    return e;
}

// Encodes `events` (one ring) in runs of `run` records, as pack does.
std::string encode(const std::vector<Event>& events, size_t run)
{
    ColumnEncoder enc;
    for (size_t i = 0; i < events.size(); i += run) enc.observe(&events[i], std::min(run, events.size() - i));
    std::vector<char> scratch(enc.scratch_bytes());
    enc.attach(scratch.data());
    for (size_t i = 0; i < events.size(); i += run) enc.put(&events[i], std::min(run, events.size() - i));
    RingHeader rh{};
    rh.slot = 3;
    rh.lost = 7;
    std::string body = enc.header(rh);
    for (size_t k = 0; k < kColumns; k++) body.append(enc.column(k), enc.column_bytes(k));
    EXPECT_EQ(body.size(), enc.body_bytes());
    return body;
}

std::vector<lt_event> decode(const std::string& body, RingHeader* rh, ColumnHeader* cols)
{
    const uint8_t* columns = nullptr;
    std::string why;
    const uint8_t* data = reinterpret_cast<const uint8_t*>(body.data());
    EXPECT_TRUE(read_ring_header(data, body.size(), rh, cols, &columns, &why)) << why;
    std::vector<lt_event> out(rh->count);
    if (columns) decode_columns(*rh, cols, columns, out.data());
    return out;
}

} // namespace

TEST(BundleColumns, RoundTripKeepsEveryField)
{
    std::vector<Event> events;
    for (uint64_t i = 0; i < 1000; i++) {
        Event e = ev(1'000'000'000'000 + i * 1000, 0x55a3b06ef200 + (i % 4) * 0x38, i % 7 == 0 ? -11 : 0);
        e.addr2 = i % 3 ? 0 : 0x7f0000001000 + i;
        e.state[0] = i & 0xff;
        e.state[1] = uint64_t(i) << 32 | 1;
        e.stack_id = uint32_t(i % 300);
        e.arg = i == 500 ? 0xffffffffu : 0;
        e.type = uint16_t(i % 20);
        e.prim = uint8_t(i % 5);
        e.flags = uint8_t(i % 2);
        events.push_back(e);
    }
    // A nested signal handler's record: time goes back, the delta wraps.
    events[600].time_ns = events[599].time_ns - 5;
    RingHeader rh;
    ColumnHeader cols[kColumns];
    std::vector<lt_event> out = decode(encode(events, 37), &rh, cols);
    EXPECT_EQ(rh.slot, 3u);
    EXPECT_EQ(rh.lost, 7u);
    ASSERT_EQ(out.size(), events.size());
    for (size_t i = 0; i < events.size(); i++) {
        const Event& a = events[i];
        const lt_event& b = out[i];
        ASSERT_EQ(b.time_ns, a.time_ns) << i;
        ASSERT_EQ(b.addr, a.addr) << i;
        ASSERT_EQ(b.addr2, a.addr2) << i;
        ASSERT_EQ(b.state[0], a.state[0]) << i;
        ASSERT_EQ(b.state[1], a.state[1]) << i;
        ASSERT_EQ(b.stack_id, a.stack_id) << i;
        ASSERT_EQ(b.result, a.result) << i;
        ASSERT_EQ(b.arg, a.arg) << i;
        ASSERT_EQ(b.type, a.type) << i;
        ASSERT_EQ(b.prim, a.prim) << i;
        ASSERT_EQ(b.flags, a.flags) << i;
    }
}

TEST(BundleColumns, EachColumnTakesTheBytesItsRangeNeeds)
{
    // Four locks 0x38 apart, deltas of 1000 ns, nothing else set.
    std::vector<Event> events;
    for (uint64_t i = 0; i < 100; i++) events.push_back(ev(5'000'000'000 + i * 1000, 0x55a3b06ef200 + (i % 4) * 0x38));
    RingHeader rh;
    ColumnHeader cols[kColumns];
    std::string body = encode(events, 100);
    decode(body, &rh, cols);
    const unsigned want[kColumns] = {2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    unsigned per_record = 0;
    for (size_t k = 0; k < kColumns; k++) {
        EXPECT_EQ(cols[k].width, want[k]) << "column " << k;
        per_record += want[k];
    }
    EXPECT_EQ(cols[1].base, 0x55a3b06ef200u);
    EXPECT_EQ(rh.time0, 5'000'000'000u);
    EXPECT_EQ(body.size(), kRingFixedBytes + 100 * per_record);
}

TEST(BundleColumns, EmptyRing)
{
    RingHeader rh;
    ColumnHeader cols[kColumns];
    std::string body = encode({}, 1);
    EXPECT_EQ(body.size(), kRingFixedBytes);
    EXPECT_TRUE(decode(body, &rh, cols).empty());
}

TEST(BundleColumns, BadHeadersAreRefused)
{
    std::vector<Event> events{ev(10, 1), ev(20, 2), ev(30, 3)};
    std::string good = encode(events, 3);
    RingHeader rh;
    ColumnHeader cols[kColumns];
    const uint8_t* columns;
    std::string why;
    auto check = [&](std::string body) {
        return read_ring_header(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &rh, cols, &columns, &why);
    };
    ASSERT_TRUE(check(good)) << why;
    const size_t width0 = sizeof(RingHeader) + 8; // column 0's width byte
    for (uint8_t w : {0, 9}) {
        std::string bad = good;
        bad[width0] = char(w);
        EXPECT_FALSE(check(bad));
        EXPECT_EQ(why, "RING column 0 of width " + std::to_string(w));
    }
    std::string narrow = good; // prim (column 9) is at most one byte wide
    narrow[width0 + 9 * sizeof(ColumnHeader)] = 2;
    EXPECT_FALSE(check(narrow));
    EXPECT_FALSE(check(good.substr(0, good.size() - 1)));
    EXPECT_EQ(why, "RING section length does not match its record count");
    EXPECT_FALSE(check(good.substr(0, kRingFixedBytes - 1)));
    EXPECT_EQ(why, "truncated RING header");
    std::string huge = good; // a count the bytes do not back
    uint64_t count = uint64_t(1) << 60;
    memcpy(&huge[offsetof(RingHeader, count)], &count, 8);
    EXPECT_FALSE(check(huge));
}
