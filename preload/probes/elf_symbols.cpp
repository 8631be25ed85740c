#include "elf_symbols.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

namespace ltp {

static int collect(struct dl_phdr_info *info, size_t, void *data)
{
    auto *mods = static_cast<std::vector<module_info> *>(data);
    module_info m;
    m.base = info->dlpi_addr;
    m.is_main = mods->empty();
    const char *name = info->dlpi_name;
    if (m.is_main || !name || !*name) {
        if (!m.is_main)
            return 0; // the vDSO: nothing of ours to find there
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
            return 0;
        buf[n] = 0;
        m.path = buf;
    } else {
        m.path = name;
    }
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr) &p = info->dlpi_phdr[i];
        if (p.p_type == PT_LOAD && (p.p_flags & PF_X)) {
            uint64_t lo = m.base + p.p_vaddr, hi = lo + p.p_memsz;
            if (!m.text_lo || lo < m.text_lo)
                m.text_lo = lo;
            if (hi > m.text_hi)
                m.text_hi = hi;
        } else if (p.p_type == PT_GNU_EH_FRAME) {
            m.eh_frame_hdr = m.base + p.p_vaddr;
        }
    }
    mods->push_back(std::move(m));
    return 0;
}

std::vector<module_info> loaded_modules()
{
    std::vector<module_info> mods;
    dl_iterate_phdr(collect, &mods);
    return mods;
}

// Legacy Rust symbols keep Rust's own escapes inside each C++-style path
// component: "_$LT$a..b$u20$as$u20$c$GT$" is "<a::b as c>".  Names like
// "<parking_lot::raw_mutex::RawMutex as lock_api::mutex::RawMutex>::lock"
// (trait methods) only match once these are decoded.
static std::string rust_unescape(const std::string &in)
{
    static const struct {
        const char *esc, *text;
    } k_esc[] = {{"$LT$", "<"}, {"$GT$", ">"}, {"$C$", ","}, {"$RF$", "&"}, {"$BP$", "*"},
                 {"$SP$", "@"}, {"$LP$", "("}, {"$RP$", ")"}};
    std::string out;
    for (size_t i = 0; i < in.size();) {
        // A component that starts with an escape carries a leading '_'.
        if (in[i] == '_' && i + 1 < in.size() && in[i + 1] == '$' && (i == 0 || in[i - 1] == ':')) {
            ++i;
            continue;
        }
        if (in[i] == '$') {
            bool done = false;
            for (const auto &e : k_esc) {
                size_t n = strlen(e.esc);
                if (in.compare(i, n, e.esc) == 0) {
                    out += e.text;
                    i += n;
                    done = true;
                    break;
                }
            }
            if (done)
                continue;
            // $uXX$: one character by its hex code.
            size_t end = in.find('$', i + 1);
            if (end != std::string::npos && in[i + 1] == 'u' && end - i - 2 >= 1 && end - i - 2 <= 6) {
                unsigned long c = strtoul(in.substr(i + 2, end - i - 2).c_str(), nullptr, 16);
                if (c > 0 && c < 0x80) {
                    out += (char)c;
                    i = end + 1;
                    continue;
                }
            }
        }
        if (in[i] == '.' && i + 1 < in.size() && in[i + 1] == '.') {
            out += "::";
            i += 2;
            continue;
        }
        out += in[i++];
    }
    return out;
}

std::string demangle(const char *name)
{
    if (name[0] != '_' || name[1] != 'Z')
        return std::string();
    int status = 0;
    char *d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (!d || status != 0) {
        free(d);
        return std::string();
    }
    std::string s(d);
    free(d);
    // Legacy Rust mangling ends in a hash path component: "::h0123456789abcdef".
    if (s.size() > 19 && s.compare(s.size() - 19, 3, "::h") == 0 &&
        std::all_of(s.end() - 16, s.end(), [](char c) { return isxdigit((unsigned char)c); })) {
        s.resize(s.size() - 19);
        s = rust_unescape(s);
    }
    return s;
}

namespace {
struct mapped_file {
    const uint8_t *data = nullptr;
    size_t size = 0;
    explicit mapped_file(const std::string &path)
    {
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(ElfW(Ehdr))) {
            void *p = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                data = static_cast<const uint8_t *>(p);
                size = (size_t)st.st_size;
            }
        }
        close(fd);
    }
    ~mapped_file()
    {
        if (data)
            munmap(const_cast<uint8_t *>(data), size);
    }
    bool in(uint64_t off, uint64_t len) const { return off <= size && len <= size - off; }
};
} // namespace

std::vector<function_symbol> module_functions_raw(const module_info &m, int index, symbol_filter keep, void *ctx,
                                                  bool want_demangled)
{
    std::vector<function_symbol> out;
    mapped_file f(m.path);
    if (!f.data)
        return out;
    auto *eh = reinterpret_cast<const ElfW(Ehdr) *>(f.data);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(ElfW(Shdr)) || !f.in(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr))))
        return out;
    auto *sh = reinterpret_cast<const ElfW(Shdr) *>(f.data + eh->e_shoff);
    std::unordered_map<uint64_t, size_t> by_addr;
    // .symtab first: it has the local functions; .dynsym adds nothing new then.
    for (uint32_t want : {(uint32_t)SHT_SYMTAB, (uint32_t)SHT_DYNSYM}) {
        for (unsigned i = 0; i < eh->e_shnum; ++i) {
            if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum || sh[i].sh_entsize != sizeof(ElfW(Sym)))
                continue;
            const ElfW(Shdr) &strs = sh[sh[i].sh_link];
            if (!f.in(sh[i].sh_offset, sh[i].sh_size) || !f.in(strs.sh_offset, strs.sh_size))
                continue;
            auto *sym = reinterpret_cast<const ElfW(Sym) *>(f.data + sh[i].sh_offset);
            size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
            const char *str = reinterpret_cast<const char *>(f.data + strs.sh_offset);
            for (size_t k = 0; k < n; ++k) {
                if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_shndx == SHN_UNDEF || !sym[k].st_value ||
                    sym[k].st_name >= strs.sh_size)
                    continue;
                const char *name = str + sym[k].st_name;
                if (!memchr(name, 0, strs.sh_size - sym[k].st_name) || !keep(name, ctx))
                    continue;
                uint64_t addr = m.base + sym[k].st_value;
                if (by_addr.count(addr))
                    continue;
                function_symbol fs;
                fs.addr = addr;
                fs.size = sym[k].st_size;
                fs.name = name;
                fs.module = index;
                if (want_demangled)
                    fs.demangled = demangle(name);
                by_addr[addr] = out.size();
                out.push_back(std::move(fs));
            }
        }
    }
    return out;
}

/* ---- .eh_frame_hdr lookup ---------------------------------------------- */

namespace {
struct reader {
    const uint8_t *p;
    uint64_t uleb()
    {
        uint64_t v = 0;
        int s = 0;
        uint8_t b;
        do {
            b = *p++;
            if (s < 64)
                v |= (uint64_t)(b & 0x7f) << s;
            s += 7;
        } while (b & 0x80);
        return v;
    }
    int64_t sleb()
    {
        int64_t v = 0;
        int s = 0;
        uint8_t b;
        do {
            b = *p++;
            if (s < 64)
                v |= (int64_t)(b & 0x7f) << s;
            s += 7;
        } while (b & 0x80);
        if (s < 64 && (b & 0x40))
            v |= -((int64_t)1 << s);
        return v;
    }
    // DW_EH_PE_* pointer; `data_base` for datarel.  Returns false for
    // encodings we do not expect in an eh_frame_hdr or FDE.
    bool ptr(uint8_t enc, uint64_t data_base, uint64_t *out)
    {
        if (enc == 0xff)
            return false;
        uint64_t at = (uint64_t)(uintptr_t)p, v;
        switch (enc & 0x0f) {
        case 0x00: memcpy(&v, p, 8); p += 8; break;                                  // absptr
        case 0x01: v = uleb(); break;                                                // uleb128
        case 0x02: { uint16_t x; memcpy(&x, p, 2); p += 2; v = x; break; }           // udata2
        case 0x03: { uint32_t x; memcpy(&x, p, 4); p += 4; v = x; break; }           // udata4
        case 0x04: memcpy(&v, p, 8); p += 8; break;                                  // udata8
        case 0x09: v = (uint64_t)sleb(); break;                                      // sleb128
        case 0x0a: { int16_t x; memcpy(&x, p, 2); p += 2; v = (uint64_t)(int64_t)x; break; }
        case 0x0b: { int32_t x; memcpy(&x, p, 4); p += 4; v = (uint64_t)(int64_t)x; break; }
        case 0x0c: memcpy(&v, p, 8); p += 8; break;
        default: return false;
        }
        switch (enc & 0x70) {
        case 0x00: break;
        case 0x10: v += at; break;        // pcrel
        case 0x30: v += data_base; break; // datarel
        default: return false;
        }
        *out = v;
        return true;
    }
};

// The FDE pointer encoding given by its CIE's "R" augmentation.
bool cie_fde_encoding(const uint8_t *cie, uint8_t *enc)
{
    reader r{cie};
    uint32_t len;
    memcpy(&len, r.p, 4);
    r.p += 4;
    if (len == 0xffffffffu)
        return false;
    r.p += 4; // CIE id
    uint8_t version = *r.p++;
    const char *aug = reinterpret_cast<const char *>(r.p);
    r.p += strlen(aug) + 1;
    r.uleb(); // code alignment
    r.sleb(); // data alignment
    if (version == 1)
        r.p++;
    else
        r.uleb(); // return address register
    *enc = 0x00;
    if (aug[0] != 'z')
        return true;
    r.uleb(); // augmentation length
    for (const char *a = aug + 1; *a; ++a) {
        if (*a == 'R')
            *enc = *r.p++;
        else if (*a == 'L')
            r.p++;
        else if (*a == 'P') {
            uint8_t penc = *r.p++;
            uint64_t ignored;
            if (!r.ptr(penc & 0x7f, 0, &ignored))
                return false;
        } else if (*a != 'S' && *a != 'B')
            return false;
    }
    return true;
}
} // namespace

bool function_bounds(const module_info &m, uint64_t pc, uint64_t *start, uint64_t *end)
{
    if (!m.eh_frame_hdr)
        return false;
    const uint8_t *hdr = reinterpret_cast<const uint8_t *>(m.eh_frame_hdr);
    if (hdr[0] != 1 || hdr[3] != 0x3b) // version 1, table of datarel sdata4 pairs
        return false;
    reader r{hdr + 4};
    uint64_t eh_frame, count;
    if (!r.ptr(hdr[1], m.eh_frame_hdr, &eh_frame) || !r.ptr(hdr[2], m.eh_frame_hdr, &count))
        return false;
    const int32_t *table = reinterpret_cast<const int32_t *>(r.p);
    uint64_t lo = 0, hi = count;
    while (lo < hi) { // last entry with initial location <= pc
        uint64_t mid = (lo + hi) / 2;
        if (m.eh_frame_hdr + (int64_t)table[2 * mid] <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    uint64_t fn = m.eh_frame_hdr + (int64_t)table[2 * (lo - 1)];
    const uint8_t *fde = reinterpret_cast<const uint8_t *>(m.eh_frame_hdr + (int64_t)table[2 * (lo - 1) + 1]);
    uint32_t len;
    memcpy(&len, fde, 4);
    if (len == 0xffffffffu || len < 8)
        return false;
    int32_t cie_off;
    memcpy(&cie_off, fde + 4, 4);
    uint8_t enc;
    if (!cie_fde_encoding(fde + 4 - cie_off, &enc))
        return false;
    reader f{fde + 8};
    uint64_t begin, range;
    if (!f.ptr(enc, 0, &begin) || !f.ptr(enc & 0x0f, 0, &range))
        return false;
    if (begin != fn || pc >= begin + range)
        return false;
    *start = begin;
    *end = begin + range;
    return true;
}

} // namespace ltp
