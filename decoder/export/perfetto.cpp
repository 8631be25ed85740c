#include "perfetto.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

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
    // Slices are the bulk (one per hold and wait): formatted by hand, with
    // each lock's name escaped once.
    std::vector<std::string> hold_names, wait_names, lock_args;
    for (const LockInfo& L : d.locks) {
        hold_names.push_back(json("hold " + L.label).dump(-1, ' ', false, json::error_handler_t::replace));
        wait_names.push_back(json("wait " + L.label).dump(-1, ' ', false, json::error_handler_t::replace));
        lock_args.push_back(json(L.label).dump(-1, ' ', false, json::error_handler_t::replace));
    }
    std::string line;
    char num[160];
    for (const Slice& s : d.slices) {
        line.assign(first ? "" : ",\n");
        first = false;
        line += "{\"ph\":\"X\",\"name\":";
        line += s.wait ? wait_names[s.lock] : hold_names[s.lock];
        snprintf(num, sizeof num, ",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"cname\":\"%s\",",
                 s.wait ? "wait" : "hold", d.pid, d.threads[s.thread].tid, double(s.begin) / 1000.0,
                 double(s.end - s.begin) / 1000.0, s.wait ? (s.open ? "terrible" : "bad") : "good");
        line += num;
        line += "\"args\":{\"lock\":";
        line += lock_args[s.lock];
        if (s.mode != kModeNone) { line += ",\"mode\":\""; line += mode_word(s.mode); line += '"'; }
        if (s.wait) { line += ",\"outcome\":\""; line += outcome_name(s.outcome); line += '"'; }
        if (s.open)
            line += s.wait ? ",\"open\":\"still waiting when the trace ended\"" : ",\"open\":\"still held when the trace ended\"";
        line += "}}";
        out << line;
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
