// `locktrace pack TRACE [-o FILE] [--no-cmdline]`: one file to attach to a bug
// report, readable by report/timeline/dump/export on a machine without the
// program's binaries.  `locktrace pack --info BUNDLE` shows what a bundle holds.
#include "bundle/unpack.h"
#include "pack/pack.h"
#include "commands.h"

#include <cstdio>
#include <memory>

namespace lt {

namespace {

struct PackCmd {
    std::string trace, out;
    bool no_cmdline = false, info = false;
    int level = 3;
    SymbolOptions symbols;
};

std::string default_output(const std::string& trace)
{
    std::string base = trace;
    const std::string ext = ".trace";
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
        base.resize(base.size() - ext.size());
    return base + ".ltb";
}

std::string mib(uint64_t b)
{
    char s[32];
    if (b >= (1u << 20)) snprintf(s, sizeof s, "%.1f MiB", double(b) / (1u << 20));
    else snprintf(s, sizeof s, "%.1f KiB", double(b) / 1024);
    return s;
}

int show_info(const std::string& path)
{
    bundle::BundleInfo info = bundle::read_info(path);
    printf("%s: locktrace bundle version %u, %llu bytes (%llu uncompressed)%s\n", path.c_str(), info.version,
           (unsigned long long)info.file_bytes, (unsigned long long)info.payload_bytes,
           (info.flags & 1) ? ", command line left out" : "");
    if (!info.meta.is_null()) printf("%s\n", info.meta.dump(2).c_str());
    if (info.findings.is_array()) {
        printf("findings (%zu):\n", info.findings.size());
        for (const auto& f : info.findings)
            printf("  %s %s: %s\n", f.value("severity", "?").c_str(), f.value("kind", "?").c_str(),
                   f.value("summary", "").c_str());
    }
    return 0;
}

int run_pack(const PackCmd& o)
{
    if (o.info) return show_info(o.trace);
    std::string out = o.out.empty() ? default_output(o.trace) : o.out;
    bundle::PackOptions opt;
    opt.keep_cmdline = !o.no_cmdline;
    opt.level = o.level;
    opt.symbols = o.symbols;
    bundle::PackResult r = bundle::pack_trace(o.trace, out, opt);
    printf("%s: %llu events, %llu stacks (%llu frames symbolized), %zu findings\n", out.c_str(),
           (unsigned long long)r.events, (unsigned long long)r.stacks, (unsigned long long)r.frames, r.findings);
    printf("  %s trace -> %s bundle (%.1fx smaller)%s\n", mib(r.raw_bytes).c_str(), mib(r.bundle_bytes).c_str(),
           r.bundle_bytes ? double(r.raw_bytes) / double(r.bundle_bytes) : 0.0,
           o.no_cmdline ? ", command line left out" : "");
    printf("  attach %s to the bug report; read it anywhere with `locktrace report %s`\n", out.c_str(), out.c_str());
    return 0;
}

} // namespace

CommandRun add_pack_command(CLI::App& app)
{
    auto o = std::make_shared<PackCmd>();
    CLI::App* sub = app.add_subcommand(
        "pack", "Pack a trace into one compressed bundle with symbols and findings, for a bug report");
    sub->add_option("trace", o->trace, "Trace file (or, with --info, a bundle)")->required();
    sub->add_option("-o,--output", o->out, "Bundle to write (default: the trace's name with .ltb)");
    sub->add_flag("--no-cmdline", o->no_cmdline, "Leave the program's command line out of the bundle");
    sub->add_option("--level", o->level, "zstd compression level (default 3)")->check(CLI::Range(1, 19));
    sub->add_flag("--info", o->info, "Describe an existing bundle instead of packing");
    add_symbol_options(sub, o->symbols);
    return [o] { return run_pack(*o); };
}

} // namespace lt
