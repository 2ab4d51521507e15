// Measuring a workload under a plan by replay: the replay program run by a
// Runner in its own process (isolate.h), each run's result assembled as
// Simulate assembles its own (measured.h), and the run of median makespan
// picked. ReplayMeasurer is replay's implementation of validation's
// Measurer interface, used by `validate` and `calibrate`; `replay` itself
// uses MeasurePlan for every run and the full report.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/replay/runner.h"
#include "tools/validation/measurer.h"

namespace cotenant::replay {

/// One plan replayed: the runner's report and the result of each run.
struct MeasuredPlan {
  ReplayReport report;
  std::vector<SimResult> results;  ///< one per run, in run order
  size_t median = 0;               ///< index of the run of median makespan (upper median)
};

/// Replays `g` (the workload's task graph under a plan) with `runner` in a
/// child process and assembles each run's result, with its timeline when
/// `timeline`. Throws what RunReplayInChild throws.
MeasuredPlan MeasurePlan(Runner& runner, const LoadedWorkload& lw, const TaskGraph& g,
                         const ReplayOptions& options, bool timeline);

/// Replay as a source of measurements.
class ReplayMeasurer : public validation::Measurer {
 public:
  /// Progress line `line` of the replay of the plan labelled `label`.
  using Log = std::function<void(const std::string& label, const std::string& line)>;

  /// Measures with `runner` (which must outlive this) and `options`, whose
  /// `max_connections` is taken from each plan and whose `log` is replaced
  /// by `log` (may be null: no progress lines).
  ReplayMeasurer(Runner& runner, ReplayOptions options, Log log);

  /// The run of median makespan; notes and provenance from the report.
  validation::Measurement Measure(const LoadedWorkload& lw, const Plan& plan,
                                  const std::string& label) override;

 private:
  Runner& runner_;
  ReplayOptions options_;
  Log log_;
};

}  // namespace cotenant::replay
