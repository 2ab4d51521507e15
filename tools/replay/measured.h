// Measured-run assembly: per-node start/end times recorded by the replay
// runner, turned into the same `cotenant.result/1` (and Perfetto timeline)
// the simulator produces, and into `cotenant.trace/1` traces.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/graph.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::replay {

/// What the runner measured, per graph node, on the replay clock (ns since
/// the replay started); -1 = not measured (gates, barriers, markers).
struct MeasuredRun {
  std::vector<TimeNs> start_ns, end_ns;
};

/// An empty run of `g` (every time -1).
MeasuredRun EmptyRun(const TaskGraph& g);

/// The result of a measured run, computed as Simulate() computes its own:
/// gates and barriers complete when their predecessors have (and start
/// gates not before their release), latencies run from arrival (closed
/// loops: the previous request's completion) to completion. model =
/// "measured"; `gpu.sm_busy_fraction` is the union of kernel intervals over
/// the makespan (occupancy and DRAM are not measured: 0). With `timeline`,
/// fills the timeline for TimelineToJsonText.
SimResult AssembleResult(const LoadedWorkload& lw, const TaskGraph& g, const MeasuredRun& run,
                         bool timeline);

/// One `cotenant.trace/1` per tenant holding what ran: every kernel, copy,
/// memset, launch and CPU task of every request with its measured start and
/// duration (event records, waits and syncs are left out), task ids
/// renumbered, correlations kept unique per request, `meta.requests` set.
std::vector<Trace> MeasuredTraces(const LoadedWorkload& lw, const TaskGraph& g,
                                  const MeasuredRun& run);

}  // namespace cotenant::replay
