// /proc files, process memory, the address space and the stack scan of the
// live view (live_proc.h).
#include "live_proc.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fcntl.h>
#include <sstream>
#include <sys/uio.h>
#include <unistd.h>

namespace lt::live {

constexpr uint64_t kScanBytes = 128 * 1024;

bool slurp(const std::string& path, std::string* out)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out->clear();
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0 && out->size() < (1u << 24)) out->append(buf, size_t(r));
    int e = errno;
    close(fd);
    errno = e;
    return r >= 0;
}

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string hex(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

bool read_mem(int32_t pid, uint64_t addr, void* out, size_t len)
{
    struct iovec local = {out, len}, remote = {reinterpret_cast<void*>(addr), len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == ssize_t(len);
}

std::vector<Mapping> read_maps(int32_t pid)
{
    std::vector<Mapping> out;
    std::string text;
    if (!slurp("/proc/" + std::to_string(pid) + "/maps", &text)) return out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        unsigned long long lo, hi;
        char perms[8] = {};
        if (sscanf(line.c_str(), "%llx-%llx %7s", &lo, &hi, perms) != 3) continue;
        out.push_back({lo, hi, perms[2] == 'x'});
    }
    return out;
}

static const Mapping* mapping_of(const std::vector<Mapping>& maps, uint64_t a)
{
    for (const Mapping& m : maps)
        if (a >= m.lo && a < m.hi) return &m;
    return nullptr;
}

// The bytes before `ra` end in a call instruction (direct, indirect through a
// register, memory or RIP-relative): `ra` is a return address, not just a
// value that happens to point into code.
static bool after_call(int32_t pid, uint64_t ra)
{
    uint8_t b[8];
    if (ra < 8 || !read_mem(pid, ra - 8, b, 8)) return false;
    // b[8 - k] is the byte at ra - k.
    if (b[3] == 0xe8) return true;                                    // call rel32
    if (b[2] == 0xff && b[3] == 0x15) return true;                    // call *disp32(%rip)
    if (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) return true;           // call *%reg
    if (b[5] == 0xff && (b[6] & 0xf8) == 0x50) return true;           // call *disp8(%reg)
    if (b[4] == 0xff && (b[5] & 0xf8) == 0x54) return true;           // call *disp8(sib)
    if (b[2] == 0xff && (b[3] & 0xf8) == 0x90) return true;           // call *disp32(%reg)
    if (b[6] == 0xff && (b[7] & 0xf8) == 0x10) return true;           // call *(%reg)
    return false;
}

std::vector<uint64_t> scan_stack(int32_t pid, const std::vector<Mapping>& maps, uint64_t sp, size_t max)
{
    std::vector<uint64_t> out;
    const Mapping* stack = mapping_of(maps, sp);
    if (!stack) return out;
    uint64_t end = std::min(stack->hi, sp + kScanBytes);
    std::vector<uint64_t> words((end - sp) / 8);
    if (words.empty() || !read_mem(pid, sp, words.data(), words.size() * 8)) return out;
    for (uint64_t w : words) {
        const Mapping* m = mapping_of(maps, w);
        if (!m || !m->exec || !after_call(pid, w)) continue;
        out.push_back(w);
        if (out.size() >= max) break;
    }
    return out;
}

} // namespace lt::live
