// `locktrace snapshot PID`: the report of a running traced process, now,
// without stopping it.
//
// Design: the trace file is a MAP_SHARED mapping of the process, so everything
// the report needs can be read from outside.  This command finds the file in
// /proc/PID/maps, stamps a LT_MARK_SNAPSHOT mark into the trace header through
// its own shared mapping of the same file (a CAS on marks_used, the same
// protocol the shim's watchdog uses), then makes `report`'s report of the live
// trace and writes it to stdout and to TRACE.snapshot.txt.  The shim needs no
// signal handler and no code for this: nothing can go wrong inside the traced
// process, and a process hung so badly that it would not run a handler (all
// threads blocked with signals masked, stopped under a debugger) still gets
// its snapshot.
#include "analysis.h"
#include "commands.h"
#include "present/report.h"

#include <locktrace/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

namespace lt {

namespace {

struct SnapshotCmd {
    int pid = 0;
    bool json = false, no_mark = false;
    std::string out;
    SymbolOptions symbols;
};

// The trace file mapped by `pid`: a mapping at offset 0 of a file whose
// header has our magic and that pid.
std::string find_trace(int pid, std::string* why)
{
    std::string maps = "/proc/" + std::to_string(pid) + "/maps";
    std::ifstream in(maps);
    if (!in) {
        *why = "cannot read " + maps + ": " + strerror(errno) + " (no such process, or not yours)";
        return "";
    }
    std::string line, found;
    while (std::getline(in, line)) {
        // address perms offset dev inode pathname
        std::istringstream ls(line);
        std::string addr, perms, off, dev, inode;
        ls >> addr >> perms >> off >> dev >> inode;
        if (off.find_first_not_of('0') != std::string::npos) continue;
        std::string path;
        std::getline(ls, path);
        size_t s = path.find_first_not_of(' ');
        if (s == std::string::npos) continue;
        path = path.substr(s);
        if (path.empty() || path[0] != '/') continue;
        if (path.size() > 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0) {
            *why = "its trace file was deleted: " + path;
            continue;
        }
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        lt_file_header h;
        bool ok = pread(fd, &h, sizeof h, 0) == ssize_t(sizeof h) && h.magic == LT_MAGIC && h.pid == pid;
        close(fd);
        if (ok) found = path;
    }
    if (found.empty() && why->empty())
        *why = "process " + std::to_string(pid) + " has no locktrace trace mapped (is it running under liblocktrace.so?)";
    return found;
}

bool stamp_mark(const std::string& path, std::string* why)
{
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *why = std::string("cannot open for the mark: ") + strerror(errno);
        return false;
    }
    void* m = mmap(nullptr, LT_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        *why = std::string("cannot map the header: ") + strerror(errno);
        return false;
    }
    auto* h = static_cast<lt_file_header*>(m);
    uint32_t n = __atomic_load_n(&h->marks_used, __ATOMIC_ACQUIRE);
    bool ok = false;
    while (n < LT_MAX_MARKS) {
        if (__atomic_compare_exchange_n(&h->marks_used, &n, n + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts); // system-wide: comparable with the process's own times
            h->marks[n].kind = LT_MARK_SNAPSHOT;
            h->marks[n].tid = 0;
            __atomic_store_n(&h->marks[n].time_ns, uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec),
                             __ATOMIC_RELEASE);
            ok = true;
            break;
        }
    }
    if (!ok) *why = "the header's " + std::to_string(LT_MAX_MARKS) + " marks are all used";
    munmap(m, LT_HEADER_SIZE);
    return ok;
}

// The report of the trace as it is now, the one `report` makes; its exit status.
int report_now(const std::string& trace, bool json, const SymbolOptions& symbols, std::string* text)
{
    AnalysisSteps steps;
    steps.symbols = symbols;
    const Analysis a = analyse(trace, steps);
    const Report r = build_report(*a.trace, a.model, *a.symbols, a.findings);
    *text = json ? report_json(r) : report_text(r, false);
    return r.errors ? 1 : 0;
}

int run_snapshot(const SnapshotCmd& o)
{
    std::string why;
    std::string trace = find_trace(o.pid, &why);
    if (trace.empty()) {
        fprintf(stderr, "locktrace: snapshot: %s\n", why.c_str());
        return kExitBadTrace;
    }
    if (!o.no_mark && !stamp_mark(trace, &why))
        fprintf(stderr, "locktrace: snapshot: no mark recorded in %s: %s\n", trace.c_str(), why.c_str());
    std::string text;
    int rc = report_now(trace, o.json, o.symbols, &text);
    fwrite(text.data(), 1, text.size(), stdout);
    fflush(stdout);
    std::string out = o.out.empty() ? trace + (o.json ? ".snapshot.json" : ".snapshot.txt") : o.out;
    if (out != "-") {
        std::ofstream f(out, std::ios::trunc);
        f << text;
        if (!f) fprintf(stderr, "locktrace: snapshot: cannot write %s\n", out.c_str());
        else fprintf(stderr, "locktrace: snapshot of pid %d (trace %s) saved in %s\n", o.pid, trace.c_str(), out.c_str());
    }
    return rc;
}

} // namespace

CommandRun add_snapshot_command(CLI::App& app)
{
    auto o = std::make_shared<SnapshotCmd>();
    CLI::App* sub = app.add_subcommand(
        "snapshot", "Report on a running traced process now, without stopping it (marks the moment in its trace)");
    sub->add_option("pid", o->pid, "Process id of a program running under liblocktrace.so")->required()->check(CLI::PositiveNumber);
    sub->add_flag("--json", o->json, "The report as JSON (as `report --json`)");
    sub->add_flag("--no-mark", o->no_mark, "Do not write a snapshot mark into the trace (read-only)");
    sub->add_option("-o,--output", o->out, "Also save the report here (default TRACE.snapshot.txt; - for none)");
    add_symbol_options(sub, o->symbols);
    return [o] { return run_snapshot(*o); };
}

} // namespace lt
