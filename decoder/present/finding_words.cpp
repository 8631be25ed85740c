#include "finding_words.h"

namespace lt {

FindingWords finding_words(const Model&, Symbolizer&, const Finding& f)
{
    FindingWords w;
    w.summary = f.summary;
    for (const Evidence& e : f.evidence) w.evidence.push_back({e.thread, e.time_ns, e.event, e.stack_id, e.event_index});
    return w;
}

} // namespace lt
