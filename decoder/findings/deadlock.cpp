// `deadlock` (error): a cycle in the wait-for graph at the end of the trace.
//
// A thread blocked on a mutex/rwlock waits for every thread that holds it in a
// conflicting mode per the recorded history (itself included: re-locking a
// normal mutex it holds).  A reader blocked on a writer-preferring rwlock that
// no writer holds waits for the writers queued on it (glibc's
// PREFER_WRITER_NONRECURSIVE makes new readers wait behind them).  A thread in
// a join (timed or not, while it has not returned) waits for the joined thread.  Futex-only
// locks have no known owners and never appear here (see hang.cpp).
#include "common.h"
#include "wait_for.h"

#include <algorithm>
#include <set>

namespace lt {

namespace {

Text edge_sentence(const Model& m, const WaitEdge& e)
{
    if (e.live_addr) return live_edge_sentence(m, e);  // a wait only the live view shows
    const Lock& L = m.locks[e.lock];
    Text who = thread_ref(e.from) + site_ref(m.threads[e.from].blocked_on), other = thread_ref(e.to);
    if (L.is_thread()) {
        const bool timed = m.events[m.threads[e.from].blocked_on].flags & LT_FL_TIMED;
        return who + (timed ? " waits in a timed join for " : " waits in a join for ") + other + " to end" +
               (timed ? " (only its timeout ends that wait)" : "");
    }
    if (L.prim == LT_PRIM_ONCE)
        return who + " waits in " + lock_ref(L) + " for the init routine that " +
               (e.from == e.to ? Text("it runs itself") : other + " runs");
    if (e.taken != kNoEvent)
        return who + " waits for " + lock_ref(L) + ", a semaphore used as a lock, whose unit " + other + " took at " +
               time_ref(m.events[e.taken].time_ns) + site_ref(e.taken, " in ") + " and has not posted back";
    const Event& want = m.events[m.threads[e.from].blocked_on];
    std::string mode = (want.flags & LT_FL_READ) ? "a read lock on " : (L.prim == LT_PRIM_RWLOCK ? "the write lock on " : "");
    if (e.hold != SIZE_MAX) {
        const Hold& h = L.holds[e.hold];
        Text taken_in = site_ref(h.acquired, ", taken in ");
        if (e.from == e.to)
            return who + " waits for " + mode + lock_ref(L) + ", which it already holds itself (taken at " +
                   time_ref(h.begin_ns) + taken_in + ")";
        return who + " waits for " + mode + lock_ref(L) + ", held" +
               (h.mode == kModeRead ? " for reading" : L.prim == LT_PRIM_RWLOCK ? " for writing" : "") + " by " + other + " since " + time_ref(h.begin_ns) + taken_in;
    }
    return who + " waits for " + mode + lock_ref(L) + " behind " + other +
           ", a writer queued on this writer-preferring rwlock";
}

} // namespace

void detect_deadlock(const Model& m, std::vector<Finding>& out)
{
    std::vector<WaitEdge> edges = wait_for_edges(m);
    if (edges.empty()) return;
    std::vector<std::vector<size_t>> adj(m.threads.size());
    for (size_t i = 0; i < edges.size(); i++) adj[edges[i].from].push_back(i);

    // Find elementary cycles by DFS from each thread; keep each set of threads once.
    std::set<std::vector<uint32_t>> seen;
    for (uint32_t start = 0; start < m.threads.size(); start++) {
        if (adj[start].empty()) continue;
        std::vector<size_t> path;  // edge indices
        std::vector<uint32_t> on_path{start};
        std::vector<size_t> cursor{0};
        while (!cursor.empty()) {
            uint32_t node = on_path.back();
            size_t& c = cursor.back();
            if (c >= adj[node].size() || path.size() > 16) {
                cursor.pop_back();
                on_path.pop_back();
                if (!path.empty()) path.pop_back();
                continue;
            }
            size_t ei = adj[node][c++];
            uint32_t next = edges[ei].to;
            if (next == start) {
                std::vector<size_t> cyc = path;
                cyc.push_back(ei);
                std::vector<uint32_t> key;
                for (size_t k : cyc) key.push_back(edges[k].from);
                std::sort(key.begin(), key.end());
                if (!seen.insert(key).second) continue;

                Finding f;
                f.kind = "deadlock";
                f.severity = Finding::error;
                Text chain;
                for (size_t k : cyc) {
                    const WaitEdge& e = edges[k];
                    const uint64_t addr = e.live_addr ? e.live_addr : m.locks[e.lock].addr;
                    if ((e.live_addr || !m.locks[e.lock].is_thread()) &&
                        std::find(f.locks.begin(), f.locks.end(), addr) == f.locks.end())
                        f.locks.push_back(addr);
                    int32_t tid = m.threads[e.from].tid;
                    if (std::find(f.threads.begin(), f.threads.end(), tid) == f.threads.end())
                        f.threads.push_back(tid);
                    chain += (chain.empty() ? "" : "; ") + edge_sentence(m, e);
                }
                if (cyc.size() == 1 && edges[cyc[0]].from == edges[cyc[0]].to && !edges[cyc[0]].live_addr)
                    f.summary = "Deadlock of a thread with itself: " + chain +
                                (m.locks[edges[cyc[0]].lock].prim == LT_PRIM_ONCE
                                     ? ". A one-time initialisation called again from its own init routine never "
                                       "completes."
                                     : ". A non-recursive lock taken twice by the same thread never comes free.");
                else
                    f.summary = "Deadlock between " + std::to_string(f.threads.size()) + " threads: " + chain +
                                ". None of them can go on, so none will release what the others wait for.";
                f.summary += history_gap_note(m);
                for (size_t k : cyc) {
                    const WaitEdge& e = edges[k];
                    if (e.live_addr) continue;  // no recorded event: the live view in the report shows it
                    const Lock& L = m.locks[e.lock];
                    if (e.hold != SIZE_MAX)
                        f.evidence.push_back(make_evidence(L.holds[e.hold].acquired,
                                                           thread_ref(e.to) + " took it here and still holds it"));
                    if (e.taken != kNoEvent)
                        f.evidence.push_back(make_evidence(e.taken, thread_ref(e.to) +
                                                                        " took the unit here and has not posted it"));
                    f.evidence.push_back(make_evidence(m.threads[e.from].blocked_on,
                                                       thread_ref(e.from) + " blocks here, since " +
                                                           time_ref(m.threads[e.from].since_ns)));
                }
                out.push_back(std::move(f));
                continue;
            }
            if (std::find(on_path.begin(), on_path.end(), next) != on_path.end()) continue;
            if (next < start) continue;  // cycles through lower threads were found from there
            path.push_back(ei);
            on_path.push_back(next);
            cursor.push_back(0);
        }
    }
}

} // namespace lt
