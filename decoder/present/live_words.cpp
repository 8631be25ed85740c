#include "live_words.h"
#include "present.h"
#include "user_site.h"

#include <cstdio>

namespace lt {

namespace {

std::string futex_op(uint64_t op)
{
    static const char* names[] = {"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
                                  "FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
                                  "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
                                  "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2"};
    uint64_t cmd = op & 127;
    std::string s = cmd < sizeof names / sizeof names[0] ? names[cmd] : "op " + std::to_string(cmd);
    if (op & 128) s += "_PRIVATE";
    return s;
}

// Every frame of a live stack, inlined ones expanded; `scanned` marks those
// found by scanning the stack rather than by CFI.
struct LiveFrame {
    Frame f;
    bool scanned;
};

std::vector<LiveFrame> live_frames(Symbolizer& sym, const LiveThread& t)
{
    std::vector<LiveFrame> out;
    for (size_t i = 0; i < t.stack.size(); i++)
        for (const Frame& f : sym.frames(t.stack[i], i > 0)) out.push_back({f, i >= t.unwound});
    return out;
}

} // namespace

std::string data_words(Symbolizer& sym, uint64_t addr)
{
    std::string name = sym.data_name(addr);
    if (name.empty()) return "";
    // ld.so keeps its locks (the load lock dlopen and dlclose take, and the
    // others) in _rtld_global.
    if (name.compare(0, 12, "_rtld_global") == 0 && (name.size() == 12 || name[12] == '+'))
        return " (" + name + ", a lock of the dynamic loader)";
    return " (" + name + ")";
}

std::string live_call_words(const Model& m, Symbolizer& sym, int32_t tid)
{
    const LiveThread* t = m.live ? m.live->thread(tid) : nullptr;
    if (!t || t->stack.empty()) return "";
    std::vector<LiveFrame> fr = live_frames(sym, *t);
    const std::vector<std::string>& skip = sym.skip_frames();
    size_t user = fr.size();
    for (size_t i = 0; i < fr.size(); i++)
        if (!is_library_frame(fr[i].f, skip)) {
            user = i;
            break;
        }
    // The library function the user's code called (the outermost library frame before it).
    std::string entry;
    for (size_t i = 0; i < user; i++)
        if (!fr[i].f.function.empty()) entry = fr[i].f.function;
    std::string site = user < fr.size() ? fr[user].f.to_string() + (fr[user].scanned ? " [scanned]" : "") : "";
    if (entry.empty()) return site;
    return site.empty() ? entry : entry + ", called from " + site;
}

std::string live_call_text(const LiveThread& t)
{
    if (t.call == LiveThread::Call::running) return "running (not in a system call)";
    if (t.call == LiveThread::Call::unknown) return "system call unknown";
    const uint64_t* a = t.args;
    std::string n = syscall_name(t.nr);
    if (n == "futex") return "futex(" + hex_addr(a[0]) + ", " + futex_op(a[1]) + ", " + std::to_string(uint32_t(a[2])) + ")";
    if (n == "read" || n == "write" || n == "recvfrom" || n == "sendto" || n == "pread64" || n == "pwrite64")
        return n + "(" + std::to_string(int32_t(a[0])) + ", " + hex_addr(a[1]) + ", " + std::to_string(a[2]) + ")";
    if (n == "poll" || n == "ppoll") return n + "(" + hex_addr(a[0]) + ", " + std::to_string(a[1]) + ", ...)";
    if (n.compare(0, 8, "syscall ") == 0 || n == "openat" || n == "ioctl")
        return n + "(" + hex_addr(a[0]) + ", " + hex_addr(a[1]) + ", " + hex_addr(a[2]) + ", ...)";
    return n + "(" + std::to_string(int64_t(a[0])) + ", ...)";
}

std::string live_view_section(const Model& m, Symbolizer& sym, const LiveView& v)
{
    std::string o = "LIVE VIEW: " + std::to_string(v.threads.size()) + " thread(s) of pid " + std::to_string(v.pid) +
                    ", read at " + rel_time(m, v.taken_ns) +
                    (v.source == "watchdog" ? " by the watchdog inside the process"
                                            : " from /proc and the process's memory") +
                    " (no ptrace, no signal: sleepers stay asleep)\n";
    for (const std::string& r : v.refused) o += "  refused: " + r + "\n";
    for (const LiveThread& t : v.threads) {
        const ThreadState* ts = m.thread_by_tid(t.tid);
        std::string head = "  " + (ts ? thread_label(m, ts->thread) : "thread " + std::to_string(t.tid) +
                                                                          (t.name.empty() ? "" : " \"" + t.name + "\"") +
                                                                          " (not traced)");
        head += " [" + std::string(1, t.state) + "]: " + live_call_text(t);
        if (!t.wchan.empty()) head += " in " + t.wchan;
        o += head + "\n";
        if (t.word_known) {
            o += "    word now: " + std::to_string(t.word) + " (the wait expects " + std::to_string(t.futex_expected()) +
                 ")";
            if (t.mutex_owner) o += "; a glibc mutex whose __owner is thread " + std::to_string(t.mutex_owner);
            if (const ThreadState* ow = t.owner_thread_ptr ? m.thread_by_pthread(t.owner_thread_ptr, m.end_ns) : nullptr)
                o += "; a C library lock (like a stdio FILE's) owned by " + thread_label(m, ow->thread);
            if (size_t n = v.malloc_arena(t.futex_wait_addr()))
                o += n == 1 ? "; the malloc arena lock" : "; the lock of malloc arena " + std::to_string(n);
            o += "; " + hex_addr(t.futex_wait_addr()) + data_words(sym, t.futex_wait_addr()) + "\n";
        }
        if (t.in_malloc) o += "    inside malloc or free: may hold a malloc arena's lock\n";
        for (const LiveFd& f : t.fds) o += "    on " + f.what + "\n";
        if (!t.problem.empty()) o += "    note: " + t.problem + "\n";
        size_t k = 0;
        for (const LiveFrame& lf : live_frames(sym, t)) {
            if (k == 16) {
                o += "    ...\n";
                break;
            }
            o += "    #" + std::to_string(k++) + " " + lf.f.to_string() +
                 (lf.scanned ? " [scanned]" : "") + "\n";
        }
    }
    bool any_scanned = false;
    for (const LiveThread& t : v.threads) any_scanned |= t.stack.size() > t.unwound;
    if (any_scanned)
        o += "  ([scanned]: found by scanning the stack for return addresses after a call, where the modules' "
             "CFI needed a register /proc does not give; such frames may include stale ones)\n";
    return o + "\n";
}

std::string live_word_line(const Model& m, const Lock& L, const Event& e)
{
    const LiveWord* w = m.live ? m.live->word(L.addr) : nullptr;
    LiveWord own;  // else the word a thread sleeps on (the watchdog's view reads only those)
    if (!w && m.live && (L.prim == LT_PRIM_FUTEX || L.prim == LT_PRIM_SEM))
        for (const LiveThread& t : m.live->threads)
            if (t.word_known && t.futex_wait_addr() == L.addr) {
                own.addr = L.addr, own.read = true, own.v[0] = t.word;
                w = &own;
            }
    if (!w) return "";
    char b[240];
    switch (L.prim) {
    case LT_PRIM_MUTEX:
        snprintf(b, sizeof b, "lock word now: __lock=%u, __owner=%u (read live; it was __lock=%u, __owner=%u when it blocked)",
                 w->v[0], w->v[2], unsigned(e.state[0]), unsigned(e.state[1]));
        return b;
    case LT_PRIM_RWLOCK:
        snprintf(b, sizeof b, "lock word now: %u reader(s), %s, __cur_writer=%u (read live)", w->v[0] >> 3,
                 (w->v[0] & 2) ? "write-locked" : "not write-locked", w->v[3]);
        return b;
    case LT_PRIM_FUTEX: {
        uint32_t expected = uint32_t(e.state[1]);
        snprintf(b, sizeof b, "futex word now: %u (read live), the waiter expected %u%s", w->v[0], expected,
                 w->v[0] == expected ? ": unchanged, so it sleeps until a wake"
                                     : ": it changed, and only a wake makes the sleeper look again");
        return b;
    }
    case LT_PRIM_SEM:
        snprintf(b, sizeof b, "semaphore value now: %u (read live)", w->v[0]);
        return b;
    default: return "";
    }
}

nlohmann::json live_view_json(const Model& m, Symbolizer& sym, const LiveView& v)
{
    using nlohmann::json;
    json th = json::array();
    for (const LiveThread& t : v.threads) {
        json frames = json::array();
        for (const LiveFrame& lf : live_frames(sym, t))
            frames.push_back({{"address", hex_addr(lf.f.address)},
                              {"function", lf.f.function},
                              {"file", lf.f.file},
                              {"line", lf.f.line},
                              {"inlined", lf.f.inlined},
                              {"scanned", lf.scanned}});
        json fds = json::array();
        for (const LiveFd& f : t.fds) fds.push_back({{"fd", f.fd}, {"what", f.what}});
        json j = {{"thread", t.tid},
                  {"name", t.name},
                  {"traced", m.thread_by_tid(t.tid) != nullptr},
                  {"state", std::string(1, t.state)},
                  {"call", live_call_text(t)},
                  {"syscall", t.call == LiveThread::Call::in_call ? json(t.nr) : json(nullptr)},
                  {"wchan", t.wchan},
                  {"fds", fds},
                  {"stack", frames},
                  {"in_malloc", t.in_malloc}};
        if (t.call == LiveThread::Call::in_call) {
            json args = json::array();
            for (uint64_t a : t.args) args.push_back(hex_addr(a));
            j["args"] = args;
        }
        if (t.sp || t.pc) j["sp"] = hex_addr(t.sp), j["pc"] = hex_addr(t.pc);
        if (t.word_known)
            j["futex"] = {{"address", hex_addr(t.futex_wait_addr())},
                          {"symbol", sym.data_name(t.futex_wait_addr())},
                          {"word", t.word},
                          {"expected", t.futex_expected()},
                          {"mutex_owner", t.mutex_owner ? json(t.mutex_owner) : json(nullptr)},
                          {"owner_thread_pointer", t.owner_thread_ptr ? json(hex_addr(t.owner_thread_ptr)) : json(nullptr)},
                          {"malloc_arena", v.malloc_arena(t.futex_wait_addr()) ? json(v.malloc_arena(t.futex_wait_addr()))
                                                                                 : json(nullptr)}};
        if (!t.problem.empty()) j["problem"] = t.problem;
        th.push_back(std::move(j));
    }
    return {{"pid", v.pid},
            {"taken_ns", m.rel(v.taken_ns)},
            {"source", v.source},
            {"refused", v.refused},
            {"threads", th}};
}

nlohmann::json live_word_json(const Model& m, const Lock& L)
{
    const LiveWord* w = m.live ? m.live->word(L.addr) : nullptr;
    if (!w) return nullptr;
    return {{"words", {w->v[0], w->v[1], w->v[2], w->v[3]}}, {"taken_ns", m.rel(m.live->taken_ns)}};
}

} // namespace lt
