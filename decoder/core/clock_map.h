// The trace's stamps to CLOCK_MONOTONIC (include/locktrace/format.h, struct
// lt_clock_anchor).  A TSC-stamped trace carries anchors: (stamp,
// CLOCK_MONOTONIC) pairs the shim read together now and then.  Between two
// anchors a stamp is interpolated linearly; before the first and after the
// last it keeps the shim's own scale (rate 1).  Anchors that no single rate
// can explain (the TSC jumped: VM migration, a host that changed the TSC
// offset) are kept as jumps, which the report states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lt {

struct ClockAnchor {
    uint64_t stamp_ns = 0, mono_ns = 0;
    uint32_t spread_ns = 0;  // uncertainty of the reading
};

// A span between two anchors where the stamps and CLOCK_MONOTONIC disagree
// beyond what drift and reading jitter explain.
struct ClockJump {
    uint64_t from_mono_ns = 0, to_mono_ns = 0;  // the two anchors
    int64_t off_by_ns = 0;                      // CLOCK_MONOTONIC elapsed minus stamps elapsed
};

class ClockMap {
public:
    // Anchors in any order; unusable ones (too uncertain, duplicate) are dropped.
    void build(std::vector<ClockAnchor> anchors);
    bool identity() const { return seg_.empty(); }
    size_t anchors() const { return anchors_; }
    const std::vector<ClockJump>& jumps() const { return jumps_; }
    // Largest correction applied at an anchor (|mono - stamp|), for the report.
    uint64_t max_correction_ns() const { return max_corr_; }

    // 0 stays 0 (a time not set).  `hint`: the segment the previous stamp
    // fell in; stamps that mostly grow cost one or two compares.
    uint64_t to_mono(uint64_t stamp, uint32_t& hint) const
    {
        if (seg_.empty() || stamp == 0) return stamp;
        if (hint >= seg_.size() || stamp < seg_[hint].stamp) hint = find(stamp);
        else
            while (hint + 1 < seg_.size() && stamp >= seg_[hint + 1].stamp) hint++;
        const Seg& s = seg_[hint];
        if (stamp < s.stamp)  // before the first anchor: the shim's scale
            return s.mono - (s.stamp - stamp);
        return s.mono + uint64_t(double(stamp - s.stamp) * s.rate);
    }
    uint64_t to_mono(uint64_t stamp) const
    {
        uint32_t h = 0;
        return to_mono(stamp, h);
    }

private:
    struct Seg {
        uint64_t stamp, mono;
        double rate;  // mono ns per stamp ns up to the next anchor (1 after the last)
    };
    uint32_t find(uint64_t stamp) const;
    std::vector<Seg> seg_;
    std::vector<ClockJump> jumps_;
    size_t anchors_ = 0;
    uint64_t max_corr_ = 0;
};

} // namespace lt
