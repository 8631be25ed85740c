#include "handover.h"

#include <algorithm>

namespace lt {

namespace {

bool has_owners(uint8_t prim)
{
    return prim == LT_PRIM_MUTEX || prim == LT_PRIM_RWLOCK || prim == LT_PRIM_SPIN || prim == LT_PRIM_PROBE;
}

size_t slot_of(uint64_t addr) { return size_t((addr * UINT64_C(0x9e3779b97f4a7c15)) >> 52); }  // 4096 slots

} // namespace

bool handover_acquires(const Event& e, bool* shared)
{
    if (e.type != LT_EV_ACQUIRED || !has_owners(e.prim)) return false;
    *shared = (e.flags & LT_FL_READ) != 0;
    return true;
}

bool handover_releases(const Event& e, bool* shared)
{
    if (e.type != LT_EV_RELEASE || !has_owners(e.prim)) return false;
    // The releasing thread did not hold it: nothing was handed over.
    if (e.result == LT_RELEASE_UNMATCHED) return false;
    *shared = (e.flags & LT_FL_READ) != 0;  // mode unknown: exclusive, the stricter
    return true;
}

HandoverOrder::HandoverOrder() : recent_(kSlots + kProbe, Recent{0, 0, 0, 0}) { win_.reserve(1024); }

void HandoverOrder::note_acquired(const Event& e)
{
    bool shared;
    if (!handover_acquires(e, &shared)) return;
    const size_t s = slot_of(e.addr);
    for (size_t k = 0; k < kProbe; k++) {
        Recent& r = recent_[s + k];
        // Free, the same lock, or too old to matter any more.
        if (r.addr == 0 || r.addr == e.addr || r.time_ns + kToleranceNs < e.time_ns) {
            r = {e.addr, e.time_ns, e.thread, uint8_t(shared)};
            return;
        }
    }
    scan_all_until_ = e.time_ns + kToleranceNs;
}

bool HandoverOrder::maybe_conflict(const Event& rel) const
{
    if (rel.time_ns <= scan_all_until_) return true;
    const size_t s = slot_of(rel.addr);
    for (size_t k = 0; k < kProbe; k++) {
        const Recent& r = recent_[s + k];
        if (r.addr == rel.addr)
            return r.thread != rel.thread && r.time_ns + kToleranceNs >= rel.time_ns;
    }
    return false;
}

void HandoverOrder::push(const Event& e)
{
    win_.push_back(e);
    bool rel_shared;
    if (handover_releases(e, &rel_shared) && maybe_conflict(e)) settle(win_.size() - 1);
    note_acquired(win_.back());
}

// win_[rel] is a RELEASE, the newest event: every acquisition of its lock by
// another thread in the window, stamped within the tolerance before it and
// conflicting with it, goes after it with the rest of its thread's events.
void HandoverOrder::settle(size_t rel)
{
    const Event r = win_[rel];
    bool rel_shared = false;
    handover_releases(r, &rel_shared);
    for (;;) {
        // The earliest conflicting acquisition still before the RELEASE.
        size_t at = rel;
        for (size_t i = rel; i-- > head_;) {
            const Event& e = win_[i];
            if (e.time_ns + kToleranceNs < r.time_ns) break;
            bool shared;
            if (e.addr == r.addr && e.thread != r.thread && handover_acquires(e, &shared) && !(shared && rel_shared))
                at = i;
        }
        if (at == rel) return;
        // Stable: the acquiring thread's events keep their order, and so do
        // everyone else's (the RELEASE among them).
        const uint32_t t = win_[at].thread;
        auto mid = std::stable_partition(win_.begin() + long(at), win_.begin() + long(rel) + 1,
                                         [t](const Event& e) { return e.thread != t; });
        for (auto it = mid; it != win_.begin() + long(rel) + 1; ++it) {
            if (it->time_ns < r.time_ns) it->time_ns = r.time_ns;
            moved_++;
        }
        rel = size_t(mid - win_.begin()) - 1;  // where the RELEASE is now
    }
}

} // namespace lt
