// A synthetic trace read back, modelled, and run through every detector, for
// the tests of the findings and of their words.
#pragma once

#include "trace_builder.h"
#include "core/model.h"
#include "findings/findings.h"

#include <memory>
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

} // namespace lt::test
