// parking_lot locks seen through the Capstone probes (preload/probes): the
// `counter-overflow` and `held-by-nobody` findings for parking_lot::RawRwLock,
// decided from the lock word alone.
//
// What the probes record: LT_PRIM_PROBE events whose addr2 low byte is the lock
// class (locktrace/probe_classes.h: RawRwLock or RawMutex), on the slow
// paths only (parking_lot's fast paths are inlined into the program):
//   WAIT_BEGIN / WAIT_END   lock_*_slow and wait_for_readers (result ETIMEDOUT
//                           when a timed lock gave up), state = word at entry / at return
//   WAKE                    unlock_*_slow, state = word at entry / at return
// No holds are recorded, so the history cannot name owners; the word can still
// prove that nobody holds the lock: a RawRwLock word counts readers in its
// upper 60 bits, and no process has 2^59 threads holding a read lock.
//
// RawRwLock word: bit 0 PARKED, 1 WRITER_PARKED, 2 UPGRADABLE, 3 WRITER,
// bits 4.. the number of readers.
//
// RawMutex (parking_lot::Mutex, its one-byte word: bit 0 LOCKED, bit 1
// PARKED): a `hang` naming the mutexes and the threads parked on them.  The
// holders stay unknown (lock() is an inlined compare-exchange), but one thing
// is certain: once a thread has parked, the word has PARKED set, so every
// unlock of that mutex goes through the probed unlock_slow.  No WAKE recorded
// after the wait began = nobody has released the mutex since.
#include "common.h"
#include "locktrace/probe_classes.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace lt {

namespace {

constexpr uint8_t kClassRwLock = LT_PROBE_CLASS_PL_RWLOCK;
constexpr uint8_t kClassMutex = LT_PROBE_CLASS_PL_MUTEX;
constexpr uint64_t kMutexLocked = 1, kMutexParked = 2;
constexpr uint64_t kParked = 1, kWriterParked = 2, kUpgradable = 4, kWriter = 8;
constexpr uint64_t kWrapped = uint64_t(1) << 59;  // more readers than any process can have

bool is_pl_rwlock(const Model& m, const Lock& L)
{
    return L.prim == LT_PRIM_PROBE && !L.events.empty() && uint8_t(m.events[L.events.front()].addr2) == kClassRwLock;
}

uint64_t readers(uint64_t w) { return w >> 4; }
bool wrapped(uint64_t w) { return readers(w) >= kWrapped; }

std::string decode_word(uint64_t w)
{
    char buf[160];
    snprintf(buf, sizeof buf, "0x%016llx = %llu readers%s%s%s%s", (unsigned long long)w,
             (unsigned long long)readers(w), (w & kWriter) ? " | WRITER" : "", (w & kUpgradable) ? " | UPGRADABLE" : "",
             (w & kWriterParked) ? " | WRITER_PARKED" : "", (w & kParked) ? " | PARKED" : "");
    return buf;
}

// The word the event leaves behind: after-events carry it in state[1].
uint64_t word_after(const Event& e) { return e.state[1]; }

// A parking_lot::RawMutex: some event carries its class (parking_lot_core's
// park, probed in unoptimised builds, shares the address with class 4).
bool is_pl_mutex(const Model& m, const Lock& L)
{
    if (L.prim != LT_PRIM_PROBE) return false;
    for (EventIx ix : L.events)
        if (uint8_t(m.events[ix].addr2) == kClassMutex) return true;
    return false;
}

std::string decode_mutex_word(uint64_t w)
{
    std::string bits;
    if (w & kMutexLocked) bits += "LOCKED";
    if (w & kMutexParked) bits += std::string(bits.empty() ? "" : " | ") + "PARKED";
    if (w & ~(kMutexLocked | kMutexParked)) bits += std::string(bits.empty() ? "" : " | ") + "unknown bits";
    char buf[64];
    snprintf(buf, sizeof buf, "0x%02llx = %s", (unsigned long long)(w & 0xff), bits.empty() ? "unlocked" : bits.c_str());
    return buf;
}

// A thread that entered RawMutex's lock and never came back, at the end of
// the trace: its outermost open wait on the mutex (the probed lock() ATTEMPT
// when the fast paths are probed, else lock_slow's WAIT_BEGIN).
struct ParkedOnMutex {
    size_t lock;               // index into Model::locks
    const Wait* wait;
    EventIx sleep = kNoEvent;  // its open futex wait inside park(), when recorded
};

std::vector<ParkedOnMutex> parked_on_mutexes(const Model& m)
{
    std::vector<ParkedOnMutex> parked;
    if (m.trace && m.trace->process_ended()) return parked;  // it exited by itself: not hung
    const uint64_t at = judged_at(m);
    for (size_t li = 0; li < m.locks.size(); li++) {
        const Lock& L = m.locks[li];
        if (!is_pl_mutex(m, L)) continue;
        std::vector<uint32_t> seen;
        for (const Wait& w : L.waits) {  // in order of beginning: the outermost first
            if (w.outcome != WaitOutcome::still_waiting) continue;
            const Event& b = m.events[w.begin];
            if (uint8_t(b.addr2) != kClassMutex) continue;   // park()'s own wait
            if (std::find(seen.begin(), seen.end(), w.thread) != seen.end()) continue;
            seen.push_back(w.thread);
            const ThreadState& t = m.threads[w.thread];
            if (t.status == ThreadStatus::exited) continue;
            if (b.flags & (LT_FL_TIMED | LT_FL_TRY)) continue;  // try_lock_for: comes back by itself
            if (wait_may_be_in_flight(m, w.begin_ns, at)) continue;
            ParkedOnMutex p{li, &w};
            // The innermost open wait of the thread, begun inside lock_slow:
            // parking_lot_core's futex sleep, entered only after its
            // validate callback saw the word equal LOCKED | PARKED.
            if (t.status == ThreadStatus::blocked && t.sleeps_in != kNoEvent && t.sleeps_in != w.begin &&
                m.events[t.sleeps_in].prim == LT_PRIM_FUTEX && m.events[t.sleeps_in].time_ns >= w.begin_ns)
                p.sleep = t.sleeps_in;
            parked.push_back(p);
        }
    }
    return parked;
}

std::string sleep_note(const ParkedOnMutex& p)
{
    return p.sleep != kNoEvent ? ", then parked: parking_lot only sleeps once the word is " +
                                     decode_mutex_word(kMutexLocked | kMutexParked)
                               : std::string();
}

// Fast paths probed (unoptimised builds, see preload/probes): holds are on
// record, so a cycle of parked threads and the holders of what they wait for
// is a deadlock with names.
bool detect_mutex_deadlock(const Model& m, const std::vector<ParkedOnMutex>& parked, std::vector<Finding>& out)
{
    // waiter thread -> (lock, hold) it waits behind
    struct Edge {
        uint32_t from, to;
        size_t lock, hold;
        const ParkedOnMutex* p;
    };
    std::vector<Edge> edges;
    for (const ParkedOnMutex& p : parked) {
        const Lock& L = m.locks[p.lock];
        if (m.events[p.wait->begin].type != LT_EV_ATTEMPT) continue;  // no hold probes: owners unknown
        for (size_t hi : L.holders_at_end()) edges.push_back({p.wait->thread, L.holds[hi].thread, p.lock, hi, &p});
    }
    bool found = false;
    std::vector<std::vector<uint32_t>> reported;
    for (size_t e0 = 0; e0 < edges.size(); e0++) {
        // Follow the (at most one per thread, for a mutex) edges from e0.
        std::vector<size_t> path{e0};
        while (path.size() <= edges.size()) {
            uint32_t at = edges[path.back()].to;
            if (at == edges[e0].from) break;
            size_t next = SIZE_MAX;
            for (size_t k = 0; k < edges.size(); k++)
                if (edges[k].from == at) next = k;
            if (next == SIZE_MAX || std::find(path.begin(), path.end(), next) != path.end()) {
                path.clear();
                break;
            }
            path.push_back(next);
        }
        if (path.empty() || edges[path.back()].to != edges[e0].from) continue;
        std::vector<uint32_t> key;
        for (size_t k : path) key.push_back(edges[k].from);
        std::sort(key.begin(), key.end());
        if (std::find(reported.begin(), reported.end(), key) != reported.end()) continue;
        reported.push_back(key);
        found = true;

        Finding f;
        f.kind = "deadlock";
        f.severity = Finding::error;
        Text chain;
        for (size_t k : path) {
            const Edge& e = edges[k];
            const Lock& L = m.locks[e.lock];
            const Hold& h = L.holds[e.hold];
            if (std::find(f.locks.begin(), f.locks.end(), L.addr) == f.locks.end()) f.locks.push_back(L.addr);
            f.threads.push_back(m.threads[e.from].tid);
            chain += (chain.empty() ? "" : "; ") + thread_ref(e.from) + site_ref(e.p->wait->begin) +
                     " waits for parking_lot::Mutex " + lock_ref(L) + " (word at entry " +
                     decode_mutex_word(m.events[e.p->wait->begin].state[0]) + sleep_note(*e.p) + "), held by " +
                     (e.from == e.to ? std::string("itself") : thread_ref(e.to)) + " since " +
                     time_ref(h.begin_ns) + site_ref(h.acquired, ", taken in ");
            f.evidence.push_back(make_evidence(h.acquired, thread_ref(e.to) + " took it here and still holds it"));
            f.evidence.push_back(make_evidence(e.p->wait->begin, thread_ref(e.from) + " blocks here, since " +
                                                                       time_ref(e.p->wait->begin_ns)));
        }
        f.summary = (path.size() == 1 ? "Deadlock of a thread with itself on a parking_lot::Mutex (not reentrant): "
                                      : "Deadlock between " + std::to_string(path.size()) +
                                            " threads on parking_lot mutexes: ") +
                    chain +
                    ". parking_lot's fast paths are functions in this build and were probed, so these holds are "
                    "on record; none of the threads can go on, so none will unlock.";
        f.summary += history_gap_note(m);
        out.push_back(std::move(f));
    }
    return found;
}

// parking_lot::Mutex: threads that entered lock_slow and never came back, on
// mutexes that nobody unlocked since (see the file comment).
void detect_parking_lot_mutex(const Model& m, std::vector<Finding>& out)
{
    std::vector<ParkedOnMutex> all = parked_on_mutexes(m);
    if (all.empty()) return;
    std::vector<int32_t> in_deadlock;
    if (detect_mutex_deadlock(m, all, out))
        for (const Finding& f : out)
            if (f.kind == "deadlock")
                in_deadlock.insert(in_deadlock.end(), f.threads.begin(), f.threads.end());

    std::vector<const ParkedOnMutex*> parked;
    for (const ParkedOnMutex& p : all) {
        const Lock& L = m.locks[p.lock];
        if (std::find(in_deadlock.begin(), in_deadlock.end(), m.threads[p.wait->thread].tid) != in_deadlock.end())
            continue;
        if (!L.holders_at_end().empty()) continue;  // owners on record: `blocked` says who, not a mystery
        bool released = false;  // an unlock after it parked: a wake it missed is for other detectors
        for (EventIx ix : L.events)
            released |= m.events[ix].type == LT_EV_WAKE && uint8_t(m.events[ix].addr2) == kClassMutex &&
                        m.events[ix].time_ns > p.wait->begin_ns;
        if (!released) parked.push_back(&p);
    }
    // One parked thread alone is a thread waiting for a lock held a long
    // time, which the `blocked` info already shows; two or more that nobody
    // releases is a hang.
    std::vector<int32_t> tids;
    for (const ParkedOnMutex* p : parked)
        if (std::find(tids.begin(), tids.end(), m.threads[p->wait->thread].tid) == tids.end())
            tids.push_back(m.threads[p->wait->thread].tid);
    if (tids.size() < 2) return;

    Finding f;
    f.kind = "hang";
    f.severity = Finding::error;
    f.threads = tids;
    Text who;
    for (const ParkedOnMutex* p : parked) {
        const Lock& L = m.locks[p->lock];
        const Event& b = m.events[p->wait->begin];
        if (std::find(f.locks.begin(), f.locks.end(), L.addr) == f.locks.end()) f.locks.push_back(L.addr);
        who += (who.empty() ? "" : "; ") + thread_ref(p->wait->thread) + site_ref(p->wait->begin) +
               " waits for parking_lot::Mutex " + lock_ref(L) + " since " + time_ref(b.time_ns) +
               " (word at entry " + decode_mutex_word(b.state[0]) + sleep_note(*p) + ")";
        f.evidence.push_back(make_evidence(p->wait->begin, "enters RawMutex::lock_slow on " + hex(L.addr) +
                                                                  ", word " + decode_mutex_word(b.state[0]) +
                                                                  "; it never returned"));
        if (p->sleep != kNoEvent)
            f.evidence.push_back(make_evidence(p->sleep, "parked: the word was " +
                                                                decode_mutex_word(kMutexLocked | kMutexParked) +
                                                                " when it went to sleep"));
    }
    f.summary = std::to_string(tids.size()) + " threads are parked on parking_lot mutexes that nobody releases: " +
                who + ". No unlock of " + (f.locks.size() > 1 ? "these mutexes" : "this mutex") +
                " was recorded after the threads parked, and with a thread parked every unlock goes through "
                "RawMutex::unlock_slow, which is probed: so each mutex is still held by whoever locked it. Who "
                "that is, the trace cannot say: an uncontended lock() is a compare-exchange inlined into the "
                "program (its fast path), which no probe sees, so no owner is named. If each of these threads "
                "holds a mutex another one waits for (mutexes taken in opposite orders), this is a deadlock; "
                "the stacks show where each one locks.";
    f.summary += history_gap_note(m);
    out.push_back(std::move(f));
}

// How a RawRwLock's reader count wrapped: the transition that wrapped it
// (or its first event on record, if it was wrapped from there), the last
// slow unlock by another thread before it that cleared WRITER_PARKED (the
// other half of the try_write_for race), and the word at the end.
struct Wrap {
    EventIx broke = kNoEvent;
    EventIx cleared = kNoEvent;
    uint64_t final_word = 0;
};

bool find_wrap(const Model& m, const Lock& L, Wrap& w)
{
    for (EventIx ix : L.events)
        if (wrapped(word_after(m.events[ix])) && !wrapped(m.events[ix].state[0])) {
            w.broke = ix;
            break;
        }
    w.final_word = word_after(m.events[L.events.back()]);
    if (w.broke == kNoEvent && !wrapped(w.final_word)) return false;
    if (w.broke == kNoEvent)  // wrapped from its first recorded use
        for (EventIx ix : L.events)
            if (wrapped(word_after(m.events[ix]))) {
                w.broke = ix;
                break;
            }
    // unlock_shared_slow's callback clears WRITER_PARKED whether or not it
    // found the writer still parked.
    const Event& b = m.events[w.broke];
    for (auto it = std::find(L.events.rbegin(), L.events.rend(), w.broke); it != L.events.rend(); ++it) {
        const Event& e = m.events[*it];
        if (e.thread != b.thread && e.type == LT_EV_WAKE && (e.state[0] & kWriterParked) &&
            !(e.state[1] & kWriterParked)) {
            w.cleared = *it;
            break;
        }
    }
    return true;
}

Finding rwlock_overflow(const Model& m, const Lock& L, const Wrap& w)
{
    const Event& b = m.events[w.broke];
    bool timed_out_writer = (b.type == LT_EV_WAIT_END && b.result == ETIMEDOUT && (b.flags & LT_FL_WRITE));
    Finding f;
    f.kind = "counter-overflow";
    f.severity = Finding::error;
    f.locks.push_back(L.addr);
    f.threads.push_back(b.tid);
    if (w.cleared != kNoEvent) f.threads.push_back(m.events[w.cleared].tid);
    f.summary = "parking_lot RwLock " + hex(L.addr) + ": its reader count wrapped below zero (no process has " +
                std::to_string(readers(w.final_word)) + " readers). ";
    if (!wrapped(b.state[0]))
        f.summary += "The word went from " + decode_word(b.state[0]) + " to " + decode_word(word_after(b)) + " at " +
                     time_ref(b.time_ns) + " (" + describe_event(b) + " by " + thread_ref(b.thread) + "); ";
    else if (!m.threads[b.thread].history_complete)
        f.summary += "It was already wrapped at the first event still on record, " + time_ref(b.time_ns) + " (" +
                     describe_event(b) + " by " + thread_ref(b.thread) +
                     "): that thread's older events were overwritten in its ring, so the transition that "
                     "wrapped it is lost; ";
    else
        f.summary += "It was already wrapped at its first recorded use, " + time_ref(b.time_ns) + " (" +
                     describe_event(b) + " by " + thread_ref(b.thread) + ", word " + decode_word(b.state[0]) +
                     "): the change happened in an inlined fast path (lock_shared/unlock_shared), which no "
                     "probe sees, such as an unlock_shared without a matching lock_shared; ";
    f.summary += "it ends as " + decode_word(w.final_word) + ". ";
    if (timed_out_writer && w.cleared != kNoEvent) {
        const Event& c = m.events[w.cleared];
        f.summary += "A writer whose try_write_for timed out while waiting for readers took WRITER and "
                     "WRITER_PARKED back off the word, but " + thread_ref(c.thread) +
                     ", the last reader leaving, had already cleared WRITER_PARKED in unlock_shared_slow at " +
                     time_ref(c.time_ns) + " (" + decode_word(c.state[0]) + " -> " + decode_word(c.state[1]) +
                     "): the bit was removed twice and the subtraction borrowed through every reader bit. "
                     "This is the try_write_for race of parking_lot before 0.12.4 (fixed upstream in 0.12.4).";
    } else if (timed_out_writer) {
        f.summary += "The transition is a writer's timed-out wait for readers (try_write_for).";
    }
    f.summary += history_gap_note(m);
    f.evidence.push_back(make_evidence(w.broke, (wrapped(b.state[0]) ? "first recorded word, already wrapped: "
                                                                      : "the word wrapped here: ") +
                                                    decode_word(word_after(b))));
    if (w.cleared != kNoEvent)
        f.evidence.push_back(make_evidence(w.cleared, "cleared WRITER_PARKED before the writer's subtraction"));
    return f;
}

// held-by-nobody: threads still inside a slow lock path of this lock (their
// innermost sleep is parking_lot's per-thread futex word, so look at the
// lock's open waits, not at what the thread sleeps on), while the word claims
// holders that no thread can be.
void rwlock_held_by_nobody(const Model& m, const Lock& L, const Wrap& w, std::vector<Finding>& out)
{
    std::vector<const ThreadState*> victims;
    std::vector<EventIx> victim_since;
    for (const Wait& wt : L.waits) {
        if (wt.outcome != WaitOutcome::still_waiting) continue;
        const ThreadState& t = m.threads[wt.thread];
        if (t.status == ThreadStatus::exited) continue;
        if (std::find(victims.begin(), victims.end(), &t) != victims.end()) continue;  // nested waits
        victims.push_back(&t);
        victim_since.push_back(wt.begin);
    }
    if (victims.empty() || !(wrapped(w.final_word) || (w.final_word & kWriter))) return;
    size_t others = 0;  // threads that could hold it: alive and not waiting for it
    for (const ThreadState& t : m.threads)
        if (t.status != ThreadStatus::exited && std::find(victims.begin(), victims.end(), &t) == victims.end())
            others++;
    if (!wrapped(w.final_word) && others > 0) return;  // a writer outside our sight may hold it

    const Event& b = m.events[w.broke];
    Finding h;
    h.kind = "held-by-nobody";
    h.severity = Finding::error;
    h.locks.push_back(L.addr);
    Text names;
    for (const ThreadState* v : victims) {
        h.threads.push_back(v->tid);
        names += (names.empty() ? "" : ", ") + thread_ref(v->thread);
    }
    h.summary = names + (victims.size() > 1 ? " are" : " is") + " blocked on parking_lot RwLock " + hex(L.addr) +
                " whose word says " + decode_word(w.final_word) + ": " + std::to_string(readers(w.final_word)) +
                " readers" + ((w.final_word & kWriter) ? " and a writer" : "") + ", held by " +
                std::to_string(others) + " other live thread" + (others == 1 ? "" : "s") +
                " at most. Nobody holds it and nobody will release it: the history and the word parted at " +
                time_ref(b.time_ns) + " (" + describe_event(b) + " by " + thread_ref(b.thread) + ")" +
                (w.cleared != kNoEvent ? ", after " + thread_ref(m.events[w.cleared].thread) +
                                             "'s unlock_shared_slow cleared WRITER_PARKED"
                                       : Text()) +
                ".";
    h.evidence.push_back(make_evidence(w.broke, "the word stopped describing any holder here"));
    if (w.cleared != kNoEvent) h.evidence.push_back(make_evidence(w.cleared, "the releasing reader's transition"));
    for (size_t i = 0; i < victims.size(); i++)
        if (victim_since[i] != w.broke)
            h.evidence.push_back(make_evidence(victim_since[i], "waiting for the lock here since " +
                                                                    time_ref(m.events[victim_since[i]].time_ns)));
    out.push_back(std::move(h));
}

} // namespace

void detect_parking_lot(const Model& m, std::vector<Finding>& out)
{
    detect_parking_lot_mutex(m, out);
    for (const Lock& L : m.locks) {
        Wrap w;
        if (!is_pl_rwlock(m, L) || !find_wrap(m, L, w)) continue;
        out.push_back(rwlock_overflow(m, L, w));
        rwlock_held_by_nobody(m, L, w, out);
    }
}

} // namespace lt
