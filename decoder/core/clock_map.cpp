#include "clock_map.h"

#include <algorithm>
#include <cstdlib>

namespace lt {

namespace {

// A reading whose two stamps lay further apart than this was interrupted
// (preempted, a VM exit): it says little about when CLOCK_MONOTONIC was read.
constexpr uint32_t kMaxSpreadNs = 200 * 1000;
// How far CLOCK_MONOTONIC may run from the stamps between two anchors before
// it is a jump: NTP slews the kernel's clock by at most 500 ppm and the
// shim's scale is calibrated to ~1e-5, so 2e-3 of the span, plus the two
// readings' uncertainty and 20 µs.
constexpr double kRateTolerance = 2e-3;
constexpr uint64_t kSlackNs = 20 * 1000;

} // namespace

void ClockMap::build(std::vector<ClockAnchor> a)
{
    seg_.clear();
    jumps_.clear();
    max_corr_ = 0;
    a.erase(std::remove_if(a.begin(), a.end(),
                           [](const ClockAnchor& x) { return x.spread_ns > kMaxSpreadNs || !x.stamp_ns || !x.mono_ns; }),
            a.end());
    std::sort(a.begin(), a.end(), [](const ClockAnchor& x, const ClockAnchor& y) { return x.stamp_ns < y.stamp_ns; });
    anchors_ = a.size();
    for (const ClockAnchor& x : a) {
        if (!seg_.empty()) {
            Seg& prev = seg_.back();
            uint64_t ds = x.stamp_ns - prev.stamp;
            if (ds == 0) continue;
            int64_t off = int64_t(x.mono_ns - prev.mono) - int64_t(ds);
            uint64_t allowed = uint64_t(double(ds) * kRateTolerance) + kSlackNs + x.spread_ns;
            if (uint64_t(std::llabs(off)) > allowed)
                jumps_.push_back({prev.mono, x.mono_ns, off});
            // A time mapped backwards would reorder events: such an anchor
            // (CLOCK_MONOTONIC behind the previous one) is left out.
            if (x.mono_ns <= prev.mono) continue;
            prev.rate = double(x.mono_ns - prev.mono) / double(ds);
        }
        seg_.push_back({x.stamp_ns, x.mono_ns, 1.0});
        uint64_t corr = x.mono_ns > x.stamp_ns ? x.mono_ns - x.stamp_ns : x.stamp_ns - x.mono_ns;
        max_corr_ = std::max(max_corr_, corr);
    }
}

uint32_t ClockMap::find(uint64_t stamp) const
{
    // The last segment starting at or before the stamp (the first if none).
    auto it = std::upper_bound(seg_.begin(), seg_.end(), stamp, [](uint64_t s, const Seg& g) { return s < g.stamp; });
    return it == seg_.begin() ? 0 : uint32_t(it - seg_.begin() - 1);
}

} // namespace lt
