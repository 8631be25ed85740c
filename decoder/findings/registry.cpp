#include "findings.h"
#include "detectors.h"

#include <algorithm>

namespace lt {

const char* severity_name(Finding::Severity s)
{
    switch (s) {
    case Finding::error: return "error";
    case Finding::warning: return "warning";
    case Finding::info: return "info";
    }
    return "?";
}

using Detector = void (*)(const Model&, std::vector<Finding>&);

// Order matters only within a severity: more specific detectors first.
static const Detector kDetectors[] = {
    detect_blocked,
};

std::vector<Finding> find_all(const Model& model)
{
    std::vector<Finding> out;
    for (Detector d : kDetectors)
        d(model, out);
    std::stable_sort(out.begin(), out.end(),
                     [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
    return out;
}

} // namespace lt
