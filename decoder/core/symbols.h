// Symbolization of recorded addresses with elfutils' libdw, using the module
// table of the trace (path, load bias, address range, build-id).  A binary that
// is missing or whose build-id differs from the recorded one is not trusted:
// its addresses are shown as module+offset.
#pragma once

#include "trace_reader.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lt {

struct Frame {
    uint64_t address = 0;   // as recorded (a return address for all but the innermost frame)
    std::string function;   // demangled; empty if unknown
    std::string file;       // source file; empty if unknown
    int line = 0;
    int column = 0;         // 0 if unknown
    // The function's body was inlined into the next frame's: both share the
    // address, and `line` is where this function was, not a call instruction.
    bool inlined = false;
    std::string module;     // path of the module, empty if none covers the address
    uint64_t offset = 0;    // address - module load bias
    // "func (file.c:12)" or "libfoo.so+0x1234" or "0x7f...".
    std::string to_string() const;
};

// Symbols carried inside a bundle (decoder/bundle/): what the binaries said on
// the machine that packed it, so the trace reads the same where they are absent.
struct SymbolTable {
    // Stack addresses, as looked up for stacks: the inline chain of each,
    // innermost first, the last one the function the address lies in.
    std::unordered_map<uint64_t, std::vector<Frame>> frames;
    std::unordered_map<uint64_t, std::string> data; // data_name() of the lock addresses
    std::vector<std::string> notes;                 // what the packing machine could not symbolize
};

// Answers from the trace's embedded SymbolTable when it has one (a bundle),
// else from the binaries named in its module table.
class Symbolizer {
public:
    // `debug_dirs` (--debug-dir): more places for separate debug files,
    // searched first and as /usr/lib/debug is: DIR/.build-id/xx/rest.debug,
    // DIR/<the binary's directory>/<its .gnu_debuglink name>.
    explicit Symbolizer(const Trace& trace, std::vector<std::string> debug_dirs = {});
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    // The frames of one address: the functions inlined at it, innermost first
    // (each marked inlined), then the function it lies in.  Never empty.
    // `return_address`: look up pc - 1 so that the line is the call, not the next statement.
    const std::vector<Frame>& frames(uint64_t pc, bool return_address = true);
    // Every frame of a recorded stack, innermost first, inlined ones included.
    // All addresses are return addresses (the recorder starts at the caller
    // of the wrapped function).
    std::vector<Frame> stack(uint32_t stack_id);
    // Name of a data address (global variable): "accounts_lock", "table+16"; "" if none.
    std::string data_name(uint64_t addr);
    // Problems found while loading modules ("build-id differs: /usr/bin/foo"), for the report.
    const std::vector<std::string>& notes() const { return notes_; }
    // The user's own wrappers around locks (--skip-frames): globs of function
    // names, source files or modules whose frames the user's site lies past
    // (present/user_site.h), as it lies past the libraries'.
    void set_skip_frames(std::vector<std::string> patterns) { skip_frames_ = std::move(patterns); }
    const std::vector<std::string>& skip_frames() const { return skip_frames_; }

private:
    struct Impl;
    // (Re)loads the module table of trace_.  A Symbolizer kept in a cache by
    // the Trace's address may outlive its Trace and see another one built at
    // the same address (a fuzzer does this every input): the serial tells,
    // and everything is loaded again instead of indexing the old tables.
    void load();
    void check_trace()
    {
        if (trace_.serial() != serial_) load();
    }
    std::unique_ptr<Impl> impl_;
    const Trace& trace_;
    uint64_t serial_ = 0;
    std::unordered_map<uint64_t, std::vector<Frame>> cache_;
    std::vector<std::string> notes_;
    std::vector<std::string> skip_frames_;
    std::vector<std::string> debug_dirs_;
};

// C++ (Itanium), Rust legacy (hash stripped) and Rust v0 demangling; returns the input if it is none.
std::string demangle(const std::string& name);

// The same file under the other spelling of a merged /usr (/lib/x.so and
// /usr/lib/x.so, /bin and /usr/bin, ...): a trace made where one is a
// symlink to the other may name a file this machine has only under the
// other spelling.  "" if the path has no such twin.
std::string merged_usr_twin(const std::string& path);

} // namespace lt
