// A whole search: the baselines, one strategy within a budget, the best plan
// with its full result, and the `cotenant.search/1` report.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "search/evaluator.h"
#include "search/objective.h"
#include "search/space.h"

namespace cotenant::search {

struct SearchOptions {
  std::string strategy = "auto";   ///< a StrategyNames() entry
  int64_t budget_evaluations = 0;  ///< simulations; 0 = none
  double budget_seconds = 0.0;     ///< wall clock; 0 = none
  int threads = 1;
  uint64_t seed = 1;
  std::string model = "fluid";
  /// A plan to start walking from (must be inside the space: FromPlan).
  std::optional<Plan> start;
  /// Stop once the best score's value is at or below this (baselines included: the
  /// strategy does not run when a baseline reaches it); unset = run the whole budget.
  std::optional<double> target_value;
  /// The baselines to run (BaselinePlans names; "native" always runs); empty = all.
  std::vector<std::string> baselines;
  /// Called after every batch of evaluations (progress bars).
  std::function<void(const Evaluator&)> on_batch;
  /// Where budget_seconds is measured; null = SteadyClock(). Must outlive the search.
  const Clock* clock = nullptr;
};

struct BaselineResult {
  std::string name, description;
  std::optional<Plan> plan;  ///< nullopt when the GPU cannot express it
  std::string missing;       ///< why there is no plan
  SimResult result;          ///< when plan
  Score score;               ///< when plan
  bool in_space = false;     ///< the plan is a candidate of the space
  /// A reference row, not a plan: every tenant alone on the whole GPU
  /// (SimulateAlone); `result` and `score` are set, `plan` is not.
  bool alone = false;
};

struct SearchResult {
  std::string strategy;   ///< the strategy that ran (auto resolved)
  std::string requested;  ///< as asked ("auto")
  Objective objective = Objective::kMakespan;
  uint64_t space_size = 0, raw_space_size = 0;
  int32_t ranged_dims = 0;
  int64_t evaluations = 0;  ///< simulations the strategy ran (baselines not counted)
  int64_t cache_hits = 0, infeasible = 0, failed = 0;
  RefusalTallies refused;  ///< the `failed` plans by reason (Evaluator::refused)
  double seconds = 0.0;    ///< wall clock of the strategy
  /// Why the strategy stopped: its budget, the space covered, or kNone when
  /// the strategy ended on its own.
  StopReason stopped = StopReason::kNone;
  int threads = 1;
  uint64_t seed = 1;
  int64_t budget_evaluations = 0;
  double budget_seconds = 0.0;
  Candidate best_candidate;
  Plan best_plan;
  SimResult best_result;
  Score best_score;
  std::string found_by;  ///< the strategy that found the best, or "baseline NAME"
  std::vector<BaselineResult> baselines;
  TimeNs lower_bound_ns = 0;  ///< of the native plan: max(SM-work / SMs, longest critical path)
  std::vector<CurvePoint> curve;
};

/// The budget a search of `lw` gets when none is given, simulations: 2000, or 100 when it
/// has LLM tenants (each simulation is then a fixed point of several serving runs and task
/// graphs: about 0.5-3 s each for the bundled llm_vision on a 2-core machine,
/// docs/BENCHMARKS.md).
int64_t DefaultBudget(const LoadedWorkload& lw);

/// Runs the baselines and then the strategy. Throws InputError for an
/// unknown strategy, a start plan outside the space, or when no plan of the
/// space can be simulated at all.
SearchResult RunSearch(const PlanSpace& space, const SearchOptions& options);

/// The index of the named baseline in r.baselines, or -1.
int FindBaseline(const SearchResult& r, const std::string& name);

/// Per llm tenant of `r`: {"tenant", "ttft_p99_ns", "tpot_p99_ns", "goodput_rps",
/// "good_share", "multiplexed"} (the "llm" arrays of `cotenant.search/1`).
nlohmann::json LlmSummaryJson(const SimResult& r);

/// The `cotenant.search/1` document (docs/formats.md).
nlohmann::json SearchResultToJson(const SearchResult& r, const PlanSpace& space);

/// The best-so-far curve as CSV: `strategy,evaluation,seconds,best` (best in
/// the objective's unit: ns, req/s, or weighted misses).
std::string CurveCsv(const SearchResult& r);

/// The plan in words: what each knob it sets does, and how its result
/// differs from native multi-stream's.
std::vector<std::string> ExplainPlan(const Plan& plan, const SimResult& result,
                                     const SimResult& native, const LoadedWorkload& lw);

}  // namespace cotenant::search
