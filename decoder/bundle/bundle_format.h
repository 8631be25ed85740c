// The bundle: one file to attach to a bug report (man/locktrace-bundle.5).
//
//   [zstd skippable frame 0x184D2A5B, 32 bytes of content]  BundlePreamble
//   [zstd frames, each with its content size]               the payload
//
// `zstd -dc FILE` ignores the preamble and prints the payload, a sequence of
// sections { char tag[4]; u32 zero; u64 length; u8 data[length]; }.  All
// integers little-endian.  Readers skip sections whose tag they do not know.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lt::bundle {

constexpr uint32_t kSkippableMagic = 0x184D2A5B;  // zstd skippable frame, nibble B
constexpr uint32_t kZstdMagic = 0xFD2FB528;
constexpr char kMagic[8] = {'L', 'T', 'B', 'U', 'N', 'D', 'L', 'E'};
constexpr uint32_t kVersion = 2;  // 2: RING columns narrowed (version 1: 56 bytes a record)

struct Preamble {                // the content of the skippable frame
    char magic[8];               // kMagic
    uint32_t version;            // kVersion; a reader refuses a newer major version
    uint32_t flags;              // 1 = command line left out (--no-cmdline)
    uint64_t payload_size;       // bytes of the decompressed payload
    uint64_t reserved;           // 0
};
static_assert(sizeof(Preamble) == 32, "preamble layout is part of the format");
constexpr size_t kPreambleFrameSize = 8 + sizeof(Preamble);
constexpr uint32_t kFlagNoCmdline = 1;

struct SectionHeader {
    char tag[4];
    uint32_t zero;
    uint64_t length;
};
static_assert(sizeof(SectionHeader) == 16, "section header layout is part of the format");

// Section tags.
constexpr char kMeta[4] = {'M', 'E', 'T', 'A'};  // JSON: machine, program, source trace, counts
constexpr char kHead[4] = {'H', 'E', 'A', 'D'};  // the trace's lt_file_header (LT_HEADER_SIZE bytes)
constexpr char kThrd[4] = {'T', 'H', 'R', 'D'};  // threads_used x struct lt_thread, as in the trace
constexpr char kMods[4] = {'M', 'O', 'D', 'S'};  // modules_used x struct lt_module
constexpr char kStak[4] = {'S', 'T', 'A', 'K'};  // stacks: {u32 id, u32 depth, u64 hash, u64 pc[depth]}...
constexpr char kRing[4] = {'R', 'I', 'N', 'G'};  // one per thread: RingHeader + event columns
constexpr char kSyms[4] = {'S', 'Y', 'M', 'S'};  // JSON: symbolized frames and lock (data) names
constexpr char kFind[4] = {'F', 'I', 'N', 'D'};  // JSON: findings as `report --json` gives them
// What outlives the rings (trace format version 2; absent for version 1):
constexpr char kBook[4] = {'B', 'O', 'O', 'K'};  // one per thread slot with a book: u32 slot, u32 0, struct lt_book
constexpr char kOrdr[4] = {'O', 'R', 'D', 'R'};  // the complete lock-order pairs: n x struct lt_order_pair
constexpr char kInhr[4] = {'I', 'N', 'H', 'R'};  // a fork child's inherited locks: n x struct lt_inherited_lock
constexpr char kLive[4] = {'L', 'I', 'V', 'E'};  // text: the live view taken when packed (core/live_view.h)

struct RingHeader {
    uint32_t slot;               // index in the thread table
    uint32_t flags;              // 1 = the newest record was torn
    uint64_t lost;               // records gone before packing (overwrite, cut by truncation)
    uint64_t torn;               // records reserved but never committed
    uint64_t count;              // committed records that follow
    uint64_t time0;              // the time the first record's delta is from
};
static_assert(sizeof(RingHeader) == 40, "ring header layout is part of the format");
constexpr uint32_t kRingLastTorn = 1;

// Columns of a RING section, each `count` entries, in this order (struct of
// arrays: each column compresses on its own):
//   time delta from the previous record (the first from time0, modulo 2^64),
//   addr, addr2, state[0], state[1], stack_id, result (as u32), arg, type,
//   prim, flags.
// After the RingHeader, one ColumnHeader per column, then the columns: entry i
// of column k is the width_k-byte little-endian integer x, and the value is
// base_k + x (modulo 2^64), cut to the field's size.
constexpr size_t kColumns = 11;
struct ColumnHeader {
    uint64_t base;
    uint8_t width;               // 1..kColumnMaxWidth[k]
    uint8_t zero[7];
};
static_assert(sizeof(ColumnHeader) == 16, "column header layout is part of the format");
constexpr uint8_t kColumnMaxWidth[kColumns] = {8, 8, 8, 8, 8, 4, 4, 4, 2, 1, 1};
constexpr size_t kRingFixedBytes = sizeof(RingHeader) + kColumns * sizeof(ColumnHeader);
// A record takes 11 to 56 bytes of columns (width 0 is not allowed, so a
// record count is backed by payload bytes).
constexpr size_t kMinBytesPerRecord = kColumns;

// Limits a reader enforces before allocating (a bundle is untrusted).
constexpr uint64_t kMaxPayload = uint64_t(4) << 30;   // 4 GiB
constexpr uint64_t kMaxImage = uint64_t(8) << 30;     // rebuilt raw trace
constexpr uint64_t kMaxTornPerRing = uint64_t(1) << 24;

} // namespace lt::bundle
