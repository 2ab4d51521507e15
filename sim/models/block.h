// The `block` contention model: the reference model that simulates every
// SM's resources and dispatches thread blocks one by one. Slow; used to
// check `fluid` on small cases and to study tails. Rules: docs/models.md.
#pragma once

#include <memory>

#include "sim/gpu_spec.h"
#include "sim/models/contention_model.h"

namespace cotenant {

/// Makes the block-level model for `spec`. `partitions.sm_counts` are
/// disjoint SM ranges assigned in order from SM 0 (partition 0 holds SMs
/// [0, c0), partition 1 holds [c0, c0 + c1), ...); their sum must not exceed
/// spec.sm_count. A kernel with partition -1 may use every SM.
std::unique_ptr<ContentionModel> MakeBlockModel(const GpuSpec& spec,
                                                const SmPartitions& partitions);

}  // namespace cotenant
