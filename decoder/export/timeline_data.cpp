#include "timeline_data.h"

#include "present/present.h"
#include "present/finding_words.h"
#include "present/user_site.h"

#include <algorithm>
#include <unordered_map>

namespace lt::exporter {

namespace {

bool ended_well(WaitOutcome o) { return o == WaitOutcome::woken || o == WaitOutcome::acquired; }

// How many waiters an event could have woken, or 0 if it is not a wake.
uint32_t wake_capacity(const Lock& L, const Event& e, size_t active)
{
    if (e.type == LT_EV_WAKE) {
        if (L.prim == LT_PRIM_COND) return (e.flags & LT_FL_BROADCAST) ? uint32_t(active) : 1u;
        return e.result > 0 ? uint32_t(e.result) : 0u;
    }
    if (e.type == LT_EV_REQUEUE) return e.result > 0 ? 1u : 0u; // only the woken one, requeued ones wait on
    if (e.type == LT_EV_RELEASE) return 1u;                      // unlock / sem_post hands over to one
    return 0;
}

// Sweeps one lock's events in time order with the set of waits in progress:
// each wake is matched with the waits in progress that ended well, earliest
// end first.  A wait gets at most one incoming arrow.
void lock_flows(const Model& m, const Lock& L, uint32_t lock_ix, std::vector<Flow>& out)
{
    if (L.waits.empty()) return;
    std::unordered_map<EventIx, size_t> begins, ends;
    for (size_t w = 0; w < L.waits.size(); w++) {
        begins[L.waits[w].begin] = w;
        if (L.waits[w].end != kNoEvent) ends[L.waits[w].end] = w;
    }
    std::vector<size_t> active;
    std::vector<uint8_t> matched(L.waits.size(), 0);
    for (EventIx ix : L.events) {
        auto b = begins.find(ix);
        if (b != begins.end()) { active.push_back(b->second); continue; }
        auto e = ends.find(ix);
        if (e != ends.end()) {
            active.erase(std::remove(active.begin(), active.end(), e->second), active.end());
            continue;
        }
        const Event& ev = m.events[ix];
        uint32_t n = wake_capacity(L, ev, active.size());
        if (!n || active.empty()) continue;
        if (ev.type == LT_EV_RELEASE && (ev.flags & LT_FL_INTERNAL) && L.prim != LT_PRIM_MUTEX) continue;
        std::vector<size_t> cand;
        for (size_t w : active) {
            const Wait& W = L.waits[w];
            if (!matched[w] && W.thread != ev.thread && ended_well(W.outcome) && W.end_ns >= ev.time_ns)
                cand.push_back(w);
        }
        std::sort(cand.begin(), cand.end(), [&](size_t a, size_t c) { return L.waits[a].end_ns < L.waits[c].end_ns; });
        for (size_t k = 0; k < cand.size() && k < n; k++) {
            const Wait& W = L.waits[cand[k]];
            matched[cand[k]] = 1;
            out.push_back({ev.thread, W.thread, m.rel(ev.time_ns), m.rel(W.end_ns), lock_ix});
        }
    }
}

std::string top_frame(Symbolizer& sym, uint32_t stack_id)
{
    std::vector<Frame> fr = sym.stack(stack_id);
    if (const Frame* site = user_frame(fr, sym.skip_frames())) return site->to_string();
    // No frame of the program's own with a source line: the first one outside
    // the C and C++ libraries and the recorder, at least.
    for (const Frame& f : fr)
        if (f.module.find("libc.so") == std::string::npos && f.module.find("libstdc++") == std::string::npos &&
            f.module.find("liblocktrace") == std::string::npos)
            return f.to_string();
    return fr.empty() ? "" : fr[0].to_string();
}

} // namespace

TimelineData build_timeline(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings)
{
    TimelineData d;
    const Trace& t = *m.trace;
    d.pid = t.header().pid;
    d.program = t.exe_path();
    d.duration = m.end_ns > m.start_ns ? m.end_ns - m.start_ns : 0;
    // A watchdog or snapshot mark comes after the last event of a hung
    // process: the picture runs to it, so the waits show how long they lasted.
    for (const lt_mark& mk : t.marks())
        if (mk.time_ns) d.duration = std::max(d.duration, m.rel(mk.time_ns));
    d.threads = m.threads;
    for (const ThreadState& ts : m.threads)
        if (ts.status == ThreadStatus::blocked) d.hang_at = std::max(d.hang_at, m.rel(ts.since_ns));

    std::unordered_map<uint64_t, uint32_t> lock_by_addr;
    for (size_t i = 0; i < m.locks.size(); i++) {
        const Lock& L = m.locks[i];
        d.locks.push_back({L.addr, L.prim, lock_label(m, sym, L.addr, L.prim)});
        lock_by_addr.emplace(L.addr, uint32_t(i));
        for (const Hold& h : L.holds)
            d.slices.push_back({h.thread, m.rel(h.begin_ns), h.open() ? d.duration : m.rel(h.end_ns), false, h.open(),
                                uint32_t(i), h.mode, WaitOutcome::acquired, h.acquired, 0});
        for (const Wait& w : L.waits) {
            // An uncontended acquire is recorded as ATTEMPT -> ACQUIRED too;
            // it is not a wait worth drawing.
            bool open = w.end_ns == kOpenEnd;
            if (!open && !w.contended && w.outcome == WaitOutcome::acquired && w.end_ns - w.begin_ns < 10000) continue;
            d.slices.push_back({w.thread, m.rel(w.begin_ns), w.end_ns == kOpenEnd ? d.duration : m.rel(w.end_ns), true,
                                open, uint32_t(i), w.mode, w.outcome, w.begin, 0});
        }
        lock_flows(m, L, uint32_t(i), d.flows);
    }
    std::sort(d.slices.begin(), d.slices.end(), [](const Slice& a, const Slice& b) {
        return a.thread != b.thread ? a.thread < b.thread : a.begin < b.begin;
    });
    // Nesting depth of each hold among the thread's holds (locks held inside
    // locks), so an inner hold is drawn inside the outer one, not over it.
    std::vector<uint64_t> ends; // end times of the enclosing holds of the current thread
    uint32_t cur = UINT32_MAX;
    for (Slice& s : d.slices) {
        if (s.wait) continue;
        if (s.thread != cur) { ends.clear(); cur = s.thread; }
        while (!ends.empty() && ends.back() <= s.begin) ends.pop_back();
        s.depth = uint8_t(std::min<size_t>(ends.size(), 3));
        ends.push_back(s.end);
    }

    for (const Finding& f : findings) {
        FindingInfo fi;
        fi.kind = f.kind;
        fi.severity = severity_name(f.severity);
        const FindingWords w = finding_words(m, sym, f);
        fi.summary = w.summary;
        fi.threads = f.threads;
        for (uint64_t a : f.locks) {
            fi.lock_addrs.push_back(hex_addr(a));
            auto it = lock_by_addr.find(a);
            if (it != lock_by_addr.end()) fi.locks.push_back(it->second);
        }
        for (const EvidenceWords& e : w.evidence) {
            const ThreadState* ts = m.thread_by_tid(e.thread);
            fi.evidence.push_back({e.thread, ts ? ts->thread : UINT32_MAX, m.rel(e.time_ns), e.event,
                                   top_frame(sym, e.stack_id)});
        }
        d.findings.push_back(std::move(fi));
    }
    static const char* const kinds[] = {"user", "watchdog", "snapshot"};
    for (const lt_mark& mk : t.marks())
        if (mk.time_ns) d.marks.push_back({m.rel(mk.time_ns), mk.kind < 3 ? kinds[mk.kind] : "mark"});
    return d;
}

} // namespace lt::exporter
