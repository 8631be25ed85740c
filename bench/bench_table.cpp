// lt_bench_table: turns the Google Benchmark JSON files of the untraced and
// traced runs into the table `make bench` prints.  Every figure is computed
// here from the measurements; nothing is typed in.
//
//   lt_bench_table [--markdown] [--cpu] --untraced A.json... --nostacks B.json...
//                  --stacks C.json... [--events EVENTS.tsv]
//
// Each cell is the median of every repetition in every file of that column
// (bench.sh interleaves untraced and traced rounds, so background load hits
// all columns alike).  EVENTS.tsv, from bench.sh's fixed-count traced runs,
// holds "workload threads events_per_op" lines.  --cpu: CPU time of all
// threads per op instead of wall time (robust against other load on the
// machine, blind to time spent asleep).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "workloads.h"

using nlohmann::json;

namespace {

enum Column { UNTRACED, NOSTACKS, STACKS, NCOLUMNS };
using Key = std::pair<std::string, int>; // workload, threads
using Samples = std::map<Key, std::vector<double>>;

double to_ns(double v, const std::string &unit) {
    if (unit == "us") return v * 1e3;
    if (unit == "ms") return v * 1e6;
    if (unit == "s") return v * 1e9;
    return v;
}

bool load(const std::string &path, Samples &out, const char *metric) {
    std::ifstream in(path);
    json j;
    try {
        in >> j;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lt_bench_table: %s: %s\n", path.c_str(), e.what());
        return false;
    }
    for (const auto &b : j.value("benchmarks", json::array())) {
        if (b.value("run_type", "") != "iteration" || b.value("error_occurred", false)) continue;
        std::string name = b.value("run_name", b.value("name", ""));
        name = name.substr(0, name.find('/'));
        out[{name, b.value("threads", 1)}].push_back(
            to_ns(b.value(metric, 0.0), b.value("time_unit", "ns")));
    }
    return true;
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    double pos = q * double(v.size() - 1);
    size_t lo = size_t(pos);
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

std::string fmt(const char *f, double v) {
    if (std::isnan(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// The shim's targets on the reference loop: <= 1.3x without stacks, <= 2x with.
std::string verdict(const char *name, int threads, double ratio, double target, const char *how) {
    char buf[200];
    if (std::isnan(ratio))
        std::snprintf(buf, sizeof buf, "%s/threads:%d %s: not measured", name, threads, how);
    else
        std::snprintf(buf, sizeof buf, "%s/threads:%d %s: %.2fx untraced (target <= %.1fx: %s)",
                      name, threads, how, ratio, target, ratio <= target ? "met" : "MISSED");
    return buf;
}

} // namespace

int main(int argc, char **argv) {
    Samples col[NCOLUMNS];
    std::map<Key, double> events;
    bool markdown = false;
    const char *metric = "real_time";
    std::vector<std::string> files[NCOLUMNS];
    int current = -1;
    bool reading_events = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--markdown") { markdown = true; continue; }
        if (a == "--cpu") { metric = "cpu_time"; continue; }
        if (a == "--untraced") { current = UNTRACED; reading_events = false; continue; }
        if (a == "--nostacks") { current = NOSTACKS; reading_events = false; continue; }
        if (a == "--stacks") { current = STACKS; reading_events = false; continue; }
        if (a == "--events") { reading_events = true; continue; }
        if (reading_events) {
            std::ifstream in(a);
            std::string w;
            int t;
            double e;
            while (in >> w >> t >> e) events[{w, t}] = e;
            reading_events = false;
            continue;
        }
        if (current < 0) {
            std::fprintf(stderr, "usage: lt_bench_table [--markdown] [--cpu] --untraced F.json... "
                                 "--nostacks F.json... --stacks F.json... [--events F.tsv]\n");
            return 2;
        }
        files[current].push_back(a);
    }

    for (int c = 0; c < NCOLUMNS; ++c)
        for (const auto &f : files[c])
            if (!load(f, col[c], metric)) return 1;
    const bool cpu = metric[0] == 'c';
    const char *head[] = {"workload", "thr", cpu ? "untraced CPU ns/op" : "untraced ns/op",
                          cpu ? "traced, no stacks CPU ns/op" : "traced, no stacks ns/op", "ratio",
                          cpu ? "traced, stacks CPU ns/op" : "traced, stacks ns/op", "ratio",
                          "spread", "events/op"};
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> verdicts;
    for (const auto &w : ltbench::kWorkloads)
        for (int n : w.threads) {
            if (!n) break;
            Key k{w.name, n};
            if (col[UNTRACED][k].empty()) continue; // filtered out or failed
            double m[NCOLUMNS], spread = 0;
            for (int c = 0; c < NCOLUMNS; ++c) {
                m[c] = quantile(col[c][k], 0.5);
                // interquartile range relative to the median: how much to trust the row
                double iqr = quantile(col[c][k], 0.75) - quantile(col[c][k], 0.25);
                if (m[c] > 0) spread = std::max(spread, iqr / m[c]);
            }
            auto ev = events.find(k);
            rows.push_back({w.name, std::to_string(n), fmt("%.1f", m[UNTRACED]),
                            fmt("%.1f", m[NOSTACKS]), fmt("%.2fx", m[NOSTACKS] / m[UNTRACED]),
                            fmt("%.1f", m[STACKS]), fmt("%.2fx", m[STACKS] / m[UNTRACED]),
                            fmt("%.0f%%", 100 * spread),
                            ev == events.end() ? "-"
                            : fmt(ev->second < w.min_events_per_op ? "%.2f LOW" : "%.2f",
                                  ev->second)});
            if (std::string(w.name).rfind("reference", 0) == 0) {
                verdicts.push_back(verdict(w.name, n, m[NOSTACKS] / m[UNTRACED], 1.3, "without stacks"));
                verdicts.push_back(verdict(w.name, n, m[STACKS] / m[UNTRACED], 2.0, "with default stacks"));
            }
        }

    const size_t ncol = sizeof head / sizeof *head;
    std::vector<size_t> width(ncol);
    for (size_t c = 0; c < ncol; ++c) {
        width[c] = std::string(head[c]).size();
        for (auto &r : rows) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string> &cells) {
        std::string s = markdown ? "|" : "";
        for (size_t c = 0; c < ncol; ++c) {
            std::string cell = cells[c];
            std::string pad(width[c] - cell.size(), ' ');
            cell = c < 2 ? cell + pad : pad + cell; // names left, numbers right
            s += markdown ? " " + cell + " |" : (c ? "  " : "") + cell;
        }
        std::puts(s.c_str());
    };
    line(std::vector<std::string>(head, head + ncol));
    if (markdown) {
        std::string s = "|";
        for (size_t c = 0; c < ncol; ++c) s += (c < 2 ? ":" : "-") + std::string(width[c], '-') + (c < 2 ? "-|" : ":|");
        std::puts(s.c_str());
    } else {
        size_t total = 0;
        for (size_t c = 0; c < ncol; ++c) total += width[c] + (c ? 2 : 0);
        std::puts(std::string(total, '-').c_str());
    }
    for (auto &r : rows) line(r);
    std::puts("");
    for (auto &v : verdicts) std::puts(v.c_str());
    return 0;
}
