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
    detect_parking_lot,      // parking_lot words from the Capstone probes (counter-overflow, held-by-nobody)
    detect_counter_overflow,
    detect_held_by_nobody,
    detect_deadlock,
    detect_misuse,
    detect_lost_wakeup,
    detect_lock_order_inversion,
    detect_blocked,
    detect_idle,
    detect_hang,  // last: looks at what the others explained
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
