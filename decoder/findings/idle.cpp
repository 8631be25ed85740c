// `idle` (info): threads asleep on a condition variable, semaphore or futex
// word that no thread has promised to wake, while other threads can still go
// on (progress.cpp).  Worker pools, maintenance and watcher threads spend
// their lives like this by design: they wait for work.  Not a hang, and not a
// lost wakeup: no wake was due, and any thread still running may send one.
#include "common.h"

#include <algorithm>

namespace lt {

void detect_idle(const Model& m, std::vector<Finding>& out)
{
    const Progress p = progress(m);
    Finding f;
    f.kind = "idle";
    f.severity = Finding::info;
    Text who;
    for (const StuckWait& s : analyze_stuck_waits(m)) {
        if (p.stuck[s.thread] || !(s.verdict == StuckWait::no_wake || s.only_early_wake)) continue;
        const Event& w = m.events[s.begin];
        f.threads.push_back(m.threads[s.thread].tid);
        if (std::find(f.locks.begin(), f.locks.end(), s.word->addr) == f.locks.end()) f.locks.push_back(s.word->addr);
        who += (who.empty() ? "" : "; ") + thread_ref(s.thread) + site_ref(s.begin) + " on " + prim_name(w.prim) +
               " " + hex(s.word->addr) + " since " + time_ref(w.time_ns);
        f.evidence.push_back(make_evidence(s.begin, "waits here for work"));
    }
    if (f.threads.empty()) return;
    f.summary = std::to_string(f.threads.size()) + (f.threads.size() > 1 ? " threads are" : " thread is") +
                " idle, waiting for a wake that no thread owes " + (f.threads.size() > 1 ? "them" : "it") +
                " while other threads still run and can send one: " + who +
                ". This is how worker and maintenance threads wait for work; it is not a hang.";
    out.push_back(std::move(f));
}

} // namespace lt
