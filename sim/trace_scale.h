// Rescaling one tenant's trace: the host side (CPU work, API calls and the
// gaps between them) and the GPU side (kernel durations) by separate
// factors. This is how a calibration's per-model host and GPU time scales
// are applied to a trace (tools/validation/table_calibration.h), and the
// what-if "this model on a slower CPU / a faster library" in one call.
#pragma once

#include "sim/trace.h"

namespace cotenant {

/// Largest scale factor ScaleTrace accepts (either side).
inline constexpr double kMaxTraceScale = 1000.0;

/// Rescales `trace` in place:
///  - every start time t (host and GPU tasks) becomes
///    t0 + ceil((t - t0) * host_scale), with t0 the earliest start in the
///    trace, so host work and the CPU gaps between calls stretch by
///    `host_scale` and every order of starts (per thread, per stream) is kept;
///  - host tasks (launch, cpu, event_record, stream_wait, sync) last
///    ceil(dur * host_scale);
///  - kernels last ceil(dur * gpu_scale); copies and memsets keep theirs
///    (PCIe and copy engines do not change with the framework or library).
/// Both factors must lie in (0, kMaxTraceScale]; throws InputError naming
/// the trace otherwise. Factors of exactly 1 leave the trace unchanged.
void ScaleTrace(Trace* trace, double host_scale, double gpu_scale);

}  // namespace cotenant
