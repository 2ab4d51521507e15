// What `replay`, `validate` and `calibrate` share: their GPU options, and
// one measured plan (a replay in its own process, the run of median
// makespan picked).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/replay/runner.h"

namespace cotenant::cli {

struct ReplayCliOptions {
  int repeat = 1;  ///< the command's default, before parsing
  int device = 0;
  int iterations = 4;
  std::string timing = "auto";
  std::string inject;
};

/// Adds --repeat, --device, --calibration-iterations, --timing and --inject.
void AddReplayOptions(CLI::App* sub, ReplayCliOptions* o);

/// The runner's options for a plan with `max_connections`. Resolves the
/// injection library for --timing auto (none found: stamps) and cupti (none
/// found: an InputError).
replay::ReplayOptions MakeReplayOptions(const ReplayCliOptions& o, int32_t max_connections,
                                        std::function<void(const std::string&)> log);

/// One plan replayed: the runner's report and the result of each run.
struct MeasuredPlan {
  replay::ReplayReport report;
  std::vector<SimResult> results;  ///< one per run, in run order
  size_t median = 0;               ///< the run of median makespan
};

/// Replays the workload's task graph under a plan (`g`) in a child process and assembles each run's
/// result (with the timeline when `timeline`).
MeasuredPlan MeasurePlan(const LoadedWorkload& lw, const TaskGraph& g,
                         const replay::ReplayOptions& options, bool timeline);

}  // namespace cotenant::cli
