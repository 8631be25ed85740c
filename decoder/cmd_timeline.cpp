// `locktrace timeline TRACE [--lock ADDR] [--thread TID] [--json]`: per lock,
// who held it when (readers as a set), who waited and how each wait ended.
#include "analysis.h"
#include "commands.h"
#include "present/present.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

namespace lt {

namespace {

using nlohmann::json;

struct TimelineOptions {
    std::string trace;
    std::string lock;
    int tid = 0;
    bool json = false;
    SymbolOptions symbols;
};

// A stretch of time during which the set of holders did not change.
struct Segment {
    uint64_t begin, end;                        // end = kOpenEnd: until the end of the trace
    std::vector<std::pair<uint32_t, Mode>> holders;
};

std::vector<Segment> ownership_segments(const Lock& L)
{
    struct Point { uint64_t t; int delta; size_t hold; };
    std::vector<Point> pts;
    for (size_t i = 0; i < L.holds.size(); i++) {
        // A hold of no measurable length covers no stretch of time.  (Holds
        // the hand-over order moved after a release share that release's
        // stamp: sorted releases-first, several such holds of one thread
        // would otherwise all look open at once.)
        if (!L.holds[i].open() && L.holds[i].end_ns == L.holds[i].begin_ns) continue;
        pts.push_back({L.holds[i].begin_ns, +1, i});
        if (!L.holds[i].open()) pts.push_back({L.holds[i].end_ns, -1, i});
    }
    // Releases before acquisitions at the same instant: a hand-over is not an overlap.
    std::stable_sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) {
        return a.t != b.t ? a.t < b.t : a.delta < b.delta;
    });
    std::vector<Segment> segs;
    std::map<size_t, bool> current;  // open holds, by index (ordered: stable output)
    for (size_t k = 0; k < pts.size();) {
        uint64_t t = pts[k].t;
        while (k < pts.size() && pts[k].t == t) {
            if (pts[k].delta > 0) current[pts[k].hold] = true;
            else current.erase(pts[k].hold);
            k++;
        }
        if (!segs.empty() && segs.back().end == kOpenEnd) segs.back().end = t;
        if (!current.empty()) {
            Segment s{t, kOpenEnd, {}};
            for (auto& [hi, _] : current) s.holders.emplace_back(L.holds[hi].thread, L.holds[hi].mode);
            segs.push_back(std::move(s));
        }
    }
    return segs;
}

std::string interval(const Model& m, uint64_t b, uint64_t e, OpenEnd open)
{
    std::string s = rel_time(m, b) + " .. ";
    if (e == kOpenEnd)
        return s + "end       (still, " + duration(open.ns - std::min(open.ns, b)) + open.word + ")";
    return s + rel_time(m, e) + " (" + duration(e - std::min(e, b)) + ")";
}

using ThreadFilter = std::function<bool(uint32_t)>;  // by index in Model::threads

json lock_json(const Model& m, Symbolizer& sym, const Lock& L, const std::vector<Segment>& segs, const ThreadFilter& thread_ok,
               bool all_threads)
{
    json holds = json::array(), waits = json::array(), js = json::array();
    for (const Hold& h : L.holds) {
        if (!thread_ok(h.thread)) continue;
        holds.push_back({{"thread", m.threads[h.thread].tid},
                         {"mode", mode_name(h.mode)},
                         {"internal", h.internal},
                         {"begin_ns", m.rel(h.begin_ns)},
                         {"end_ns", h.open() ? json(nullptr) : json(m.rel(h.end_ns))}});
    }
    for (const Wait& w : L.waits) {
        if (!thread_ok(w.thread)) continue;
        waits.push_back({{"thread", m.threads[w.thread].tid},
                         {"mode", mode_name(w.mode)},
                         {"begin_ns", m.rel(w.begin_ns)},
                         {"end_ns", w.end_ns == kOpenEnd ? json(nullptr) : json(m.rel(w.end_ns))},
                         {"outcome", outcome_name(w.outcome)},
                         {"contended", w.contended}});
    }
    for (const Segment& s : segs) {
        bool any = all_threads;
        json hs = json::array();
        for (auto& [th, mode] : s.holders) {
            any |= thread_ok(th);
            hs.push_back({{"thread", m.threads[th].tid}, {"mode", mode_name(mode)}});
        }
        if (!any) continue;
        js.push_back({{"begin_ns", m.rel(s.begin)},
                      {"end_ns", s.end == kOpenEnd ? json(nullptr) : json(m.rel(s.end))},
                      {"holders", hs}});
    }
    std::string dn = sym.data_name(L.addr);
    return {{"address", hex_addr(L.addr)},
            {"primitive", prim_name(L.prim)},
            {"symbol", dn.empty() ? json(nullptr) : json(dn)},
            {"holds", holds},
            {"ownership", js},
            {"waits", waits}};
}

// "read by {12, 13}", "held by thread 12 \"worker\"", "write by thread 12 ...".
std::string holders_text(const Model& m, const Lock& L, const Segment& s)
{
    std::string who;
    bool readers = s.holders.size() > 1 || (s.holders.size() == 1 && s.holders[0].second == kModeRead);
    bool all_read = true;
    for (auto& hd : s.holders) all_read &= hd.second == kModeRead;
    if (readers && all_read) {
        who = "read by {";
        for (size_t i = 0; i < s.holders.size(); i++) who += (i ? ", " : "") + std::to_string(m.threads[s.holders[i].first].tid);
        return who + "}";
    }
    if (!has_readers(L)) {
        // More than one only when the history itself is inconsistent.
        who = "held by ";
        for (size_t i = 0; i < s.holders.size(); i++) who += std::string(i ? ", " : "") + thread_label(m, s.holders[i].first);
        return who;
    }
    for (size_t i = 0; i < s.holders.size(); i++)
        who += std::string(i ? ", " : "") + mode_name(s.holders[i].second) + " by " + thread_label(m, s.holders[i].first);
    return who;
}

std::string lock_text(const Model& m, Symbolizer& sym, const Lock& L, const std::vector<Segment>& segs,
                      const ThreadFilter& thread_ok, bool all_threads, const OpenEnd& open)
{
    std::string out = lock_label(m, sym, L.addr, L.prim) + ": " + std::to_string(L.holds.size()) + " holds, " +
                      std::to_string(L.waits.size()) + " waits\n";
    if (L.has_owners()) {
        out += "  ownership:\n";
        for (const Segment& s : segs) {
            bool any = all_threads;
            for (auto& hd : s.holders) any |= thread_ok(hd.first);
            if (any) out += "    " + interval(m, s.begin, s.end, open) + "  " + holders_text(m, L, s) + "\n";
        }
        if (segs.empty()) out += "    (never held in the recorded history)\n";
    }
    if (!L.waits.empty()) {
        out += "  waits:\n";
        for (const Wait& w : L.waits) {
            if (!thread_ok(w.thread)) continue;
            out += "    " + interval(m, w.begin_ns, w.end_ns, open) + "  " + thread_label(m, w.thread) + " waited";
            if (w.mode != kModeNone && has_readers(L)) out += std::string(" (") + mode_name(w.mode) + ")";
            out += std::string(" -> ") + outcome_name(w.outcome);
            if (w.end != kNoEvent && (w.outcome == WaitOutcome::failed || w.outcome == WaitOutcome::error))
                out += ": " + event_words(m, m.events[w.end]);
            out += "\n";
        }
    }
    return out + "\n";
}

int run_timeline(const TimelineOptions& o)
{
    uint64_t want_addr = 0;
    if (!o.lock.empty() && !parse_address(o.lock, &want_addr)) {
        fprintf(stderr, "locktrace: --lock: not an address: %s\n", o.lock.c_str());
        return kExitBadTrace;
    }
    AnalysisSteps want;
    want.findings = false;
    want.symbols = o.symbols;
    const Analysis a = analyse(o.trace, want);
    const Model& m = a.model;
    Symbolizer& sym = *a.symbols;
    const bool all_threads = o.tid == 0;
    const ThreadFilter thread_ok = [&](uint32_t th) { return all_threads || m.threads[th].tid == o.tid; };
    const OpenEnd open = open_end(m, *a.trace);

    json jlocks = json::array();
    std::string out;
    size_t shown = 0;
    if (!m.history_complete && !o.json)
        out += "note: the history is incomplete (events lost or cut); intervals before the gap are missing\n\n";
    for (const Lock& L : m.locks) {
        if (!o.lock.empty() && L.addr != want_addr) continue;
        bool involved = all_threads;
        for (const Hold& h : L.holds) involved |= thread_ok(h.thread);
        for (const Wait& w : L.waits) involved |= thread_ok(w.thread);
        if (!involved) continue;
        shown++;
        const std::vector<Segment> segs = ownership_segments(L);
        if (o.json) jlocks.push_back(lock_json(m, sym, L, segs, thread_ok, all_threads));
        else out += lock_text(m, sym, L, segs, thread_ok, all_threads, open);
    }
    if (o.json) {
        json j = {{"trace", a.trace->path()}, {"history_complete", m.history_complete}, {"locks", jlocks}};
        out = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else if (shown == 0) {
        out += "no lock matches";
        if (!o.lock.empty()) out += " --lock " + o.lock;
        if (o.tid) out += " --thread " + std::to_string(o.tid);
        out += "\n";
    }
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

} // namespace

CommandRun add_timeline_command(CLI::App& app)
{
    auto o = std::make_shared<TimelineOptions>();
    CLI::App* sub = app.add_subcommand("timeline", "Per lock: when each thread held it (readers as a set), waited, timed out");
    sub->add_option("trace", o->trace, "Trace file")->required();
    sub->add_option("--lock", o->lock, "Only the lock at this address (0x... hex or decimal)");
    sub->add_option("--thread", o->tid, "Only intervals of this thread id");
    sub->add_flag("--json", o->json, "JSON output: per lock, holds, ownership segments and waits");
    add_symbol_options(sub, o->symbols);
    return [o] { return run_timeline(*o); };
}

} // namespace lt
