// `blocked` (info): every thread blocked at the end of the trace, on what, since when.
#include "detectors.h"

#include <cinttypes>
#include <cstdio>

namespace lt {

void detect_blocked(const Model& model, std::vector<Finding>& out)
{
    for (const ThreadState& t : model.threads) {
        if (t.status != ThreadStatus::blocked)
            continue;
        const Event& e = model.events[t.blocked_on];
        Finding f;
        f.kind = "blocked";
        f.severity = Finding::info;
        f.locks.push_back(t.lock_addr);
        f.threads.push_back(t.tid);
        char buf[256];
        snprintf(buf, sizeof buf, "thread %d (%s) is blocked on %s 0x%" PRIx64 " since +%.6fs",
                 t.tid, t.name.empty() ? "?" : t.name.c_str(), prim_name(t.lock_prim), t.lock_addr,
                 model.rel(t.since_ns) / 1e9);
        f.summary = buf;
        f.evidence.push_back(Evidence{t.tid, e.time_ns, describe_event(e), e.stack_id, t.blocked_on});
        out.push_back(std::move(f));
    }
}

} // namespace lt
