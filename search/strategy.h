// Search strategies behind one interface: each proposes batches of
// candidates to an Evaluator until the budget is spent or it has nothing
// left to try. Every draw comes from the Rng it is given, and every decision
// from outcomes in proposal order, so a seed reproduces a run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "search/evaluator.h"
#include "search/space.h"
#include "sim/rng.h"

namespace cotenant::search {

/// What a strategy starts from.
struct StrategyContext {
  /// A good known candidate (the best baseline inside the space, or the
  /// user's --start plan); strategies that walk start here.
  std::optional<Candidate> start;
  /// Candidates proposed per step by strategies that are sequential at
  /// heart (annealing): the thread count, so every thread has work.
  int width = 1;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual const char* Name() const = 0;
  /// Proposes candidates to `ev` until ev.Done() or the strategy is finished.
  virtual void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) = 0;
};

/// "auto", "exhaustive", "random", "greedy", "anneal", "genetic", "surrogate".
std::vector<std::string> StrategyNames();

/// Makes a strategy by name; throws InputError naming the known ones.
std::unique_ptr<Strategy> MakeStrategy(const std::string& name);

/// The strategy `auto` resolves to: exhaustive when the space has at most
/// `affordable` plans (and enumerating it is cheap), else the portfolio.
std::string ResolveAuto(const PlanSpace& space, int64_t affordable);

// Building blocks shared by the strategies (exposed for tests).

/// A uniformly drawn candidate, repaired to be feasible, canonical.
Candidate RandomCandidate(const PlanSpace& space, Rng& rng);
/// Makes c feasible by moving SM partitions of random tenants to "share"
/// (or to smaller values) until they fit; false if that cannot be done.
bool Repair(const PlanSpace& space, Candidate& c, Rng& rng);
/// c with `changes` random dimensions set to other values, feasible, canonical.
Candidate Mutate(const PlanSpace& space, const Candidate& c, int changes, Rng& rng);
/// Indices of the dimensions with more than one value.
const std::vector<int32_t>& RangedDims(const PlanSpace& space);
/// The enumeration order of exhaustive search: the candidate after `c` in
/// mixed-radix order (last dimension fastest); false after the last one.
bool NextCandidate(const PlanSpace& space, Candidate& c);
/// A number for "how much worse is a than b", relative to b: used where a
/// strategy needs magnitudes (annealing, the surrogate's targets).
double RelativeGap(const Score& a, const Score& b);

}  // namespace cotenant::search
