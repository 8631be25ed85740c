#include "perfetto.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace lt::exporter {

namespace {

using nlohmann::json;

// Trace-event timestamps are microseconds; keep the nanoseconds as decimals.
json us(uint64_t ns) { return double(ns) / 1000.0; }

const char* mode_word(Mode m) { return m == kModeRead ? "read" : m == kModeWrite ? "write" : ""; }

} // namespace

void write_perfetto(const TimelineData& d, std::ostream& out)
{
    // One event per line: big traces stay streamable and diffable.
    out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    bool first = true;
    auto emit = [&](const json& j) {
        if (!first) out << ",\n";
        first = false;
        out << j.dump(-1, ' ', false, json::error_handler_t::replace);
    };
    emit({{"ph", "M"}, {"name", "process_name"}, {"pid", d.pid}, {"args", {{"name", d.program}}}});
    for (const ThreadState& t : d.threads) {
        std::string name = t.name.empty() ? "thread " + std::to_string(t.tid) : t.name + " (" + std::to_string(t.tid) + ")";
        if (t.status == ThreadStatus::blocked) name += " [blocked]";
        emit({{"ph", "M"}, {"name", "thread_name"}, {"pid", d.pid}, {"tid", t.tid}, {"args", {{"name", name}}}});
        emit({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", d.pid}, {"tid", t.tid}, {"args", {{"sort_index", t.thread}}}});
    }
    for (const Slice& s : d.slices) {
        const LockInfo& L = d.locks[s.lock];
        std::string name = s.wait ? "wait " + L.label : "hold " + L.label;
        json args = {{"lock", L.label}};
        if (s.mode != kModeNone) args["mode"] = mode_word(s.mode);
        if (s.wait) args["outcome"] = outcome_name(s.outcome);
        if (s.open) args["open"] = s.wait ? "still waiting when the trace ended" : "still held when the trace ended";
        emit({{"ph", "X"},
              {"name", name},
              {"cat", s.wait ? "wait" : "hold"},
              {"pid", d.pid},
              {"tid", d.threads[s.thread].tid},
              {"ts", us(s.begin)},
              {"dur", us(s.end - s.begin)},
              {"cname", s.wait ? (s.open ? "terrible" : "bad") : "good"},
              {"args", args}});
    }
    uint64_t id = 1;
    for (const Flow& f : d.flows) {
        // The wake itself as a tiny slice, so the arrow has a slice to start
        // from; the arrow ends inside the wait it ended ("e": enclosing slice).
        int32_t from = d.threads[f.from_thread].tid, to = d.threads[f.to_thread].tid;
        emit({{"ph", "X"}, {"name", "wake"}, {"cat", "wake"}, {"pid", d.pid}, {"tid", from},
              {"ts", us(f.from_time)}, {"dur", 0.001}, {"args", {{"lock", d.locks[f.lock].label}}}});
        emit({{"ph", "s"}, {"name", "wakes"}, {"cat", "wake"}, {"id", id}, {"pid", d.pid}, {"tid", from},
              {"ts", us(f.from_time)}});
        uint64_t end = f.to_time > 0 ? f.to_time - 1 : 0;
        emit({{"ph", "f"}, {"bp", "e"}, {"name", "wakes"}, {"cat", "wake"}, {"id", id}, {"pid", d.pid}, {"tid", to},
              {"ts", us(std::max(end, f.from_time))}});
        id++;
    }
    for (const FindingInfo& f : d.findings) {
        // At the newest evidence: the moment the finding was proven.
        uint64_t at = 0;
        for (const EvidenceMark& e : f.evidence) at = std::max(at, e.time);
        if (f.evidence.empty()) at = d.duration;
        emit({{"ph", "i"}, {"s", "g"}, {"name", f.severity + ": " + f.kind}, {"cat", "finding"}, {"pid", d.pid},
              {"tid", 0}, {"ts", us(at)}, {"args", {{"summary", f.summary}, {"locks", f.lock_addrs}, {"threads", f.threads}}}});
        for (const EvidenceMark& e : f.evidence)
            emit({{"ph", "i"}, {"s", "t"}, {"name", "evidence: " + f.kind}, {"cat", "evidence"}, {"pid", d.pid},
                  {"tid", e.tid}, {"ts", us(e.time)}, {"args", {{"event", e.event}, {"where", e.where}}}});
    }
    for (const MarkInfo& mk : d.marks)
        emit({{"ph", "i"}, {"s", "g"}, {"name", "mark: " + mk.kind}, {"cat", "mark"}, {"pid", d.pid}, {"tid", 0},
              {"ts", us(mk.time)}});
    out << "\n]}\n";
}

} // namespace lt::exporter
