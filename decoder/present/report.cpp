#include "report.h"

#include <algorithm>

namespace lt {

namespace {

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

std::vector<const Hold*> open_holders(const Lock& L)
{
    std::vector<const Hold*> out;
    for (size_t i : L.holders_at_end()) out.push_back(&L.holds[i]);
    return out;
}

// How long from `begin` to the open end.
uint64_t lasted(const OpenEnd& open, uint64_t begin) { return open.ns - std::min(open.ns, begin); }

BlockedThread blocked_thread(const Model& m, const ThreadState& t, const OpenEnd& open)
{
    BlockedThread b;
    b.thread = &t;
    b.lock = &m.locks[t.lock];
    b.attempt = &m.events[t.blocked_on];
    if (t.sleeps_in != kNoEvent && t.sleeps_in != t.blocked_on) b.sleeps_in = &m.events[t.sleeps_in];
    // A futex sleep inside lock_slow or pthread_mutex_lock unwinds through the
    // lock call into the caller, so its stack holds everything the lock's own does.
    b.stack_id = t.sleeps_in != kNoEvent && m.events[t.sleeps_in].stack_id != 0 ? m.events[t.sleeps_in].stack_id
                                                                                 : b.attempt->stack_id;
    b.waited_ns = lasted(open, t.since_ns);
    if (b.lock->has_owners()) b.holders = open_holders(*b.lock);
    else b.wakes = wakes_since(m, *b.lock, t.since_ns);
    return b;
}

LockSummary lock_summary(const Lock& L, const OpenEnd& open)
{
    LockSummary s;
    s.lock = &L;
    for (const Wait& w : L.waits) s.open_waits += w.outcome == WaitOutcome::still_waiting;
    s.holders = open_holders(L);
    if (L.stats.longest_hold == SIZE_MAX) return s;
    s.longest = &L.holds[L.stats.longest_hold];
    s.longest_ns = L.stats.longest_hold_ns;
    if (!open.running) return s;  // a finished trace: an open hold lasted at least that
    if (s.longest->open()) s.longest_ns = lasted(open, s.longest->begin_ns);
    for (const Hold* h : s.holders)
        if (lasted(open, h->begin_ns) > s.longest_ns) s.longest = h, s.longest_ns = lasted(open, h->begin_ns);
    return s;
}

} // namespace

Report build_report(const Trace& trace, const Model& model, Symbolizer& symbols, const std::vector<Finding>& findings)
{
    Report r;
    r.trace = &trace;
    r.model = &model;
    r.symbols = &symbols;
    r.findings = &findings;
    for (const Finding& f : findings) {
        r.words.push_back(finding_words(model, symbols, f));
        r.errors += f.severity == Finding::error;
        r.warnings += f.severity == Finding::warning;
    }
    // Only raw traces have the sidecar next to them; a bundle carries none.
    if (!trace.embedded_symbols()) r.probes = read_probes_sidecar(trace.path());
    r.open = open_end(model, trace);
    r.verdict = judge_process(model, findings);
    for (const ThreadState& t : model.threads)
        if (t.status == ThreadStatus::blocked) r.blocked.push_back(blocked_thread(model, t, r.open));
    r.locks.reserve(model.locks.size());
    for (const Lock& L : model.locks) r.locks.push_back(lock_summary(L, r.open));
    return r;
}

} // namespace lt
