// `lock-order-inversion` (warning): two locks taken in both orders by
// different threads during the run, even if this run did not hang.  An order
// edge A -> B is recorded when a thread that holds A blocks to acquire B (try
// variants cannot deadlock and make no edge).  Pairs where both sides only
// read, or where both sides held a common third lock (a gate), cannot
// deadlock and are left out; pairs already in a deadlock finding too.
// A trace that keeps the lock order of the whole run (format version 2)
// gives the pairs of the whole run, however much the rings lost: each
// (held -> taken) the first time any thread took it, with both sites; the
// ring's replay adds nothing to it then but pairs the table had no room for.
#include "common.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace lt {

namespace {

struct OrderEdge {
    EventIx outer_acq;      // where the first lock was taken
    EventIx inner_acq;      // where the second was taken while holding the first
    bool read_read;         // both taken for reading, every time
    std::set<size_t> gates; // locks held throughout every occurrence (intersection)
    size_t count = 0;
};

using EdgeKey = std::tuple<size_t, size_t, uint32_t>;  // outer lock, inner lock, thread
using OrderEdges = std::map<EdgeKey, OrderEdge>;

// Per thread: does it ever hold two different locks?  An edge needs such a
// thread, an inversion two of them: the others' holds are not replayed at all
// (on a trace of one busy thread this was most of the detector's time).
std::vector<bool> threads_that_nest(const Model& m)
{
    std::vector<uint32_t> locks_of(m.threads.size()), last_lock(m.threads.size(), UINT32_MAX);
    for (size_t li = 0; li < m.locks.size(); li++)
        if (m.locks[li].has_owners())
            for (const Hold& h : m.locks[li].holds)
                if (h.thread < last_lock.size() && last_lock[h.thread] != li) {
                    last_lock[h.thread] = uint32_t(li);
                    locks_of[h.thread]++;
                }
    std::vector<bool> nest(m.threads.size());
    for (size_t t = 0; t < nest.size(); t++) nest[t] = locks_of[t] >= 2;
    return nest;
}

// Acquisitions made by a call that could block: an ACQUIRED that ends a Wait,
// or one recorded alone by the shim's uncontended fast path (it has no
// LT_FL_TRY: the program called lock(), not trylock()).  Try variants and
// libc's internal re-take of a condvar's mutex make no edge.  One bit per
// event (a hash set of millions of indices cost more than the rest of this
// detector).
std::vector<bool> blocking_acquisitions(const Model& m)
{
    std::vector<bool> blocking(m.events.size());
    for (const Lock& L : m.locks)
        if (L.has_owners()) {
            for (const Wait& w : L.waits)
                if (w.outcome == WaitOutcome::acquired && w.end != kNoEvent) blocking[w.end] = true;
            for (const Hold& h : L.holds)
                if (h.acquired != kNoEvent && !(m.events[h.acquired].flags & (LT_FL_TRY | LT_FL_INTERNAL)))
                    blocking[h.acquired] = true;
        }
    return blocking;
}

// Every nesting thread's holds replayed in time order (event index order):
// each start and end of a hold is listed under its event, then one pass over
// the event indices replays all threads at once.  Sorting each thread's steps
// instead was a quarter of `report`'s time on a 4-thread trace.  One event can
// end one hold and start another (an EOWNERDEAD take ends the dead owner's
// hold; an INIT ends several): a list per event, kept in the order the steps
// are added, lock by lock, start before end.
struct HoldSteps {
    struct Step { uint32_t lock, hold, thread, next; bool acquire; };
    static constexpr uint32_t kEnd = UINT32_MAX;
    std::vector<Step> steps;
    std::vector<uint32_t> first;  // per event: its first step, or kEnd

    HoldSteps(const Model& m, const std::vector<bool>& nests) : first(m.events.size(), kEnd)
    {
        auto may_nest = [&](uint32_t t) { return t < nests.size() && nests[t]; };
        std::vector<uint32_t> last(m.events.size(), kEnd);
        auto add = [&](EventIx ix, uint32_t li, uint32_t hi, uint32_t thread, bool acquire) {
            if (ix == kNoEvent || ix >= first.size()) return;
            uint32_t n = uint32_t(steps.size());
            steps.push_back({li, hi, thread, kEnd, acquire});
            if (first[ix] == kEnd) first[ix] = n;
            else steps[last[ix]].next = n;
            last[ix] = n;
        };
        size_t nsteps = 0;
        for (const Lock& L : m.locks)
            if (L.has_owners())
                for (const Hold& h : L.holds) nsteps += may_nest(h.thread) ? 2 : 0;
        steps.reserve(nsteps);
        for (size_t li = 0; li < m.locks.size(); li++) {
            const Lock& L = m.locks[li];
            if (!L.has_owners()) continue;
            for (size_t hi = 0; hi < L.holds.size(); hi++) {
                const Hold& h = L.holds[hi];
                if (!may_nest(h.thread)) continue;
                add(h.acquired, uint32_t(li), uint32_t(hi), h.thread, true);
                add(h.released, uint32_t(li), uint32_t(hi), h.thread, false);
            }
        }
    }
};

// A lock destroyed and initialized again (heap memory reused for a new
// object) is a different lock: its lives are numbered and kept apart.
struct LockLives {
    std::vector<std::vector<EventIx>> destroys;  // per lock

    explicit LockLives(const Model& m) : destroys(m.locks.size())
    {
        for (size_t li = 0; li < m.locks.size(); li++)
            for (EventIx ix : m.locks[li].events)
                if (m.events[ix].type == LT_EV_DESTROY) destroys[li].push_back(ix);
    }
    // The life of lock li that event ix belongs to, as one graph node.
    size_t node(size_t li, EventIx ix) const
    {
        const auto& d = destroys[li];
        size_t life = size_t(std::upper_bound(d.begin(), d.end(), ix) - d.begin());
        return li * 1024 + std::min<size_t>(life, 1023);
    }
};

using Held = std::vector<std::pair<size_t, size_t>>;  // (lock, hold) a thread holds

// Thread acquires the inner hold while holding `held`: an edge from each
// other lock it holds, with the locks held besides as that edge's gates.
void add_edges(const Model& m, const LockLives& lives, const Held& held, size_t inner_lock, const Hold& inner,
               OrderEdges& edges)
{
    for (auto [ol, oh] : held) {
        if (ol == inner_lock) continue;
        const Hold& outer = m.locks[ol].holds[oh];
        std::set<size_t> gates;
        for (auto [gl, gh] : held)
            if (gl != ol && gl != inner_lock) gates.insert(lives.node(gl, m.locks[gl].holds[gh].acquired));
        EdgeKey k{lives.node(ol, outer.acquired), lives.node(inner_lock, inner.acquired), inner.thread};
        auto [it, fresh] = edges.try_emplace(k);
        OrderEdge& e = it->second;
        bool rr = outer.mode == kModeRead && inner.mode == kModeRead;
        if (fresh) {
            e.outer_acq = outer.acquired;
            e.inner_acq = inner.acquired;
            e.read_read = rr;
            e.gates = gates;
        } else {
            e.read_read = e.read_read && rr;
            std::set<size_t> keep;
            for (size_t g : e.gates)
                if (gates.count(g)) keep.insert(g);
            e.gates = keep;
        }
        e.count++;
    }
}

OrderEdges order_edges(const Model& m, const std::vector<bool>& nests)
{
    const std::vector<bool> blocking = blocking_acquisitions(m);
    const HoldSteps replay(m, nests);
    const LockLives lives(m);
    OrderEdges edges;
    std::vector<Held> held_by(m.threads.size());
    for (EventIx ix = 0; ix < replay.first.size(); ix++) {
        for (uint32_t si = replay.first[ix]; si != HoldSteps::kEnd; si = replay.steps[si].next) {
            const HoldSteps::Step& s = replay.steps[si];
            Held& held = held_by[s.thread];
            if (!s.acquire) {
                auto it = std::find(held.begin(), held.end(), std::make_pair(size_t(s.lock), size_t(s.hold)));
                if (it != held.end()) held.erase(it);
                continue;
            }
            if (blocking[ix] && !held.empty()) add_edges(m, lives, held, s.lock, m.locks[s.lock].holds[s.hold], edges);
            held.push_back({s.lock, s.hold});
        }
    }
    return edges;
}

Finding inversion(const Model& m, const Lock& A, const Lock& B, uint32_t t1, const OrderEdge& e1, uint32_t t2,
                  const OrderEdge& e2)
{
    Finding f;
    f.kind = "lock-order-inversion";
    f.severity = Finding::warning;
    f.locks = {A.addr, B.addr};
    f.threads = {m.threads[t1].tid, m.threads[t2].tid};
    f.summary = thread_ref(t1) + " took " + lock_ref(A) + " then " + lock_ref(B) + " (at " +
                time_ref(m.events[e1.inner_acq].time_ns) + site_ref(e1.inner_acq) + "), and " + thread_ref(t2) +
                " took " + lock_ref(B) + " then " + lock_ref(A) + " (at " + time_ref(m.events[e2.inner_acq].time_ns) +
                site_ref(e2.inner_acq) +
                "). This run did not hang, but if the two ever overlap each can hold one lock and wait for "
                "the other forever. Pick one order and take them in that order everywhere.";
    f.summary += history_gap_note(m);
    // Read live while a ring was being overwritten, a thread's history can
    // lose records in its middle (the unlock of the first lock among them):
    // the order rests on nothing then.
    if (judged_at(m) != 0 && (!m.threads[t1].history_complete || !m.threads[t2].history_complete)) {
        f.severity = Finding::info;
        f.summary += " Read live while these threads' rings were overwritten: an unlock between the two "
                     "acquisitions may be among the lost records, so this order is not proven.";
    }
    f.evidence.push_back(make_evidence(e1.outer_acq, "first lock, order A then B"));
    f.evidence.push_back(make_evidence(e1.inner_acq, "second lock taken while holding the first"));
    f.evidence.push_back(make_evidence(e2.outer_acq, "first lock, order B then A"));
    f.evidence.push_back(make_evidence(e2.inner_acq, "second lock taken while holding the first"));
    return f;
}

Text pair_thread(const Model& m, int32_t tid)
{
    const ThreadState* t = m.thread_by_tid(tid);
    return t ? thread_ref(t->thread) : thread_ref_tid(m, tid);
}

Text pair_lock(const Model& m, uint64_t addr, uint8_t prim)
{
    if (const Lock* L = m.find_lock(addr, prim)) return lock_ref(*L);
    return Text({Text::Piece::Kind::lock, "", addr, prim});
}

// Each thread adds its repeats of a pair to the shared count every few
// thousand and as it ends (and the thread that calls exit, as it exits): the
// counts are exact when the process exited with at most that one thread
// still running, and lower bounds otherwise.
bool order_counts_exact(const Model& m)
{
    if (!m.trace->process_ended()) return false;
    size_t running = 0;
    for (const auto& t : m.trace->threads()) running += !t.exited();
    return running <= 1;
}

Finding whole_run_inversion(const Model& m, const OrderPair& ab, const OrderPair& ba)
{
    Finding f;
    f.kind = "lock-order-inversion";
    f.severity = Finding::warning;
    f.locks = {ab.held, ab.taken};
    f.threads = {ab.tid, ba.tid};
    Text A = pair_lock(m, ab.held, ab.held_prim), B = pair_lock(m, ab.taken, ab.taken_prim);
    const char* at_least = order_counts_exact(m) ? " (" : " (at least ";
    auto side = [&](const OrderPair& p, const Text& first, const Text& second) {
        return pair_thread(m, p.tid) + " took " + first + stack_site_ref(p.held_stack) + ", then " + second +
               " at " + time_ref(p.first_ns) + stack_site_ref(p.taken_stack) +
               (p.count > 1 ? at_least + std::to_string(p.count) + " times in this order)" : "");
    };
    f.summary = side(ab, A, B) + ", and " + side(ba, B, A) +
                ". This run did not hang, but if the two ever overlap each can hold one lock and wait for the "
                "other forever. Pick one order and take them in that order everywhere. (Lock order is kept "
                "for the whole run.)";
    auto evidence = [&](const OrderPair& p) {
        Evidence e;
        e.tid = p.tid;
        e.time_ns = p.first_ns;
        e.stack_id = p.taken_stack;
        char buf[120];
        snprintf(buf, sizeof buf, "took 0x%llx while holding 0x%llx (the first time in this order)",
                 (unsigned long long)p.taken, (unsigned long long)p.held);
        e.what = buf;
        f.evidence.push_back(std::move(e));
    };
    evidence(ab);
    evidence(ba);
    return f;
}

using LockPairs = std::set<std::pair<uint64_t, uint64_t>>;

// Inversions among the whole run's pairs: A -> B first taken by one thread,
// B -> A by another, the same lives of both locks.  Left out as the ring's
// replay leaves them out: both sides only read, or a common gate.
void whole_run_inversions(const Model& m, const LockPairs& deadlocked, LockPairs& reported,
                          std::vector<Finding>& out)
{
    const std::vector<OrderPair>& pairs = m.trace->order_pairs();
    // A lock some thread unlocked without holding it (handed over like a
    // semaphore) stays in its locker's held set: its pairs are not an order.
    std::set<uint64_t> handed;
    for (const ThreadBook& b : m.trace->books())
        for (const lt_lock_totals& t : b.totals)
            if (t.unmatched_releases) handed.insert(t.addr);
    std::map<std::tuple<uint64_t, uint32_t, uint64_t, uint32_t>, const OrderPair*> by_key;
    for (const OrderPair& p : pairs)
        if (p.held != p.taken && !handed.count(p.held)) by_key[{p.held, p.held_life, p.taken, p.taken_life}] = &p;
    for (const auto& [k, ab] : by_key) {
        auto it = by_key.find({ab->taken, ab->taken_life, ab->held, ab->held_life});
        if (it == by_key.end()) continue;
        const OrderPair* ba = it->second;
        if (ab->tid == ba->tid) continue;  // one thread taking both orders cannot deadlock with itself
        auto lp = std::make_pair(std::min(ab->held, ab->taken), std::max(ab->held, ab->taken));
        if (reported.count(lp) || deadlocked.count({ab->held, ab->taken})) continue;
        bool read_read = ab->held_mode == LT_FL_READ && ab->taken_mode == LT_FL_READ &&
                         ba->held_mode == LT_FL_READ && ba->taken_mode == LT_FL_READ;
        if (read_read || (ab->gate && ab->gate == ba->gate)) continue;
        reported.insert(lp);
        out.push_back(whole_run_inversion(m, *ab, *ba));
    }
}

} // namespace

void detect_lock_order_inversion(const Model& m, std::vector<Finding>& out)
{
    // Lock pairs already explained by a deadlock.
    LockPairs deadlocked;
    for (const Finding& f : out)
        if (f.kind == "deadlock")
            for (uint64_t a : f.locks)
                for (uint64_t b : f.locks) deadlocked.insert({a, b});
    LockPairs reported_addrs;
    if (m.whole_run && m.trace) {
        whole_run_inversions(m, deadlocked, reported_addrs, out);
        // Every pair the rings saw is in the table unless it was full.
        if (!m.trace->header().order_overflow) return;
    }

    const std::vector<bool> nests = threads_that_nest(m);
    if (std::count(nests.begin(), nests.end(), true) < 2) return;
    const OrderEdges edges = order_edges(m, nests);

    std::set<std::pair<size_t, size_t>> reported;
    for (const auto& [k1, e1] : edges) {
        auto [a, b, t1] = k1;
        if (reported.count({std::min(a, b), std::max(a, b)})) continue;
        for (const auto& [k2, e2] : edges) {
            auto [b2, a2, t2] = k2;
            if (b2 != b || a2 != a || t2 == t1) continue;
            if (e1.read_read && e2.read_read) continue;
            bool gated = std::any_of(e1.gates.begin(), e1.gates.end(), [&](size_t g) { return e2.gates.count(g) > 0; });
            if (gated) continue;
            const Lock& A = m.locks[a / 1024];
            const Lock& B = m.locks[b / 1024];
            if (deadlocked.count({A.addr, B.addr})) break;
            if (reported_addrs.count({std::min(A.addr, B.addr), std::max(A.addr, B.addr)})) break;
            reported.insert({std::min(a, b), std::max(a, b)});
            out.push_back(inversion(m, A, B, t1, e1, t2, e2));
            break;
        }
    }
}

} // namespace lt
