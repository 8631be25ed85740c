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

HandoverOrder::HandoverOrder() : recent_(kSlots + kProbe, Recent{0, 0, 0, 0, 0}) {}

void HandoverOrder::note_acquired(const Event& e)
{
    if (!has_owners(e.prim)) return;
    const size_t s = slot_of(e.addr);
    for (size_t k = 0; k < kProbe; k++) {
        Recent& r = recent_[s + k];
        if (r.addr == e.addr) {
            if (r.thread != e.thread) {
                r.other_time_ns = r.time_ns;
                r.other_thread = r.thread;
            }
            r.time_ns = e.time_ns;
            r.thread = e.thread;
            return;
        }
        // Free, or too old to matter any more.
        if (r.addr == 0 || r.time_ns + kToleranceNs < e.time_ns) {
            r = {e.addr, e.time_ns, 0, e.thread, e.thread};
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
            return (r.thread != rel.thread && r.time_ns + kToleranceNs >= rel.time_ns) ||
                   (r.other_thread != rel.thread && r.other_time_ns + kToleranceNs >= rel.time_ns);
    }
    return false;
}

// out.back() is a RELEASE: every acquisition of its lock by another thread
// in out[from, end), stamped within the tolerance before it and excluded by
// it, goes after it with the rest of its thread's events there.
void HandoverOrder::released(std::vector<Event>& out, size_t from)
{
    bool rel_shared;
    size_t rel = out.size() - 1;
    if (!handover_releases(out[rel], &rel_shared) || !maybe_conflict(out[rel])) return;
    const Event r = out[rel];
    for (;;) {
        // The earliest conflicting acquisition still before the RELEASE.
        size_t at = rel;
        for (size_t i = rel; i-- > from;) {
            const Event& e = out[i];
            if (e.time_ns + kToleranceNs < r.time_ns) break;
            bool shared;
            if (e.addr == r.addr && e.thread != r.thread && handover_acquires(e, &shared) && !(shared && rel_shared))
                at = i;
        }
        if (at == rel) return;
        // Stable: the acquiring thread's events keep their order, and so do
        // everyone else's (the RELEASE among them).
        const uint32_t t = out[at].thread;
        auto end = out.begin() + long(rel) + 1;
        auto mid = std::stable_partition(out.begin() + long(at), end, [t](const Event& e) { return e.thread != t; });
        for (auto it = mid; it != end; ++it) {
            if (it->time_ns < r.time_ns) it->time_ns = r.time_ns;
            moved_++;
        }
        rel = size_t(mid - out.begin()) - 1;  // where the RELEASE is now
    }
}

} // namespace lt
