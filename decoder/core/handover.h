// One lock's hand-over in the order the lock allows.
//
// The shim does not fence its clock reads: the stamp of an ACQUIRED (read
// right after the lock call returned) may be taken while the call's last
// instructions are still in flight, so it can come out a few hundred ns
// earlier than the moment the lock was really taken, and so earlier than the
// previous owner's RELEASE (stamped before its unlock).  Sorted by stamp
// alone, such a trace would show two owners at once.
//
// The reader keeps the newest kToleranceNs of stamps open: when a RELEASE
// arrives that conflicts with an acquisition of the same lock by another
// thread stamped less than kToleranceNs before it (a release precedes the
// next exclusive acquisition; readers and writers exclude), the acquiring
// thread's events from that acquisition on move after the RELEASE and their
// stamps are raised to its stamp.  A disagreement of more than kToleranceNs
// is left as recorded: that is not clock skew but the program's own doing.
#pragma once

#include "trace_reader.h"

#include <cstdint>
#include <vector>

namespace lt {

class HandoverOrder {
public:
    static constexpr uint64_t kToleranceNs = 1000;

    HandoverOrder();
    // `out.back()` was just appended in stamp order (as merged from the
    // rings); out[from, end) may still be reordered, what lies before `from`
    // is final.
    void pushed(std::vector<Event>& out, size_t from)
    {
        const Event& e = out.back();
        if (e.type == LT_EV_RELEASE) released(out, from);
        else if (e.type == LT_EV_ACQUIRED) note_acquired(e);
    }
    // Events moved after a RELEASE so far.
    uint64_t moved() const { return moved_; }

private:
    // The newest acquisition of a lock address, and the newest before it by
    // another thread: a RELEASE conflicts with an earlier-stamped acquisition
    // by another thread even when its own thread's (a condition wait's
    // re-take, recorded after the wait returned) is stamped later.
    struct Recent {
        uint64_t addr, time_ns, other_time_ns;
        uint32_t thread, other_thread;
    };
    static constexpr size_t kSlots = 4096, kProbe = 4;
    void note_acquired(const Event& e);
    bool maybe_conflict(const Event& rel) const;
    void released(std::vector<Event>& out, size_t from);
    std::vector<Recent> recent_;
    uint64_t scan_all_until_ = 0;  // the table was full: look at every RELEASE until then
    uint64_t moved_ = 0;
};

// Whether an event takes (`Taking`) or gives back (`Giving`) a lock that has
// owners, for the hand-over order; `shared` says in which mode.
bool handover_acquires(const Event& e, bool* shared);
bool handover_releases(const Event& e, bool* shared);

} // namespace lt
