// `hang` (error): threads sleep and no wake could reach any of them, and no
// more specific finding explains it.  Typical of futex-only locks (Rust's std
// Mutex/RwLock/Condvar, hand-rolled locks): their uncontended acquisitions
// never enter the kernel, so the trace shows the sleepers and their words but
// cannot say who holds what.  This finding names no owner, on purpose.
//
// A barrier short of a party is named as such: the threads waiting in it, its
// count and how many arrived, when every other thread has ended or is blocked
// (none is left to arrive).
//
// A malloc arena's lock that a thread sleeps on (read live) and no thread of
// the process can unlock is named too (the child of a careless fork).
//
// Runs after the other detectors and leaves out the threads they explained.
#include "common.h"
#include "wait_for.h"

#include <algorithm>
#include <set>

namespace lt {

namespace {

bool looks_wrapped(const Model& m, const StuckWait& s)
{
    const Event& w = m.events[s.begin];
    return w.prim == LT_PRIM_FUTEX && futex_wait_looks_wrapped(m, *s.word, w);
}

// Whether some live thread besides `waiting` may still get somewhere.
bool someone_else_runs(const Model& m, const std::vector<const ThreadState*>& waiting)
{
    for (const ThreadState& t : m.threads)
        if (t.status == ThreadStatus::running && std::find(waiting.begin(), waiting.end(), &t) == waiting.end())
            return true;
    return false;
}

void barriers_short(const Model& m, std::vector<Finding>& out, uint64_t judged)
{
    for (const Lock& L : m.locks) {
        if (L.prim != LT_PRIM_BARRIER) continue;
        std::vector<const ThreadState*> waiting;
        for (const ThreadState& t : m.threads)
            if (t.status == ThreadStatus::blocked && t.lock_prim == LT_PRIM_BARRIER && t.lock_addr == L.addr &&
                !wait_may_be_in_flight(m, t.since_ns, judged))
                waiting.push_back(&t);
        if (waiting.empty()) continue;
        const uint32_t count = m.events[waiting.front()->blocked_on].arg;
        if (count == 0 || waiting.size() >= count || someone_else_runs(m, waiting)) continue;
        Finding f;
        f.kind = "hang";
        f.severity = Finding::error;
        f.locks.push_back(L.addr);
        Text who;
        for (const ThreadState* t : waiting) {
            f.threads.push_back(t->tid);
            who += (who.empty() ? "" : "; ") + thread_ref(t->thread) + site_ref(t->blocked_on) + " since " +
                   time_ref(t->since_ns);
            f.evidence.push_back(make_evidence(t->blocked_on, "waits at the barrier here"));
        }
        f.summary = "Barrier short of a party: " + lock_ref(L) + " opens when " + std::to_string(count) +
                    " threads have arrived, and only " + std::to_string(waiting.size()) + " did: " + who +
                    ". No other thread is running to bring the missing " + std::to_string(count - waiting.size()) +
                    ", so the barrier never opens.";
        for (EventIx ix : L.events)
            if (m.events[ix].type == LT_EV_INIT) {
                f.evidence.push_back(make_evidence(ix, "set up here for " + std::to_string(m.events[ix].arg) +
                                                           " threads"));
                break;
            }
        f.summary += history_gap_note(m);
        out.push_back(std::move(f));
    }
}

// Threads asleep (read live) on a malloc arena's lock that no thread of the
// process can unlock: every other thread is known, by its live stack, to be
// outside malloc and free (asleep in a system call), or sleeps on an arena's
// lock too.  A running thread, or one whose stack is unknown, may be the
// holder: then nothing is said.  Typically the child of a fork made while
// another thread of the parent was inside malloc: fork() takes malloc's locks
// around the fork system call, _Fork(), clone() and a raw fork do not.
void malloc_arena_never_unlocked(const Model& m, const Progress& p, std::vector<Finding>& out)
{
    if (!m.live || m.live->malloc_arenas.empty() || p.quiet_ns < kQuietNs) return;
    std::vector<const LiveThread*> sleepers;
    for (const LiveThread& t : m.live->threads) {
        const uint64_t a = t.futex_wait_addr();
        if (a && m.live->malloc_arena(a)) {
            if (!t.word_known || t.word == 0) return;  // unlocked now: on its way
            sleepers.push_back(&t);
        } else if (t.in_malloc || t.call != LiveThread::Call::in_call || t.unwound < 2) {
            return;  // may hold it, or where it is is not known
        }
    }
    if (sleepers.empty()) return;
    Finding f;
    f.kind = "hang";
    f.severity = Finding::error;
    Text who;
    for (const LiveThread* t : sleepers) {
        const uint64_t a = t->futex_wait_addr();
        f.threads.push_back(t->tid);
        if (std::find(f.locks.begin(), f.locks.end(), a) == f.locks.end()) f.locks.push_back(a);
        who += (who.empty() ? "" : "; ") + thread_ref_tid(m, t->tid) + live_call_ref(t->tid) + " sleeps on " +
               malloc_arena_ref(m, a) + " (the word is " + std::to_string(t->word) + " now, read live)";
    }
    const int32_t ppid = m.trace ? m.trace->header().ppid : 0;
    f.summary = "Malloc arena lock never unlocked: " + who +
                ". That lock is taken inside malloc and free only, and no thread of this process is inside "
                "either (every other thread's live stack is elsewhere), so none will ever unlock it. A lock "
                "left locked like this is what the child of a fork gets when another thread of the parent" +
                (ppid > 0 ? " (pid " + std::to_string(ppid) + ")" : std::string()) +
                " was inside malloc or free at the fork: the child has only the thread that forked. fork() "
                "takes malloc's locks around the fork; _Fork(), clone() and a raw fork system call do not, and "
                "their child must not call malloc (exec or use only async-signal-safe calls).";
    f.summary += history_gap_note(m);
    out.push_back(std::move(f));
}

} // namespace

void detect_hang(const Model& m, std::vector<Finding>& out)
{
    if (m.trace && m.trace->process_ended()) return;  // it exited by itself: not hung
    barriers_short(m, out, judged_at(m));
    // Only threads that can never go on (progress.cpp): a sleeper that some
    // running thread could still wake is idle, not hung.
    const Progress p = progress(m);
    malloc_arena_never_unlocked(m, p, out);
    std::set<int32_t> explained;
    for (const Finding& f : out)
        if (f.severity == Finding::error)
            for (int32_t t : f.threads) explained.insert(t);

    std::vector<const StuckWait*> silent;
    std::vector<StuckWait> stuck = analyze_stuck_waits(m);
    for (const StuckWait& s : stuck)
        if (s.verdict == StuckWait::no_wake && p.stuck[s.thread] && !looks_wrapped(m, s) &&
            !explained.count(m.threads[s.thread].tid))
            silent.push_back(&s);

    // Every live thread stuck, and nothing said why: also a hang.
    size_t live = 0, stuck_threads = 0;
    for (const ThreadState& t : m.threads) {
        if (t.status == ThreadStatus::exited) continue;
        live++;
        stuck_threads += p.stuck[t.thread];
    }
    bool all_blocked = live > 0 && stuck_threads == live && explained.empty();
    // Read live: waiters behind a holder that sleeps untimed while the trace
    // stays quiet (progress.cpp), with other threads still running.
    // (A waiter whose holder is stuck itself is explained where the holder is.)
    std::vector<const ThreadState*> behind;
    if (!all_blocked && judged_at(m) != 0 && p.quiet_ns >= kQuietNs)
        for (const WaitEdge& e : wait_for_edges(m)) {
            const ThreadState& t = m.threads[e.from];
            if (p.stuck[t.thread] && p.goes_on[e.to] && !explained.count(t.tid) &&
                std::find(behind.begin(), behind.end(), &t) == behind.end())
                behind.push_back(&t);
        }

    if (silent.size() < 2 && !all_blocked && behind.empty()) return;

    Finding f;
    f.kind = "hang";
    f.severity = Finding::error;
    Text sleepers;
    auto add = [&](uint32_t thread, EventIx ix, uint64_t addr) {
        int32_t tid = m.threads[thread].tid;
        if (std::find(f.threads.begin(), f.threads.end(), tid) != f.threads.end()) return;
        f.threads.push_back(tid);
        if (std::find(f.locks.begin(), f.locks.end(), addr) == f.locks.end()) f.locks.push_back(addr);
        const Event& e = m.events[ix];
        sleepers += (sleepers.empty() ? "" : "; ") + thread_ref(thread) + site_ref(ix) +
                    " on " + prim_name(e.prim) + " " + hex(addr) + " since " + time_ref(e.time_ns);
        // A process-shared mutex whose word names a thread this trace lacks.
        int32_t owner = mx_owner(e) & 0x3fffffff;
        if (e.prim == LT_PRIM_MUTEX && (uint32_t(e.addr2) & kMutexPshared) && owner != 0 && !m.thread_by_tid(owner))
            sleepers += " (a process-shared mutex whose word names tid " + std::to_string(owner) +
                        ", a thread of another process: its history is in that process's trace)";
        f.evidence.push_back(make_evidence(ix, "sleeps here; no wake on this word came after"));
    };
    for (const StuckWait* s : silent) add(s->thread, s->begin, s->word->addr);
    // A thread in a join is blocked by the thread it joins, named there.
    if (all_blocked)
        for (const ThreadState& t : m.threads)
            if (t.status == ThreadStatus::blocked && !m.locks[t.lock].is_thread() && p.stuck[t.thread])
                add(t.thread, t.blocked_on, t.lock_addr);

    if (silent.size() < 2 && !all_blocked) {
        for (const ThreadState* t : behind) add(t->thread, t->blocked_on, t->lock_addr);
        f.summary = std::to_string(f.threads.size()) + (f.threads.size() > 1 ? " threads wait" : " thread waits") +
                    " for locks whose holders are asleep themselves, with no wake on its way to them, and the "
                    "process has recorded nothing for " + std::to_string(p.quiet_ns / 1000000) + " ms: " + sleepers +
                    ". The holders hold the locks while they sleep, so the waiters cannot go on until the holders "
                    "are woken.";
        f.summary += history_gap_note(m);
        out.push_back(std::move(f));
        return;
    }
    f.summary = std::to_string(f.threads.size()) + " threads are asleep and no wake that could reach any of them was "
                "recorded after they went to sleep: " + sleepers + ". ";
    bool futex_only = std::all_of(silent.begin(), silent.end(),
                                  [&](const StuckWait* s) { return s->word->prim == LT_PRIM_FUTEX; });
    if (futex_only && !silent.empty())
        f.summary += "These are futex-only waits (such as Rust std::sync locks or hand-rolled futex locks): their "
                     "uncontended acquisitions never enter the kernel, so the trace cannot tell which thread holds "
                     "which word, and no owner is named here. Each thread probably holds a lock that another one "
                     "sleeps on (a deadlock), or a lock word was corrupted; the stacks show where each one sleeps.";
    else
        f.summary += "No recorded lock owner explains it, so no owner is named.";
    std::vector<uint32_t> gaps;
    for (const StuckWait* s : silent)
        for (uint32_t t : s->gap_threads)
            if (std::find(gaps.begin(), gaps.end(), t) == gaps.end()) gaps.push_back(t);
    if (!gaps.empty()) f.summary += gap_after_note(gaps, "wakes or unlocks that matter");
    out.push_back(std::move(f));
}

} // namespace lt
