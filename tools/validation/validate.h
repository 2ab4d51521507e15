// Validation: the simulator's predictions of a workload under one or more
// plans against what was measured for the same workload and plans (through
// a Measurer: replay on a GPU, or measured tables). The comparison is pure
// functions over results, so it is tested with hand-made numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/plan.h"
#include "sim/simulate.h"
#include "tools/validation/measurer.h"

namespace cotenant::validation {

/// One predicted figure against its measured value.
struct Compared {
  double predicted = 0.0;  ///< ns (or a ratio for speedups)
  double measured = 0.0;
  /// (predicted - measured) / measured * 100; 0 when both are 0, and
  /// +-inf when only the measured value is 0.
  double error_pct = 0.0;
};

/// Compares one figure.
Compared Compare(double predicted, double measured);

struct TenantValidation {
  std::string name;
  Compared mean_latency;  ///< ns
  Compared p99_latency;   ///< ns
};

/// One plan: makespan and per-tenant latencies.
struct PlanValidation {
  std::string plan;  ///< the plan's label (file name or "native")
  Compared makespan;
  std::vector<TenantValidation> tenants;  ///< in the predicted result's order
};

/// Speedup of plan `b` over plan `a`: makespan(a) / makespan(b), > 1 when b
/// is faster, predicted and measured.
struct SpeedupValidation {
  size_t a = 0, b = 0;  ///< indices into Validation::plans
  Compared speedup;
  /// Both say b is faster, or both say it is slower (or both call it a tie,
  /// within `tie_pct`).
  bool same_direction = false;
};

/// Does the simulator rank the plans as the GPU does (by makespan)?
struct RankingValidation {
  int64_t concordant = 0, discordant = 0;  ///< plan pairs ordered alike / oppositely
  int64_t ties_predicted = 0;  ///< pairs the prediction ties (whatever the measurement says)
  int64_t ties_measured = 0;   ///< pairs the measurement ties
  /// Kendall's tau-b over the plans' makespans; absent with fewer than two
  /// plans or when one side ties every pair.
  std::optional<double> kendall_tau;
  size_t predicted_best = 0, measured_best = 0;  ///< index of the smallest makespan (first on ties)
  bool best_agrees = false;                      ///< predicted_best == measured_best
  /// Measured makespan of the predicted best over the measured best, minus
  /// one, in percent: what trusting the simulator costs (0 when it agrees).
  double regret_pct = 0.0;
};

/// |error| statistics over a set of comparisons, percent (non-finite errors left out).
struct AbsErrorStats {
  int64_t count = 0;
  double mean_pct = 0.0, max_pct = 0.0;
};

struct Validation {
  std::vector<PlanValidation> plans;
  std::vector<SpeedupValidation> speedups;  ///< every pair a < b, in order
  RankingValidation ranking;
  AbsErrorStats makespan_error;  ///< over plans
  AbsErrorStats latency_error;   ///< over plans x tenants, mean and p99 together
  AbsErrorStats speedup_error;   ///< over pairs
};

/// Options of Validate.
struct ValidateOptions {
  /// Makespans within this many percent of each other count as a tie when
  /// ranking (measurements are noisy). 0 = exact.
  double tie_pct = 0.0;
};

/// Compares predicted and measured results, plan by plan. `labels`,
/// `predicted` and `measured` have one entry per plan (same order, at least
/// one). Tenants are matched by name; a tenant missing from a measured
/// result throws InputError naming it.
Validation Validate(const std::vector<std::string>& labels, const std::vector<SimResult>& predicted,
                    const std::vector<SimResult>& measured, const ValidateOptions& options = {});

/// The `cotenant.validation/1` document (docs/formats.md).
nlohmann::json ValidationToJson(const Validation& v, const std::string& workload,
                                const std::string& device);

/// One plan of a workload validation.
struct LabelledPlan {
  std::string label;  ///< how results and messages name it (file name or "native")
  Plan plan;
};

/// A workload validated under its plans, and where the measurements came
/// from (as the last measurement says).
struct WorkloadValidation {
  Validation validation;
  std::string device;          ///< "" = not known
  int32_t driver_version = 0;  ///< 0 = not known
  std::string timing;
};

/// Called after plan `index` was measured (to show progress and notes).
using OnMeasured = std::function<void(size_t index, const Measurement& m)>;

/// Predicts `lw` under every plan with the contention model `model` (all
/// predictions before the first measurement, so that a bad plan fails
/// before a GPU is touched), measures each plan through `measurer` in
/// order, and compares them (Validate). `plans` has at least one entry.
WorkloadValidation ValidateWorkload(const LoadedWorkload& lw,
                                    const std::vector<LabelledPlan>& plans,
                                    const std::string& model, Measurer& measurer,
                                    const ValidateOptions& options = {},
                                    const OnMeasured& on_measured = nullptr);

/// The `cotenant.validation/1` document of a workload validation, with the
/// measurement's `driver_version` and `timing`.
nlohmann::json ValidationToJson(const WorkloadValidation& v, const std::string& workload);

}  // namespace cotenant::validation
