// `report --json`: the same report as the text, as one object (the schema in
// locktrace(1), JSON OUTPUT).
#include "live_words.h"
#include "report.h"

#include <algorithm>

namespace lt {

namespace {

using nlohmann::json;

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

void what_was_traced(const Report& r, json& j)
{
    const Trace& trace = *r.trace;
    const Model& m = *r.model;
    const lt_file_header& h = trace.header();
    j["trace"] = trace.path();
    j["format_version"] = h.version;
    j["pid"] = h.pid;
    j["command"] = trace.cmdline();
    json chain = json::array();
    for (const Trace::ExecImage& img : trace.exec_chain()) chain.push_back({{"exe", img.exe_path}, {"args", img.args}});
    j["exec_chain"] = chain;
    j["exec_chain_length"] = trace.exec_chain_length();
    j["process_exited"] = trace.process_ended();
    j["process_running"] = trace.process_running();
    j["running_when_packed"] = trace.packed_at().known ? json(trace.packed_at().running) : json(nullptr);
    j["exit_status"] = trace.process_ended() ? json(h.exit_status) : json(nullptr);
    j["duration_ns"] = m.end_ns - m.start_ns;
    j["events"] = m.events.size();
    j["lost_events"] = trace.total_lost();
    j["cut_events"] = trace.total_cut();
    j["file_truncated"] = trace.file_truncated();
    j["history_complete"] = m.history_complete;
    // What outlives the rings (format version 2), or null.
    if (m.whole_run)
        j["whole_run"] = {{"holders_exact", m.holders_exact},
                          {"totals_full_threads", m.totals_full_threads},
                          {"totals_not_counted", m.totals_not_counted},
                          {"rings_cover_from_ns", m.rel(std::max(m.rings_cover_from_ns, m.start_ns))},
                          {"order_pairs", trace.order_pairs().size()},
                          {"order_overflow", h.order_overflow},
                          {"inherited_locks", h.inherited_count}};
    else
        j["whole_run"] = nullptr;
    json jumps = json::array();
    for (const ClockJump& jmp : trace.clock().jumps())
        jumps.push_back({{"from_ns", m.rel(jmp.from_mono_ns)}, {"to_ns", m.rel(jmp.to_mono_ns)},
                         {"off_by_ns", jmp.off_by_ns}});
    j["clock"] = {{"source", trace.clock_tsc() ? "tsc" : "monotonic"},
                  {"anchors", trace.clock().anchors()},
                  {"anchors_torn", trace.clock_anchors_torn()},
                  {"jumps", jumps}};
    j["notes"] = r.symbols->notes();
    if (r.probes.present) {
        json pa = json::array();
        for (const ProbeEntry& p : r.probes.probes)
            pa.push_back({{"id", p.id},
                          {"status", p.placed ? "placed" : "refused"},
                          {"set", p.set},
                          {"address", hex_addr(p.address)},
                          {"function", p.function},
                          {"module", p.module},
                          {"reason", nullable(p.reason)}});
        j["probes"] = pa;
        j["probes_notes"] = r.probes.notes;
    } else {
        j["probes"] = nullptr;
    }
    json th = json::array();
    for (const ThreadInfo& ti : trace.threads()) {
        const ThreadState& t = m.threads[&ti - trace.threads().data()];
        th.push_back({{"thread", ti.tid},
                      {"name", ti.name},
                      {"status", t.status == ThreadStatus::blocked   ? "blocked"
                                 : t.status == ThreadStatus::exited ? "exited"
                                                                     : "running"},
                      {"events", ti.decoded},
                      {"lost", ti.lost},
                      {"torn", ti.torn},
                      {"last_record_torn", ti.last_record_torn},
                      {"cut", ti.cut}});
    }
    j["threads"] = th;
}

json blocked_thread(const Report& r, const BlockedThread& b)
{
    const Model& m = *r.model;
    Symbolizer& sym = *r.symbols;
    const ThreadState& t = *b.thread;
    const Lock& L = *b.lock;
    json holders = json::array();
    for (const Hold* hd : b.holders)
        holders.push_back({{"thread", m.threads[hd->thread].tid},
                           {"name", m.threads[hd->thread].name},
                           {"mode", mode_name(hd->mode)},
                           {"since_ns", m.rel(hd->begin_ns)},
                           {"stack", stack_json(sym, m.events[hd->acquired].stack_id)}});
    // A lock inherited locked from a thread of the parent (a fork child).
    if (L.has_owners() && b.holders.empty())
        for (const lt_inherited_lock& x : r.trace->inherited())
            if (x.addr == L.addr && x.prim == L.prim && !x.forker)
                holders.push_back({{"thread", x.tid},
                                   {"name", nullptr},
                                   {"mode", x.mode == LT_FL_READ ? "read" : "write"},
                                   {"inherited_from_parent", true},
                                   {"stack", stack_json(sym, x.stack_id)}});
    json j = {{"thread", t.tid},
              {"name", t.name},
              {"primitive", prim_name(L.prim)},
              {"address", hex_addr(L.addr)},
              {"symbol", nullable(sym.data_name(L.addr))},
              {"since_ns", m.rel(t.since_ns)},
              {"waited_ns", b.waited_ns},
              {"event", event_words(m, *b.attempt)},
              {"stack", stack_json(sym, b.stack_id)},
              {"holders", L.has_owners() ? holders : json(nullptr)},
              {"last_record_torn", t.ended_torn}};
    if (L.prim == LT_PRIM_COND) j["mutex"] = hex_addr(b.attempt->addr2);
    if (b.sleeps_in)
        j["sleeps_in"] = {{"primitive", prim_name(b.sleeps_in->prim)},
                          {"address", hex_addr(b.sleeps_in->addr)},
                          {"event", event_words(m, *b.sleeps_in)}};
    if (L.prim == LT_PRIM_COND || L.prim == LT_PRIM_FUTEX || L.prim == LT_PRIM_SEM) j["wakes_since"] = b.wakes.events;
    j["word_now"] = live_word_json(m, L);
    return j;
}

json lock_summary(const Report& r, const LockSummary& ls)
{
    const Model& m = *r.model;
    const Lock& L = *ls.lock;
    const LockStats& s = L.stats;
    json holders = json::array();
    for (const Hold* hd : ls.holders) holders.push_back({{"thread", m.threads[hd->thread].tid}, {"mode", mode_name(hd->mode)}});
    json l = {{"address", hex_addr(L.addr)},
              {"primitive", prim_name(L.prim)},
              {"symbol", nullable(r.symbols->data_name(L.addr))},
              {"events", L.events.size()},
              {"acquisitions", s.acquisitions},
              {"read_acquisitions", s.read_acquisitions},
              {"contended", s.contended},
              {"waits", L.waits.size()},
              {"still_waiting", ls.open_waits},
              {"total_wait_ns", s.total_wait_ns},
              {"longest_wait_ns", s.longest_wait_ns},
              {"timeouts", s.timeouts},
              {"failures", s.failures},
              {"try_failures", s.try_failures},
              {"releases", s.releases},
              {"unmatched_releases", s.unmatched_releases},
              {"wakes", s.wakes},
              {"woken", s.woken},
              {"holders_at_end", L.has_owners() ? holders : json(nullptr)}};
    const RunTotals& t = L.run;
    l["counts_cover"] = !(t.known && L.has_owners()) ? "recorded events" : t.exact() ? "whole run" : "whole run, at least";
    if (t.known && L.has_owners() && !t.exact()) l["threads_not_counted"] = t.threads_not_counted;
    if (t.known && L.has_owners()) {
        // The whole run's numbers; the recorded events' own under "recorded".
        l["recorded"] = {{"acquisitions", s.acquisitions},         {"read_acquisitions", s.read_acquisitions},
                         {"contended", s.contended},               {"total_wait_ns", s.total_wait_ns},
                         {"longest_wait_ns", s.longest_wait_ns},   {"timeouts", s.timeouts},
                         {"failures", s.failures},                 {"try_failures", s.try_failures},
                         {"unmatched_releases", s.unmatched_releases}};
        l["acquisitions"] = t.acquisitions();
        l["read_acquisitions"] = t.acquired_read;
        l["contended"] = t.contended;
        l["blocking_calls"] = t.blocking_calls;
        l["total_wait_ns"] = t.wait_ns_total;
        l["longest_wait_ns"] = t.wait_ns_longest;
        l["timeouts"] = t.timeouts;
        l["failures"] = t.failures;
        l["try_failures"] = t.try_failures;
        l["unmatched_releases"] = t.unmatched_releases;
        if (t.wait_ns_longest)
            l["longest_wait"] = {{"ns", t.wait_ns_longest},
                                 {"thread", t.wait_longest_tid},
                                 {"ended_ns", m.rel(t.wait_longest_at_ns)},
                                 {"stack", stack_json(*r.symbols, t.wait_longest_stack)}};
        if (t.hold_ns_longest && (!ls.longest || !ls.longest->open() || ls.longest_ns <= t.hold_ns_longest)) {
            l["longest_hold"] = {{"ns", t.hold_ns_longest},
                                 {"thread", t.hold_longest_tid},
                                 {"still_held", false},
                                 {"released_ns", m.rel(t.hold_longest_at_ns)},
                                 {"stack", stack_json(*r.symbols, t.hold_longest_stack)}};
            return l;
        }
    }
    if (ls.longest)
        l["longest_hold"] = {{"ns", ls.longest_ns},
                             {"thread", m.threads[ls.longest->thread].tid},
                             {"still_held", ls.longest->open()},
                             {"stack", stack_json(*r.symbols, m.events[ls.longest->acquired].stack_id)}};
    return l;
}

} // namespace

std::string report_json(const Report& r)
{
    json j;
    what_was_traced(r, j);
    j["verdict"] = {{"state", r.verdict.state}, {"sure", r.verdict.sure}, {"why", r.verdict.why}};
    j["findings"] = findings_json(*r.model, *r.symbols, *r.findings, r.words);
    json bl = json::array();
    for (const BlockedThread& b : r.blocked) bl.push_back(blocked_thread(r, b));
    j["blocked"] = bl;
    j["live"] = r.model->live ? live_view_json(*r.model, *r.symbols, *r.model->live) : nlohmann::json(nullptr);
    json ls = json::array();
    for (const LockSummary& l : r.locks) ls.push_back(lock_summary(r, l));
    j["locks"] = ls;
    std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    s += "\n";
    return s;
}

} // namespace lt
