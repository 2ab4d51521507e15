// The `fluid` contention model: kernels hold shares of SMs, recomputed only
// at events. Fast; the default, and the one search uses. See docs/models.md.
#pragma once

#include <memory>

#include "sim/models/contention_model.h"

namespace cotenant {

/// A kernel's shape as the fluid model sees it when it may use `cap_sms` SMs.
struct FluidShape {
  int32_t blocks_per_sm = 0;  ///< from the occupancy calculator (>= 1 once computed)
  int64_t waves_full = 1;     ///< waves on the whole GPU
  int64_t waves_cap = 1;      ///< waves within cap_sms
  double wave_ns = 0.0;       ///< isolated time of one wave (dur / waves_full)
  double full_sms = 0.0;      ///< SMs held in every wave but the last
  double last_sms = 0.0;      ///< SMs held by the last (partial) wave
  double total_ns = 0.0;      ///< time alone within cap_sms = waves_cap * wave_ns
};

/// Computes the shape of `k` on `spec` when capped at `cap_sms` SMs.
FluidShape ComputeFluidShape(const GpuSpec& spec, const KernelLaunch& k, int32_t cap_sms);

/// SM-time the kernel needs alone on the whole GPU, SM*ns (for lower bounds).
double KernelSmWork(const GpuSpec& spec, const KernelLaunch& k);

/// `incremental` = false forces the full recomputation at every event (for
/// tests that check the incremental path against it).
std::unique_ptr<ContentionModel> MakeFluidModel(const GpuSpec& spec, const SmPartitions& partitions,
                                                bool incremental = true);

}  // namespace cotenant
