#include "user_site.h"

#include <fnmatch.h>

namespace lt {

namespace {

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string base_name(const std::string& p)
{
    size_t s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
}

// Functions of the libraries, by their namespaces and prefixes.  "<" is a
// Rust trait method ("<std::sync::MutexGuard<T> as Drop>::drop"), "__" the
// C library's and the compiler's internals (__gthread_mutex_lock, ...).
bool library_function(const std::string& fn)
{
    for (const char* p : {"std::", "core::", "alloc::", "__gnu_cxx::", "_RN", "<", "__", "parking_lot::",
                          "parking_lot_core::", "lock_api::", "absl::", "folly::", "g_mutex_", "g_rec_mutex_",
                          "g_rw_lock_", "g_cond_", "g_once_", "g_thread_"})
        if (starts(fn, p)) return true;
    return false;
}

// Source files of the libraries: installed headers and sources (/usr/...),
// glibc's build tree ("./nptl/..."), Rust's standard library (built under
// /rustc/<hash>/library/...), and crates and projects of the lock libraries.
bool library_file(const std::string& file)
{
    if (starts(file, "/usr/") || starts(file, "./") || starts(file, "../")) return true;
    for (const char* p : {"/rustc/", "library/std/", "library/core/", "library/alloc/", "/parking_lot-",
                          "/parking_lot_core-", "/lock_api-", "/absl/", "/folly/", "/glib/"})
        if (has(file, p)) return true;
    return false;
}

bool library_module(const std::string& module)
{
    const std::string m = base_name(module);
    for (const char* p : {"libc.so", "libc-", "libpthread", "ld-linux", "libstdc++", "libc++", "liblocktrace",
                          "libglib-", "libabsl_", "libfolly"})
        if (starts(m, p)) return true;
    return false;
}

// A --skip-frames pattern: a shell glob matched against the function name, the
// source file and the module, each whole or by its last path component.
bool skipped(const Frame& f, const std::vector<std::string>& skip)
{
    for (const std::string& pat : skip)
        for (const std::string* s : {&f.function, &f.file, &f.module}) {
            if (s->empty()) continue;
            if (fnmatch(pat.c_str(), s->c_str(), 0) == 0 || fnmatch(pat.c_str(), base_name(*s).c_str(), 0) == 0)
                return true;
        }
    return false;
}

} // namespace

bool is_library_frame(const Frame& f, const std::vector<std::string>& skip)
{
    // Nothing known of it, not even its module (the vdso, an address no
    // module covers): nothing to quote.
    if (f.function.empty() && f.file.empty() && f.module.empty()) return true;
    // A stripped program's frames have no file, often no function either:
    // its module still tells whose code it is ("prog+0x1234").
    return (!f.function.empty() && library_function(f.function)) || (!f.file.empty() && library_file(f.file)) ||
           (!f.module.empty() && library_module(f.module)) || skipped(f, skip);
}

const Frame* user_frame(const std::vector<Frame>& frames, const std::vector<std::string>& skip)
{
    for (const Frame& f : frames)
        if (!is_library_frame(f, skip)) return &f;
    return nullptr;
}

std::string user_site(Symbolizer& sym, uint32_t stack_id)
{
    if (stack_id == 0) return "";
    const std::vector<Frame> frames = sym.stack(stack_id);
    const Frame* f = user_frame(frames, sym.skip_frames());
    if (!f) return "";
    Frame site = *f;
    site.inlined = false;  // the summary quotes the place, the stack says how it got there
    return site.to_string();
}

} // namespace lt
