#include "symbols.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
// The C library declares basename(); libiberty's header must not declare it again.
#define HAVE_DECL_BASENAME 1
#include <libiberty/demangle.h>

namespace lt {

namespace {

std::string hex(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

std::string base_name(const std::string& p)
{
    size_t s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
}

} // namespace

std::string demangle(const std::string& name)
{
    std::string r;
    // Rust, both manglings (legacy, with its hash left out, and v0), by
    // libiberty: NULL for anything that is not a Rust symbol.
    if (char* d = rust_demangle(name.c_str(), DMGL_RUST)) {
        r = d;
        free(d);
        return r;
    }
    if (name.compare(0, 2, "_Z") == 0) {
        int status = 0;
        char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
        if (d && status == 0) {
            r = d;
            free(d);
            return r;
        }
        free(d);
    }
    return name;
}

std::string merged_usr_twin(const std::string& p)
{
    for (const char* top : {"/lib/", "/lib64/", "/lib32/", "/libx32/", "/bin/", "/sbin/"}) {
        size_t n = strlen(top);
        if (p.compare(0, n, top) == 0) return "/usr" + p;
        if (p.compare(0, 4 + n, std::string("/usr") + top) == 0) return p.substr(4);
    }
    return "";
}

std::string Frame::to_string() const
{
    std::string s;
    if (!function.empty()) {
        s = function;
        if (!file.empty()) s += " (" + base_name(file) + ":" + std::to_string(line) + ")";
        else if (!module.empty()) s += " (" + base_name(module) + ")";
    } else if (!module.empty()) {
        s = base_name(module) + "+" + hex(offset);
    } else {
        s = hex(address);
    }
    if (inlined) s += " [inlined]";
    return s;
}

struct Symbolizer::Impl {
    Dwfl* dwfl = nullptr;
    std::string search;            // libdwfl's debuginfo_path, "" for its default
    char* debuginfo_path = nullptr;
    Dwfl_Callbacks cb{};
    std::vector<bool> trusted;  // per trace module: file on disk matches the build-id
    // Per trusted module: what decides its answers (file identity and load
    // bias), the key prefix into the process-wide frame cache below.
    std::vector<std::string> identity;
    ~Impl();
};

namespace {

// Frames looked up in binaries, shared by every Symbolizer of the process.
// `pack` makes one and the detectors make another for the same trace; without
// this each inflates the (compressed) DWARF of libc's debug file again, which
// was a tenth of pack's CPU time.  The key holds everything the answer depends
// on (the file's path, build-id, device, inode, size and mtime, the load bias,
// the pc and the lookup mode), so two traces never mix.  Bounded: dropped
// whole when it grows past kMaxShared (a fuzzer feeds endless traces).
constexpr size_t kMaxShared = 1 << 16;
std::mutex g_shared_mu;
std::unordered_map<std::string, std::vector<Frame>>& shared_frames()
{
    static auto* m = new std::unordered_map<std::string, std::vector<Frame>>; // never destroyed: used from static dtors
    return *m;
}

std::string module_identity(const Module& m, const struct stat& st, const std::string& search)
{
    std::string k = search;  // where its debug file was looked for
    k.push_back('\0');
    k += m.path;
    k.push_back('\0');
    k.append(reinterpret_cast<const char*>(m.build_id.data()), m.build_id.size());
    uint64_t v[6] = {uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size),
                     uint64_t(st.st_mtim.tv_sec), uint64_t(st.st_mtim.tv_nsec), m.base};
    k.append(reinterpret_cast<const char*>(v), sizeof v);
    return k;
}

} // namespace

Symbolizer::Symbolizer(const Trace& trace, std::vector<std::string> debug_dirs)
    : trace_(trace), debug_dirs_(std::move(debug_dirs))
{
    load();
}

namespace {

// libdwfl's search path for separate debug files: the user's directories
// (made absolute: a relative entry would mean a directory beside each
// binary), then libdwfl's own default, the binary's directory, its .debug/
// and /usr/lib/debug.  "" when there are none, for libdwfl's default as is.
std::string debug_search_path(const std::vector<std::string>& dirs)
{
    if (dirs.empty()) return "";
    std::string path;
    for (const std::string& d : dirs) {
        std::string abs = d;
        if (abs.empty() || abs[0] != '/') {
            char cwd[4096];
            if (!getcwd(cwd, sizeof cwd)) continue;
            abs = std::string(cwd) + "/" + d;
        }
        path += abs + ":";
    }
    return path + ":.debug:/usr/lib/debug";
}

// The file a trace module names, opened if it is a regular file: the path
// as recorded, else its merged-/usr twin.  Its build-id, if the trace has
// one, must match; *why says what is wrong otherwise.
struct OpenedModule {
    int fd = -1;
    std::string path;
    struct stat st {};
};

OpenedModule open_module(const Module& m, std::string* why)
{
    OpenedModule best;
    std::string twin = merged_usr_twin(m.path);
    for (const std::string& path : {m.path, twin}) {
        if (path.empty()) continue;
        // The path comes from an untrusted trace: never block on a FIFO or a
        // device, and only ever hand regular files to libelf/libdw.
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            if (why->empty()) *why = "not a regular file, not symbolized: " + m.path;
            continue;
        }
        Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
        bool ok = elf && elf_kind(elf) == ELF_K_ELF;
        if (ok && !m.build_id.empty()) {
            const void* id = nullptr;
            ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
            ok = n == ssize_t(m.build_id.size()) && memcmp(id, m.build_id.data(), size_t(n)) == 0;
            if (!ok) *why = "build-id differs from the traced binary, not symbolized: " + m.path;
        }
        if (elf) elf_end(elf);
        if (!ok) {
            close(fd);
            continue;
        }
        best.fd = fd;
        best.path = path;
        best.st = st;
        why->clear();
        return best;
    }
    if (why->empty()) *why = "binary not found, addresses shown as module+offset: " + m.path;
    return best;
}

} // namespace

void Symbolizer::load()
{
    const Trace& trace = trace_;
    impl_.reset(new Impl);
    cache_.clear();
    notes_.clear();
    serial_ = trace.serial();
    if (trace.embedded_symbols()) {
        for (const std::string& n : trace.embedded_symbols()->notes) notes_.push_back("when packed: " + n);
        impl_->trusted.assign(trace.modules().size(), false);
        impl_->identity.assign(trace.modules().size(), std::string());
        return; // a bundle: never look at local files, they may be other builds
    }
    impl_->cb.find_elf = dwfl_build_id_find_elf;
    impl_->cb.find_debuginfo = dwfl_standard_find_debuginfo;
    impl_->cb.section_address = dwfl_offline_section_address;
    impl_->search = debug_search_path(debug_dirs_);
    if (!impl_->search.empty()) impl_->debuginfo_path = impl_->search.data();
    impl_->cb.debuginfo_path = &impl_->debuginfo_path;
    impl_->dwfl = dwfl_begin(&impl_->cb);
    elf_version(EV_CURRENT);
    const auto& mods = trace.modules();
    impl_->trusted.assign(mods.size(), false);
    impl_->identity.assign(mods.size(), std::string());
    if (!impl_->dwfl) return;
    dwfl_report_begin(impl_->dwfl);
    // A file already reported at the same load bias (the same file under
    // another spelling, or the same entry twice): its answers stand.
    std::vector<std::pair<dev_t, ino_t>> files(mods.size(), {0, 0});
    for (size_t i = 0; i < mods.size(); i++) {
        const Module& m = mods[i];
        if (m.path.empty() || m.path[0] != '/') continue;  // vdso and friends
        std::string why;
        OpenedModule om = open_module(m, &why);
        if (om.fd < 0) {
            notes_.push_back(why);
            continue;
        }
        close(om.fd);
        files[i] = {om.st.st_dev, om.st.st_ino};
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            if (impl_->trusted[j] && files[j] == files[i] && mods[j].base == m.base) {
                impl_->identity[i] = impl_->identity[j];
                impl_->trusted[i] = dup = true;
            }
        if (dup) continue;
        if (dwfl_report_elf(impl_->dwfl, om.path.c_str(), om.path.c_str(), -1, m.base, false)) {
            impl_->trusted[i] = true;
            impl_->identity[i] = module_identity(m, om.st, impl_->search);
        }
    }
    dwfl_report_end(impl_->dwfl, nullptr, nullptr);
}

Symbolizer::Impl::~Impl()
{
    if (dwfl) dwfl_end(dwfl);
}

Symbolizer::~Symbolizer() = default;

namespace {

std::string die_function(Dwarf_Die* die, int depth = 0);

// The DIE that declares `die`: through DW_AT_abstract_origin (an inlined or
// out-of-line instance) and DW_AT_specification (a definition outside its class).
Dwarf_Die declaration_of(Dwarf_Die* die)
{
    Dwarf_Die d = *die;
    for (int i = 0; i < 8; i++) {
        Dwarf_Attribute a;
        Dwarf_Die next;
        if (!dwarf_attr(&d, DW_AT_abstract_origin, &a) && !dwarf_attr(&d, DW_AT_specification, &a)) break;
        if (!dwarf_formref_die(&a, &next)) break;
        d = next;
    }
    return d;
}

// The DIEs from `parent` down to the one at `off`, outermost first (libdw
// keeps no parent links; a DIE's subtree ends where its next sibling starts).
bool path_to(Dwarf_Die* parent, Dwarf_Off off, std::vector<Dwarf_Die>* path, int depth = 0)
{
    Dwarf_Die child;
    if (depth > 64 || dwarf_child(parent, &child) != 0) return false;
    for (;;) {
        Dwarf_Off o = dwarf_dieoffset(&child);
        if (o == off) {
            path->push_back(child);
            return true;
        }
        if (o > off) return false;
        Dwarf_Die next;
        if (dwarf_siblingof(&child, &next) != 0 || dwarf_dieoffset(&next) > off) {
            path->push_back(child);
            if (path_to(&child, off, path, depth + 1)) return true;
            path->pop_back();
            return false;
        }
        child = next;
    }
}

// A parameter's type as c++filt spells it ("int const&", "Account&").
std::string type_name(Dwarf_Die* die, int depth = 0)
{
    Dwarf_Attribute a;
    Dwarf_Die t;
    bool inner = dwarf_formref_die(dwarf_attr_integrate(die, DW_AT_type, &a), &t) != nullptr;
    if (depth > 8) return "?";
    switch (dwarf_tag(die)) {
    case DW_TAG_const_type: return (inner ? type_name(&t, depth + 1) : "void") + " const";
    case DW_TAG_volatile_type: return (inner ? type_name(&t, depth + 1) : "void") + " volatile";
    case DW_TAG_pointer_type: return (inner ? type_name(&t, depth + 1) : "void") + "*";
    case DW_TAG_reference_type: return (inner ? type_name(&t, depth + 1) : "void") + "&";
    case DW_TAG_rvalue_reference_type: return (inner ? type_name(&t, depth + 1) : "void") + "&&";
    default: break;
    }
    const char* n = dwarf_diename(die);
    return n ? n : "?";
}

// The parameter types of a function's DIE, "int, char const*"; `*is_const`:
// its object (`this`, the closure) is const, as a lambda that is not mutable.
std::string parameter_types(Dwarf_Die* fn, bool* is_const)
{
    std::string s;
    Dwarf_Die p;
    *is_const = false;
    if (dwarf_child(fn, &p) != 0) return s;
    do {
        if (dwarf_tag(&p) != DW_TAG_formal_parameter) continue;
        Dwarf_Attribute a;
        Dwarf_Die t;
        if (!dwarf_formref_die(dwarf_attr_integrate(&p, DW_AT_type, &a), &t)) continue;
        if (dwarf_hasattr_integrate(&p, DW_AT_artificial)) {
            // The object pointer: "T const*" makes the function const (GCC
            // gives a lambda's as "T const* const").
            Dwarf_Die pointee;
            while ((dwarf_tag(&t) == DW_TAG_const_type || dwarf_tag(&t) == DW_TAG_volatile_type) &&
                   dwarf_formref_die(dwarf_attr_integrate(&t, DW_AT_type, &a), &t)) {}
            *is_const = dwarf_tag(&t) == DW_TAG_pointer_type &&
                        dwarf_formref_die(dwarf_attr_integrate(&t, DW_AT_type, &a), &pointee) &&
                        dwarf_tag(&pointee) == DW_TAG_const_type;
            continue;
        }
        s += (s.empty() ? "" : ", ") + type_name(&t);
    } while (dwarf_siblingof(&p, &p) == 0);
    return s;
}

// The lambdas (closure types: classes without a name that have an operator())
// under `scope` with the parameter types `sig`, in order, not counting those
// of functions nested in it; their number up to `target` into *n.
bool count_lambdas(Dwarf_Die* scope, const std::string& sig, Dwarf_Off target, int* n, int depth = 0)
{
    Dwarf_Die c;
    if (depth > 32 || dwarf_child(scope, &c) != 0) return false;
    do {
        int tag = dwarf_tag(&c);
        if ((tag == DW_TAG_structure_type || tag == DW_TAG_class_type) && !dwarf_hasattr(&c, DW_AT_name)) {
            Dwarf_Die m;
            if (dwarf_child(&c, &m) == 0) do {
                    const char* mn = dwarf_diename(&m);
                    bool is_const;
                    if (dwarf_tag(&m) == DW_TAG_subprogram && mn && strcmp(mn, "operator()") == 0 &&
                        parameter_types(&m, &is_const) == sig) {
                        ++*n;
                        if (dwarf_dieoffset(&c) == target) return true;
                        break;
                    }
                } while (dwarf_siblingof(&m, &m) == 0);
        } else if (tag == DW_TAG_lexical_block) {
            if (count_lambdas(&c, sig, target, n, depth + 1)) return true;
        }
    } while (dwarf_siblingof(&c, &c) == 0);
    return false;
}

// A C++ lambda's operator(), which GCC describes by its plain name only,
// named as c++filt names it from the mangled name the compiler would give it:
// "transfer(Account&, Account&, long)::{lambda()#1}::operator()() const" (the
// function it is written in, its lambdas of the same parameter types counted
// in order).  "" if `die` is no lambda's.
std::string lambda_function(Dwarf_Die* die, int depth)
{
    Dwarf_Die decl = declaration_of(die);
    Dwarf_Die cu;
    if (!dwarf_diecu(&decl, &cu, nullptr, nullptr)) return "";
    std::vector<Dwarf_Die> path;
    if (!path_to(&cu, dwarf_dieoffset(&decl), &path) || path.size() < 3) return "";
    Dwarf_Die closure = path[path.size() - 2];
    int tag = dwarf_tag(&closure);
    if ((tag != DW_TAG_structure_type && tag != DW_TAG_class_type) || dwarf_hasattr(&closure, DW_AT_name)) return "";
    size_t enclosing = path.size() - 2;
    while (enclosing-- > 0 && dwarf_tag(&path[enclosing]) == DW_TAG_lexical_block) {}
    if (enclosing == SIZE_MAX || dwarf_tag(&path[enclosing]) != DW_TAG_subprogram) return "";
    bool is_const = false;
    const std::string sig = parameter_types(&decl, &is_const);
    int n = 0;
    if (!count_lambdas(&path[enclosing], sig, dwarf_dieoffset(&closure), &n)) return "";
    // The function the lambda is written in, as a definition names it (with
    // its parameters, itself perhaps a lambda).
    std::string outer = die_function(&path[enclosing], depth + 1);
    if (outer.empty()) return "";
    return outer + "::{lambda(" + sig + ")#" + std::to_string(n) + "}::operator()(" + sig + ")" +
           (is_const ? " const" : "");
}

// What a DWARF subprogram or inlined instance is called: its linkage name
// demangled (as the symbol table spells it, with the parameters), else its
// plain name, or for a C++ lambda the name c++filt gives it.  Each may live
// on the abstract origin or the declaration.
std::string die_function(Dwarf_Die* die, int depth)
{
    Dwarf_Attribute a;
    const char* n = nullptr;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) || dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        n = dwarf_formstring(&a);
    if (n) return demangle(n);
    if (dwarf_attr_integrate(die, DW_AT_name, &a)) n = dwarf_formstring(&a);
    if (n && depth < 4 && strcmp(n, "operator()") == 0) {
        std::string lambda = lambda_function(die, depth);
        if (!lambda.empty()) return lambda;
    }
    return n ? n : "";
}

int udata(Dwarf_Die* die, int name)
{
    Dwarf_Attribute a;
    Dwarf_Word v = 0;
    if (dwarf_formudata(dwarf_attr(die, name, &a), &v) != 0 || v > Dwarf_Word(INT32_MAX)) return 0;
    return int(v);
}

// The DIEs under `parent` that contain `pc`, outermost first, into `*chain`.
// Namespaces and types hold no addresses but hold functions (C++ and Rust put
// them there), so they are looked into; libdw's dwarf_getscopes does not.
bool scopes_at(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>* chain)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return false;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type ||
            tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
            if (scopes_at(&child, pc, chain)) return true;
        } else if (dwarf_haspc(&child, pc) > 0) {
            chain->push_back(child);
            scopes_at(&child, pc, chain);
            return true;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

// The functions inlined at `look`, innermost first, put in front of `*out`
// (which holds the function the address lies in, with the line table's
// answer).  The line table's line becomes the innermost inlined function's;
// each function's own line is where it called (inlined) the one before it.
void add_inlined(Dwfl_Module* mod, Dwarf_Addr look, std::vector<Frame>* out)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, look, &bias);
    if (!cu) return;
    std::vector<Dwarf_Die> scopes;
    scopes_at(cu, look - bias, &scopes);
    // The functions, innermost first, up to the one the code lies in.
    std::vector<Dwarf_Die*> fns;
    for (size_t i = scopes.size(); i-- > 0;) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) fns.push_back(&scopes[i]);
        if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
            fns.push_back(&scopes[i]);
            break;
        }
    }
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (fns.size() < 2 || dwarf_tag(fns[0]) != DW_TAG_inlined_subroutine ||
        dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
        return;
    Frame outer = out->back(); // the function the address lies in
    std::vector<Frame> chain;
    for (size_t k = 0; k < fns.size(); k++) {
        Frame f = outer;
        f.file.clear();
        f.line = f.column = 0;
        if (k == 0) {
            f.file = outer.file;
            f.line = outer.line;
            f.column = outer.column;
        } else {
            Dwarf_Word idx = Dwarf_Word(udata(fns[k - 1], DW_AT_call_file));
            const char* file = idx < nfiles ? dwarf_filesrc(files, idx, nullptr, nullptr) : nullptr;
            if (file) f.file = file;
            f.line = udata(fns[k - 1], DW_AT_call_line);
            f.column = udata(fns[k - 1], DW_AT_call_column);
        }
        bool last = k + 1 == fns.size();
        if (!last || outer.function.empty()) {
            std::string name = die_function(fns[k]);
            if (!name.empty()) f.function = name;
        }
        f.inlined = !last;
        chain.push_back(std::move(f));
    }
    *out = std::move(chain);
}

// One address looked up in the binaries: the function (symbol table), the
// line (line table), then the functions inlined there (DWARF scopes).
void look_up(Dwfl* dwfl, uint64_t pc, bool return_address, std::vector<Frame>* out)
{
    Frame& f = out->back();
    Dwarf_Addr look = return_address && pc ? pc - 1 : pc;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl, look);
    if (!mod) return;
    GElf_Off off;
    GElf_Sym sym;
    if (const char* name = dwfl_module_addrinfo(mod, look, &off, &sym, nullptr, nullptr, nullptr))
        f.function = demangle(name);
    if (Dwfl_Line* line = dwfl_module_getsrc(mod, look)) {
        int lineno = 0, col = 0;
        if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, &col, nullptr, nullptr)) {
            f.file = file;
            f.line = lineno;
            f.column = col;
        }
    }
    add_inlined(mod, look, out);
}

} // namespace

const std::vector<Frame>& Symbolizer::frames(uint64_t pc, bool return_address)
{
    check_trace();
    auto it = cache_.find(pc);
    if (it != cache_.end()) return it->second;
    if (const auto& table = trace_.embedded_symbols()) {
        auto t = table->frames.find(pc);
        if (t != table->frames.end() && !t->second.empty()) return cache_.emplace(pc, t->second).first->second;
    }
    std::vector<Frame> chain(1);
    Frame& f = chain[0];
    f.address = pc;
    const auto& mods = trace_.modules();
    size_t mi = SIZE_MAX;
    for (size_t i = 0; i < mods.size(); i++)
        if (pc >= mods[i].lo && pc < mods[i].hi) {
            mi = i;
            if (impl_->trusted[i]) break;
        }
    if (mi != SIZE_MAX) {
        f.module = mods[mi].path;
        f.offset = pc - mods[mi].base;
    }
    std::string key;
    if (mi != SIZE_MAX && impl_->trusted[mi] && impl_->dwfl) {
        key = impl_->identity[mi];
        uint64_t k[2] = {pc, return_address ? 1u : 0u};
        key.append(reinterpret_cast<const char*>(k), sizeof k);
        std::lock_guard<std::mutex> g(g_shared_mu);
        auto hit = shared_frames().find(key);
        if (hit != shared_frames().end()) return cache_.emplace(pc, hit->second).first->second;
    }
    if (!key.empty()) {
        look_up(impl_->dwfl, pc, return_address, &chain);
        std::lock_guard<std::mutex> g(g_shared_mu);
        auto& shared = shared_frames();
        if (shared.size() >= kMaxShared) shared.clear();
        shared.emplace(std::move(key), chain);
    }
    return cache_.emplace(pc, std::move(chain)).first->second;
}

std::vector<Frame> Symbolizer::stack(uint32_t stack_id)
{
    std::vector<Frame> out;
    for (uint64_t pc : trace_.stack(stack_id)) {
        const std::vector<Frame>& chain = frames(pc, true);
        out.insert(out.end(), chain.begin(), chain.end());
    }
    return out;
}

std::string Symbolizer::data_name(uint64_t addr)
{
    check_trace();
    if (const auto& table = trace_.embedded_symbols()) {
        auto t = table->data.find(addr);
        return t == table->data.end() ? "" : t->second;
    }
    if (!impl_->dwfl) return "";
    const auto& mods = trace_.modules();
    bool covered = false;
    for (size_t i = 0; i < mods.size(); i++)
        if (addr >= mods[i].lo && addr < mods[i].hi && impl_->trusted[i]) covered = true;
    if (!covered) return "";
    Dwfl_Module* mod = dwfl_addrmodule(impl_->dwfl, addr);
    if (!mod) return "";
    GElf_Off off = 0;
    GElf_Sym sym;
    const char* name = dwfl_module_addrinfo(mod, addr, &off, &sym, nullptr, nullptr, nullptr);
    if (!name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT) return "";
    std::string s = demangle(name);
    if (off) s += "+" + std::to_string(off);
    return s;
}

} // namespace lt
