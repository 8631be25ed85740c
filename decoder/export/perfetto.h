// Chrome trace-event JSON (the "JSON trace format" that ui.perfetto.dev and
// chrome://tracing open): one track per thread with complete events ("X") for
// lock holds and waits, flow events ("s"/"f") from each wake to the thread it
// woke, instant events ("i") for findings, their evidence and the trace marks.
#pragma once

#include "timeline_data.h"

#include <ostream>

namespace lt::exporter {

void write_perfetto(const TimelineData& d, std::ostream& out);

} // namespace lt::exporter
