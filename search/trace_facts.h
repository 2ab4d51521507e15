// What the plan space and the baselines read off one tenant's trace: its
// operators as stage cuts count them, its streams and its batch (its request
// span is sim/trace_stats.h's RequestSpanNs).
#pragma once

#include <cstdint>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::search {

/// Operator boundaries of `trace` as stage cuts see them: per operator (in
/// issue order, numbered as `stages` cut points count them), the isolated GPU
/// time of its kernels, ns.
std::vector<TimeNs> OperatorTimes(const Trace& trace, const GpuSpec& spec);

/// Distinct stream ids of a trace.
int64_t StreamCount(const Trace& trace);

/// The batch of a trace from its `meta.batch`, or -1 when absent.
int64_t TraceBatch(const Trace& trace);

}  // namespace cotenant::search
