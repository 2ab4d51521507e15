// Where measurements come from: the one interface through which validation
// and model fitting get measured runs. Replay implements it on a GPU (or on
// the fake GPU of its tests: tools/replay/replay_measurer.h); measured
// co-location tables can implement it without one. Nothing here knows how a
// measurement is taken.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::validation {

/// What was measured for one workload under one plan.
struct Measurement {
  /// The measured result, counted as Simulate counts its own (model
  /// "measured"): makespan and per-tenant latencies, ns. Where several runs
  /// were taken, the one it stands for (replay: the run of median makespan).
  SimResult result;
  std::string device;              ///< the GPU as it names itself ("" = not known)
  int32_t driver_version = 0;      ///< e.g. 13000; 0 = not known
  std::string timing;              ///< where the times came from ("cupti", "stamps", "fake", ...)
  std::vector<std::string> notes;  ///< what the measurer wants said, one line each
};

/// A source of measurements.
class Measurer {
 public:
  virtual ~Measurer() = default;

  /// Measures `lw` under `plan`. `label` names the plan in progress lines
  /// and messages. Throws InputError with a one-line reason when the
  /// measurement cannot be taken.
  virtual Measurement Measure(const LoadedWorkload& lw, const Plan& plan,
                              const std::string& label) = 0;
};

}  // namespace cotenant::validation
