// `locktrace report TRACE [--json]`: findings first, then blocked threads (on
// what, since when, who holds it and where they took it), then per-lock summaries.
// Exit status: 0 no error finding, 1 error findings, 2 the trace could not be read.
#include "analysis.h"
#include "commands.h"
#include "present/present.h"
#include "present/finding_words.h"
#include "core/probes_sidecar.h"

#include <algorithm>
#include <cinttypes>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <functional>
#include <ctime>
#include <memory>

namespace lt {

namespace {

using nlohmann::json;

struct ReportOptions {
    std::string trace;
    bool json = false;
    bool all_locks = false;
};

// Wakes/posts on the same object after `since` (what could have reached a waiter).
struct WakeCount {
    uint64_t events = 0;
    uint64_t woken = 0;
};
WakeCount wakes_since(const Model& m, const Lock& L, uint64_t since)
{
    WakeCount w;
    for (size_t k = L.events.size(); k-- > 0;) {
        const Event& e = m.events[L.events[k]];
        if (e.time_ns < since) break;
        if (e.type == LT_EV_WAKE || e.type == LT_EV_REQUEUE || (L.prim == LT_PRIM_SEM && e.type == LT_EV_RELEASE)) {
            w.events++;
            if (e.result > 0) w.woken += uint64_t(e.result);
        }
    }
    return w;
}

// What the lock word recorded at the blocking attempt says, for mutexes and rwlocks.
// The stack of a blocked thread: the one recorded where it sleeps (a futex
// sleep inside lock_slow or pthread_mutex_lock unwinds through the lock call
// into the caller, so it holds everything the lock's own stack does), else
// the lock call's.
uint32_t sleep_stack(const Model& m, const ThreadState& t)
{
    if (t.sleeps_in != kNoEvent && m.events[t.sleeps_in].stack_id != 0) return m.events[t.sleeps_in].stack_id;
    return m.events[t.blocked_on].stack_id;
}

std::string lock_word_note(const Event& e)
{
    char b[200];
    if (e.prim == LT_PRIM_MUTEX) {
        snprintf(b, sizeof b, "lock word when it blocked: __lock=%u, __owner=%u%s", unsigned(e.state[0]),
                 unsigned(e.state[1]), unsigned(e.state[1]) ? " (the tid glibc records as owner)" : "");
        return b;
    }
    if (e.prim == LT_PRIM_RWLOCK) {
        uint32_t r = uint32_t(e.state[0]);
        snprintf(b, sizeof b, "lock word when it blocked: %u reader(s), %s, __writers=%u, __cur_writer=%u", r >> 3,
                 (r & 2) ? "write-locked" : "not write-locked", unsigned(e.state[0] >> 32), unsigned(e.addr2));
        return b;
    }
    return "";
}

struct Holder {
    const Hold* hold;
};

std::vector<const Hold*> open_holders(const Lock& L)
{
    std::vector<const Hold*> out;
    for (size_t i : L.holders_at_end()) out.push_back(&L.holds[i]);
    return out;
}

std::string history_gap_note(const Model& m, const Trace& t)
{
    std::string s;
    uint64_t lost = t.total_lost(), cut = t.total_cut();
    if (lost) s += std::to_string(lost) + " events lost to ring overwrite";
    if (cut) s += std::string(s.empty() ? "" : ", ") + std::to_string(cut) + " cut by a truncated file";
    const lt_file_header& h = t.header();
    if (h.threads_dropped) s += std::string(s.empty() ? "" : ", ") + std::to_string(h.threads_dropped) + " threads not traced";
    if (h.threads_recycled)
        s += std::string(s.empty() ? "" : ", ") + std::to_string(h.threads_recycled) + " exited threads' events overwritten";
    (void)m;
    return s;
}

// The probe placement list: counts, every refusal with its reason, placed
// probes by name (libc futex sites, often hundreds, only counted).
void probes_text(const ProbesSidecar& ps, const std::function<void(const std::string&)>& line)
{
    line("PROBES: " + std::to_string(ps.placed) + " placed, " + std::to_string(ps.refused) + " refused (from " +
         ps.path + ")");
    std::string names;
    size_t named = 0, hidden = 0, sites = 0;
    for (const ProbeEntry& p : ps.probes) {
        if (!p.placed) continue;
        if (p.set == "libc-futex") {
            sites++;
            continue;
        }
        if (named == 30) {
            hidden++;
            continue;
        }
        names += (named++ ? ", " : "") + p.function;
    }
    if (hidden) names += ", and " + std::to_string(hidden) + " more";
    if (sites) names += std::string(named ? ", " : "") + std::to_string(sites) + " libc futex site(s)";
    if (!names.empty()) line("  placed: " + names);
    size_t shown = 0;
    for (const ProbeEntry& p : ps.probes) {
        if (p.placed) continue;
        if (shown++ == 100) {
            line("  ... " + std::to_string(ps.refused - 100) + " more refused (--json lists them all)");
            break;
        }
        line("  refused: " + p.function + " (" + p.set + ", " + hex_addr(p.address) +
             (p.module.empty() ? "" : " in " + p.module) + "): " + (p.reason.empty() ? "no reason given" : p.reason));
    }
    for (const std::string& n : ps.notes) line("  note: " + n);
    line("");
}

void print_text(const Model& m, Trace& trace, Symbolizer& sym, const std::vector<Finding>& findings,
                const ReportOptions& o, const ProbesSidecar& probes)
{
    const lt_file_header& h = trace.header();
    std::string out;
    auto line = [&](const std::string& s) { out += s + "\n"; };

    // --- what was traced
    std::string cmd;
    for (const std::string& a : trace.cmdline()) cmd += (cmd.empty() ? "" : " ") + a;
    if (cmd.empty()) cmd = trace.exe_path();
    line("locktrace report for " + trace.path());
    line("  program: " + cmd + " (pid " + std::to_string(h.pid) + ")");
    if (trace.process_ended())
        line("  process: exited normally with status " + std::to_string(h.exit_status) + " at " +
             rel_time(m, h.end_monotonic_ns));
    else if (trace.process_running())
        line("  process: still running (read live)");
    else if (trace.packed_at().known)
        line(trace.packed_at().running ? "  process: still running when it was packed"
                                       : "  process: did not exit normally (killed, or crashed) before it was packed");
    else if (trace.packed())
        line("  process: had not exited when it was packed (still running then, or killed before)");
    else
        line("  process: did not exit normally (killed, or crashed)");
    line("  recorded: " + std::to_string(trace.threads().size()) + " threads, " + std::to_string(m.events.size()) +
         " events over " + duration(m.end_ns - m.start_ns) + ", " + std::to_string(m.locks.size()) + " objects");
    std::string gaps = history_gap_note(m, trace);
    line("  history: " + (gaps.empty() ? std::string("complete (no event lost)")
                                       : "INCOMPLETE: " + gaps + "; owners from before the gap are unknown"));
    for (const ThreadInfo& ti : trace.threads()) {
        if (ti.last_record_torn)
            line("  note: thread " + std::to_string(ti.tid) +
                 " ended in a torn record (killed, or being written while read); its last event is unknown");
        else if (ti.torn)
            line("  note: thread " + std::to_string(ti.tid) + " has " + std::to_string(ti.torn) + " torn record(s)");
        if (ti.cut)
            line("  note: thread " + std::to_string(ti.tid) + ": " + std::to_string(ti.cut) +
                 " records cut by the truncated file");
    }
    if (trace.file_truncated())
        line("  note: the file is truncated (" + std::to_string(trace.file_size()) + " of " +
             std::to_string(h.file_end) + " bytes); decoded up to the last intact record");
    for (const std::string& n : sym.notes()) line("  note: " + n);
    line("");

    if (probes.present) probes_text(probes, line);

    // --- findings
    size_t nerr = 0, nwarn = 0;
    for (const Finding& f : findings) {
        if (f.severity == Finding::error) nerr++;
        if (f.severity == Finding::warning) nwarn++;
    }
    line("FINDINGS: " + std::to_string(nerr) + " error(s), " + std::to_string(nwarn) + " warning(s), " +
         std::to_string(findings.size() - nerr - nwarn) + " info");
    for (const Finding& f : findings) {
        std::string hd = std::string("[") + severity_name(f.severity) + "] " + f.kind;
        if (!f.locks.empty()) {
            hd += ": lock";
            hd += f.locks.size() > 1 ? "s" : "";
            for (uint64_t a : f.locks) hd += " " + hex_addr(a);
        }
        if (!f.threads.empty()) {
            hd += "; thread";
            hd += f.threads.size() > 1 ? "s" : "";
            for (int32_t t : f.threads) hd += " " + std::to_string(t);
        }
        line(hd);
        const FindingWords w = finding_words(m, sym, f);
        line("  " + w.summary);
        for (const EvidenceWords& ev : w.evidence) {
            line("    " + rel_time(m, ev.time_ns) + " " + thread_label_tid(m, ev.thread) + ": " + ev.event);
            out += format_stack(sym, ev.stack_id, "        ", 8);
        }
        line("");
    }
    if (findings.empty()) line("");

    // --- blocked threads
    size_t nblocked = 0;
    for (const ThreadState& t : m.threads) nblocked += t.status == ThreadStatus::blocked;
    line("BLOCKED THREADS: " + std::to_string(nblocked) + " of " + std::to_string(m.threads.size()));
    const OpenEnd open = open_end(m, trace);
    const bool alive = open.running;
    const uint64_t now = open.ns;
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked) continue;
        const Event& e = m.events[t.blocked_on];
        const Lock& L = m.locks[t.lock];
        if (alive)
            line(thread_label(m, t.thread) + " blocked since " + rel_time(m, t.since_ns) + " (for " +
                 duration(now - std::min(now, t.since_ns)) + open.word +
                 (trace.packed() ? "; the process was still running then)" : "; the process is still running)"));
        else if (t.since_ns >= m.end_ns)
            line(thread_label(m, t.thread) + " blocked since " + rel_time(m, t.since_ns) + " (the last recorded event)");
        else
            line(thread_label(m, t.thread) + " blocked since " + rel_time(m, t.since_ns) + " (" +
                 duration(m.end_ns - t.since_ns) + " before the last recorded event)");
        line("  on " + lock_label(m, sym, L.addr, L.prim) + ": " + describe_event(e));
        out += format_stack(sym, sleep_stack(m, t), "    ");
        if (L.has_owners()) {
            std::vector<const Hold*> hs = open_holders(L);
            if (hs.empty()) {
                line("  held by: nobody, per the recorded history" +
                     std::string(m.history_complete ? "" : " (but the history is incomplete: the holder may have taken it before the gap)"));
            }
            for (const Hold* hd : hs) {
                const Event& a = m.events[hd->acquired];
                line("  held by " + thread_label(m, hd->thread) +
                     (has_readers(L) ? " (" + std::string(mode_name(hd->mode)) + ")" : std::string()) + " since " +
                     rel_time(m, hd->begin_ns) + ", taken at:");
                out += format_stack(sym, a.stack_id, "    ");
            }
            std::string w = lock_word_note(e);
            if (!w.empty()) line("  " + w);
        } else if (L.prim == LT_PRIM_COND) {
            WakeCount wc = wakes_since(m, L, t.since_ns);
            line("  waits for a signal on the condition (mutex " + hex_addr(e.addr2) + "); " +
                 std::to_string(wc.events) + " signal/broadcast since the wait began");
        } else if (L.prim == LT_PRIM_FUTEX) {
            WakeCount wc = wakes_since(m, L, t.since_ns);
            line("  futex words have no recorded owner; " + std::to_string(wc.events) +
                 " wake call(s) on this word since the wait began, waking " + std::to_string(wc.woken));
        } else if (L.prim == LT_PRIM_SEM) {
            WakeCount wc = wakes_since(m, L, t.since_ns);
            line("  semaphore value was " + std::to_string(uint32_t(e.state[0])) + "; " +
                 std::to_string(wc.events) + " sem_post since the wait began");
        }
        if (t.sleeps_in != kNoEvent && t.sleeps_in != t.blocked_on)
            line("  sleeping in: " + describe_event(m.events[t.sleeps_in]) + " (" +
                 rel_time(m, m.events[t.sleeps_in].time_ns) + ")");
        if (t.ended_torn) line("  note: this thread's newest record is torn");
        line("");
    }
    if (nblocked == 0) line("");

    // --- per-lock summaries
    std::vector<const Lock*> locks;
    for (const Lock& L : m.locks) locks.push_back(&L);
    std::stable_sort(locks.begin(), locks.end(), [](const Lock* a, const Lock* b) {
        if (a->stats.total_wait_ns != b->stats.total_wait_ns) return a->stats.total_wait_ns > b->stats.total_wait_ns;
        return a->stats.acquisitions > b->stats.acquisitions;
    });
    size_t shown = o.all_locks ? locks.size() : std::min<size_t>(locks.size(), 20);
    line("LOCKS: " + std::to_string(locks.size()) + (shown < locks.size() ? " (the " + std::to_string(shown) +
                                                          " with most waiting; --all-locks for every one)" : ""));
    for (size_t i = 0; i < shown; i++) {
        const Lock& L = *locks[i];
        const LockStats& s = L.stats;
        std::string l = "  " + lock_label(m, sym, L.addr, L.prim) + ": ";
        if (L.has_owners() || L.prim == LT_PRIM_SEM) {
            l += std::to_string(s.acquisitions) + " acquisitions";
            if (s.read_acquisitions) l += " (" + std::to_string(s.read_acquisitions) + " read)";
            l += ", " + std::to_string(s.contended) + " contended";
        }
        size_t open_waits = 0;
        for (const Wait& w : L.waits) open_waits += w.outcome == WaitOutcome::still_waiting;
        if (L.waits.size() > open_waits)
            l += std::string(l.back() == ' ' ? "" : ", ") + std::to_string(L.waits.size() - open_waits) +
                 " blocking calls returned after " + duration(s.total_wait_ns) + " in total (longest " +
                 duration(s.longest_wait_ns) + ")";
        if (open_waits)
            l += std::string(l.back() == ' ' ? "" : ", ") + std::to_string(open_waits) + " still waiting";
        if (s.wakes) l += ", " + std::to_string(s.wakes) + " wakes";
        if (s.timeouts) l += ", " + std::to_string(s.timeouts) + " timeouts";
        if (s.failures) l += ", " + std::to_string(s.failures) + " failures";
        if (s.try_failures) l += ", " + std::to_string(s.try_failures) + " busy trylocks";
        line(l);
        if (s.longest_hold != SIZE_MAX) {
            // The model measures an open hold to the last recorded event.  While the
            // process runs it has lasted until now (or until packed), like a blocked
            // thread's wait, and may outlast every closed one; in a finished trace it
            // lasted at least that.
            const Hold* hd = &L.holds[s.longest_hold];
            uint64_t len_ns = s.longest_hold_ns;
            if (alive) {
                auto so_far = [&](const Hold* h) { return now - std::min(now, h->begin_ns); };
                if (hd->open()) len_ns = so_far(hd);
                for (const Hold* o : open_holders(L))
                    if (so_far(o) > len_ns) hd = o, len_ns = so_far(o);
            }
            std::string len = duration(len_ns);
            if (hd->open()) len += open.word + std::string(alive ? " (still held)" : " (still held when the trace ended)");
            std::vector<Frame> fr = sym.stack(m.events[hd->acquired].stack_id);
            line("      longest hold " + len + " by " + thread_label(m, hd->thread) + ", taken at " +
                 (fr.empty() ? std::string("?") : fr[0].to_string()));
        }
    }
    fwrite(out.data(), 1, out.size(), stdout);
}

void print_json(const Model& m, Trace& trace, Symbolizer& sym, const std::vector<Finding>& findings,
                const ProbesSidecar& probes)
{
    const lt_file_header& h = trace.header();
    json j;
    j["trace"] = trace.path();
    j["format_version"] = h.version;
    j["pid"] = h.pid;
    j["command"] = trace.cmdline();
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
    j["notes"] = sym.notes();
    if (probes.present) {
        json pa = json::array();
        for (const ProbeEntry& p : probes.probes)
            pa.push_back({{"id", p.id},
                          {"status", p.placed ? "placed" : "refused"},
                          {"set", p.set},
                          {"address", hex_addr(p.address)},
                          {"function", p.function},
                          {"module", p.module},
                          {"reason", p.reason.empty() ? json(nullptr) : json(p.reason)}});
        j["probes"] = pa;
        j["probes_notes"] = probes.notes;
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

    j["findings"] = findings_json(m, sym, findings);

    json bl = json::array();
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked) continue;
        const Event& e = m.events[t.blocked_on];
        const Lock& L = m.locks[t.lock];
        json holders = json::array();
        for (const Hold* hd : open_holders(L)) {
            holders.push_back({{"thread", m.threads[hd->thread].tid},
                               {"name", m.threads[hd->thread].name},
                               {"mode", mode_name(hd->mode)},
                               {"since_ns", m.rel(hd->begin_ns)},
                               {"stack", stack_json(sym, m.events[hd->acquired].stack_id)}});
        }
        std::string dn = sym.data_name(L.addr);
        json b = {{"thread", t.tid},
                  {"name", t.name},
                  {"primitive", prim_name(L.prim)},
                  {"address", hex_addr(L.addr)},
                  {"symbol", dn.empty() ? json(nullptr) : json(dn)},
                  {"since_ns", m.rel(t.since_ns)},
                  {"event", describe_event(e)},
                  {"stack", stack_json(sym, sleep_stack(m, t))},
                  {"holders", L.has_owners() ? holders : json(nullptr)},
                  {"last_record_torn", t.ended_torn}};
        if (L.prim == LT_PRIM_COND) b["mutex"] = hex_addr(e.addr2);
        if (t.sleeps_in != kNoEvent && t.sleeps_in != t.blocked_on)
            b["sleeps_in"] = {{"primitive", prim_name(m.events[t.sleeps_in].prim)},
                              {"address", hex_addr(m.events[t.sleeps_in].addr)},
                              {"event", describe_event(m.events[t.sleeps_in])}};
        if (L.prim == LT_PRIM_COND || L.prim == LT_PRIM_FUTEX || L.prim == LT_PRIM_SEM) {
            WakeCount wc = wakes_since(m, L, t.since_ns);
            b["wakes_since"] = wc.events;
        }
        bl.push_back(std::move(b));
    }
    j["blocked"] = bl;

    json ls = json::array();
    for (const Lock& L : m.locks) {
        const LockStats& s = L.stats;
        json holders = json::array();
        for (const Hold* hd : open_holders(L))
            holders.push_back({{"thread", m.threads[hd->thread].tid}, {"mode", mode_name(hd->mode)}});
        std::string dn = sym.data_name(L.addr);
        json l = {{"address", hex_addr(L.addr)},
                  {"primitive", prim_name(L.prim)},
                  {"symbol", dn.empty() ? json(nullptr) : json(dn)},
                  {"events", L.events.size()},
                  {"acquisitions", s.acquisitions},
                  {"read_acquisitions", s.read_acquisitions},
                  {"contended", s.contended},
                  {"waits", L.waits.size()},
                  {"still_waiting", std::count_if(L.waits.begin(), L.waits.end(), [](const Wait& w) {
                       return w.outcome == WaitOutcome::still_waiting;
                   })},
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
        if (s.longest_hold != SIZE_MAX) {
            const Hold& hd = L.holds[s.longest_hold];
            l["longest_hold"] = {{"ns", s.longest_hold_ns},
                                 {"thread", m.threads[hd.thread].tid},
                                 {"still_held", hd.open()},
                                 {"stack", stack_json(sym, m.events[hd.acquired].stack_id)}};
        }
        ls.push_back(std::move(l));
    }
    j["locks"] = ls;
    std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    s += "\n";
    fwrite(s.data(), 1, s.size(), stdout);
}

int run_report(const ReportOptions& o)
{
    Analysis a = analyse(o.trace);
    Trace& trace = *a.trace;
    const Model& m = a.model;
    Symbolizer& sym = *a.symbols;
    const std::vector<Finding>& findings = a.findings;
    // Only raw traces have the sidecar next to them; a bundle carries none.
    ProbesSidecar probes;
    if (!trace.embedded_symbols()) probes = read_probes_sidecar(trace.path());
    if (o.json) print_json(m, trace, sym, findings, probes);
    else print_text(m, trace, sym, findings, o, probes);
    fflush(stdout);
    for (const Finding& f : findings)
        if (f.severity == Finding::error) return 1;
    return 0;
}

} // namespace

CommandRun add_report_command(CLI::App& app)
{
    auto o = std::make_shared<ReportOptions>();
    CLI::App* sub = app.add_subcommand("report", "Explain a trace: findings, blocked threads and who holds what, per-lock summary");
    sub->add_option("trace", o->trace, "Trace file (of a running, exited or killed process)")->required();
    sub->add_flag("--json", o->json, "One JSON object instead of text (schema in locktrace(1))");
    sub->add_flag("--all-locks", o->all_locks, "List every lock in the text summary, not only the 20 most waited on");
    return [o] { return run_report(*o); };
}

} // namespace lt
