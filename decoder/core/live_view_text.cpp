// The live view's text form (live_view.h; man/locktrace-format.5, LIVE VIEW
// FILE): what TRACE.live, a bundle's LIVE section and the watchdog hold.
// Read back as untrusted input: bad lines are skipped, sizes capped.
#include "live_proc.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <unistd.h>

namespace lt {

using live::hex;
using live::kMaxFrames;
using live::kMaxThreads;
using live::trim;

namespace {
constexpr size_t kMaxLine = 1 << 16;
constexpr size_t kMaxStackCopy = 16384;  // bytes of a thread's stack the watchdog copies
constexpr size_t kMaxArenas = 1024, kMaxMaps = 4096, kMaxFdLinks = 1024;
} // namespace

// //   locktrace-live 1
//   pid PID / taken_ns NS / source WORDS / refused WORDS
//   thread TID STATE NAME          (the lines below name a thread declared before them)
//   syscall TID running | syscall TID NR A0 .. A5 SP PC | syscall TID sp-pc SP PC
//   wchan TID NAME / futex TID WORD OWNER / fd TID FD WORDS
//   stack TID UNWOUND PC...        (the first UNWOUND from CFI, the rest scanned)
//   problem TID WORDS / word ADDR V0 V1 V2 V3
//   arena ADDR / inmalloc TID      (malloc arenas' lock words, main_arena first; a thread inside malloc)
//   map MAPS-LINE / fdlink FD TARGET / stackmem TID SP HEX   (the watchdog's raw material)

std::string live_view_text(const LiveView& v)
{
    std::string o = "locktrace-live 1\n";
    auto line = [&](const std::string& s) {
        std::string c = s;
        std::replace(c.begin(), c.end(), '\n', ' ');
        o += c + "\n";
    };
    line("pid " + std::to_string(v.pid));
    line("taken_ns " + std::to_string(v.taken_ns));
    line("source " + v.source);
    for (const std::string& r : v.refused) line("refused " + r);
    for (uint64_t a : v.malloc_arenas) line("arena " + hex(a));
    for (const std::string& m : v.maps) line("map " + m);
    for (const auto& [fd, target] : v.fd_links) line("fdlink " + std::to_string(fd) + " " + target);
    for (const LiveThread& t : v.threads) {
        const std::string id = " " + std::to_string(t.tid);
        line("thread" + id + " " + std::string(1, t.state) + " " + t.name);
        if (t.call == LiveThread::Call::running && !t.pc) line("syscall" + id + " running");
        else if (t.call == LiveThread::Call::running) line("syscall" + id + " sp-pc " + hex(t.sp) + " " + hex(t.pc));
        else if (t.call == LiveThread::Call::in_call) {
            std::string s = "syscall" + id + " " + std::to_string(t.nr);
            for (uint64_t a : t.args) s += " " + hex(a);
            line(s + " " + hex(t.sp) + " " + hex(t.pc));
        }
        if (!t.wchan.empty()) line("wchan" + id + " " + t.wchan);
        if (t.word_known)
            line("futex" + id + " " + std::to_string(t.word) + " " + std::to_string(t.mutex_owner) +
                 (t.owner_thread_ptr ? " " + hex(t.owner_thread_ptr) : ""));
        for (const LiveFd& f : t.fds) line("fd" + id + " " + std::to_string(f.fd) + " " + f.what);
        if (!t.stack.empty()) {
            std::string s = "stack" + id + " " + std::to_string(t.unwound);
            for (uint64_t pc : t.stack) s += " " + hex(pc);
            line(s);
        }
        if (!t.problem.empty()) line("problem" + id + " " + t.problem);
        if (t.in_malloc) line("inmalloc" + id);
        if (!t.mem.empty()) {
            static const char digits[] = "0123456789abcdef";
            std::string s = "stackmem" + id + " " + hex(t.mem_sp) + " ";
            for (uint8_t b : t.mem) s += {digits[b >> 4], digits[b & 15]};
            line(s);
        }
    }
    for (const LiveWord& w : v.words)
        if (w.read)
            line("word " + hex(w.addr) + " " + std::to_string(w.v[0]) + " " + std::to_string(w.v[1]) + " " +
                 std::to_string(w.v[2]) + " " + std::to_string(w.v[3]));
    return o;
}

bool parse_live_view(const std::string& text, LiveView* v, std::string* why)
{
    *v = LiveView();
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || trim(line) != "locktrace-live 1") {
        *why = "not a locktrace live view (first line is not \"locktrace-live 1\")";
        return false;
    }
    auto u64 = [](const std::string& s, uint64_t* out) {
        char* end = nullptr;
        errno = 0;
        *out = strtoull(s.c_str(), &end, 0);
        return !s.empty() && s[0] != '-' && end && *end == 0 && errno == 0;
    };
    std::map<int32_t, size_t> index;
    while (std::getline(in, line)) {
        if (line.size() > kMaxLine) continue;
        std::istringstream ls(line);
        std::string key, rest;
        ls >> key;
        auto word = [&] {
            std::string w;
            ls >> w;
            return w;
        };
        auto tail = [&] {
            std::string r;
            std::getline(ls, r);
            size_t s = r.find_first_not_of(' ');
            return s == std::string::npos ? std::string() : r.substr(s);
        };
        uint64_t n;
        if (key == "pid" && u64(word(), &n) && n < (1u << 31)) v->pid = int32_t(n);
        else if (key == "taken_ns" && u64(word(), &n)) v->taken_ns = n;
        else if (key == "source") v->source = tail();
        else if (key == "refused") v->refused.push_back(tail());
        else if (key == "arena") {
            if (u64(word(), &n) && n && v->malloc_arenas.size() < kMaxArenas) v->malloc_arenas.push_back(n);
        } else if (key == "map") {
            if (v->maps.size() < kMaxMaps) v->maps.push_back(tail());
        } else if (key == "fdlink") {
            if (u64(word(), &n) && n < (1u << 30) && v->fd_links.size() < kMaxFdLinks)
                v->fd_links.emplace_back(int(n), tail());
        }
        else if (key == "word") {
            LiveWord w;
            uint64_t x[4];
            if (!u64(word(), &w.addr)) continue;
            bool ok = true;
            for (int i = 0; i < 4; i++) ok = ok && u64(word(), &x[i]) && x[i] <= UINT32_MAX;
            if (!ok || v->words.size() >= kMaxThreads) continue;
            for (int i = 0; i < 4; i++) w.v[i] = uint32_t(x[i]);
            w.read = true;
            v->words.push_back(w);
        } else if (key == "thread") {
            if (!u64(word(), &n) || n == 0 || n >= (1u << 31) || index.count(int32_t(n)) ||
                v->threads.size() >= kMaxThreads)
                continue;
            LiveThread t;
            t.tid = int32_t(n);
            std::string st = word();
            t.state = st.size() == 1 ? st[0] : '?';
            t.name = tail();
            index[t.tid] = v->threads.size();
            v->threads.push_back(std::move(t));
        } else {
            if (!u64(word(), &n)) continue;
            auto it = index.find(int32_t(n));
            if (n >= (1u << 31) || it == index.end()) continue;
            LiveThread& t = v->threads[it->second];
            if (key == "syscall") {
                std::string r = tail();
                if (r.compare(0, 6, "sp-pc ") == 0) {
                    std::istringstream rs(r.substr(6));
                    std::string a, b;
                    rs >> a >> b;
                    if (u64(a, &t.sp) && u64(b, &t.pc)) t.call = LiveThread::Call::running;
                } else if (!parse_syscall_line(r, &t)) {
                    t.call = LiveThread::Call::unknown;
                }
            } else if (key == "wchan") {
                t.wchan = tail();
            } else if (key == "futex") {
                uint64_t w, o;
                if (u64(word(), &w) && w <= UINT32_MAX && u64(word(), &o) && o < (1u << 31)) {
                    t.word_known = true;
                    t.word = uint32_t(w);
                    t.mutex_owner = int32_t(o);
                    uint64_t ptr;
                    if (u64(word(), &ptr)) t.owner_thread_ptr = ptr;  // optional
                }
            } else if (key == "fd") {
                uint64_t fd;
                if (u64(word(), &fd) && fd < (1u << 30) && t.fds.size() < 64) t.fds.push_back({int(fd), tail()});
            } else if (key == "stack") {
                uint64_t unwound, pc;
                if (!u64(word(), &unwound)) continue;
                t.stack.clear();
                std::string w;
                while (ls >> w && t.stack.size() < kMaxFrames)
                    if (u64(w, &pc)) t.stack.push_back(pc);
                t.unwound = std::min<uint64_t>(unwound, t.stack.size());
            } else if (key == "problem") {
                t.problem = tail();
            } else if (key == "inmalloc") {
                t.in_malloc = true;
            } else if (key == "stackmem") {
                uint64_t sp;
                std::string hexbytes = word();
                if (!u64(hexbytes, &sp)) continue;
                hexbytes = word();
                if (hexbytes.size() % 2 || hexbytes.size() > 2 * kMaxStackCopy) continue;
                auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
                std::vector<uint8_t> mem(hexbytes.size() / 2);
                bool ok = true;
                for (size_t i = 0; i < mem.size() && ok; i++) {
                    int hi = nibble(hexbytes[2 * i]), lo = nibble(hexbytes[2 * i + 1]);
                    ok = hi >= 0 && lo >= 0;
                    mem[i] = uint8_t(hi << 4 | lo);
                }
                if (!ok) continue;
                t.mem_sp = sp;
                t.mem = std::move(mem);
            }
        }
    }
    // An owner must be a thread of the view (the watchdog writes the field raw).
    for (LiveThread& t : v->threads)
        if (t.mutex_owner && (t.mutex_owner == t.tid || !index.count(t.mutex_owner))) t.mutex_owner = 0;
    v->taken = v->pid > 0;
    if (!v->taken) {
        *why = "the live view names no process";
        return false;
    }
    finish_raw_view(*v);
    return true;
}

std::string live_view_path(const std::string& trace_path) { return trace_path + ".live"; }

bool save_live_view(const LiveView& v, const std::string& path, std::string* why)
{
    const std::string tmp = path + ".tmp" + std::to_string(getpid());
    // A new file of ours only: never one planted under that name.
    unlink(tmp.c_str());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *why = tmp + ": " + strerror(errno);
        return false;
    }
    const std::string text = live_view_text(v);
    bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        *why = path + ": " + strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    return true;
}

bool load_live_view(const std::string& path, LiveView* v)
{
    std::string text, why;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 24)) text.append(buf, size_t(r));
    close(fd);
    return parse_live_view(text, v, &why);
}

} // namespace lt
