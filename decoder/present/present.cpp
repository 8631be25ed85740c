#include "present.h"
#include "finding_words.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace lt {

std::string hex_addr(uint64_t a)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, a);
    return b;
}

std::string rel_time(const Model& m, uint64_t t)
{
    char b[40];
    uint64_t r = m.rel(t);
    snprintf(b, sizeof b, "+%" PRIu64 ".%06" PRIu64 "s", r / 1000000000u, (r % 1000000000u) / 1000u);
    return b;
}

std::string duration(uint64_t ns)
{
    char b[40];
    if (ns < 1000) snprintf(b, sizeof b, "%" PRIu64 "ns", ns);
    else if (ns < 1000000) snprintf(b, sizeof b, "%.1fus", ns / 1e3);
    else if (ns < 1000000000ull) snprintf(b, sizeof b, "%.1fms", ns / 1e6);
    else snprintf(b, sizeof b, "%.2fs", ns / 1e9);
    return b;
}

OpenEnd open_end(const Model& m, const Trace& t)
{
    // Events recorded while a bundle was being packed may be newer than the
    // moment it noted: the later of the two.
    const uint64_t until = t.open_until_ns();
    if (until == 0) return {m.end_ns, " or more", false};
    return {std::max(until, m.end_ns), t.packed() ? " when packed" : " so far", true};
}

bool has_readers(const Lock& L) { return L.prim == LT_PRIM_RWLOCK || L.stats.read_acquisitions > 0; }

std::string thread_label(const Model& m, uint32_t thread)
{
    if (thread >= m.threads.size()) return "thread ?";
    const ThreadState& t = m.threads[thread];
    std::string s = "thread " + std::to_string(t.tid);
    if (!t.name.empty()) s += " \"" + t.name + "\"";
    return s;
}

std::string thread_label_tid(const Model& m, int32_t tid)
{
    const ThreadState* t = m.thread_by_tid(tid);
    return t ? thread_label(m, t->thread) : "thread " + std::to_string(tid);
}

std::string event_words(const Model& m, const Event& e)
{
    std::string s = describe_event(e);
    if (e.prim != LT_PRIM_THREAD || (e.type != LT_EV_WAIT_BEGIN && e.type != LT_EV_WAIT_END)) return s;
    const ThreadState* joined = m.thread_by_pthread(e.addr, e.time_ns);
    const std::string raw = "thread " + hex_addr(e.addr);
    size_t at = s.find(raw);
    if (!joined || at == std::string::npos) return s;
    return s.replace(at, raw.size(), thread_label(m, joined->thread));
}

// A joined thread is its pthread_t in the records; named by tid and name when
// only one thread of the run had that pthread_t (glibc reuses them).
static const ThreadState* only_thread_with_pthread(const Model& m, uint64_t pthread)
{
    const ThreadState* found = nullptr;
    const auto& info = m.trace->threads();
    for (size_t i = 0; i < info.size() && i < m.threads.size(); i++) {
        if (info[i].pthread_self != pthread) continue;
        if (found) return nullptr;
        found = &m.threads[i];
    }
    return found;
}

std::string lock_label(const Model& m, Symbolizer& sym, uint64_t addr, uint8_t prim)
{
    if (prim == LT_PRIM_THREAD)
        if (const ThreadState* t = only_thread_with_pthread(m, addr)) return thread_label(m, t->thread);
    std::string s = std::string(prim_name(prim)) + " " + hex_addr(addr);
    std::string n = sym.data_name(addr);
    if (!n.empty()) s += " (" + n + ")";
    return s;
}

std::string format_stack(Symbolizer& sym, uint32_t stack_id, const std::string& indent, size_t max_frames)
{
    std::vector<Frame> frames = sym.stack(stack_id);
    if (frames.empty()) return indent + "(no stack recorded)\n";
    std::string s;
    for (size_t i = 0; i < frames.size() && i < max_frames; i++)
        s += indent + "#" + std::to_string(i) + " " + frames[i].to_string() + "\n";
    if (frames.size() > max_frames) s += indent + "... " + std::to_string(frames.size() - max_frames) + " more\n";
    return s;
}

nlohmann::json stack_json(Symbolizer& sym, uint32_t stack_id)
{
    nlohmann::json a = nlohmann::json::array();
    for (const Frame& f : sym.stack(stack_id)) {
        nlohmann::json j;
        j["function"] = f.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.function);
        j["file"] = f.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.file);
        j["line"] = f.line ? nlohmann::json(f.line) : nlohmann::json(nullptr);
        j["column"] = f.column ? nlohmann::json(f.column) : nlohmann::json(nullptr);
        j["inlined"] = f.inlined;
        j["module"] = f.module.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.module);
        j["address"] = hex_addr(f.address);
        a.push_back(std::move(j));
    }
    return a;
}

bool parse_address(const std::string& s, uint64_t* out)
{
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(s.c_str(), &end, s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
    if (errno || !end || *end) return false;
    *out = v;
    return true;
}

nlohmann::json findings_json(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings)
{
    std::vector<FindingWords> words;
    for (const Finding& f : findings) words.push_back(finding_words(m, sym, f));
    return findings_json(m, sym, findings, words);
}

nlohmann::json findings_json(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings,
                             const std::vector<FindingWords>& words)
{
    nlohmann::json fs = nlohmann::json::array();
    for (size_t i = 0; i < findings.size(); i++) {
        const Finding& f = findings[i];
        nlohmann::json locks = nlohmann::json::array(), ev = nlohmann::json::array();
        for (uint64_t a : f.locks) locks.push_back(hex_addr(a));
        const FindingWords& w = words[i];
        for (const EvidenceWords& e : w.evidence)
            ev.push_back({{"thread", e.thread},
                          {"time_ns", m.rel(e.time_ns)},
                          {"event", e.event},
                          {"stack", stack_json(sym, e.stack_id)}});
        fs.push_back({{"kind", f.kind},
                      {"severity", severity_name(f.severity)},
                      {"locks", locks},
                      {"threads", f.threads},
                      {"summary", w.summary},
                      {"evidence", ev}});
    }
    return fs;
}

} // namespace lt
