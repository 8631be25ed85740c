// `lost-wakeup` (error): a thread sleeps (futex, condition variable,
// semaphore) and no wake that could reach it ever came.  The evidence says
// why: wakes sent to a word next to it, with the other FUTEX_PRIVATE_FLAG
// setting, or with a bitset that does not match, all of which woke nobody; a
// wake count smaller than the sleepers; a signal sent while nobody waited; a
// semaphore one post short; or simply no wake at all after the sleep began.
//
// A wake that came only before the wait began, or no wake at all, is a lost
// wakeup only when no thread is left that could still send one (progress.cpp);
// otherwise the sleeper is idle (idle.cpp).
//
// Several sleepers with no wake at all and nothing more specific are reported
// as one `hang` instead (hang.cpp): from futex calls alone a deadlock between
// futex-only locks looks the same, and naming it a lost wakeup would guess.
#include "common.h"

#include <map>

namespace lt {

namespace {

const char* wait_kind(const Lock& L)
{
    switch (L.prim) {
    case LT_PRIM_FUTEX: return "futex word";
    case LT_PRIM_COND: return "condition variable";
    case LT_PRIM_SEM: return "semaphore";
    default: return prim_name(L.prim);
    }
}

bool claimed_by_counter(const Model& m, const StuckWait& s)
{
    const Event& w = m.events[s.begin];
    return w.prim == LT_PRIM_FUTEX && futex_wait_looks_wrapped(m, *s.word, w);
}

} // namespace

void detect_lost_wakeup(const Model& m, std::vector<Finding>& out)
{
    std::vector<StuckWait> stuck = analyze_stuck_waits(m);
    const Progress p = progress(m);
    std::map<const Lock*, std::vector<const StuckWait*>> missed;
    std::vector<const StuckWait*> silent;
    for (const StuckWait& s : stuck) {
        if (claimed_by_counter(m, s)) continue;
        // A wake that came before the wait, or none at all, proves nothing
        // while another thread can still send one: it waits for work (idle.cpp).
        if ((s.verdict == StuckWait::no_wake || s.only_early_wake) && !p.stuck[s.thread]) continue;
        if (s.verdict == StuckWait::missed_wake) missed[s.word].push_back(&s);
        else if (s.verdict == StuckWait::no_wake) silent.push_back(&s);
    }
    for (auto& [L, list] : missed) {
        Finding f;
        f.kind = "lost-wakeup";
        f.severity = Finding::error;
        f.locks.push_back(L->addr);
        Text names;
        for (const StuckWait* s : list) {
            f.threads.push_back(m.threads[s->thread].tid);
            names += (names.empty() ? "" : ", ") + thread_ref(s->thread);
        }
        const StuckWait& first = *list.front();
        f.summary = names + (list.size() > 1 ? " sleep" : " sleeps") + site_ref(first.begin) + " on " +
                    wait_kind(*L) + " " + address_ref(*L) +
                    " since " + time_ref(m.events[first.begin].time_ns) +
                    " and no wake that could reach " + (list.size() > 1 ? "them" : "it") + " was ever sent: " +
                    first.why + ".";
        if (!first.gap_threads.empty()) {
            f.severity = Finding::warning;
            f.summary += gap_after_note(first.gap_threads, "a wake that reached it");
        }
        for (const StuckWait* s : list)
            f.evidence.push_back(make_evidence(s->begin, "went to sleep here and never came back"));
        for (const Evidence& e : first.evidence) f.evidence.push_back(e);
        out.push_back(std::move(f));
    }
    if (silent.size() != 1) return;  // none, or several: hang.cpp speaks for them
    const StuckWait& s = *silent.front();
    const Event& w = m.events[s.begin];
    Finding f;
    f.kind = "lost-wakeup";
    f.severity = Finding::error;
    f.locks.push_back(s.word->addr);
    f.threads.push_back(m.threads[s.thread].tid);
    f.summary = thread_ref(s.thread) + " sleeps" + site_ref(s.begin) + " on " + wait_kind(*s.word) +
                " " + address_ref(*s.word) + " since " +
                time_ref(w.time_ns) + " and no thread ever ";
    if (s.word->prim == LT_PRIM_FUTEX)
        f.summary += "called FUTEX_WAKE on that word afterwards (the trace records no wake, requeue or wake_op that "
                     "could reach it): whatever it waits for was changed without a wake, or never happened.";
    else if (s.word->prim == LT_PRIM_COND)
        f.summary += "signalled or broadcast that condition variable: the waiter was never notified.";
    else
        f.summary += "posted that semaphore: the post it waits for is missing.";
    f.summary += " It is the only thread asleep like this, so this is not a lock cycle between sleepers.";
    if (!s.gap_threads.empty()) {
        f.severity = Finding::warning;
        f.summary += gap_after_note(s.gap_threads, "a wake for it");
    }
    f.evidence.push_back(make_evidence(s.begin, "went to sleep here and never came back"));
    out.push_back(std::move(f));
}

} // namespace lt
