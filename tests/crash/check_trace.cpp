// crash_check TRACE LAYOUT: is the trace of a SIGKILLed lock_storm run
// consistent with what the program did?
//
//  - the reader's loss accounting: per thread at most one torn record, and only
//    the newest; nothing cut; overwrite loss exactly head - capacity;
//  - per thread: valid types and prims, times never going back, THREAD_START
//    first, a killed process not marked as exited;
//  - per worker: the decoded events are exactly a prefix of the schedule in
//    progs/lock_storm.h (the kill may stop it anywhere, nothing may be missing
//    or extra before that);
//  - holds: no thread releases what it does not hold or takes twice what it
//    holds; no two threads hold one mutex (or a rwlock in write mode against
//    anyone) at overlapping times.
//
// Exit 0: consistent; 1: inconsistent (details on stdout); 2: the trace could
// not be read (TraceError, printed).
#include "progs/lock_storm.h"
#include "trace_reader.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Layout {
    int threads = 0;
    std::vector<uint64_t> id, mutex, sem;
    uint64_t rw = 0, cm = 0, cv = 0, fw = 0;
    bool complete = false;
};

Layout read_layout(const std::string& path)
{
    Layout l;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string what;
        int idx = 0;
        std::string addr;
        s >> what;
        if (what == "end") { l.complete = true; break; }
        if (what == "threads") { s >> l.threads; continue; }
        s >> idx >> addr;
        uint64_t a = strtoull(addr.c_str(), nullptr, 16);
        if (what == "id") l.id.push_back(a);
        else if (what == "mutex") l.mutex.push_back(a);
        else if (what == "sem") l.sem.push_back(a);
        else if (what == "rwlock") l.rw = a;
        else if (what == "condmutex") l.cm = a;
        else if (what == "cond") l.cv = a;
        else if (what == "futex") l.fw = a;
    }
    return l;
}

// One expected event: type, prim, object, exact flags, allowed results.
struct Pat {
    uint16_t type;
    uint8_t prim;
    uint64_t addr;
    uint8_t flags;
    std::vector<int32_t> results; // empty: any; futex WAKE: any >= 0 (see match)
    uint64_t addr2 = ~0ull;       // ~0: not checked
};

bool matches(const Pat& p, const lt::Event& e)
{
    if (e.type != p.type || e.prim != p.prim || e.addr != p.addr || e.flags != p.flags) return false;
    if (p.addr2 != ~0ull && e.addr2 != p.addr2) return false;
    if (p.type == LT_EV_WAKE && p.prim == LT_PRIM_FUTEX) return e.result >= 0;
    if (p.results.empty()) return true;
    return std::find(p.results.begin(), p.results.end(), e.result) != p.results.end();
}

std::string describe(const lt::Event& e)
{
    char b[200];
    snprintf(b, sizeof b, "%s %s %s 0x%" PRIx64 " addr2 0x%" PRIx64 " result %d t=%" PRIu64,
             lt::event_type_name(e.type), lt::prim_name(e.prim), lt::flags_string(e.flags).c_str(), e.addr, e.addr2,
             e.result, e.time_ns);
    return b;
}

std::string describe(const Pat& p)
{
    char b[160];
    snprintf(b, sizeof b, "%s %s %s 0x%" PRIx64, lt::event_type_name(p.type), lt::prim_name(p.prim),
             lt::flags_string(p.flags).c_str(), p.addr);
    return b;
}

// The alternatives a worker's step may produce, in order.
std::vector<std::vector<Pat>> step_patterns(const Layout& L, int t, uint64_t i)
{
    const uint8_t W = LT_FL_WRITE, R = LT_FL_READ;
    const int32_t ok = 0;
    uint64_t mk = L.mutex[(t + i) % LS_NMUTEX];
    switch (i % LS_NOPS) {
    case LS_OP_MUTEX:
        return {{{LT_EV_ATTEMPT, LT_PRIM_MUTEX, mk, W, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_MUTEX, mk, W, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_MUTEX, mk, W, {}}}};
    case LS_OP_READ:
        return {{{LT_EV_ATTEMPT, LT_PRIM_RWLOCK, L.rw, R, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_RWLOCK, L.rw, R, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_RWLOCK, L.rw, R, {}}}};
    case LS_OP_WRITE:
        return {{{LT_EV_ATTEMPT, LT_PRIM_RWLOCK, L.rw, W, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_RWLOCK, L.rw, W, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_RWLOCK, L.rw, W, {}}}};
    case LS_OP_COND:
        return {{{LT_EV_ATTEMPT, LT_PRIM_MUTEX, L.cm, W, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_MUTEX, L.cm, W, {ok}},
                 {LT_EV_WAKE, LT_PRIM_COND, L.cv, LT_FL_BROADCAST, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_MUTEX, L.cm, W | LT_FL_INTERNAL, {}},
                 {LT_EV_WAIT_BEGIN, LT_PRIM_COND, L.cv, LT_FL_TIMED, {}, L.cm},
                 {LT_EV_WAIT_END, LT_PRIM_COND, L.cv, LT_FL_TIMED, {ok, ETIMEDOUT}, L.cm},
                 {LT_EV_ACQUIRED, LT_PRIM_MUTEX, L.cm, W | LT_FL_INTERNAL, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_MUTEX, L.cm, W, {}}}};
    case LS_OP_FUTEX:
        if ((i / LS_NOPS) & 1) return {{{LT_EV_WAKE, LT_PRIM_FUTEX, L.fw, 0, {}}}};
        return {{{LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, L.fw, LT_FL_TIMED, {}},
                 {LT_EV_WAIT_END, LT_PRIM_FUTEX, L.fw, LT_FL_TIMED, {0, -ETIMEDOUT, -EAGAIN, -EINTR}}}};
    case LS_OP_SEM:
        return {{{LT_EV_RELEASE, LT_PRIM_SEM, L.sem[t], 0, {}},
                 {LT_EV_ATTEMPT, LT_PRIM_SEM, L.sem[t], 0, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_SEM, L.sem[t], 0, {ok}}}};
    case LS_OP_TRY:
        return {{{LT_EV_ATTEMPT, LT_PRIM_MUTEX, mk, W | LT_FL_TRY, {}},
                 {LT_EV_ACQUIRED, LT_PRIM_MUTEX, mk, W | LT_FL_TRY, {ok}},
                 {LT_EV_RELEASE, LT_PRIM_MUTEX, mk, W, {}}},
                {{LT_EV_ATTEMPT, LT_PRIM_MUTEX, mk, W | LT_FL_TRY, {}},
                 {LT_EV_FAILED, LT_PRIM_MUTEX, mk, W | LT_FL_TRY, {EBUSY}}}};
    }
    return {};
}

struct Checker {
    const Layout& L;
    lt::Trace& trace;
    std::vector<std::string> problems;
    uint64_t steps = 0, workers = 0;

    Checker(const Layout& l, lt::Trace& t) : L(l), trace(t) {}

    void bad(const std::string& s)
    {
        problems.push_back(s);
    }

    // Matches the events of worker t against its schedule.  `ev` holds only
    // the lock events (THREAD_START/EXIT, dlopen and marks removed).
    void check_worker(int t, const std::vector<const lt::Event*>& ev, const std::string& who)
    {
        workers++;
        size_t pos = 0;
        // The identity step.
        std::vector<Pat> id = {{LT_EV_ATTEMPT, LT_PRIM_MUTEX, L.id[t], LT_FL_WRITE, {}},
                               {LT_EV_ACQUIRED, LT_PRIM_MUTEX, L.id[t], LT_FL_WRITE, {0}},
                               {LT_EV_RELEASE, LT_PRIM_MUTEX, L.id[t], LT_FL_WRITE, {}}};
        std::vector<std::vector<Pat>> alts = {id};
        for (uint64_t i = 0;; i++) {
            if (pos == ev.size()) return;
            bool done = false;
            std::string why;
            for (const auto& alt : alts) {
                size_t k = 0;
                while (k < alt.size() && pos + k < ev.size() && matches(alt[k], *ev[pos + k])) k++;
                if (k == alt.size()) { pos += k; done = true; steps++; break; }
                if (pos + k == ev.size()) return; // killed inside this step: a prefix is fine
                if (why.empty())
                    why = "expected " + describe(alt[k]) + ", found " + describe(*ev[pos + k]);
            }
            if (!done) {
                char b[96];
                snprintf(b, sizeof b, "%s step %" PRIu64 " (op %" PRIu64 ", event %zu): ", who.c_str(),
                         i == 0 ? 0 : i - 1, i == 0 ? 99 : (i - 1) % LS_NOPS, pos);
                bad(b + why);
                return;
            }
            alts = step_patterns(L, t, i);
        }
    }

    struct Interval { uint64_t acq, rel; uint32_t thread; bool write; };
    std::map<uint64_t, std::vector<Interval>> mutex_holds, rw_holds;

    // Per-thread holds: releases of what is not held, double acquisitions;
    // collects hold intervals for the cross-thread check.
    void check_holds(uint32_t th, const std::vector<const lt::Event*>& ev, const std::string& who)
    {
        struct Held { uint64_t since; bool write; int count; };
        std::map<uint64_t, Held> held; // mutex or rwlock address
        for (const lt::Event* e : ev) {
            if (e->prim != LT_PRIM_MUTEX && e->prim != LT_PRIM_RWLOCK) continue;
            auto& holds = e->prim == LT_PRIM_MUTEX ? mutex_holds : rw_holds;
            if (e->type == LT_EV_ACQUIRED) {
                auto it = held.find(e->addr);
                if (it != held.end() && (e->prim == LT_PRIM_MUTEX || (e->flags & LT_FL_WRITE))) {
                    bad(who + ": acquires what it already holds: " + describe(*e));
                    continue;
                }
                if (it != held.end()) { it->second.count++; continue; } // recursive read lock
                held[e->addr] = {e->time_ns, (e->flags & LT_FL_WRITE) != 0, 1};
            } else if (e->type == LT_EV_RELEASE) {
                auto it = held.find(e->addr);
                if (it == held.end()) {
                    bad(who + ": releases what it does not hold: " + describe(*e));
                    continue;
                }
                if (--it->second.count == 0) {
                    holds[e->addr].push_back({it->second.since, e->time_ns, th, it->second.write});
                    held.erase(it);
                }
            }
        }
        // Still held when the process died.
        for (const auto& [addr, h] : held) {
            bool is_mutex = false;
            for (const lt::Event* e : ev)
                if (e->addr == addr) { is_mutex = e->prim == LT_PRIM_MUTEX; break; }
            (is_mutex ? mutex_holds : rw_holds)[addr].push_back({h.since, UINT64_MAX, th, h.write});
        }
    }

    // The thread's held set (format version 2) against its ring replayed:
    // the same locks held, at the same depth, and acquisitions counted in its
    // totals as in the ring.  A kill inside one lock call may leave one lock
    // apart: a release takes it out of the held set just before its record is
    // written, and an acquisition goes into the held set (and the totals) just
    // after its record; never the other way round.
    void check_book(const lt::ThreadBook& book, const std::vector<const lt::Event*>& ev, const std::string& who)
    {
        if (!book.present) {
            bad(who + ": no book (held set and totals) in a version 2 trace");
            return;
        }
        std::map<uint64_t, int> ring_depth, book_depth;
        std::map<uint64_t, uint64_t> ring_acq;
        for (const lt::Event* e : ev) {
            if (e->prim != LT_PRIM_MUTEX && e->prim != LT_PRIM_RWLOCK) continue;
            if (e->type == LT_EV_ACQUIRED) ring_depth[e->addr]++, ring_acq[e->addr]++;
            if (e->type == LT_EV_RELEASE && ring_depth[e->addr] > 0) ring_depth[e->addr]--;
        }
        for (const lt::HeldLock& h : book.held) {
            if (h.prim != LT_PRIM_MUTEX && h.prim != LT_PRIM_RWLOCK) continue;
            if (book_depth.count(h.addr)) bad(who + ": a lock twice in its held set");
            book_depth[h.addr] = h.depth;
        }
        int apart = 0;
        for (const auto& [addr, d] : ring_depth) {
            int b = book_depth.count(addr) ? book_depth[addr] : 0;
            if (b == d) continue;
            if (b == d - 1 && ++apart == 1) continue;  // a release (or an acquisition) in flight
            char msg[160];
            snprintf(msg, sizeof msg, ": lock 0x%" PRIx64 " held %d time(s) per its ring, %d per its held set", addr, d,
                     b);
            bad(who + msg);
        }
        for (const auto& [addr, b] : book_depth)
            if (!ring_depth.count(addr)) bad(who + ": its held set has a lock its ring never took");
        for (const lt_lock_totals& t : book.totals) {
            if (t.prim != LT_PRIM_MUTEX && t.prim != LT_PRIM_RWLOCK) continue;
            uint64_t n = t.acquired_read + t.acquired_write, r = ring_acq.count(t.addr) ? ring_acq[t.addr] : 0;
            if (n != r && n + 1 != r) {
                char msg[160];
                snprintf(msg, sizeof msg, ": lock 0x%" PRIx64 " acquired %" PRIu64 " times per its totals, %" PRIu64
                         " per its ring", t.addr, n, r);
                bad(who + msg);
            }
        }
    }

    void check_exclusion()
    {
        auto sweep = [&](std::map<uint64_t, std::vector<Interval>>& all, bool rw) {
            for (auto& [addr, v] : all) {
                std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.acq < b.acq; });
                uint64_t max_any = 0, max_writer = 0;
                const Interval* last_any = nullptr;
                const Interval* last_writer = nullptr;
                for (const Interval& in : v) {
                    bool exclusive = !rw || in.write;
                    const Interval* clash = nullptr;
                    if (exclusive && last_any && in.acq < max_any && last_any->thread != in.thread) clash = last_any;
                    if (!clash && last_writer && in.acq < max_writer && last_writer->thread != in.thread)
                        clash = last_writer;
                    if (clash) {
                        char b[256];
                        snprintf(b, sizeof b,
                                 "%s 0x%" PRIx64 " held by thread %u from %" PRIu64 " to %" PRIu64
                                 " and by thread %u from %" PRIu64,
                                 rw ? "rwlock" : "mutex", addr, clash->thread, clash->acq, clash->rel, in.thread,
                                 in.acq);
                        bad(b);
                    }
                    if (in.rel >= max_any) { max_any = in.rel; last_any = &in; }
                    if (in.write && in.rel >= max_writer) { max_writer = in.rel; last_writer = &in; }
                }
            }
        };
        sweep(mutex_holds, false);
        sweep(rw_holds, true);
    }
};

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: crash_check TRACE LAYOUT\n");
        return 2;
    }
    Layout L = read_layout(argv[2]);
    if (!L.complete || L.threads < 1 || L.threads > LS_MAX_THREADS || (int)L.id.size() != L.threads ||
        (int)L.sem.size() != L.threads || L.mutex.size() != LS_NMUTEX) {
        fprintf(stderr, "crash_check: %s: incomplete layout\n", argv[2]);
        return 2;
    }
    try {
        lt::Trace trace(argv[1]);
        std::vector<lt::Event> events = trace.read_events();
        Checker c(L, trace);
        const auto& threads = trace.threads();
        if (trace.process_ended()) c.bad("the header says the process exited normally, but it was killed");

        std::vector<std::vector<const lt::Event*>> per(threads.size());
        for (const lt::Event& e : events) {
            if (e.thread >= per.size()) { c.bad("event of an unknown thread index"); continue; }
            per[e.thread].push_back(&e);
        }
        uint64_t torn = 0, lost = 0;
        for (uint32_t th = 0; th < threads.size(); th++) {
            const lt::ThreadInfo& ti = threads[th];
            char who[64];
            snprintf(who, sizeof who, "thread tid %d (slot %u)", ti.tid, ti.slot);
            const auto& ev = per[th];
            torn += ti.torn;
            lost += ti.lost;
            // Loss accounting.
            if (ti.torn > 1) c.bad(std::string(who) + ": " + std::to_string(ti.torn) + " torn records (at most 1)");
            if (ti.torn == 1 && !ti.last_record_torn) c.bad(std::string(who) + ": torn record is not the newest");
            if (ti.cut) c.bad(std::string(who) + ": " + std::to_string(ti.cut) + " records cut");
            if (ti.lost != ti.first_index)
                c.bad(std::string(who) + ": lost " + std::to_string(ti.lost) + " but head - capacity is " +
                      std::to_string(ti.first_index));
            if (ti.decoded + ti.torn + ti.lost != ti.head)
                c.bad(std::string(who) + ": decoded + torn + lost != head");
            if (ti.decoded != ev.size()) c.bad(std::string(who) + ": decoded count differs from events returned");
            // Types, prims, order.
            uint64_t prev = 0;
            for (size_t k = 0; k < ev.size(); k++) {
                const lt::Event& e = *ev[k];
                if (e.type == LT_EV_NONE || e.type >= LT_EV_TYPE_COUNT || e.prim == LT_PRIM_NONE ||
                    e.prim > LT_PRIM_PROCESS)
                    c.bad(std::string(who) + ": invalid event " + describe(e));
                if (e.time_ns < prev) c.bad(std::string(who) + ": time goes back at " + describe(e));
                prev = e.time_ns;
            }
            if (ti.first_index == 0 && !ev.empty() && ev.front()->type != LT_EV_THREAD_START)
                c.bad(std::string(who) + ": first event is not thread_start");
            if (ti.exited() && (ev.empty() || ev.back()->type != LT_EV_THREAD_EXIT))
                c.bad(std::string(who) + ": exited, but its last event is not thread_exit");

            std::vector<const lt::Event*> locks;
            for (const lt::Event* e : ev)
                if (e->prim != LT_PRIM_THREAD && e->prim != LT_PRIM_PROCESS && e->type != LT_EV_MARK)
                    locks.push_back(e);
            if (ti.first_index == 0) c.check_holds(th, locks, who);
            if (ti.first_index == 0 && trace.has_whole_run() && th < trace.books().size() && ti.ring_capacity)
                c.check_book(trace.books()[th], locks, who);
            // A worker starts with its identity mutex.
            int t = -1;
            if (!locks.empty() && locks.front()->type == LT_EV_ATTEMPT)
                for (int k = 0; k < L.threads; k++)
                    if (locks.front()->addr == L.id[k]) t = k;
            if (t >= 0 && ti.first_index == 0) c.check_worker(t, locks, who);
        }
        c.check_exclusion();
        if (!c.problems.empty()) {
            printf("crash_check: INCONSISTENT %s: %zu problems\n", argv[1], c.problems.size());
            for (size_t k = 0; k < c.problems.size() && k < 20; k++) printf("  %s\n", c.problems[k].c_str());
            return 1;
        }
        printf("crash_check: ok threads=%zu workers=%" PRIu64 " events=%zu steps=%" PRIu64 " torn=%" PRIu64
               " lost=%" PRIu64 "\n",
               threads.size(), c.workers, events.size(), c.steps, torn, lost);
        return 0;
    } catch (const lt::TraceError& e) {
        printf("crash_check: unreadable: %s\n", e.what());
        return 2;
    }
}
