#include "pack.h"

#include "bundle_format.h"
#include "event_columns.h"
#include "machine.h"

#include "core/model.h"
#include "core/symbols.h"
#include "findings/findings.h"
#include "present.h"

#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unordered_set>
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
// LOCKTRACE_PACK_TIMING=1: phase times on stderr (for tests/after/pack_bench.sh);
// "2: ..." are the findings thread's (the wait for the model, the findings,
// the wait for the symbols), "3: symbols" the symbolizing thread's, counted
// from its start; the others the main thread's.
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

// The sections that need the findings and the symbolizer, built beside the
// rings on two more threads.  Symbolizing needs only the trace (stacks and
// modules), so it starts at once (libc's compressed DWARF is inflated there,
// a fifth of pack's CPU time); the findings wait for the model only, not for
// the symbols, then overlap the encoding and compression of the rings.  On
// two cores that keeps both busy: one after the other, the symbols and the
// findings made pack 1.07x as slow as zstd -3 on the raw trace, side by side
// 0.87x (tests/after/pack_bench.sh, 1 M events).
struct Annex {
    std::string payload; // SYMS, FIND, META sections
    uint64_t frames = 0;
    size_t findings = 0;
    std::exception_ptr error;
};

void build_annex(const Model* model, std::shared_future<bool> model_ready, Trace& trace,
                 const std::string& trace_path, const PackOptions& opt, uint64_t raw_bytes, Annex* a)
{
    auto start = std::chrono::steady_clock::now();
    // Symbolizing needs only the trace, the findings need the model: each on
    // a thread of its own, so the detectors start as soon as the model is
    // built instead of after libc's DWARF was inflated.
    std::unique_ptr<Symbolizer> symbolizer;
    try {
        symbolizer = std::make_unique<Symbolizer>(trace);
    } catch (...) {
        a->error = std::current_exception();
        return;
    }
    Symbolizer& sym = *symbolizer;
    json frames = json::array();
    std::exception_ptr sym_error;
    std::thread sym_thread([&] {
        try {
            // Each distinct pc is listed once.  The detectors have their own
            // Symbolizer; a frame of their evidence that this thread looked
            // up first comes from the process-wide cache (symbols.cpp).
            const lt_file_header& h = trace.header();
            uint32_t ids = h.stack_depth_max ? h.stack_table_capacity : 0;
            std::unordered_set<uint64_t> listed;
            for (uint32_t id = 1; id <= ids; id++)
                for (uint64_t pc : trace.stack(id)) {
                    if (!listed.insert(pc).second) continue;
                    const Frame& f = sym.frame(pc, true);
                    if (f.function.empty() && f.module.empty()) continue;
                    frames.push_back({pc, f.function, f.file, f.line, f.module, f.offset});
                }
            PhaseTimer timer;
            timer.t = start;
            timer.lap("3: symbols");
        } catch (...) {
            sym_error = std::current_exception();
        }
    });
    struct JoinAtExit {
        std::thread& t;
        ~JoinAtExit() { if (t.joinable()) t.join(); }
    } join_sym{sym_thread};
    try {
        const lt_file_header& h0 = trace.header();
        PhaseTimer timer;
        timer.t = start;
        if (!model_ready.get()) return; // the model could not be built: pack fails anyway
        timer.lap("2: model?");
        std::vector<Finding> findings = find_all(*model);
        a->findings = findings.size();
        timer.lap("2: findings");
        sym_thread.join();
        if (sym_error) std::rethrow_exception(sym_error);
        a->frames = frames.size();
        timer.lap("2: symbols?");
        json syms;
        syms["frames"] = std::move(frames);
        json data = json::object();
        for (const Lock& L : model->locks) {
            std::string n = sym.data_name(L.addr);
            if (!n.empty()) data[hex_addr(L.addr)] = n;
        }
        syms["data"] = std::move(data);
        syms["notes"] = sym.notes();
        add_section(a->payload, kSyms, syms.dump());
        add_section(a->payload, kFind, findings_json(*model, sym, findings).dump());

        json meta;
        meta["bundle_version"] = kVersion;
        meta["packed_by"] = "locktrace 0.1.0";
        meta["packed_at"] = uint64_t(time(nullptr));
        meta["machine"] = describe_machine();
        meta["program"] = {{"exe", trace.exe_path()},
                           {"pid", h0.pid},
                           {"command", opt.keep_cmdline ? json(trace.cmdline()) : json(nullptr)}};
        meta["source"] = {{"file", trace_path},
                          {"bytes", raw_bytes},
                          {"events", model->events.size()},
                          {"lost", trace.total_lost()},
                          {"torn", trace.total_torn()},
                          {"cut", trace.total_cut()}};
        meta["findings"] = a->findings;
        // So that a bundle of a hang says how long threads had been stuck when packed.
        // A bundle packed again keeps what was seen the first time (or nothing).
        const PackedAt at = trace.packed() ? trace.packed_at()
                                           : PackedAt{true, trace.process_running(), monotonic_now_ns()};
        if (at.known) meta["process"] = {{"running", at.running}, {"packed_monotonic_ns", at.monotonic_ns}};
        add_section(a->payload, kMeta, meta.dump());
    } catch (...) {
        a->error = std::current_exception();
    }
}

} // namespace

PackResult pack_trace(const std::string& trace_path, const std::string& out_path, const PackOptions& opt)
{
    PhaseTimer timer;
    PackResult r;
    Trace trace(trace_path);
    r.raw_bytes = trace.file_size();
    const lt_file_header& h0 = trace.header();

    // Everything but the rings is small: build it first.  Reading every stack
    // here also fills the trace's stack cache before the other threads start,
    // so from then on every thread only reads it.
    lt_file_header hdr = h0;
    if (!opt.keep_cmdline) {
        memset(hdr.cmdline, 0, sizeof hdr.cmdline);
        hdr.cmdline_len = 0;
    }
    std::string head(LT_HEADER_SIZE, '\0');
    memcpy(&head[0], &hdr, sizeof hdr);
    std::string thrd = thread_table(trace), mods = module_table(trace), stak;
    uint32_t stack_ids = h0.stack_depth_max ? h0.stack_table_capacity : 0;
    for (uint32_t id = 1; id <= stack_ids; id++) {
        const std::vector<uint64_t>& pcs = trace.stack(id);
        if (pcs.empty()) continue;
        uint32_t depth = uint32_t(pcs.size());
        uint64_t hash = id;
        stak.append(reinterpret_cast<const char*>(&id), 4);
        stak.append(reinterpret_cast<const char*>(&depth), 4);
        stak.append(reinterpret_cast<const char*>(&hash), 8);
        stak.append(reinterpret_cast<const char*>(pcs.data()), pcs.size() * 8);
        r.stacks++;
    }
    timer.lap("open");

    // The findings thread reads the model only once model_ready says it is
    // built; the symbolizers and the model build only read the trace's
    // modules, header and (filled) stack cache.
    Model model;
    std::promise<bool> model_promise;
    Annex annex;
    std::thread annex_thread(build_annex, &model, model_promise.get_future().share(), std::ref(trace),
                             std::cref(trace_path), std::cref(opt), r.raw_bytes, &annex);
    struct Joiner {
        std::thread& t;
        std::promise<bool>& ready;
        bool told = false;
        void tell(bool ok)
        {
            ready.set_value(ok);
            told = true;
        }
        ~Joiner()
        {
            if (!told) ready.set_value(false);
            if (t.joinable()) t.join();
        }
    } joiner{annex_thread, model_promise};

    model = Model::build(trace);
    joiner.tell(true);
    timer.lap("model");
    r.events = model.events.size();

    // Every ring's columns, from two passes over the time-merged events (each
    // event read in memory order): the first learns each column's range and
    // so its width, the second writes the narrowed values.
    size_t nthreads = trace.threads().size();
    std::vector<ColumnEncoder> enc(nthreads);
    for_each_run(model.events, [&](uint32_t t, const Event* e, size_t n) { enc[t].observe(e, n); });
    std::vector<std::string> ring_head(nthreads);
    uint64_t frame1 = 4 * sizeof(SectionHeader) + head.size() + thrd.size() + mods.size() + stak.size();
    size_t scratch_len = 0;
    for (size_t t = 0; t < nthreads; t++) {
        scratch_len += enc[t].scratch_bytes();
        frame1 += sizeof(SectionHeader) + enc[t].body_bytes();
    }
    BigBuffer scratch(scratch_len);
    {
        char* p = scratch.data();
        for (size_t t = 0; t < nthreads; t++) {
            uint64_t n = enc[t].scratch_bytes();
            enc[t].attach(p);
            p += n;
        }
        for_each_run(model.events, [&](uint32_t t, const Event* e, size_t n) { enc[t].put(e, n); });
        for (size_t t = 0; t < nthreads; t++) {
            const ThreadInfo& ti = trace.threads()[t];
            RingHeader rh{};
            rh.slot = ti.slot;
            rh.flags = ti.last_record_torn ? kRingLastTorn : 0;
            rh.lost = ti.lost + ti.cut;
            rh.torn = ti.torn;
            ring_head[t] = enc[t].header(rh);
        }
    }
    timer.lap("columns");

    std::string tmp = out_path + ".tmp" + std::to_string(getpid());
    FILE* f = fopen(tmp.c_str(), "wbx");
    if (!f) throw std::runtime_error(out_path + ": cannot create (written first as " + tmp + "): " + strerror(errno));
    try {
        Preamble pre{};
        memcpy(pre.magic, kMagic, sizeof pre.magic);
        pre.version = kVersion;
        pre.flags = opt.keep_cmdline ? 0 : kFlagNoCmdline;
        uint32_t frame_hdr[2] = {kSkippableMagic, uint32_t(sizeof pre)};
        write_all(f, frame_hdr, sizeof frame_hdr, tmp);
        write_all(f, &pre, sizeof pre, tmp); // payload_size filled in at the end

        uint64_t zbytes = 0;
        {
            FrameWriter w(f, tmp, opt.level, frame1);
            w.section(kHead, head);
            w.section(kThrd, thrd);
            w.section(kMods, mods);
            w.section(kStak, stak);
            for (size_t t = 0; t < nthreads; t++) {
                SectionHeader sh{};
                memcpy(sh.tag, kRing, 4);
                sh.length = enc[t].body_bytes();
                w.put(&sh, sizeof sh);
                w.put(ring_head[t].data(), ring_head[t].size());
                for (size_t k = 0; k < kColumns; k++) w.put(enc[t].column(k), enc[t].column_bytes(k));
            }
            w.end();
            zbytes += w.written;
        }
        timer.lap("rings");
        annex_thread.join();
        timer.lap("findings");
        if (annex.error) std::rethrow_exception(annex.error);
        r.findings = annex.findings;
        r.frames = annex.frames;
        {
            FrameWriter w(f, tmp, opt.level, annex.payload.size());
            w.put(annex.payload.data(), annex.payload.size());
            w.end();
            zbytes += w.written;
        }
        r.payload_bytes = frame1 + annex.payload.size();
        pre.payload_size = r.payload_bytes;
        if (fseek(f, 8, SEEK_SET) != 0) throw std::runtime_error(tmp + ": seek failed: " + strerror(errno));
        write_all(f, &pre, sizeof pre, tmp);
        if (fclose(f) != 0) { f = nullptr; throw std::runtime_error(tmp + ": write failed: " + strerror(errno)); }
        f = nullptr;
        if (rename(tmp.c_str(), out_path.c_str()) != 0)
            throw std::runtime_error(out_path + ": cannot write: " + strerror(errno));
        r.bundle_bytes = kPreambleFrameSize + zbytes;
    } catch (...) {
        if (f) fclose(f);
        unlink(tmp.c_str());
        throw;
    }
    timer.lap("write");
    return r;
}

} // namespace lt::bundle
