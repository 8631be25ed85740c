#include "probes_sidecar.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lt {

namespace {

// Generous for real lists (a libc-futex run has a few hundred lines of well
// under 400 bytes) while bounding what a hostile file can make us hold.
constexpr size_t max_bytes = 16u << 20;
constexpr size_t max_lines = 100000;
constexpr size_t max_line = 4096;

std::vector<std::string> split_tabs(const std::string& s)
{
    std::vector<std::string> f;
    size_t b = 0;
    for (;;) {
        size_t e = s.find('\t', b);
        f.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
        if (e == std::string::npos) break;
        b = e + 1;
    }
    return f;
}

bool parse_u64(const std::string& s, int base, uint64_t* out)
{
    if (s.empty() || s.size() > 20 || s[0] == '-' || s[0] == '+' || s[0] == ' ') return false;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = strtoull(s.c_str(), &end, base);
    if (errno || !end || *end) return false;
    *out = v;
    return true;
}

// Names come from symbol tables of the traced binaries: drop control bytes so
// that a crafted name cannot rewrite the terminal the report is printed on.
std::string clean(const std::string& s)
{
    std::string o;
    o.reserve(s.size());
    for (char c : s) o += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return o;
}

bool parse_line(const std::string& line, ProbeEntry* p)
{
    std::vector<std::string> f = split_tabs(line);
    if (f.size() != 7) return false;
    uint64_t id = 0, addr = 0;
    if (!parse_u64(f[0], 10, &id) || id > UINT32_MAX) return false;
    if (f[1] != "placed" && f[1] != "refused") return false;
    if (f[3].size() < 3 || f[3].compare(0, 2, "0x") != 0 || !parse_u64(f[3].substr(2), 16, &addr)) return false;
    if (f[4].empty()) return false;
    p->id = uint32_t(id);
    p->placed = f[1] == "placed";
    p->set = clean(f[2]);
    p->address = addr;
    p->function = clean(f[4]);
    p->module = clean(f[5]);
    p->reason = clean(f[6]);
    return true;
}

} // namespace

ProbesSidecar parse_probes_sidecar(const std::string& text)
{
    ProbesSidecar s;
    s.present = true;
    size_t lines = 0, first_bad = 0;
    size_t b = 0;
    while (b < text.size()) {
        size_t e = text.find('\n', b);
        if (e == std::string::npos) e = text.size();
        lines++;
        if (lines > max_lines) {
            s.truncated = true;
            break;
        }
        std::string line = text.substr(b, e - b);
        b = e + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line.size() > max_line) {
            if (!s.malformed++) first_bad = lines;
            continue;
        }
        if (line[0] == '#') {
            if (s.summary.empty() && line.compare(0, 9, "# probes:") == 0) s.summary = clean(line.substr(2));
            continue;
        }
        ProbeEntry p;
        if (!parse_line(line, &p)) {
            if (!s.malformed++) first_bad = lines;
            continue;
        }
        (p.placed ? s.placed : s.refused)++;
        s.probes.push_back(std::move(p));
    }
    if (s.malformed)
        s.notes.push_back(std::to_string(s.malformed) + " malformed line(s) in the probe list ignored (first: line " +
                          std::to_string(first_bad) + ")");
    if (s.truncated)
        s.notes.push_back("probe list too long: read only its first " + std::to_string(max_lines) + " lines");
    return s;
}

ProbesSidecar read_probes_sidecar(const std::string& trace_path)
{
    ProbesSidecar s;
    std::string path = trace_path + ".probes";
    FILE* f = fopen(path.c_str(), "re");
    if (!f) {
        s.path = path;
        if (errno != ENOENT) {
            s.present = true;
            s.notes.push_back("probe list " + path + " unreadable: " + strerror(errno));
        }
        return s;
    }
    std::string text;
    char buf[65536];
    bool cut = false;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (text.size() + n > max_bytes) {
            text.append(buf, max_bytes - text.size());
            cut = true;
            break;
        }
        text.append(buf, n);
    }
    bool err = ferror(f);
    fclose(f);
    if (cut) { // drop the partial last line
        size_t nl = text.rfind('\n');
        text.resize(nl == std::string::npos ? 0 : nl + 1);
    }
    s = parse_probes_sidecar(text);
    s.path = path;
    if (cut) {
        s.truncated = true;
        s.notes.push_back("probe list larger than " + std::to_string(max_bytes >> 20) + " MiB: read only its start");
    }
    if (err) s.notes.push_back("probe list " + path + ": read error; read up to it");
    return s;
}

} // namespace lt
