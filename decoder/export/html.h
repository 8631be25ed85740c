// One self-contained HTML page (no network): the timeline as SVG (a track per
// thread, holds above, waits below, wake arrows, marks, the hang), the findings
// beside it; zoom to the last seconds before the hang (buttons, keys a/h/H,
// +/-, arrows, wheel, drag); a click on a finding highlights its evidence.
#pragma once

#include "timeline_data.h"

#include <ostream>

namespace lt::exporter {

void write_html(const TimelineData& d, std::ostream& out);

} // namespace lt::exporter
