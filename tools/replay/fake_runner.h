// A fake GPU built on the simulator, behind the same Runner interface as the
// CUDA runner, so that `replay`, `validate` and `calibrate` run end to end
// without a GPU (tests, CI) through exactly the code path a real GPU takes:
// the report it produces goes through the replay process (isolate.h), the
// measured-result assembly and the comparison like a real one. A testing
// aid: its "measurements" are the simulator's own predictions, distorted on
// purpose by the settings below.
#pragma once

#include <cstdint>

#include "tools/replay/runner.h"

namespace cotenant::replay {

/// How the fake GPU differs from the GPU spec the simulator predicts with.
struct FakeGpu {
  /// The fake GPU's contention-model co-run slowdown (ModelParams::
  /// corun_slowdown); < 0 = the spec's. What `calibrate` should recover.
  double corun_slowdown = -1.0;
  /// The fake GPU is (1 + bias) times slower than the spec in every respect
  /// during the measured runs: every task's duration and CPU gap, launch
  /// and sync latency times (1 + bias), DRAM bandwidth divided by it. So a
  /// run of closed-loop requests measures (1 + bias) times the prediction
  /// (up to 1-ns rounding), and `validate` reports an error of
  /// 1 / (1 + bias) - 1 (its errors are relative to the measured value).
  /// Greater than -1.
  double bias = 0.0;
  /// Standard deviation of Gaussian noise: in every measured run, each
  /// traced task's duration (all its requests alike) is also multiplied by
  /// max(0, 1 + noise * z), z ~ N(0, 1). 0 = none; >= 0.
  double noise = 0.0;
  uint64_t seed = 1;  ///< the noise's seed: same seed, same runs
};

/// The fake GPU. Its kernel sizing converges on a fake replay kernel that
/// takes kFakeKernelFixedNs + 1 ns per work unit alone (bias and noise
/// apply to the measured runs only), with the CUDA runner's occupancy
/// matching for a 32-register replay kernel. Its report names the device
/// "fake <spec key>", timing "fake", driver and runtime version 0, and has a
/// note with its settings.
class FakeRunner : public Runner {
 public:
  explicit FakeRunner(const FakeGpu& gpu);
  ReplayReport Run(const LoadedWorkload& lw, const TaskGraph& g, const ReplayProgram& program,
                   const ReplayOptions& options) override;

 private:
  FakeGpu gpu_;
};

/// Fixed cost of one launch of the fake replay kernel, ns.
inline constexpr double kFakeKernelFixedNs = 2000.0;

}  // namespace cotenant::replay
