// `blocked` (info): every thread blocked at the end of the trace, on what, since when.
#include "common.h"

namespace lt {

void detect_blocked(const Model& model, std::vector<Finding>& out)
{
    for (const ThreadState& t : model.threads) {
        if (t.status != ThreadStatus::blocked)
            continue;
        Finding f;
        f.kind = "blocked";
        f.severity = Finding::info;
        f.locks.push_back(t.lock_addr);
        f.threads.push_back(t.tid);
        f.summary = thread_ref(t.thread) + " is blocked on " + prim_name(t.lock_prim) + " " + hex(t.lock_addr) +
                    " since " + time_ref(t.since_ns);
        f.evidence.push_back(make_evidence(t.blocked_on));
        out.push_back(std::move(f));
    }
}

} // namespace lt
