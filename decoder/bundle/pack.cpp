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
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
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

// The findings exactly as `report --json` lists them (the schema of locktrace(1)).
json findings_json(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings)
{
    json fs = json::array();
    for (const Finding& f : findings) {
        json locks = json::array(), ev = json::array();
        for (uint64_t a : f.locks) locks.push_back(hex_addr(a));
        for (const Evidence& e : f.evidence)
            ev.push_back({{"thread", e.thread},
                          {"time_ns", m.rel(e.time_ns)},
                          {"event", e.event},
                          {"stack", stack_json(sym, e.stack_id)}});
        fs.push_back({{"kind", f.kind},
                      {"severity", severity_name(f.severity)},
                      {"locks", locks},
                      {"threads", f.threads},
                      {"summary", f.summary},
                      {"evidence", ev}});
    }
    return fs;
}

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

PackResult pack_trace(const std::string& trace_path, const std::string& out_path, const PackOptions& opt)
{
    PackResult r;
    Trace trace(trace_path);
    r.raw_bytes = trace.file_size();
    Model model = Model::build(trace);
    Symbolizer sym(trace);
    std::vector<Finding> findings = find_all(model);
    r.events = model.events.size();
    r.findings = findings.size();

    const lt_file_header& h0 = trace.header();
    std::string payload;
    payload.reserve(size_t(model.events.size()) * kBytesPerRecord + (1u << 20));

    // Header: the validated copy, with the command line cleared on request.
    lt_file_header hdr = h0;
    if (!opt.keep_cmdline) {
        memset(hdr.cmdline, 0, sizeof hdr.cmdline);
        hdr.cmdline_len = 0;
    }
    std::string head(LT_HEADER_SIZE, '\0');
    memcpy(&head[0], &hdr, sizeof hdr);
    add_section(payload, kHead, head);
    add_section(payload, kThrd, thread_table(trace));
    add_section(payload, kMods, module_table(trace));

    // Stacks (raw pcs, so the rebuilt trace is exact) and their symbols.
    json frames = json::array();
    std::string stak;
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
    add_section(payload, kStak, stak);

    // Rings: each thread's committed records in ring order, as columns.
    std::vector<std::vector<const Event*>> per_thread(trace.threads().size());
    {
        std::vector<size_t> n(per_thread.size());
        for (const Event& e : model.events) n[e.thread]++;
        for (size_t t = 0; t < n.size(); t++) per_thread[t].reserve(n[t]);
        for (const Event& e : model.events) per_thread[e.thread].push_back(&e);
    }
    for (size_t t = 0; t < per_thread.size(); t++) {
        const ThreadInfo& ti = trace.threads()[t];
        RingHeader rh{};
        rh.slot = ti.slot;
        rh.flags = ti.last_record_torn ? kRingLastTorn : 0;
        rh.lost = ti.lost + ti.cut;
        rh.torn = ti.torn;
        rh.count = per_thread[t].size();
        std::string body(reinterpret_cast<const char*>(&rh), sizeof rh);
        encode_columns(per_thread[t], body);
        add_section(payload, kRing, body);
        per_thread[t] = {};
    }

    // Symbols: every address of every stored stack, and the name of every lock.
    json syms;
    for (uint32_t id = 1; id <= stack_ids; id++)
        for (uint64_t pc : trace.stack(id)) {
            const Frame& f = sym.frame(pc, true);
            if (f.function.empty() && f.module.empty()) continue;
            frames.push_back({pc, f.function, f.file, f.line, f.module, f.offset});
        }
    r.frames = frames.size();
    syms["frames"] = std::move(frames);
    json data = json::object();
    for (const Lock& L : model.locks) {
        std::string n = sym.data_name(L.addr);
        if (!n.empty()) data[hex_addr(L.addr)] = n;
    }
    syms["data"] = std::move(data);
    syms["notes"] = sym.notes();
    add_section(payload, kSyms, syms.dump());
    add_section(payload, kFind, findings_json(model, sym, findings).dump());

    json meta;
    meta["bundle_version"] = kVersion;
    meta["packed_by"] = "locktrace 0.1.0";
    meta["packed_at"] = uint64_t(time(nullptr));
    meta["machine"] = describe_machine();
    meta["program"] = {{"exe", trace.exe_path()},
                       {"pid", h0.pid},
                       {"command", opt.keep_cmdline ? json(trace.cmdline()) : json(nullptr)}};
    meta["source"] = {{"file", trace_path},
                      {"bytes", r.raw_bytes},
                      {"events", r.events},
                      {"lost", trace.total_lost()},
                      {"torn", trace.total_torn()},
                      {"cut", trace.total_cut()}};
    meta["findings"] = r.findings;
    add_section(payload, kMeta, meta.dump());
    r.payload_bytes = payload.size();

    // Compress in one go: the content size lands in the frame header (the
    // reader checks it against the preamble) and the checksum catches flipped bytes.
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    if (!cctx) throw std::runtime_error("zstd: out of memory");
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, opt.level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    std::string z(ZSTD_compressBound(payload.size()), '\0');
    size_t zn = ZSTD_compress2(cctx, &z[0], z.size(), payload.data(), payload.size());
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(zn)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(zn));

    Preamble pre{};
    memcpy(pre.magic, kMagic, sizeof pre.magic);
    pre.version = kVersion;
    pre.flags = opt.keep_cmdline ? 0 : kFlagNoCmdline;
    pre.payload_size = payload.size();
    uint32_t frame_hdr[2] = {kSkippableMagic, uint32_t(sizeof pre)};

    std::string tmp = out_path + ".tmp" + std::to_string(getpid());
    FILE* f = fopen(tmp.c_str(), "wbx");
    if (!f) throw std::runtime_error(tmp + ": cannot create: " + strerror(errno));
    try {
        write_all(f, frame_hdr, sizeof frame_hdr, tmp);
        write_all(f, &pre, sizeof pre, tmp);
        write_all(f, z.data(), zn, tmp);
        if (fclose(f) != 0) { f = nullptr; throw std::runtime_error(tmp + ": write failed: " + strerror(errno)); }
        f = nullptr;
        if (rename(tmp.c_str(), out_path.c_str()) != 0)
            throw std::runtime_error(out_path + ": cannot write: " + strerror(errno));
    } catch (...) {
        if (f) fclose(f);
        unlink(tmp.c_str());
        throw;
    }
    r.bundle_bytes = kPreambleFrameSize + zn;
    return r;
}

} // namespace lt::bundle
