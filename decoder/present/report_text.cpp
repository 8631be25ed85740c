// `report`'s text: what was traced, the probes, the findings, the blocked
// threads (on what, since when, who holds it and where they took it), then
// per-lock summaries.
#include "live_words.h"
#include "report.h"
#include "user_site.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace lt {

namespace {

using Line = std::function<void(const std::string&)>;

std::string history_gap_note(const Trace& t)
{
    std::string s;
    uint64_t lost = t.total_lost(), cut = t.total_cut();
    if (lost) s += std::to_string(lost) + " events lost to ring overwrite";
    if (cut) s += std::string(s.empty() ? "" : ", ") + std::to_string(cut) + " cut by a truncated file";
    const lt_file_header& h = t.header();
    if (h.threads_dropped) s += std::string(s.empty() ? "" : ", ") + std::to_string(h.threads_dropped) + " threads not traced";
    if (h.threads_recycled)
        s += std::string(s.empty() ? "" : ", ") + std::to_string(h.threads_recycled) + " exited threads' events overwritten";
    return s;
}

std::string process_line(const Model& m, const Trace& trace)
{
    if (trace.process_ended())
        return "  process: exited normally with status " + std::to_string(trace.header().exit_status) + " at " +
               rel_time(m, trace.header().end_monotonic_ns);
    if (trace.process_running()) return "  process: still running (read live)";
    if (trace.packed_at().known)
        return trace.packed_at().running ? "  process: still running when it was packed"
                                         : "  process: did not exit normally (killed, or crashed) before it was packed";
    if (trace.packed()) return "  process: had not exited when it was packed (still running then, or killed before)";
    return "  process: did not exit normally (killed, or crashed)";
}

// "setsid taskset 1 ./prog (/usr/bin/setsid) -> taskset 1 ./prog
// (/usr/bin/taskset) -> exec": the programs that exec'd this one, oldest first.
std::string exec_chain_text(const Trace& trace)
{
    std::vector<Trace::ExecImage> chain = trace.exec_chain();
    std::string s;
    if (trace.exec_chain_length() > chain.size())
        s = std::to_string(trace.exec_chain_length() - chain.size()) + " earlier program(s) -> ";
    for (const Trace::ExecImage& img : chain)
        s += (img.args.empty() ? std::string("(command line left out)") : img.args) + " (" + img.exe_path + ") -> ";
    return s + "exec";
}

void what_was_traced(const Report& r, const Line& line)
{
    const Trace& trace = *r.trace;
    const Model& m = *r.model;
    const lt_file_header& h = trace.header();
    std::string cmd;
    for (const std::string& a : trace.cmdline()) cmd += (cmd.empty() ? "" : " ") + a;
    if (cmd.empty()) cmd = trace.exe_path();
    line("locktrace report for " + trace.path());
    line("  program: " + cmd + " (pid " + std::to_string(h.pid) + ")");
    if (trace.exec_chain_length()) line("  started by: " + exec_chain_text(trace));
    line(process_line(m, trace));
    if (r.verdict.state != "exited")
        line("  verdict: " + r.verdict.state + (r.verdict.state == "hung" ? " (" + r.verdict.sure + ")" : "") + ": " +
             r.verdict.why);
    line("  recorded: " + std::to_string(trace.threads().size()) + " threads, " + std::to_string(m.events.size()) +
         " events over " + duration(m.end_ns - m.start_ns) + ", " + std::to_string(m.locks.size()) + " objects");
    std::string gaps = history_gap_note(trace);
    if (m.whole_run) {
        // The rings hold the newest events; the held sets, lock order and
        // totals are kept for the whole run whatever the rings lost.
        const uint64_t from = std::max(m.rings_cover_from_ns, m.start_ns);
        std::string cover = gaps.empty() ? "every event of the " + duration(m.end_ns - m.start_ns) + " run"
                                         : "events of the last " + duration(m.end_ns - from) + " of a " +
                                               duration(m.end_ns - m.start_ns) + " run (" + gaps + ")";
        // What did not fit in its table is named here, and the notes below say how much.
        std::vector<std::string> partial;
        if (!m.holders_exact) partial.push_back("some held sets are incomplete");
        std::string unfit;
        if (h.order_overflow) unfit = "part of the lock order";
        if (m.totals_full_threads) unfit += (unfit.empty() ? "" : " and ") + std::string("some threads' totals");
        if (!unfit.empty()) partial.push_back(unfit + " did not fit");
        line("  history: " + cover + "; held locks, lock order and totals cover the whole run" +
             (partial.empty() ? "" : " (" + partial[0] + (partial.size() > 1 ? "; " + partial[1] : "") +
                                         ": see the notes)"));
        std::string full_tids;  // the first 8 threads with a full totals table
        uint32_t full_listed = 0;
        for (size_t i = 0; i < trace.books().size() && i < trace.threads().size(); i++) {
            const ThreadBook& b = trace.books()[i];
            const int32_t tid = trace.threads()[i].tid;
            if (b.held_overflow)
                line("  note: thread " + std::to_string(tid) + " held more than " + std::to_string(LT_HELD_MAX) +
                     " locks at once; " + std::to_string(b.held_overflow) + " acquisition(s) are not in its held set");
            if (b.held_torn)
                line("  note: thread " + std::to_string(tid) + ": " + std::to_string(b.held_torn) +
                     " held-set entr(ies) torn (killed, or being written while read)");
            if (b.present && b.totals_overflow && ++full_listed <= 8)
                full_tids += (full_listed > 1 ? ", " : "") + std::to_string(tid);
        }
        const uint32_t full = m.totals_full_threads;
        if (full)
            line("  note: " + std::to_string(m.totals_not_counted) + " lock call(s) by " + std::to_string(full) +
                 (full == 1 ? " thread (" : " threads (") + full_tids + (full > 8 ? ", ..." : "") +
                 ") on locks beyond " + (full == 1 ? "its" : "their") + " totals table" +
                 (full == 1 ? "" : "s") + " (" + std::to_string(trace.totals_capacity()) +
                 " locks a thread; LOCKTRACE_TOTALS_LOCKS sets it) are not counted in LOCKS; a lock they called "
                 "counts at least what is shown");
        if (h.order_overflow)
            line("  note: the lock-order table was full: " + std::to_string(h.order_overflow) +
                 " order pair(s) not kept (inversions among them are found only in the recorded events; "
                 "LOCKTRACE_ORDER_PAIRS sets its size, 16384 pairs by default)");
        if (trace.order_torn())
            line("  note: " + std::to_string(trace.order_torn()) + " lock-order entr(ies) torn");
        if (h.lives_overflow)
            line("  note: " + std::to_string(h.lives_overflow) +
                 " destroyed lock(s) not told apart from what was at their address later");
        if (h.inherited_count || h.inherited_overflow)
            line("  inherited: " + std::to_string(h.inherited_count + h.inherited_overflow) +
                 " lock(s) held by the parent's threads at the fork" +
                 (h.inherited_overflow ? " (" + std::to_string(h.inherited_overflow) + " not listed)" : ""));
    } else {
        line("  history: " + (gaps.empty() ? std::string("complete (no event lost)")
                                           : "INCOMPLETE: " + gaps + "; owners from before the gap are unknown"));
    }
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
    for (const ClockJump& jmp : trace.clock().jumps())
        line("  note: clock: between " + duration(m.rel(jmp.from_mono_ns)) + " and " + duration(m.rel(jmp.to_mono_ns)) +
             " into the run the CPU's time-stamp counter and CLOCK_MONOTONIC disagree by " +
             duration(uint64_t(jmp.off_by_ns < 0 ? -jmp.off_by_ns : jmp.off_by_ns)) +
             " (the TSC jumped: a VM migration, or a host that changed it); times in that span may be off by as much");
    if (trace.handed_over())
        line("  note: this program exec'd another one before taking any lock and left this file to it, which did "
             "not take it over (the next program ran untraced)");
    for (const std::string& n : r.symbols->notes()) line("  note: " + n);
    line("");
}

// The probe placement list: counts, every refusal with its reason, placed
// probes by name (libc futex sites, often hundreds, only counted).
void probes(const ProbesSidecar& ps, const Line& line)
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

void findings(const Report& r, const Line& line, std::string& out)
{
    const Model& m = *r.model;
    const std::vector<Finding>& fs = *r.findings;
    line("FINDINGS: " + std::to_string(r.errors) + " error(s), " + std::to_string(r.warnings) + " warning(s), " +
         std::to_string(fs.size() - r.errors - r.warnings) + " info");
    for (size_t i = 0; i < fs.size(); i++) {
        const Finding& f = fs[i];
        std::string hd = std::string("[") + severity_name(f.severity) + "] " + f.kind;
        if (!f.locks.empty()) {
            hd += f.locks.size() > 1 ? ": locks" : ": lock";
            for (uint64_t a : f.locks) hd += " " + hex_addr(a);
        }
        if (!f.threads.empty()) {
            hd += f.threads.size() > 1 ? "; threads" : "; thread";
            for (int32_t t : f.threads) hd += " " + std::to_string(t);
        }
        line(hd);
        line("  " + r.words[i].summary);
        for (const EvidenceWords& ev : r.words[i].evidence) {
            line("    " + rel_time(m, ev.time_ns) + " " + thread_label_tid(m, ev.thread) + ": " + ev.event);
            out += format_stack(*r.symbols, ev.stack_id, "        ", 8);
        }
        line("");
    }
    if (fs.empty()) line("");
}

// What the lock word recorded at the blocking attempt says, for mutexes and rwlocks.
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

void blocked_thread(const Report& r, const BlockedThread& b, const Line& line, std::string& out)
{
    const Model& m = *r.model;
    Symbolizer& sym = *r.symbols;
    const ThreadState& t = *b.thread;
    const Lock& L = *b.lock;
    const Event& e = *b.attempt;
    const std::string since = thread_label(m, t.thread) + " blocked since " + rel_time(m, t.since_ns);
    if (r.open.running)
        line(since + " (for " + duration(b.waited_ns) + r.open.word +
             (r.trace->packed() ? "; the process was still running then)" : "; the process is still running)"));
    else if (b.waited_ns == 0)
        line(since + " (the last recorded event)");
    else
        line(since + " (" + duration(b.waited_ns) + " before the last recorded event)");
    if (L.is_thread()) line("  in a " + event_words(m, e));  // the joined thread by tid and name
    else line("  on " + lock_label(m, sym, L.addr, L.prim) + ": " + event_words(m, e));
    out += format_stack(sym, b.stack_id, "    ");
    if (L.has_owners()) {
        const lt_inherited_lock* inh = nullptr;
        for (const lt_inherited_lock& x : r.trace->inherited())
            if (x.addr == L.addr && x.prim == L.prim && !x.forker) inh = &x;
        if (b.holders.empty() && inh) {
            const std::string site = user_site(sym, inh->stack_id);
            line("  held by thread " + std::to_string(inh->tid) + " of the parent process" +
                 (inh->mode == LT_FL_READ ? " (read)" : "") +
                 ", inherited locked at the fork (nobody in this process can release it), taken at" +
                 (site.empty() ? "" : " " + site) + ":");
            out += format_stack(sym, inh->stack_id, "    ");
        } else if (b.holders.empty())
            line(m.holders_exact ? std::string("  held by: nobody, per the threads' held sets")
                                 : "  held by: nobody, per the recorded history" +
                                       std::string(m.history_complete ? "" : " (but the history is incomplete: the holder may have taken it before the gap)"));
        for (const Hold* hd : b.holders) {
            const std::string site = user_site(sym, m.events[hd->acquired].stack_id);
            line("  held by " + thread_label(m, hd->thread) +
                 (has_readers(L) ? " (" + std::string(mode_name(hd->mode)) + ")" : std::string()) + " since " +
                 rel_time(m, hd->begin_ns) + ", taken at" + (site.empty() ? "" : " " + site) + ":");
            out += format_stack(sym, m.events[hd->acquired].stack_id, "    ");
        }
        std::string w = lock_word_note(e);
        if (!w.empty()) line("  " + w);
        w = live_word_line(m, L, e);
        if (!w.empty()) line("  " + w);
    } else if (L.prim == LT_PRIM_COND) {
        line("  waits for a signal on the condition (mutex " + hex_addr(e.addr2) + "); " +
             std::to_string(b.wakes.events) + " signal/broadcast since the wait began");
    } else if (L.prim == LT_PRIM_FUTEX) {
        line("  futex words have no recorded owner; " + std::to_string(b.wakes.events) +
             " wake call(s) on this word since the wait began, waking " + std::to_string(b.wakes.woken));
    } else if (L.prim == LT_PRIM_SEM) {
        line("  semaphore value was " + std::to_string(uint32_t(e.state[0])) + "; " +
             std::to_string(b.wakes.events) + " sem_post since the wait began");
    }
    if (!L.has_owners()) {
        std::string w = live_word_line(m, L, e);
        if (!w.empty()) line("  " + w);
    }
    if (b.sleeps_in) line("  sleeping in: " + event_words(m, *b.sleeps_in) + " (" + rel_time(m, b.sleeps_in->time_ns) + ")");
    if (t.ended_torn) line("  note: this thread's newest record is torn");
    line("");
}

// A lock's totals for the whole run (format version 2).
std::string run_line(const Report& r, const LockSummary& ls)
{
    const Lock& L = *ls.lock;
    const RunTotals& t = L.run;
    std::string l = "  " + lock_label(*r.model, *r.symbols, L.addr, L.prim) + ": " +
                    std::to_string(t.acquisitions()) + " acquisitions";
    if (t.acquired_read) l += " (" + std::to_string(t.acquired_read) + " read)";
    l += ", " + std::to_string(t.contended) + " contended";
    if (t.contended)
        l += " (waited " + duration(t.wait_ns_total) + " in total, longest " + duration(t.wait_ns_longest) + ")";
    if (ls.open_waits) l += ", " + std::to_string(ls.open_waits) + " still waiting";
    if (t.timeouts) l += ", " + std::to_string(t.timeouts) + " timeouts";
    if (t.failures) l += ", " + std::to_string(t.failures) + " failures";
    if (t.try_failures) l += ", " + std::to_string(t.try_failures) + " busy trylocks";
    if (t.unmatched_releases) l += ", " + std::to_string(t.unmatched_releases) + " unlocks by a non-holder";
    if (!t.exact())
        return l + " (whole run, at least: " + std::to_string(t.threads_not_counted) +
               (t.threads_not_counted == 1 ? " thread" : " threads") + " could not count it, see the notes)";
    return l + " (whole run)";
}

std::string lock_line(const Report& r, const LockSummary& ls)
{
    const Lock& L = *ls.lock;
    const LockStats& s = L.stats;
    if (L.run.known && L.has_owners()) return run_line(r, ls);
    std::string l = "  " + lock_label(*r.model, *r.symbols, L.addr, L.prim) + ": ";
    if (L.has_owners() || L.prim == LT_PRIM_SEM) {
        l += std::to_string(s.acquisitions) + " acquisitions";
        if (s.read_acquisitions) l += " (" + std::to_string(s.read_acquisitions) + " read)";
        l += ", " + std::to_string(s.contended) + " contended";
    }
    if (L.waits.size() > ls.open_waits)
        l += std::string(l.back() == ' ' ? "" : ", ") + std::to_string(L.waits.size() - ls.open_waits) +
             " blocking calls returned after " + duration(s.total_wait_ns) + " in total (longest " +
             duration(s.longest_wait_ns) + ")";
    if (ls.open_waits) l += std::string(l.back() == ' ' ? "" : ", ") + std::to_string(ls.open_waits) + " still waiting";
    if (s.wakes) l += ", " + std::to_string(s.wakes) + " wakes";
    if (s.timeouts) l += ", " + std::to_string(s.timeouts) + " timeouts";
    if (s.failures) l += ", " + std::to_string(s.failures) + " failures";
    if (s.try_failures) l += ", " + std::to_string(s.try_failures) + " busy trylocks";
    // Counts of a lock the threads kept no totals for: the rings' window only.
    if (r.model->whole_run) l += " (recorded events only)";
    return l;
}

// Sort key: time waited, then acquisitions (whole run when known).
uint64_t waited_of(const Lock& L) { return L.run.known ? L.run.wait_ns_total : L.stats.total_wait_ns; }
uint64_t taken_of(const Lock& L) { return L.run.known ? L.run.acquisitions() : L.stats.acquisitions; }

void locks(const Report& r, bool all, const Line& line)
{
    std::vector<const LockSummary*> order;
    for (const LockSummary& ls : r.locks) order.push_back(&ls);
    std::stable_sort(order.begin(), order.end(), [](const LockSummary* a, const LockSummary* b) {
        if (waited_of(*a->lock) != waited_of(*b->lock)) return waited_of(*a->lock) > waited_of(*b->lock);
        return taken_of(*a->lock) > taken_of(*b->lock);
    });
    size_t shown = all ? order.size() : std::min<size_t>(order.size(), 20);
    line("LOCKS: " + std::to_string(order.size()) + (shown < order.size() ? " (the " + std::to_string(shown) +
                                                          " with most waiting; --all-locks for every one)" : ""));
    for (size_t i = 0; i < shown; i++) {
        const LockSummary& ls = *order[i];
        line(lock_line(r, ls));
        const RunTotals& t = ls.lock->run;
        if (t.known && t.wait_ns_longest) {
            const ThreadState* th = r.model->thread_by_tid(t.wait_longest_tid);
            std::string site = user_site(*r.symbols, t.wait_longest_stack);
            line("      longest wait " + duration(t.wait_ns_longest) + " by " +
                 (th ? thread_label(*r.model, th->thread) : "thread " + std::to_string(t.wait_longest_tid)) +
                 ", ended at " + rel_time(*r.model, t.wait_longest_at_ns) + ", called at " +
                 (site.empty() ? std::string("?") : site));
        }
        // A hold that ended, over the whole run, unless one still open is longer.
        if (t.known && t.hold_ns_longest && (!ls.longest || !ls.longest->open() || ls.longest_ns <= t.hold_ns_longest)) {
            const ThreadState* th = r.model->thread_by_tid(t.hold_longest_tid);
            std::string site = user_site(*r.symbols, t.hold_longest_stack);
            line("      longest hold " + duration(t.hold_ns_longest) + " by " +
                 (th ? thread_label(*r.model, th->thread) : "thread " + std::to_string(t.hold_longest_tid)) +
                 ", released at " + rel_time(*r.model, t.hold_longest_at_ns) + ", taken at " +
                 (site.empty() ? std::string("?") : site));
            continue;
        }
        if (!ls.longest) continue;
        std::string len = duration(ls.longest_ns);
        if (ls.longest->open())
            len += r.open.word + std::string(r.open.running ? " (still held)" : " (still held when the trace ended)");
        std::vector<Frame> fr = r.symbols->stack(r.model->events[ls.longest->acquired].stack_id);
        const Frame* site = user_frame(fr, r.symbols->skip_frames());
        if (!site && !fr.empty()) site = &fr[0];
        line("      longest hold " + len + " by " + thread_label(*r.model, ls.longest->thread) + ", taken at " +
             (site ? site->to_string() : std::string("?")));
    }
}

} // namespace

std::string report_text(const Report& r, bool all_locks)
{
    std::string out;
    const Line line = [&](const std::string& s) { out += s + "\n"; };
    what_was_traced(r, line);
    if (r.probes.present) probes(r.probes, line);
    findings(r, line, out);
    line("BLOCKED THREADS: " + std::to_string(r.blocked.size()) + " of " + std::to_string(r.model->threads.size()));
    for (const BlockedThread& b : r.blocked) blocked_thread(r, b, line, out);
    if (r.blocked.empty()) line("");
    if (r.model->live) out += live_view_section(*r.model, *r.symbols, *r.model->live);
    locks(r, all_locks, line);
    return out;
}

} // namespace lt
