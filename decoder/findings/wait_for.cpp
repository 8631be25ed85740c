#include "wait_for.h"
#include "common.h"

#include <algorithm>
#include <sys/syscall.h>

namespace lt {
namespace fx {

std::vector<size_t> conflicting_holds(const Lock& L, uint32_t thread, Mode mode)
{
    std::vector<size_t> out;
    for (size_t hi : L.holders_at_end()) {
        const Hold& h = L.holds[hi];
        bool conflict = mode != kModeRead || h.mode != kModeRead;
        // A reader re-taking a read lock it holds is not blocked by itself.
        if (h.thread == thread && mode == kModeRead && h.mode == kModeRead) conflict = false;
        if (conflict) out.push_back(hi);
    }
    return out;
}

Text live_call_ref(int32_t tid, std::string before)
{
    return Text({Text::Piece::Kind::live_call, std::move(before), uint64_t(uint32_t(tid)), 0});
}

namespace {

// The one thread of the view, other than `waiter`, inside malloc and not
// itself waiting for an arena's lock: the only one that can hold the lock
// `waiter` sleeps on.  Null when there are none or several.
const LiveThread* only_other_in_malloc(const LiveView& v, const LiveThread& waiter)
{
    const LiveThread* found = nullptr;
    for (const LiveThread& t : v.threads) {
        if (&t == &waiter || !t.in_malloc || v.malloc_arena(t.futex_wait_addr())) continue;
        if (found) return nullptr;
        found = &t;
    }
    return found;
}

// Edges from the live view: threads the history shows running that sleep on
// a glibc mutex owned by another traced thread that is asleep too, or on a
// malloc arena's lock (which names no owner) while exactly one other thread
// is inside malloc, asleep.
void add_live_edges(const Model& m, std::vector<WaitEdge>& edges)
{
    if (!m.live) return;
    for (const LiveThread& lt : m.live->threads) {
        uint64_t addr = lt.futex_wait_addr();
        if (!addr) continue;
        const ThreadState* from = m.thread_by_tid(lt.tid);
        if (m.live->malloc_arena(addr)) {
            const LiveThread* owner = only_other_in_malloc(*m.live, lt);
            const ThreadState* to = owner ? m.thread_by_tid(owner->tid) : nullptr;
            if (!from || !to || from->status != ThreadStatus::running || to->status == ThreadStatus::exited ||
                owner->call != LiveThread::Call::in_call || !lt.word_known || lt.word == 0)
                continue;
            WaitEdge live{from->thread, to->thread, SIZE_MAX, SIZE_MAX};
            live.live_addr = addr;
            edges.push_back(live);
            continue;
        }
        const ThreadState* to = lt.mutex_owner ? m.thread_by_tid(lt.mutex_owner) : nullptr;
        // A stdio FILE lock names its owner by thread pointer: the pthread_t
        // the trace recorded for each thread.
        if (!lt.mutex_owner && lt.owner_thread_ptr) to = m.thread_by_pthread(lt.owner_thread_ptr, m.end_ns);
        if (!to || to->tid == lt.tid) continue;
        const LiveThread* owner = m.live->thread(to->tid);
        if (!from || !to || from->status != ThreadStatus::running || to->status == ThreadStatus::exited) continue;
        if (!owner || owner->call != LiveThread::Call::in_call) continue;  // the owner is on its way
        // An owner the history shows blocked on a mutex must still sleep on that
        // mutex's word: else the view and the history are of different moments.
        if (to->status == ThreadStatus::blocked && m.locks[to->lock].prim == LT_PRIM_MUTEX &&
            owner->futex_wait_addr() && owner->futex_wait_addr() != m.locks[to->lock].addr)
            continue;
        WaitEdge live{from->thread, to->thread, SIZE_MAX, SIZE_MAX};
        live.live_addr = addr;
        edges.push_back(live);
    }
}

std::string io_call_words(const LiveThread& t)
{
    std::string s = " is blocked in " + syscall_name(t.nr) + "()";
    if (t.nr == SYS_wait4 || t.nr == SYS_waitid)
        return s + " for child process " + std::to_string(int32_t(t.args[t.nr == SYS_waitid ? 1 : 0]));
    for (size_t i = 0; i < t.fds.size(); i++) s += (i ? "; " : " on ") + t.fds[i].what;
    return s;
}

} // namespace

Text malloc_arena_ref(const Model& m, uint64_t addr)
{
    Text s = "the malloc arena lock " + Text({Text::Piece::Kind::address, "", addr, LT_PRIM_FUTEX});
    const size_t n = m.live ? m.live->malloc_arena(addr) : 0;
    if (n > 1) s += " (the lock of the process's malloc arena " + std::to_string(n) + ", a thread arena)";
    return s;
}

Text live_edge_sentence(const Model& m, const WaitEdge& e)
{
    const LiveThread* t = m.live ? m.live->thread(m.threads[e.from].tid) : nullptr;
    if (m.live && m.live->malloc_arena(e.live_addr)) {
        Text s = thread_ref(e.from) + live_call_ref(m.threads[e.from].tid) + " waits for " +
                 malloc_arena_ref(m, e.live_addr) +
                 ", locked inside malloc where no hook sees it and naming no owner; the only other thread inside "
                 "malloc or free now is " + thread_ref(e.to) + live_call_ref(m.threads[e.to].tid);
        if (t && t->word_known) s += " (the word is " + std::to_string(t->word) + " now, read live)";
        return s;
    }
    Text word = Text({Text::Piece::Kind::address, "", e.live_addr, LT_PRIM_MUTEX});
    const bool by_pointer = t && !t->mutex_owner;
    Text s = thread_ref(e.from) + live_call_ref(m.threads[e.from].tid) + " waits for the " +
             (by_pointer ? "C library's lock " : "glibc mutex ") + word +
             (by_pointer ? " (a lock like a stdio FILE's, which names its owner by thread pointer)" : Text()) +
             ", locked inside the C library where no hook sees it; its owner is " + thread_ref(e.to);
    if (t && t->word_known) s += " (the word is " + std::to_string(t->word) + " now, read live)";
    return s;
}

Text live_doing(const Model& m, uint32_t thread)
{
    if (!m.live || thread >= m.threads.size()) return Text();
    const LiveThread* t = m.live->thread(m.threads[thread].tid);
    if (!t || t->call != LiveThread::Call::in_call) return Text();
    if (t->io_wait()) return ", which" + Text(io_call_words(*t)) + live_call_ref(t->tid, ", in ") + " (read live)";
    if (uint64_t a = t->futex_wait_addr(); a && m.live->malloc_arena(a))
        return ", which sleeps on " + malloc_arena_ref(m, a) + live_call_ref(t->tid) + " (read live)";
    if (uint64_t a = t->futex_wait_addr()) {
        Text s = ", which sleeps in a futex wait on " + Text({Text::Piece::Kind::address, "", a, LT_PRIM_FUTEX}) +
                 live_call_ref(t->tid);
        if (t->mutex_owner) s += ", a glibc mutex owned by " + thread_ref_tid(m, t->mutex_owner);
        else if (const ThreadState* o = t->owner_thread_ptr ? m.thread_by_pthread(t->owner_thread_ptr, m.end_ns) : nullptr)
            s += ", a C library lock owned by " + thread_ref(o->thread);
        return s + " (read live)";
    }
    return Text();
}

std::vector<WaitEdge> wait_for_edges(const Model& m)
{
    std::vector<WaitEdge> edges;
    add_live_edges(m, edges);
    for (const ThreadState& t : m.threads) {
        if (t.status != ThreadStatus::blocked || t.lock == SIZE_MAX) continue;
        const Lock& L = m.locks[t.lock];
        const Event& want = m.events[t.blocked_on];
        if (L.is_thread()) {
            // A join waits for the joined thread, until it ends; a timed or
            // clock join too, until it has returned (its timeout may be
            // hours).  A try join never waits: one still open is in flight.
            const ThreadState* joined = m.thread_by_pthread(L.addr, want.time_ns);
            if (joined && joined->status != ThreadStatus::exited && !(want.flags & LT_FL_TRY))
                edges.push_back({t.thread, joined->thread, t.lock, SIZE_MAX});
            continue;
        }
        if (L.prim == LT_PRIM_ONCE) {
            // The first call still in progress runs the init routine; later
            // ones wait for it (the first call's own thread included: a
            // recursive pthread_once never returns).
            for (const Wait& w : L.waits)
                if (w.outcome == WaitOutcome::still_waiting) {
                    if (w.begin != t.blocked_on)  // else t runs the routine: blocked inside it
                        edges.push_back({t.thread, w.thread, t.lock, SIZE_MAX});
                    break;
                }
            continue;
        }
        if (want.type != LT_EV_ATTEMPT || (want.flags & LT_FL_TIMED)) continue;  // a timed wait ends by itself
        if (L.prim == LT_PRIM_SEM) {
            // A thread that waits again on a unit it took itself waits for
            // another thread's post (the unit is then a signal): no edge.
            for (const SemHolder& h : sem_lock(m, L).holders)
                if (h.thread != t.thread) edges.push_back({t.thread, h.thread, t.lock, SIZE_MAX, h.acquired});
            continue;
        }
        if (!L.has_owners()) continue;
        Mode mode = (want.flags & LT_FL_READ) ? kModeRead : kModeWrite;
        std::vector<size_t> holds = conflicting_holds(L, t.thread, mode);
        // A process-shared mutex whose word names another owner: the hold this
        // thread seems to have (inherited across fork) is another process's.
        if (L.prim == LT_PRIM_MUTEX && (uint32_t(want.addr2) & kMutexPshared) && mx_owner(want) != 0 &&
            mx_owner(want) != t.tid)
            holds.erase(std::remove_if(holds.begin(), holds.end(),
                                       [&](size_t hi) { return L.holds[hi].thread == t.thread; }),
                        holds.end());
        for (size_t hi : holds) edges.push_back({t.thread, L.holds[hi].thread, t.lock, hi});
        if (!holds.empty() || mode != kModeRead || L.prim != LT_PRIM_RWLOCK) continue;
        // A blocked reader with no writer holding the lock: on a writer-preferring
        // rwlock it queues behind the writers that are waiting.
        bool prefers_writers = rw_flags(want) != 0 || (rw_wrlocked(want) && !rw_wrphase(want));
        if (!prefers_writers) continue;
        for (const ThreadState& u : m.threads) {
            if (u.thread == t.thread || u.status != ThreadStatus::blocked || u.lock != t.lock) continue;
            const Event& uw = m.events[u.blocked_on];
            if (uw.type == LT_EV_ATTEMPT && !(uw.flags & LT_FL_READ) && !(uw.flags & LT_FL_TIMED))
                edges.push_back({t.thread, u.thread, t.lock, SIZE_MAX});
        }
    }
    return edges;
}

} // namespace fx
} // namespace lt
