#include "unpack.h"

#include "bundle_format.h"
#include "symbol_section.h"
#include "compact_layout.h"
#include "event_columns.h"

#include "core/symbols.h"

#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace lt::bundle {

namespace {

[[noreturn]] void corrupt(const std::string& path, const std::string& why)
{
    throw TraceError(path + ": corrupt bundle: " + why);
}

uint64_t pow2_at_least(uint64_t n)
{
    uint64_t c = 1;
    while (c < n) c <<= 1;
    return c;
}

struct Section {
    const uint8_t* data;
    uint64_t len;
};

// The file's bytes, its preamble checked and its payload decompressed.
struct Payload {
    Preamble pre{};
    uint64_t file_bytes = 0;
    std::vector<uint8_t> bytes;
    std::multimap<std::string, Section> sections;
    const Section* one(const std::string& path, const char tag[4], bool required) const
    {
        auto range = sections.equal_range(std::string(tag, 4));
        if (range.first == range.second) {
            if (required) corrupt(path, "no " + std::string(tag, 4) + " section");
            return nullptr;
        }
        if (std::next(range.first) != range.second) corrupt(path, "two " + std::string(tag, 4) + " sections");
        return &range.first->second;
    }
};

bool read_fully(int fd, uint64_t off, void* buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, static_cast<char*>(buf) + got, n - got, off_t(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += size_t(r);
    }
    return true;
}

// One zstd frame of the payload: where it lies and what it says it holds.
struct FrameSpan {
    size_t off, len;
    uint64_t content;
};

// The payload's frames decompressed one after the other into `out`.
void decompress(const std::string& path, const std::vector<uint8_t>& z, const std::vector<FrameSpan>& frames,
                std::vector<uint8_t>* out_bytes)
{
    std::vector<uint8_t>& out = *out_bytes;
    // The buffer grows with what the frames really produce,
    // never ahead of it by more than a step: a few hostile bytes that claim
    // gigabytes get an error, not a gigabyte allocation.
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!dctx) throw TraceError(path + ": out of memory for zstd");
    constexpr size_t kStep = size_t(16) << 20;
    for (const FrameSpan& fr : frames) {
        size_t base = out.size(), pos = 0;
        ZSTD_inBuffer in{z.data() + fr.off, fr.len, 0};
        ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
        for (;;) {
            if (pos == out.size() - base) {
                if (pos == fr.content) {
                    // Full: the frame must end here.  Ask with no room left.
                    ZSTD_outBuffer o{nullptr, 0, 0};
                    size_t r = ZSTD_decompressStream(dctx.get(), &o, &in);
                    if (ZSTD_isError(r)) corrupt(path, std::string("cannot decompress: ") + ZSTD_getErrorName(r));
                    if (r != 0) corrupt(path, "a payload frame is longer than it says");
                    break;
                }
                out.resize(base + std::min<uint64_t>(fr.content, pos + std::max(pos, kStep)));
            }
            ZSTD_outBuffer o{out.data() + base, out.size() - base, pos};
            size_t in_before = in.pos;
            size_t r = ZSTD_decompressStream(dctx.get(), &o, &in);
            if (ZSTD_isError(r)) corrupt(path, std::string("cannot decompress: ") + ZSTD_getErrorName(r));
            bool progress = o.pos != pos || in.pos != in_before;
            pos = o.pos;
            if (r == 0) break; // frame complete
            if (!progress) corrupt(path, "truncated compressed payload");
        }
        if (pos != fr.content) corrupt(path, "a payload frame is shorter than it says");
        out.resize(base + pos);
    }
}

// The sections of a decompressed payload, by tag (pointing into its bytes).
void index_sections(const std::string& path, Payload* p)
{
    uint64_t off = 0;
    while (off < p->bytes.size()) {
        SectionHeader sh;
        if (p->bytes.size() - off < sizeof sh) corrupt(path, "truncated section header");
        memcpy(&sh, p->bytes.data() + off, sizeof sh);
        off += sizeof sh;
        if (sh.length > p->bytes.size() - off) corrupt(path, "section " + std::string(sh.tag, 4) + " runs past the end");
        p->sections.emplace(std::string(sh.tag, 4), Section{p->bytes.data() + off, sh.length});
        off += sh.length;
    }
}

// False if the file does not start like a bundle.
bool load_payload(const std::string& path, int fd, Payload* p)
{
    struct stat st;
    if (fstat(fd, &st) != 0) throw TraceError(path + ": cannot stat: " + strerror(errno));
    uint64_t size = uint64_t(st.st_size);
    uint32_t lead[2] = {0, 0};
    if (size < 8 || !read_fully(fd, 0, lead, 8)) return false;
    if (lead[0] == kZstdMagic)
        throw TraceError(path + ": a zstd-compressed file, but not a locktrace bundle (no bundle preamble); "
                                "decompress it with `zstd -d` if it is a compressed trace");
    if (lead[0] != kSkippableMagic) return false;
    if (size < kPreambleFrameSize || lead[1] != sizeof(Preamble) || !read_fully(fd, 8, &p->pre, sizeof p->pre))
        corrupt(path, "truncated preamble");
    if (memcmp(p->pre.magic, kMagic, sizeof kMagic) != 0)
        throw TraceError(path + ": not a locktrace bundle (a zstd skippable frame without the LTBUNDLE magic)");
    if (p->pre.version != kVersion)
        throw TraceError(path + ": bundle format version " + std::to_string(p->pre.version) +
                         ", this locktrace reads version " + std::to_string(kVersion) +
                         (p->pre.version < kVersion ? " (pack the trace again, or read the bundle with the locktrace "
                                                      "that packed it)"
                                                    : " (a newer locktrace packed it)"));
    if (p->pre.payload_size > kMaxPayload)
        corrupt(path, "payload size " + std::to_string(p->pre.payload_size) + " above the 4 GiB limit");
    if (size - kPreambleFrameSize > kMaxPayload) corrupt(path, "file larger than any bundle");
    p->file_bytes = size;

    std::vector<uint8_t> z(size - kPreambleFrameSize);
    if (!read_fully(fd, kPreambleFrameSize, z.data(), z.size())) corrupt(path, "cannot read: " + std::string(strerror(errno)));
    // The payload is one or more zstd frames back to back, each with its
    // content size; together exactly preamble.payload_size bytes.  First the
    // frame boundaries and sizes, allocating nothing: the sizes are claims.
    std::vector<FrameSpan> frames;
    uint64_t zoff = 0, declared = 0;
    while (zoff < z.size()) {
        const uint8_t* f = z.data() + zoff;
        size_t avail = z.size() - zoff;
        unsigned long long content = ZSTD_getFrameContentSize(f, avail);
        if (content == ZSTD_CONTENTSIZE_ERROR) corrupt(path, "the compressed payload is not a zstd frame");
        if (content == ZSTD_CONTENTSIZE_UNKNOWN) corrupt(path, "a payload frame without its content size");
        if (content > p->pre.payload_size - declared) corrupt(path, "payload frames larger than the preamble says");
        size_t frame = ZSTD_findFrameCompressedSize(f, avail);
        if (ZSTD_isError(frame))
            corrupt(path, std::string("truncated compressed payload (") + ZSTD_getErrorName(frame) + ")");
        frames.push_back({size_t(zoff), frame, content});
        declared += content;
        zoff += frame;
    }
    if (declared != p->pre.payload_size) corrupt(path, "payload shorter than the preamble says");

    decompress(path, z, frames, &p->bytes);
    index_sections(path, p);
    return true;
}

nlohmann::json parse_json(const std::string& path, const Section* s, const char* what)
{
    if (!s) return nullptr;
    try {
        return nlohmann::json::parse(s->data, s->data + s->len);
    } catch (const std::exception& e) {
        corrupt(path, std::string("unreadable ") + what + " section: " + e.what());
    }
}

std::shared_ptr<SymbolTable> read_symbols(const std::string& path, const Section* s)
{
    auto table = std::make_shared<SymbolTable>();
    nlohmann::json j = parse_json(path, s, "SYMS");
    if (j.is_null()) return table;
    try {
        decode_symbols(j, table.get());
    } catch (const std::exception& e) {
        corrupt(path, std::string("unreadable SYMS section: ") + e.what());
    }
    return table;
}

struct RingPlan {
    RingHeader rh;
    ColumnHeader cols[kColumns];
    const uint8_t* columns;
    uint64_t capacity, head, offset;
};

// The largest id of the STAK section's entries, each checked to lie inside it.
uint32_t largest_stack_id(const std::string& path, const lt_file_header& hdr, const Section* stak)
{
    uint32_t max_id = 0;
    for (uint64_t off = 0; off < stak->len;) {
        uint32_t id, depth;
        if (stak->len - off < 16) corrupt(path, "truncated STAK entry");
        memcpy(&id, stak->data + off, 4);
        memcpy(&depth, stak->data + off + 4, 4);
        if (id == 0 || id > (1u << 24)) corrupt(path, "stack id out of range");
        if (depth > hdr.stack_depth_max) corrupt(path, "stack deeper than the trace's maximum");
        if (stak->len - off - 16 < 8ull * depth) corrupt(path, "truncated STAK entry");
        max_id = std::max(max_id, id);
        off += 16 + 8ull * depth;
    }
    return max_id;
}

// The STAK entries (checked by largest_stack_id) into the image's stack table.
void write_stacks(const Section* stak, const lt_file_header& hdr, uint8_t* table)
{
    const uint64_t entry = sizeof(lt_stack_entry) + 8ull * hdr.stack_depth_max;
    for (uint64_t off = 0; off < stak->len;) {
        uint32_t id, depth;
        memcpy(&id, stak->data + off, 4);
        memcpy(&depth, stak->data + off + 4, 4);
        uint8_t* e = table + uint64_t(id - 1) * entry;
        lt_stack_entry se{};
        memcpy(&se.hash, stak->data + off + 8, 8);
        se.state = LT_SLOT_READY;
        se.depth = depth;
        memcpy(e, &se, sizeof se);
        memcpy(e + sizeof se, stak->data + off + 16, 8ull * depth);
        off += 16 + 8ull * depth;
    }
}

// One RING's records into its ring in the image, and its thread entry.  Ring
// indices: [pads counted as lost][torn][records][torn last], ending at head.
void write_ring(const RingPlan& r, uint8_t* img, lt_thread* t)
{
    t->ring_offset = r.offset;
    t->ring_capacity = r.capacity;
    t->head = r.head;
    lt_event* ring = reinterpret_cast<lt_event*>(img + r.offset);
    uint64_t mask = r.capacity - 1;
    uint64_t first = r.head > r.capacity ? r.head - r.capacity : 0;
    uint64_t real = r.head - r.rh.count - r.rh.torn;
    bool last_torn = (r.rh.flags & kRingLastTorn) && r.rh.torn;
    uint64_t torn_before = r.rh.torn - (last_torn ? 1 : 0);
    for (uint64_t i = first; i < real; i++) ring[i & mask].seq = i + 2; // overwritten: newer lap
    std::vector<lt_event> rec(r.rh.count);
    decode_columns(r.rh, r.cols, r.columns, rec.data());
    uint64_t i = real + torn_before; // torn slots keep seq 0
    for (uint64_t k = 0; k < r.rh.count; k++, i++) {
        rec[k].seq = i + 1;
        ring[i & mask] = rec[k];
    }
}

// Rebuilds a raw trace (include/locktrace/format.h) from the sections.  The
// result goes through the normal reader's validation afterwards; the checks
// here only keep sizes bounded and offsets inside the image.
std::vector<uint8_t> rebuild(const std::string& path, const Payload& p)
{
    const Section* head = p.one(path, kHead, true);
    if (head->len != LT_HEADER_SIZE) corrupt(path, "HEAD section is not one trace header");
    lt_file_header hdr;
    memcpy(&hdr, head->data, sizeof hdr);
    if (hdr.magic != LT_MAGIC) corrupt(path, "HEAD section does not hold a trace header");
    if (hdr.stack_depth_max > 1024) corrupt(path, "stack depth above 1024");

    const Section* thrd = p.one(path, kThrd, true);
    const Section* mods = p.one(path, kMods, true);
    const Section* stak = p.one(path, kStak, true);
    if (thrd->len % sizeof(lt_thread) || thrd->len / sizeof(lt_thread) > (1u << 20))
        corrupt(path, "THRD section is not a whole thread table");
    if (mods->len % sizeof(lt_module) || mods->len / sizeof(lt_module) > (1u << 20))
        corrupt(path, "MODS section is not a whole module table");
    uint32_t nthreads = uint32_t(thrd->len / sizeof(lt_thread));
    uint32_t nmods = uint32_t(mods->len / sizeof(lt_module));

    // Stacks: the table is sized to the largest id.
    uint32_t max_id = largest_stack_id(path, hdr, stak);
    // Without stacks the table has no room: an entry would land outside it.
    if (!hdr.stack_depth_max && stak->len) corrupt(path, "STAK entries in a trace recorded without stacks");
    uint64_t stack_cap = hdr.stack_depth_max ? pow2_at_least(std::max<uint32_t>(max_id, 1)) : 0;
    // What outlives the rings (trace format version 2).
    const Section* ordr = hdr.version >= 2 ? p.one(path, kOrdr, false) : nullptr;
    const Section* inhr = hdr.version >= 2 ? p.one(path, kInhr, false) : nullptr;
    if (ordr && (ordr->len % sizeof(lt_order_pair) || ordr->len / sizeof(lt_order_pair) > (1u << 20)))
        corrupt(path, "ORDR section is not a whole number of lock-order pairs");
    if (inhr && (inhr->len % sizeof(lt_inherited_lock) || inhr->len / sizeof(lt_inherited_lock) > (1u << 16)))
        corrupt(path, "INHR section is not a whole number of inherited locks");
    uint32_t norder = ordr ? uint32_t(ordr->len / sizeof(lt_order_pair)) : 0;
    uint32_t ninher = inhr ? uint32_t(inhr->len / sizeof(lt_inherited_lock)) : 0;
    CompactLayout layout(hdr, nthreads, nmods, uint32_t(stack_cap), hdr.stack_depth_max,
                         norder ? uint32_t(pow2_at_least(norder)) : 0, ninher);
    if (layout.end() > kMaxImage) corrupt(path, "rebuilt trace would exceed 8 GiB (stack table)");

    std::vector<RingPlan> rings;
    std::vector<uint8_t> seen(nthreads, 0);
    auto range = p.sections.equal_range(std::string(kRing, 4));
    for (auto it = range.first; it != range.second; ++it) {
        const Section& s = it->second;
        RingPlan r{};
        std::string why;
        if (!read_ring_header(s.data, s.len, &r.rh, r.cols, &r.columns, &why)) corrupt(path, why);
        if (r.rh.slot >= nthreads) corrupt(path, "RING for a thread slot that is not in the table");
        if (seen[r.rh.slot]++) corrupt(path, "two RING sections for one thread");
        if (r.rh.torn > kMaxTornPerRing) corrupt(path, "implausible torn record count");
        if (r.rh.lost > (uint64_t(1) << 62)) corrupt(path, "implausible lost record count");
        uint64_t n = r.rh.count + r.rh.torn;
        r.capacity = pow2_at_least(std::max<uint64_t>(n, 1));
        r.head = r.rh.lost + n;
        r.offset = layout.add_ring(r.capacity);
        if (layout.end() > kMaxImage) corrupt(path, "rebuilt trace would exceed 8 GiB");
        rings.push_back(r);
    }
    // A thread in the table without a RING section keeps a one-slot empty ring.
    std::vector<uint64_t> spare(nthreads, 0);
    for (uint32_t i = 0; i < nthreads; i++)
        if (!seen[i]) spare[i] = layout.add_ring(1);
    std::vector<std::pair<const Section*, uint64_t>> books;  // BOOK section, its place
    std::vector<uint8_t> has_book(nthreads, 0);
    if (hdr.version >= 2) {
        auto br = p.sections.equal_range(std::string(kBook, 4));
        for (auto it = br.first; it != br.second; ++it) {
            const Section& s = it->second;
            uint32_t slot;
            if (s.len != 8 + uint64_t(hdr.book_size)) corrupt(path, "BOOK section is not one thread's book");
            memcpy(&slot, s.data, 4);
            if (slot >= nthreads) corrupt(path, "BOOK for a thread slot that is not in the table");
            if (has_book[slot]++) corrupt(path, "two BOOK sections for one thread");
            books.push_back({&s, layout.add_book()});
        }
    }
    if (layout.end() > kMaxImage) corrupt(path, "rebuilt trace would exceed 8 GiB");
    // What a real pack gives: records grow from at least 11 bytes of columns to
    // 64 and rings round up to a power of two; the tables and a few torn
    // records add little.  A bundle asking for far more (huge torn counts,
    // sparse stack ids) is made up.
    if (layout.end() > 12 * p.bytes.size() + (uint64_t(64) << 20))
        corrupt(path, "rebuilt trace of " + std::to_string(layout.end()) + " bytes from a payload of " +
                          std::to_string(p.bytes.size()) + ": implausible");

    std::vector<uint8_t> img(layout.end(), 0);
    uint64_t thread_off = hdr.thread_table_offset, module_off = hdr.module_table_offset;
    uint64_t stack_off = hdr.stack_table_offset;
    memcpy(img.data(), &hdr, sizeof hdr);
    memcpy(img.data() + module_off, mods->data, mods->len);

    lt_thread* threads = reinterpret_cast<lt_thread*>(img.data() + thread_off);
    memcpy(threads, thrd->data, thrd->len);
    for (uint32_t i = 0; i < nthreads; i++)
        if (!seen[i]) {
            threads[i].ring_offset = spare[i];
            threads[i].ring_capacity = 1;
            threads[i].head = 0;
        }

    write_stacks(stak, hdr, img.data() + stack_off);
    for (const RingPlan& r : rings) write_ring(r, img.data(), &threads[r.rh.slot]);
    for (uint32_t i = 0; i < nthreads; i++) threads[i].book_offset = 0;
    for (const auto& [s, off] : books) {
        uint32_t slot;
        memcpy(&slot, s->data, 4);
        memcpy(img.data() + off, s->data + 8, hdr.book_size);
        threads[slot].book_offset = off;
    }
    if (norder) memcpy(img.data() + hdr.order_table_offset, ordr->data, ordr->len);
    if (ninher) memcpy(img.data() + hdr.inherited_offset, inhr->data, inhr->len);
    return img;
}

} // namespace

// META's "process" (written since pack learnt it): whether the process was
// running when packed, and when.  Absent in older bundles: left unknown.
PackedAt read_packed_at(const std::string& path, const Section* meta)
{
    PackedAt at;
    nlohmann::json j = parse_json(path, meta, "META");
    if (!j.is_object() || !j.contains("process")) return at;
    try {
        const nlohmann::json& p = j.at("process");
        at.running = p.at("running").get<bool>();
        at.monotonic_ns = p.at("packed_monotonic_ns").get<uint64_t>();
        at.known = true;
    } catch (const std::exception& e) {
        corrupt(path, std::string("bad \"process\" in META: ") + e.what());
    }
    return at;
}

bool is_bundle_lead(const uint8_t lead[8])
{
    uint32_t magic;
    memcpy(&magic, lead, 4);
    return magic == kSkippableMagic || magic == kZstdMagic;
}

namespace {
// The payload of the bundle at `path`; throws TraceError if it is none.
Payload read_payload(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw TraceError(path + ": cannot open: " + strerror(errno));
    Payload p;
    bool ok;
    try {
        ok = load_payload(path, fd, &p);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (!ok) throw TraceError(path + ": not a locktrace bundle");
    return p;
}
} // namespace

std::unique_ptr<Trace> read_bundle(const std::string& path, std::string* live_view)
{
    Payload p = read_payload(path);
    std::vector<uint8_t> image = rebuild(path, p);
    std::shared_ptr<const SymbolTable> symbols = read_symbols(path, p.one(path, kSyms, false));
    PackedAt at = read_packed_at(path, p.one(path, kMeta, false));
    if (live_view) {
        const Section* s = p.one(path, kLive, false);
        *live_view = s ? std::string(reinterpret_cast<const char*>(s->data), size_t(s->len)) : std::string();
    }
    p = Payload{}; // the compressed sections are not needed any more: free them before validating
    return std::make_unique<Trace>(path, std::move(image), std::move(symbols), at);
}

BundleInfo read_info(const std::string& path)
{
    Payload p = read_payload(path);
    BundleInfo info;
    info.version = p.pre.version;
    info.flags = p.pre.flags;
    info.payload_bytes = p.bytes.size();
    info.file_bytes = p.file_bytes;
    info.meta = parse_json(path, p.one(path, kMeta, false), "META");
    info.findings = parse_json(path, p.one(path, kFind, false), "FIND");
    return info;
}

} // namespace lt::bundle
