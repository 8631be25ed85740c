#include "pack.h"

#include "machine.h"

#include "analysis.h"
#include "bundle/bundle_format.h"
#include "bundle/event_columns.h"
#include "bundle/symbol_section.h"
#include "present/present.h"

#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace lt::bundle {

using nlohmann::json;

namespace {

void add_section(std::string& out, const char tag[4], const void* data, size_t len)
{
    SectionHeader h{};
    memcpy(h.tag, tag, 4);
    h.length = len;
    out.append(reinterpret_cast<const char*>(&h), sizeof h);
    out.append(static_cast<const char*>(data), len);
}
void add_section(std::string& out, const char tag[4], const std::string& s) { add_section(out, tag, s.data(), s.size()); }

// Thread and module tables rebuilt from what the reader validated: only
// published entries are kept, so a slot caught half-written is left out.
std::string thread_table(const Trace& t)
{
    std::string out(size_t(t.header().threads_used) * sizeof(lt_thread), '\0');
    for (const ThreadInfo& ti : t.threads()) {
        lt_thread e{};
        e.state = ti.state;
        e.tid = ti.tid;
        e.start_ns = ti.start_ns;
        e.end_ns = ti.end_ns;
        e.pthread_self = ti.pthread_self;
        e.generation = ti.generation;
        memcpy(e.name, ti.name.data(), std::min<size_t>(ti.name.size(), LT_THREAD_NAME_MAX));
        memcpy(&out[size_t(ti.slot) * sizeof e], &e, sizeof e);
    }
    return out;
}

// What outlives the rings, rebuilt from what the reader validated (complete
// entries only): a book per thread slot that has one, the lock-order pairs,
// the inherited locks.
void whole_run_sections(const Trace& t, std::vector<std::string>& books, std::string& ordr, std::string& inhr)
{
    for (size_t i = 0; i < t.books().size() && i < t.threads().size(); i++) {
        const ThreadBook& b = t.books()[i];
        if (!b.present) continue;
        std::string sec(8 + size_t(t.header().book_size), '\0');
        uint32_t slot = t.threads()[i].slot;
        memcpy(&sec[0], &slot, 4);
        lt_book* out = reinterpret_cast<lt_book*>(&sec[8]);
        out->held_overflow = b.held_overflow;
        out->totals_overflow = b.totals_overflow;
        uint32_t n = 0;
        for (const HeldLock& h : b.held) {
            if (n == LT_HELD_MAX) break;
            lt_held& e = out->held[n++];
            e.seq = h.index + 1;
            e.addr = h.addr;
            e.time_ns = h.time_ns;
            e.stack_id = h.stack_id;
            e.depth = h.depth;
            e.prim = h.prim;
            e.mode = h.mode;
        }
        out->held_count = n;
        for (size_t k = 0; k < b.totals.size() && k < t.totals_capacity(); k++) out->totals[k] = b.totals[k];
        books.push_back(std::move(sec));
    }
    for (const OrderPair& o : t.order_pairs()) {
        lt_order_pair e{};
        e.held = o.held;
        e.taken = o.taken;
        e.held_life = o.held_life;
        e.taken_life = o.taken_life;
        e.first_ns = o.first_ns;
        e.count = uint32_t(std::min<uint64_t>(o.count, UINT32_MAX));
        e.gate = o.gate;
        e.tid = o.tid;
        e.held_prim = o.held_prim;
        e.taken_prim = o.taken_prim;
        e.modes = uint8_t(o.held_mode | o.taken_mode << 2);
        e.held_stack = o.held_stack;
        e.taken_stack = o.taken_stack;
        e.key = (lt_order_hash(e.held, e.taken, e.held_life, e.taken_life, e.held_prim, e.taken_prim) & ~uint64_t(3)) | 3u;
        ordr.append(reinterpret_cast<const char*>(&e), sizeof e);
    }
    for (const lt_inherited_lock& e : t.inherited()) inhr.append(reinterpret_cast<const char*>(&e), sizeof e);
}

std::string module_table(const Trace& t)
{
    std::string out;
    for (const Module& m : t.modules()) {
        lt_module e{};
        e.state = LT_SLOT_READY;
        e.base = m.base;
        e.lo = m.lo;
        e.hi = m.hi;
        e.loaded_ns = m.loaded_ns;
        e.build_id_len = uint32_t(std::min<size_t>(m.build_id.size(), LT_BUILD_ID_MAX));
        memcpy(e.build_id, m.build_id.data(), e.build_id_len);
        memcpy(e.path, m.path.data(), std::min<size_t>(m.path.size(), LT_PATH_MAX - 1));
        out.append(reinterpret_cast<const char*>(&e), sizeof e);
    }
    return out;
}

void write_all(FILE* f, const void* p, size_t n, const std::string& path)
{
    if (fwrite(p, 1, n, f) != n) throw std::runtime_error(path + ": write failed: " + strerror(errno));
}

} // namespace

namespace {
// LOCKTRACE_PACK_TIMING=1: phase times on stderr, each counted from the end
// of the one before on its thread; "2: ..." are the detectors' thread's (from
// pack's start to the findings, then to the sections they go in), "3: symbols"
// the symbols' thread's (from pack's start), the others the main thread's.
struct PhaseTimer {
    bool on = getenv("LOCKTRACE_PACK_TIMING") != nullptr;
    std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
    void lap(const char* what)
    {
        if (!on) return;
        auto n = std::chrono::steady_clock::now();
        fprintf(stderr, "pack timing: %-10s %8.3f s\n", what, std::chrono::duration<double>(n - t).count());
        t = n;
    }
};

// Streams sections into one zstd frame written straight to the file.
class FrameWriter {
public:
    FrameWriter(FILE* f, const std::string& path, int level, uint64_t content_size) : f_(f), path_(path)
    {
        cctx_ = ZSTD_createCCtx();
        if (!cctx_) throw std::runtime_error("zstd: out of memory");
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
        // No zstd worker thread: it copied every input byte into buffers of
        // its own (a page fault per 4 KiB of events, 15% more CPU than
        // compressing here); the findings already run beside this thread.
        ZSTD_CCtx_setPledgedSrcSize(cctx_, content_size);
        out_.resize(ZSTD_CStreamOutSize());
    }
    ~FrameWriter() { ZSTD_freeCCtx(cctx_); }
    void put(const void* data, size_t n) { feed(data, n, ZSTD_e_continue); }
    void section(const char tag[4], const void* data, size_t n)
    {
        SectionHeader h{};
        memcpy(h.tag, tag, 4);
        h.length = n;
        put(&h, sizeof h);
        put(data, n);
    }
    void section(const char tag[4], const std::string& s) { section(tag, s.data(), s.size()); }
    void end() { feed(nullptr, 0, ZSTD_e_end); }
    uint64_t written = 0;

private:
    void feed(const void* data, size_t n, ZSTD_EndDirective mode)
    {
        ZSTD_inBuffer in{data, n, 0};
        for (;;) {
            ZSTD_outBuffer o{&out_[0], out_.size(), 0};
            size_t left = ZSTD_compressStream2(cctx_, &o, &in, mode);
            if (ZSTD_isError(left)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(left));
            write_all(f_, out_.data(), o.pos, path_);
            written += o.pos;
            if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
        }
    }
    ZSTD_CCtx* cctx_;
    FILE* f_;
    std::string path_;
    std::string out_;
};

// Scratch memory for tens of MiB written once: fresh pages straight from the
// kernel (no zero fill by us, no copy on growth), as huge pages where the
// system allows, so filling it takes a page fault per 2 MiB, not per 4 KiB.
class BigBuffer {
public:
    explicit BigBuffer(size_t n) : len_(n)
    {
        if (n == 0) return;
        void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("out of memory for " + std::to_string(n) + " bytes of events");
        if (n >= (8u << 20)) madvise(p, n, MADV_HUGEPAGE);
        p_ = static_cast<char*>(p);
    }
    ~BigBuffer() { if (p_) munmap(p_, len_); }
    BigBuffer(const BigBuffer&) = delete;
    BigBuffer& operator=(const BigBuffer&) = delete;
    char* data() { return p_; }

private:
    char* p_ = nullptr;
    size_t len_;
};

// The bundle's first frame: every section but those that need the findings
// and the symbols.  Everything but the rings is small; the rings are encoded
// into columns (two passes over the time-merged events, each event read in
// memory order: the first learns each column's range and so its width, the
// second writes the narrowed values) and compressed on the caller's thread
// while the detectors and the symbolizer run beside it (analysis.h).  On two
// cores that keeps both busy: one after the other, the symbols and the
// findings made pack 1.07x as slow as zstd -3 on the raw trace, side by side
// 0.87x (tests/after/pack_bench.sh, 1 M events).
struct Rings {
    std::string head, thrd, mods, stak;
    std::vector<std::string> books;  // BOOK sections
    std::string ordr, inhr;          // ORDR, INHR (format version 2)
    bool whole_run = false;
    std::vector<ColumnEncoder> enc;
    std::vector<std::string> ring_head;
    std::unique_ptr<BigBuffer> scratch;
    uint64_t bytes = 0;  // the frame's content size
};

// for_each_run over the recorded events only: the acquisitions the model
// brought back from held sets travel in the BOOK sections, not as records.
template <typename F> void for_each_recorded_run(const Model& m, F f)
{
    if (m.held_set_events.empty()) return for_each_run(m.events, f);
    for_each_run(m.events, [&](uint32_t t, const Event* e, size_t n) {
        const size_t base = size_t(e - m.events.data());
        size_t from = 0;
        for (size_t k = 0; k < n; k++)
            if (m.from_held_set(EventIx(base + k))) {
                if (k > from) f(t, e + from, k - from);
                from = k + 1;
            }
        if (n > from) f(t, e + from, n - from);
    });
}

Rings encode(const Trace& trace, const Model& model, const PackOptions& opt, PackResult* r)
{
    Rings g;
    lt_file_header hdr = trace.header();
    // Every time packed comes from what the reader handed out, already mapped
    // to CLOCK_MONOTONIC: the bundle's stamps need no anchors.
    hdr.clock = LT_CLOCK_MONOTONIC;
    hdr.anchors_offset = hdr.anchors_head = 0;
    hdr.anchors_capacity = 0;
    if (!opt.keep_cmdline) {
        memset(hdr.cmdline, 0, sizeof hdr.cmdline);
        hdr.cmdline_len = 0;
        for (lt_exec_image& img : hdr.exec_chain.images) memset(img.args, 0, sizeof img.args);
    }
    g.head.assign(LT_HEADER_SIZE, '\0');
    memcpy(&g.head[0], &hdr, sizeof hdr);
    g.thrd = thread_table(trace);
    g.mods = module_table(trace);
    uint32_t stack_ids = hdr.stack_depth_max ? hdr.stack_table_capacity : 0;
    for (uint32_t id = 1; id <= stack_ids; id++) {
        const std::vector<uint64_t>& pcs = trace.stack(id);
        if (pcs.empty()) continue;
        uint32_t depth = uint32_t(pcs.size());
        uint64_t hash = id;
        g.stak.append(reinterpret_cast<const char*>(&id), 4);
        g.stak.append(reinterpret_cast<const char*>(&depth), 4);
        g.stak.append(reinterpret_cast<const char*>(&hash), 8);
        g.stak.append(reinterpret_cast<const char*>(pcs.data()), pcs.size() * 8);
        r->stacks++;
    }

    g.whole_run = trace.has_whole_run();
    if (g.whole_run) whole_run_sections(trace, g.books, g.ordr, g.inhr);

    size_t nthreads = trace.threads().size();
    g.enc.resize(nthreads);
    for_each_recorded_run(model, [&](uint32_t t, const Event* e, size_t n) { g.enc[t].observe(e, n); });
    g.ring_head.resize(nthreads);
    g.bytes = 4 * sizeof(SectionHeader) + g.head.size() + g.thrd.size() + g.mods.size() + g.stak.size();
    if (trace.has_whole_run()) {
        g.bytes += 2 * sizeof(SectionHeader) + g.ordr.size() + g.inhr.size();
        for (const std::string& b : g.books) g.bytes += sizeof(SectionHeader) + b.size();
    }
    size_t scratch_len = 0;
    for (size_t t = 0; t < nthreads; t++) {
        scratch_len += g.enc[t].scratch_bytes();
        g.bytes += sizeof(SectionHeader) + g.enc[t].body_bytes();
    }
    g.scratch = std::make_unique<BigBuffer>(scratch_len);
    char* p = g.scratch->data();
    for (size_t t = 0; t < nthreads; t++) {
        uint64_t n = g.enc[t].scratch_bytes();
        g.enc[t].attach(p);
        p += n;
    }
    for_each_recorded_run(model, [&](uint32_t t, const Event* e, size_t n) { g.enc[t].put(e, n); });
    for (size_t t = 0; t < nthreads; t++) {
        const ThreadInfo& ti = trace.threads()[t];
        RingHeader rh{};
        rh.slot = ti.slot;
        rh.flags = ti.last_record_torn ? kRingLastTorn : 0;
        rh.lost = ti.lost + ti.cut;
        rh.torn = ti.torn;
        g.ring_head[t] = g.enc[t].header(rh);
    }
    return g;
}

// Compresses the first frame to the file; returns the bytes written.
uint64_t write_rings(FILE* f, const std::string& path, const Rings& g, int level)
{
    FrameWriter w(f, path, level, g.bytes);
    w.section(kHead, g.head);
    w.section(kThrd, g.thrd);
    w.section(kMods, g.mods);
    w.section(kStak, g.stak);
    if (!g.ordr.empty() || !g.inhr.empty() || !g.books.empty() || g.whole_run) {
        w.section(kOrdr, g.ordr);
        w.section(kInhr, g.inhr);
        for (const std::string& b : g.books) w.section(kBook, b);
    }
    for (size_t t = 0; t < g.enc.size(); t++) {
        SectionHeader sh{};
        memcpy(sh.tag, kRing, 4);
        sh.length = g.enc[t].body_bytes();
        w.put(&sh, sizeof sh);
        w.put(g.ring_head[t].data(), g.ring_head[t].size());
        for (size_t k = 0; k < kColumns; k++) w.put(g.enc[t].column(k), g.enc[t].column_bytes(k));
    }
    w.end();
    return w.written;
}

// Every distinct pc of the trace's stacks, symbolized (libc's compressed
// DWARF is inflated here: a fifth of pack's CPU time, hence its own thread).
AddressFrames list_frames(const Trace& trace, Symbolizer& sym)
{
    AddressFrames frames;
    const lt_file_header& h = trace.header();
    uint32_t ids = h.stack_depth_max ? h.stack_table_capacity : 0;
    for (uint32_t id = 1; id <= ids; id++)
        for (uint64_t pc : trace.stack(id))
            if (!frames.count(pc)) frames.emplace(pc, sym.frames(pc, true));
    return frames;
}

// FIND keeps what the packing machine's locktrace concluded, its words; the
// evidence's stacks are left out: every reader rebuilds them, inlined frames
// and all, from the events and SYMS, and they were the larger part of a small
// bundle (a release Rust program's inline chains, 30 frames deep, made its
// bundle 1.45x the size it has without inlined frames).
json findings_without_stacks(json findings)
{
    for (json& f : findings)
        if (f.contains("evidence"))
            for (json& e : f["evidence"]) e.erase("stack");
    return findings;
}

// The second frame's sections: SYMS, FIND (the findings as `report --json`
// lists them) and META.
std::string second_frame(const Analysis& a, AddressFrames frames, const std::string& trace_path,
                         const PackOptions& opt)
{
    const Trace& trace = *a.trace;
    Symbolizer& sym = *a.symbols;
    std::string payload;
    json data = json::object();
    for (const Lock& L : a.model.locks) {
        std::string n = sym.data_name(L.addr);
        if (!n.empty()) data[hex_addr(L.addr)] = n;
    }
    // The live view's stacks and the words its threads sleep on, named too.
    if (a.live)
        for (const LiveThread& t : a.live->threads) {
            // The innermost pc is where the thread is, not a return address.
            for (size_t i = 0; i < t.stack.size(); i++) frames[t.stack[i]] = sym.frames(t.stack[i], i > 0);
            if (uint64_t w = t.futex_wait_addr()) {
                std::string n = sym.data_name(w);
                if (!n.empty()) data[hex_addr(w)] = n;
            }
        }
    add_section(payload, kSyms, encode_symbols(frames, data, sym.notes()));
    add_section(payload, kFind, findings_without_stacks(findings_json(a.model, sym, a.findings)).dump());
    if (a.live) add_section(payload, kLive, live_view_text(*a.live));

    json meta;
    meta["bundle_version"] = kVersion;
    meta["packed_by"] = "locktrace 0.1.0";
    meta["packed_at"] = uint64_t(time(nullptr));
    meta["machine"] = describe_machine();
    meta["program"] = {{"exe", trace.exe_path()},
                       {"pid", trace.header().pid},
                       {"command", opt.keep_cmdline ? json(trace.cmdline()) : json(nullptr)}};
    meta["source"] = {{"file", trace_path},
                      {"bytes", trace.file_size()},
                      {"events", a.model.events.size()},
                      {"lost", trace.total_lost()},
                      {"torn", trace.total_torn()},
                      {"cut", trace.total_cut()}};
    meta["findings"] = a.findings.size();
    // So that a bundle of a hang says how long threads had been stuck when packed.
    // A bundle packed again keeps what was seen the first time (or nothing).
    const PackedAt at = trace.packed() ? trace.packed_at()
                                       : PackedAt{true, trace.process_running(), monotonic_now_ns()};
    if (at.known) meta["process"] = {{"running", at.running}, {"packed_monotonic_ns", at.monotonic_ns}};
    add_section(payload, kMeta, meta.dump());
    return payload;
}

// The bundle being written, under a temporary name until it is complete;
// removed if packing fails.
struct TempFile {
    std::string tmp, out;
    FILE* f = nullptr;
    explicit TempFile(const std::string& out_path) : tmp(out_path + ".tmp" + std::to_string(getpid())), out(out_path)
    {
        f = fopen(tmp.c_str(), "wbx");
        if (!f) throw std::runtime_error(out + ": cannot create (written first as " + tmp + "): " + strerror(errno));
    }
    void commit()
    {
        FILE* g = f;
        f = nullptr;
        if (fclose(g) != 0) {
            unlink(tmp.c_str());
            throw std::runtime_error(tmp + ": write failed: " + strerror(errno));
        }
        if (rename(tmp.c_str(), out.c_str()) != 0) {
            unlink(tmp.c_str());
            throw std::runtime_error(out + ": cannot write: " + strerror(errno));
        }
    }
    ~TempFile()
    {
        if (!f) return;
        fclose(f);
        unlink(tmp.c_str());
    }
};

} // namespace

PackResult pack_trace(const std::string& trace_path, const std::string& out_path, const PackOptions& opt)
{
    PhaseTimer timer;
    const auto start = timer.t;
    PackResult r;
    std::unique_ptr<TempFile> file;
    Preamble pre{};
    memcpy(pre.magic, kMagic, sizeof pre.magic);
    pre.version = kVersion;
    pre.flags = opt.keep_cmdline ? 0 : kFlagNoCmdline;
    uint64_t zbytes = 0;
    AddressFrames frames;
    std::string payload;

    AnalysisSteps steps;
    steps.symbols = opt.symbols;
    steps.symbolized = [&](const Trace& trace, Symbolizer& sym) {
        frames = list_frames(trace, sym);
        PhaseTimer t3;
        t3.t = start;
        t3.lap("3: symbols");
    };
    steps.analysed = [&](const Analysis& a) {
        PhaseTimer t2;
        t2.t = start;
        t2.lap("2: findings");
        r.frames = 0;
        for (const auto& [pc, chain] : frames)
            if (!chain.back().function.empty() || !chain.back().module.empty()) r.frames++;
        r.findings = a.findings.size();
        payload = second_frame(a, std::move(frames), trace_path, opt);
        t2.lap("2: sections");
    };
    steps.modelled = [&](const Trace& trace, const Model& model) {
        timer.lap("model");
        r.raw_bytes = trace.file_size();
        r.events = model.events.size();
        Rings rings = encode(trace, model, opt, &r);
        timer.lap("columns");
        file = std::make_unique<TempFile>(out_path);
        uint32_t frame_hdr[2] = {kSkippableMagic, uint32_t(sizeof pre)};
        write_all(file->f, frame_hdr, sizeof frame_hdr, file->tmp);
        write_all(file->f, &pre, sizeof pre, file->tmp); // payload_size filled in at the end
        zbytes += write_rings(file->f, file->tmp, rings, opt.level);
        r.payload_bytes = rings.bytes;
        timer.lap("rings");
    };
    Analysis a = analyse(trace_path, steps);
    timer.lap("findings");

    {
        FrameWriter w(file->f, file->tmp, opt.level, payload.size());
        w.put(payload.data(), payload.size());
        w.end();
        zbytes += w.written;
    }
    r.payload_bytes += payload.size();
    pre.payload_size = r.payload_bytes;
    if (fseek(file->f, 8, SEEK_SET) != 0) throw std::runtime_error(file->tmp + ": seek failed: " + strerror(errno));
    write_all(file->f, &pre, sizeof pre, file->tmp);
    file->commit();
    r.bundle_bytes = kPreambleFrameSize + zbytes;
    timer.lap("write");
    return r;
}

} // namespace lt::bundle
