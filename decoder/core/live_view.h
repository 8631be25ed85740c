// The live view: what every thread of a running process is doing now, read
// from /proc and from the process's memory (process_vm_readv) without ptrace
// and without signals, so a thread asleep in FUTEX_WAIT stays asleep (ptrace
// and signals restart the wait, which re-checks the word and can end exactly
// the lost wakeup we are looking at).
//
// Per thread: its state, its system call and arguments with sp and pc
// (/proc/PID/task/TID/syscall), its wait channel; for a futex wait the word's
// value now and, when the word is the lock word of a glibc pthread_mutex_t
// (glibc's own locks such as the dynamic loader's are), the owner its
// __owner field names; for an I/O wait the file descriptors and what they are
// (socket and its peer, pipe, file); and the user stack, unwound from sp and
// pc with the modules' CFI (libdw) and continued, where CFI needs a register
// /proc does not give, by a scan of the stack for return addresses (marked).
//
// A view is stored as text (live_view_text / parse_live_view) next to a raw
// trace (`TRACE.live`, format in locktrace-format(5)), in a bundle, and the
// shim's watchdog writes the same text from inside the process.  The text is
// untrusted when read back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

struct LiveFd {
    int fd = -1;
    std::string what;   // "unix socket socket:[123], its peer is fd 7 of this process", "pipe ...", "file /x"
};

struct LiveThread {
    int32_t tid = 0;
    std::string name;
    char state = '?';          // /proc stat state: R running, S sleeping, D disk sleep, T stopped, ...
    enum class Call : uint8_t { unknown, running, in_call } call = Call::unknown;
    int64_t nr = -1;           // the system call (in_call)
    uint64_t args[6] = {};
    uint64_t sp = 0, pc = 0;   // user sp and pc (in_call and running with a known pc)
    std::string wchan;         // kernel function it sleeps in ("futex_wait_queue"), or empty
    // A futex wait: the word's value now, and the owner tid a glibc mutex at
    // that address names (0: none, or it does not look like a glibc mutex).
    bool word_known = false;
    uint32_t word = 0;
    int32_t mutex_owner = 0;
    // When the word is the lock of a glibc internal lock that names its owner
    // by thread pointer (stdio's FILE lock, _IO_lock_t: lock 1 or 2, a
    // recursion count, the owner's pthread_t), that pointer; else 0.
    uint64_t owner_thread_ptr = 0;
    std::vector<LiveFd> fds;   // an I/O wait's descriptors
    std::vector<uint64_t> stack; // pc first, then return addresses
    size_t unwound = 0;        // stack[0, unwound) from CFI, the rest found by scanning the stack
    std::string problem;       // what could not be read for this thread
    // A frame of its stack is in glibc's malloc (malloc, free, realloc, their
    // internals): it may hold a malloc arena's lock.  Known when the stack
    // was unwound with symbols.
    bool in_malloc = false;
    // The watchdog's raw material: a copy of the stack from `mem_sp` up,
    // unwound by the decoder when it reads the view.
    uint64_t mem_sp = 0;
    std::vector<uint8_t> mem;

    // The address of the futex this thread sleeps on (FUTEX_WAIT/WAIT_BITSET), or 0.
    uint64_t futex_wait_addr() const;
    // The expected value of that wait.
    uint32_t futex_expected() const { return uint32_t(args[2]); }
    // Blocked in a system call that waits for I/O or another process (read,
    // poll, accept, connect, wait4, ...): fds or a child pid say on what.
    bool io_wait() const;
};

// A word read because the recorded history shows a thread blocked on it:
// 16 bytes from `addr` (a glibc mutex's __lock, __count, __owner, __nusers).
struct LiveWord {
    uint64_t addr = 0;
    bool read = false;
    uint32_t v[4] = {};
};

struct LiveView {
    bool taken = false;
    int32_t pid = 0;
    uint64_t taken_ns = 0;     // CLOCK_MONOTONIC, the trace's clock
    std::string source;        // "outside" (report, snapshot, pack) or "watchdog" (in the process)
    std::vector<std::string> refused; // what the kernel refused and how to get it
    std::vector<LiveThread> threads;
    std::vector<LiveWord> words;
    // The lock words of glibc's malloc arenas, main_arena's first (its
    // address from libc's symbols; the others follow its `next` list when
    // the memory could be read).  Empty when libc's symbols were not found.
    std::vector<uint64_t> malloc_arenas;
    // The watchdog's raw material (the decoder works on it when reading the
    // view): the process's file-backed mappings as /proc/PID/maps lines, and
    // the target of each descriptor ("socket:[INODE]", "pipe:[INODE]", a path).
    std::vector<std::string> maps;
    std::vector<std::pair<int, std::string>> fd_links;

    const LiveThread* thread(int32_t tid) const;
    const LiveWord* word(uint64_t addr) const;
    // `addr` is the lock word of a malloc arena: 1 for main_arena, 2 for the
    // next one, ...; 0 if it is none.
    size_t malloc_arena(uint64_t addr) const;
};

// Turns the watchdog's raw material into what a view taken from outside
// has: each stack unwound with the modules' CFI (continued by the watchdog's
// own scan), the descriptors described (socket peers, pipe ends), the malloc
// arenas and the threads inside malloc.  parse_live_view calls it.
void finish_raw_view(LiveView& v);

// Takes the view of process `pid` now from outside, reading `words` too.
// Never fails: what cannot be read is said in `refused` / a thread's `problem`.
LiveView take_live_view(int32_t pid, const std::vector<uint64_t>& words);

std::string live_view_text(const LiveView& v);
// False (and `why`) when the text is not a live view; bad lines are skipped.
bool parse_live_view(const std::string& text, LiveView* v, std::string* why);
// `TRACE.live` next to a raw trace.
std::string live_view_path(const std::string& trace_path);
// Writes it atomically (a temporary name, then rename); false with `why`.
bool save_live_view(const LiveView& v, const std::string& path, std::string* why);
// Reads `path`; false when absent or not a live view.
bool load_live_view(const std::string& path, LiveView* v);

// "futex", "read", ... or "syscall 123".
std::string syscall_name(int64_t nr);

// Parsers of /proc lines (pure; exposed for tests).
// /proc/PID/task/TID/stat: the state letter (the name may hold spaces and parens).
bool parse_stat_state(const std::string& line, char* state);
// /proc/PID/task/TID/syscall: "NR a0..a5 sp pc", "running", "-1 sp pc" (blocked, not in a call).
bool parse_syscall_line(const std::string& line, LiveThread* t);
// One row of /proc/net/tcp or tcp6: local and remote as "ip:port", the inode.
struct TcpRow {
    std::string local, remote;
    uint64_t inode = 0;
    int state = 0;
};
bool parse_net_tcp_line(const std::string& line, bool v6, TcpRow* row);
// The row whose local/remote are `r`'s remote/local (the other end of a
// connection on this machine), or null.
const TcpRow* tcp_peer(const std::vector<TcpRow>& rows, const TcpRow& r);
// One row of /proc/net/unix: the inode and the bound path (may be empty).
bool parse_net_unix_line(const std::string& line, uint64_t* inode, std::string* path);

} // namespace lt
