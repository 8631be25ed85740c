// Finding functions to probe: the loaded modules, their function symbols
// (.symtab from the file on disk, .dynsym as a fall-back when the file is
// stripped), demangled names for C++ and Rust, and function bounds from the
// in-memory .eh_frame_hdr for code that has no symbol (stripped libc).
//
// Runs once at start-up, before (or beside) the program's own threads: it may
// allocate and make system calls.  Nothing here is on any hot path.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

namespace ltp {

struct module_info {
    std::string path;     // file on disk (main executable: its real path)
    uint64_t base = 0;    // load bias
    uint64_t text_lo = 0; // lowest / highest address of executable PT_LOAD segments
    uint64_t text_hi = 0;
    uint64_t eh_frame_hdr = 0; // in-memory address of PT_GNU_EH_FRAME, 0 if none
    bool is_main = false;
};

struct function_symbol {
    uint64_t addr = 0;
    uint64_t size = 0;
    std::string name;      // as in the symbol table (mangled)
    std::string demangled; // C++/Rust demangled, Rust hash suffix dropped; empty if not mangled
    int module = -1;       // index into modules()
};

// Loaded modules, in dl_iterate_phdr order (main executable first).
std::vector<module_info> loaded_modules();

// Calls `keep(name)` for every defined function symbol of the module; the
// symbols for which it returns true are returned (deduplicated by address,
// the symtab entry preferred).  `demangle` asks for demangled names to be
// filled in (only for names that `keep` accepted).
template <class F> std::vector<function_symbol> module_functions(const module_info &m, int index, F keep, bool demangle);

// Raw variant used by the template above.
typedef bool (*symbol_filter)(const char *name, void *ctx);
std::vector<function_symbol> module_functions_raw(const module_info &m, int index, symbol_filter keep, void *ctx,
                                                  bool demangle);

template <class F> std::vector<function_symbol> module_functions(const module_info &m, int index, F keep, bool demangle)
{
    return module_functions_raw(
        m, index, [](const char *n, void *c) { return (*static_cast<F *>(c))(n); }, &keep, demangle);
}

// Demangles a C++ or legacy-Rust name; Rust's "::h<16 hex>" suffix is
// dropped.  Returns "" if `name` is not mangled.
std::string demangle(const char *name);

// The function containing `pc` according to .eh_frame_hdr (in memory).
// Returns false if the module has no such table or no FDE covers pc.
bool function_bounds(const module_info &m, uint64_t pc, uint64_t *start, uint64_t *end);

} // namespace ltp
