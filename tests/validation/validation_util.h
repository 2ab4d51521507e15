// The GPU the calibration tests fit on, shared by tests/validation/ and the
// fake-GPU tests of tests/replay/.
#pragma once

#include "sim/gpu_spec.h"

namespace cotenant::validation::testing {

/// An H100-like GPU (the GpuSpec defaults: 132 SMs, 8-SM partitions) with
/// the model parameters the fits start from.
inline GpuSpec TestGpu() {
  GpuSpec s;
  s.key = "test-h100";
  s.name = "test GPU";
  s.model.dram_efficiency = 0.9;
  s.model.corun_slowdown = 0.0;
  s.model.launch_latency_ns = 3000;
  return s;
}

}  // namespace cotenant::validation::testing
