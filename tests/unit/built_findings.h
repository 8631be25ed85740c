// A synthetic trace read back, modelled, and run through every detector, for
// the tests of the findings and of their words.
#pragma once

#include "trace_builder.h"
#include "core/model.h"
#include "findings/findings.h"

#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace lt::test {

struct Built {
    std::unique_ptr<lt::Trace> trace;
    lt::Model model;
    std::vector<lt::Finding> findings;
};

inline Built build(TraceBuilder& b)
{
    Built r;
    r.trace = std::make_unique<lt::Trace>(b.write());
    r.model = lt::Model::build(*r.trace);
    r.findings = lt::find_all(r.model);
    return r;
}

// The severity of the first finding of `kind`, or -1 when there is none.
inline int severity_of(const Built& r, const std::string& kind)
{
    for (const lt::Finding& f : r.findings)
        if (f.kind == kind) return int(f.severity);
    return -1;
}

inline bool has_error_or_warning(const Built& r)
{
    for (const lt::Finding& f : r.findings)
        if (f.severity != lt::Finding::info) return true;
    return false;
}

// "kind:severity ..." of every finding, for failure messages.
inline std::string list(const Built& r)
{
    std::string s;
    for (const lt::Finding& f : r.findings) s += f.kind + ":" + lt::severity_name(f.severity) + " ";
    return s;
}

inline uint64_t monotonic_now()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

} // namespace lt::test
