// Evaluating candidates: simulations on a thread pool, a cache keyed by the
// canonical candidate (one-to-one with the canonical plan), a budget in
// evaluations or seconds, and the best-so-far with its curve. Batches are
// consumed in proposal order, so for a budget in evaluations the outcome
// depends only on what strategies propose, never on timing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/clock.h"
#include "search/objective.h"
#include "search/refusal.h"
#include "search/space.h"
#include "search/thread_pool.h"
#include "sim/graph.h"

namespace cotenant::search {

struct EvalOptions {
  int threads = 1;              ///< simulations run in parallel (>= 1)
  int64_t max_evaluations = 0;  ///< budget in simulations; 0 = none
  double max_seconds = 0.0;     ///< budget in wall-clock seconds; 0 = none
  std::string model = "fluid";  ///< contention model
  /// Proposals in a row that bring no new simulation before a search is
  /// called stuck and stopped (a guard for strategies on tiny spaces).
  int64_t max_stale_proposals = 200000;
  /// Stop once the best score's value is at or below this (fleet placement: no SLO
  /// misses left to remove); unset = never.
  std::optional<double> target_value;
  /// Where max_seconds is measured; null = SteadyClock(). Must outlive the evaluator.
  const Clock* clock = nullptr;
};

/// Why an evaluator is done (Evaluator::Stop), in the order it is checked.
enum class StopReason : uint8_t {
  kNone,         ///< not done: the budget allows more
  kEvaluations,  ///< the budget in simulations is spent
  kDeadline,     ///< the budget in seconds is spent
  kShare,        ///< a portfolio strategy's share of the budget is spent (set_stop_at)
  kCovered,      ///< every plan of the space was simulated
  kStale,        ///< strategies keep proposing known plans
  kTarget,       ///< the best score reached EvalOptions::target_value
};

/// What became of one proposed candidate.
enum class Status : uint8_t {
  kEvaluated,   ///< simulated now (counted in the budget)
  kCached,      ///< simulated before (this run); the score is the cached one
  kInfeasible,  ///< not a plan (SM partitions); never simulated, never counted
  kSkipped,     ///< the budget was spent before its turn
};

struct Outcome {
  Candidate candidate;  ///< canonical
  Status status = Status::kSkipped;
  bool ok = false;    ///< simulated (now or before) without error; `score` is valid
  Score score;        ///< when ok
  std::string error;  ///< why the simulator refused the plan (a deadlock, ...), when not ok
};

/// A point of the best-so-far curve: recorded whenever the best score improves.
struct CurvePoint {
  int64_t evaluation = 0;  ///< simulations done when it was found (0 = a baseline)
  double seconds = 0.0;    ///< wall clock since the search started
  Score best;
  std::string strategy;  ///< which strategy found it ("baseline" for seeds)
};

class Evaluator {
 public:
  /// `space` must outlive the evaluator.
  Evaluator(const PlanSpace& space, const EvalOptions& options);

  /// Evaluates a batch (in parallel) and returns one outcome per candidate,
  /// in order. Candidates past the budget come back kSkipped. A candidate
  /// proposed twice in one batch is simulated once.
  std::vector<Outcome> Evaluate(const std::vector<Candidate>& batch);

  /// Records a candidate whose score is known (a baseline inside the space):
  /// cached and offered as best, not counted in the budget.
  void Seed(const Candidate& c, const Score& score);

  /// The cached score of a canonical candidate, or null.
  const Outcome* Lookup(const Candidate& canonical) const;

  /// Simulates `plan` on the calling thread and returns the full result
  /// (for baselines and the best plan). Throws InputError as Simulate does.
  SimResult Run(const Plan& plan, bool record_timeline = false);

  /// True when the budget is spent, every plan of the space was simulated,
  /// or strategies keep proposing known plans: Stop() != kNone.
  bool Done() const { return Stop() != StopReason::kNone; }
  /// Why the evaluator is done, or kNone.
  StopReason Stop() const;
  int64_t evaluations() const { return evaluations_; }
  int64_t cache_hits() const { return cache_hits_; }
  int64_t infeasible() const { return infeasible_; }
  int64_t failed() const { return failed_; }
  /// The simulator's message for the first plan it refused ("" = none).
  const std::string& first_error() const { return first_error_; }
  /// The plans the simulator refused (failed()), by reason, each with its
  /// first message; the counts add up to failed().
  const RefusalTallies& refused() const { return refused_; }
  /// Simulations the budget still allows (INT64_MAX without a count budget).
  int64_t remaining() const;
  /// How much of the budget is used, 0..1 (the larger of evaluations and time).
  double Progress() const;
  /// Seconds since the evaluator was made, on its clock.
  double Seconds() const;

  bool has_best() const { return has_best_; }
  const Candidate& best() const { return best_; }
  const Score& best_score() const { return best_score_; }
  /// The strategy label in force when the best was found ("baseline" for seeds).
  const std::string& best_found_by() const { return best_by_; }
  /// True when (a, ca) ranks before (b, cb): lower score, then lower candidate.
  static bool Better(const Score& a, const Candidate& ca, const Score& b, const Candidate& cb);

  const std::vector<CurvePoint>& curve() const { return curve_; }
  /// The strategy name recorded in curve points from now on.
  void set_strategy(const std::string& name) { strategy_ = name; }
  /// Makes Done() true once Progress() reaches `fraction` (a strategy's
  /// share of the budget in a portfolio); 1 = the whole budget.
  void set_stop_at(double fraction) { stop_at_ = fraction; }
  /// Called after each batch (for progress bars).
  void set_on_batch(std::function<void()> f) { on_batch_ = std::move(f); }

  const PlanSpace& space() const { return space_; }
  int threads() const { return pool_.size(); }

 private:
  struct Hash {
    size_t operator()(const Candidate& c) const;
  };
  void Offer(const Candidate& c, const Score& s);

  const PlanSpace& space_;
  const LoadedWorkload& lw_;
  EvalOptions options_;
  ThreadPool pool_;
  std::vector<std::unique_ptr<TemplateCache>> caches_;     ///< one per worker thread
  std::vector<std::unique_ptr<SimWorkspace>> workspaces_;  ///< one per worker thread
  std::unordered_map<Candidate, Outcome, Hash> cache_;
  const Clock& clock_;
  double start_ = 0.0;  ///< clock_.Seconds() when made
  int64_t evaluations_ = 0, cache_hits_ = 0, infeasible_ = 0, failed_ = 0;
  int64_t stale_ = 0;          ///< proposals since the last new simulation
  int64_t space_covered_ = 0;  ///< distinct feasible candidates of the space cached
  bool has_best_ = false;
  Candidate best_;
  Score best_score_;
  std::string best_by_;
  std::vector<CurvePoint> curve_;
  std::string strategy_;
  std::string first_error_;
  RefusalTallies refused_;
  double stop_at_ = 1.0;
  std::function<void()> on_batch_;
};

}  // namespace cotenant::search
