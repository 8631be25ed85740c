// lt_bench_table: turns the Google Benchmark JSON files of the interleaved
// rounds into the tables `make bench` prints.  Every figure is computed here
// from the measurements; nothing is typed in.
//
//   lt_bench_table [--markdown] [--cpu] [--parts]
//                  --column NAME F.json... [--column NAME F.json...]...
//                  [--events NAME EVENTS.tsv]...
//
// The first column is the baseline (untraced); the columns floor-rdtsc,
// floor-gettime and floor-rdtscp are the in-loop floors (lt_bench --floor=...).  Each cell is
// the median of every repetition in every file of its column.  Each column
// shows its ns/op and the ratio to untraced (xU); a tracer's also the ratio
// to the rdtsc floor (xF).
// EVENTS.tsv ("workload threads events_per_op" lines, from fixed-count runs)
// gives the events a tracer recorded per op: NAME "locktrace" or "lttng".
// --cpu: CPU time of all threads per op instead of wall time.
// --parts: instead of the table, locktrace's ns per record split into its
// parts (needs the columns untraced, unrecorded, nostacks, stacks and the
// locktrace events), and LTTng's ns per event.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "workloads.h"

using nlohmann::json;

namespace {

using Key = std::pair<std::string, int>; // workload, threads
using Samples = std::map<Key, std::vector<double>>;

struct Column {
    std::string name;
    std::vector<std::string> files;
    Samples samples;
};

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

bool is_floor(const std::string &column) { return column.rfind("floor-", 0) == 0; }

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    double pos = q * double(v.size() - 1);
    size_t lo = size_t(pos);
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

std::string fmt(const char *f, double v) {
    if (std::isnan(v) || std::isinf(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

void print_table(const std::vector<std::string> &head, const std::vector<std::vector<std::string>> &rows,
                 bool markdown) {
    const size_t ncol = head.size();
    std::vector<size_t> width(ncol);
    for (size_t c = 0; c < ncol; ++c) {
        width[c] = head[c].size();
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
    line(head);
    if (markdown) {
        std::string s = "|";
        for (size_t c = 0; c < ncol; ++c)
            s += (c < 2 ? ":" : "-") + std::string(width[c], '-') + (c < 2 ? "-|" : ":|");
        std::puts(s.c_str());
    } else {
        size_t total = 0;
        for (size_t c = 0; c < ncol; ++c) total += width[c] + (c ? 2 : 0);
        std::puts(std::string(total, '-').c_str());
    }
    for (auto &r : rows) line(r);
}

int usage() {
    std::fprintf(stderr, "usage: lt_bench_table [--markdown] [--cpu] [--parts] --column NAME F.json... "
                         "[--column NAME F.json...]... [--events NAME F.tsv]...\n");
    return 2;
}

} // namespace

int main(int argc, char **argv) {
    bool markdown = false, parts = false;
    const char *metric = "real_time";
    std::vector<Column> cols;
    std::map<std::string, std::map<Key, double>> events; // tracer -> events per op
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--markdown") markdown = true;
        else if (a == "--cpu") metric = "cpu_time";
        else if (a == "--parts") parts = true;
        else if (a == "--column" && i + 1 < argc) cols.push_back({argv[++i], {}, {}});
        else if (a == "--events" && i + 2 < argc) {
            auto &to = events[argv[i + 1]];
            std::ifstream in(argv[i + 2]);
            std::string w;
            int t;
            double e;
            while (in >> w >> t >> e) to[{w, t}] = e;
            i += 2;
        } else if (!cols.empty() && a.rfind("--", 0) != 0) cols.back().files.push_back(a);
        else return usage();
    }
    if (cols.empty()) return usage();
    for (auto &c : cols)
        for (const auto &f : c.files)
            if (!load(f, c.samples, metric)) return 1;
    const bool cpu = metric[0] == 'c';
    auto median = [&](const std::string &col, const Key &k) {
        for (auto &c : cols)
            if (c.name == col) return quantile(c.samples[k], 0.5);
        return double(NAN);
    };

    if (parts) {
        // locktrace's ns per record, taken apart along the columns: the shim
        // loaded with the loop's calls passed through unrecorded, the clock
        // read measured in the loop, the rest of a record without stacks,
        // the stacks.  Divided by the events the trace really holds per op.
        auto &lt = events["locktrace"];
        auto &lg = events["lttng"];
        std::vector<std::vector<std::string>> rows;
        for (const auto &w : ltbench::kWorkloads)
            for (int n : w.threads) {
                if (!n) break;
                Key k{w.name, n};
                double u = median(cols[0].name, k);
                if (std::isnan(u)) continue;
                double pass = median("unrecorded", k), nost = median("nostacks", k),
                       st = median("stacks", k), lttng = median("lttng", k);
                double fl = median("floor-rdtsc", k), flg = median("floor-gettime", k),
                       flp = median("floor-rdtscp", k);
                auto ev = lt.find(k);
                double e = ev == lt.end() ? NAN : ev->second;
                auto lev = lg.find(k);
                double le = lev == lg.end() ? NAN : lev->second;
                if (!w.floor_rdtsc || (std::isnan(e) && std::isnan(le))) continue;
                double clock = (fl - u) / w.calls_per_op, clock_g = (flg - u) / w.calls_per_op,
                       clock_p = (flp - u) / w.calls_per_op;
                double interp = (pass - u) / e;
                double record = (nost - pass) / e - clock;
                rows.push_back({w.name, std::to_string(n), fmt("%.2f", e), fmt("%.1f", (st - u) / e),
                                fmt("%.1f", interp), fmt("%.1f", clock), fmt("%.1f", record),
                                fmt("%.1f", (st - nost) / e), fmt("%.1f", clock_p), fmt("%.1f", clock_g),
                                fmt("%.2f", le), fmt("%.1f", (lttng - u) / le)});
            }
        print_table({"workload", "thr", "records/op", "ns/record (stacks)", "interposition",
                     "+ clock (rdtsc in loop)", "+ record, no stacks", "+ stacks",
                     "rdtscp in loop", "clock_gettime in loop", "LTTng events/op", "LTTng ns/event"},
                    rows, markdown);
        return 0;
    }

    std::vector<std::string> head{"workload", "thr", cpu ? "untraced CPU ns/op" : "untraced ns/op"};
    for (size_t c = 1; c < cols.size(); ++c) {
        head.push_back(cols[c].name);
        head.push_back("xU");
        if (!is_floor(cols[c].name)) head.push_back("xF");
    }
    head.push_back("spread");
    for (auto &e : events) head.push_back(e.first + " ev/op");

    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> verdicts;
    for (const auto &w : ltbench::kWorkloads)
        for (int n : w.threads) {
            if (!n) break;
            Key k{w.name, n};
            double u = median(cols[0].name, k);
            if (std::isnan(u)) continue; // filtered out or failed
            double fl = median("floor-rdtsc", k);
            std::vector<std::string> r{w.name, std::to_string(n), fmt("%.1f", u)};
            double spread = 0;
            for (auto &c : cols) {
                // interquartile range relative to the median: how much to trust the row
                auto &v = c.samples[k];
                double m = quantile(v, 0.5);
                if (m > 0) spread = std::max(spread, (quantile(v, 0.75) - quantile(v, 0.25)) / m);
            }
            for (size_t c = 1; c < cols.size(); ++c) {
                double m = median(cols[c].name, k);
                r.push_back(fmt("%.1f", m));
                r.push_back(fmt("%.2f", m / u));
                if (!is_floor(cols[c].name)) r.push_back(fmt("%.2f", m / fl));
            }
            r.push_back(fmt("%.0f%%", 100 * spread));
            for (auto &e : events) {
                auto ev = e.second.find(k);
                r.push_back(ev == e.second.end() ? "-"
                            : fmt(e.first == "locktrace" && ev->second < w.min_events_per_op ? "%.2f LOW"
                                                                                               : "%.2f",
                                  ev->second));
            }
            rows.push_back(r);
            // The target: default stacks at most 1.35x the in-loop floor on
            // the reference loop and the 1-thread mix.
            double st = median("stacks", k);
            if (n == 1 && w.floor_rdtsc && !std::isnan(st)) {
                char buf[200];
                std::snprintf(buf, sizeof buf,
                              "%s/threads:1 default stacks: %.2fx the in-loop rdtsc floor, %.2fx untraced "
                              "(target <= 1.35x the floor: %s)",
                              w.name, st / fl, st / u, st / fl <= 1.35 ? "met" : "MISSED");
                verdicts.push_back(buf);
            }
        }
    print_table(head, rows, markdown);
    if (!verdicts.empty()) std::puts("");
    for (auto &v : verdicts) std::puts(v.c_str());
    return 0;
}
