// Timeline assembly: the one place a graph node becomes a TimelineEntry, for
// predicted (Simulate) and measured (replay) runs alike, so that both open in
// Perfetto with the same tracks, names and arguments.
#pragma once

#include <cstdint>
#include <functional>

#include "sim/graph.h"
#include "sim/simulate.h"
#include "sim/units.h"

namespace cotenant {

/// Appends the timeline of one run of `g` to `result`: the tenants' trace
/// strings to `result->strings`, then one entry per node that runs a trace
/// task (markers, gates and barriers have none) and has a start time
/// (`start_of(v)` >= 0; -1 = not measured, left out). An entry ends at
/// max(start, `end_of(v)`), ns on the run's clock.
void AppendTimeline(const TaskGraph& g, const std::function<TimeNs(int32_t)>& start_of,
                    const std::function<TimeNs(int32_t)>& end_of, SimResult* result);

}  // namespace cotenant
