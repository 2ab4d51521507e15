#include "search/strategy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::search {

std::unique_ptr<Strategy> MakeSurrogateStrategy();  // surrogate.cpp

namespace {

constexpr size_t kExhaustiveBatch = 256;
constexpr size_t kRandomBatch = 64;

bool Ordered(Knob k) { return k != Knob::kGroups && k != Knob::kStages && k != Knob::kPd; }

/// The first outcome that is ok and ranks best, or -1.
int BestOf(const std::vector<Outcome>& outs) {
  int best = -1;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].ok) continue;
    if (best < 0 ||
        Evaluator::Better(outs[i].score, outs[i].candidate, outs[best].score, outs[best].candidate))
      best = static_cast<int>(i);
  }
  return best;
}

/// A mutant of x (`changes` knobs changed) not simulated yet: near an
/// optimum most neighbours are known, and proposing them again teaches
/// nothing. Tries larger moves as near ones turn out known, and a random
/// plan at last.
Candidate FreshMutant(const Evaluator& ev, const Candidate& x, int changes, Rng& rng) {
  constexpr int kTries = 24;
  for (int tries = 0; tries < kTries; ++tries) {
    Candidate y = Mutate(ev.space(), x, changes + tries / 4, rng);
    if (ev.Lookup(y) == nullptr) return y;
  }
  return RandomCandidate(ev.space(), rng);
}

/// A candidate to walk from: the context's start, else random ones until one
/// simulates. Returns false when none does before the budget ends.
bool StartPoint(Evaluator& ev, Rng& rng, const StrategyContext& ctx, Candidate* x, Score* fx) {
  const PlanSpace& space = ev.space();
  if (ctx.start) {
    const std::vector<Outcome> o = ev.Evaluate({*ctx.start});
    if (o[0].ok) {
      *x = o[0].candidate;
      *fx = o[0].score;
      return true;
    }
  }
  while (!ev.Done()) {
    std::vector<Candidate> batch;
    for (int i = 0; i < std::max(1, ctx.width); ++i) batch.push_back(RandomCandidate(space, rng));
    const std::vector<Outcome> outs = ev.Evaluate(batch);
    const int b = BestOf(outs);
    if (b >= 0) {
      *x = outs[b].candidate;
      *fx = outs[b].score;
      return true;
    }
  }
  return false;
}

class Exhaustive final : public Strategy {
 public:
  const char* Name() const override { return "exhaustive"; }
  void Run(Evaluator& ev, Rng&, const StrategyContext&) override {
    const PlanSpace& space = ev.space();
    Candidate c(space.dims().size(), 0);
    bool more = true;
    while (more && !ev.Done()) {
      std::vector<Candidate> batch;
      while (more && batch.size() < kExhaustiveBatch) {
        if (space.Feasible(c) && space.IsCanonical(c) && ev.Lookup(c) == nullptr)
          batch.push_back(c);
        more = NextCandidate(space, c);
      }
      if (!batch.empty()) ev.Evaluate(batch);
    }
  }
};

class RandomSearch final : public Strategy {
 public:
  const char* Name() const override { return "random"; }
  void Run(Evaluator& ev, Rng& rng, const StrategyContext&) override {
    while (!ev.Done()) {
      std::vector<Candidate> batch;
      for (size_t i = 0; i < kRandomBatch; ++i) batch.push_back(RandomCandidate(ev.space(), rng));
      ev.Evaluate(batch);
    }
  }
};

/// Greedy coordinate descent: sweep the ranged dimensions in a random
/// order, trying every value of one at a time and keeping the best; at a
/// local optimum, restart from a perturbation of the best plan so far.
class Greedy final : public Strategy {
 public:
  const char* Name() const override { return "greedy"; }
  void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) override {
    const PlanSpace& space = ev.space();
    std::vector<int32_t> dims = RangedDims(space);
    if (!StartPoint(ev, rng, ctx, &x_, &fx_) || dims.empty()) return;
    while (!ev.Done()) {
      bool improved = false;
      for (size_t i = dims.size(); i > 1; --i) std::swap(dims[i - 1], dims[rng.Below(i)]);
      for (int32_t d : dims) {
        if (ev.Done()) return;
        std::vector<Candidate> batch;
        for (int32_t v = 0; v < static_cast<int32_t>(space.dims()[d].values.size()); ++v) {
          if (v == x_[d]) continue;
          Candidate y = x_;
          y[d] = v;
          batch.push_back(y);
        }
        const std::vector<Outcome> outs = ev.Evaluate(batch);
        const int b = BestOf(outs);
        if (b >= 0 && Evaluator::Better(outs[b].score, outs[b].candidate, fx_, x_)) {
          x_ = outs[b].candidate;
          fx_ = outs[b].score;
          improved = true;
        }
      }
      if (!improved && !ev.Done() && ev.has_best()) {
        // A local optimum: restart near the best plan so far.
        const Candidate from = ev.best();
        const int changes = 1 + static_cast<int>(rng.Below(3));
        const std::vector<Outcome> o = ev.Evaluate({FreshMutant(ev, from, changes, rng)});
        if (o[0].ok) {
          x_ = o[0].candidate;
          fx_ = o[0].score;
        }
      }
    }
  }

 private:
  Candidate x_;
  Score fx_;
};

/// Simulated annealing: per step, `width` random neighbours (one or two
/// knobs changed); the best of them is accepted if better, else with
/// probability exp(-gap / T), with T cooling geometrically over the budget
/// from 3% to 0.03% of the objective. Long stalls restart from the best.
class Anneal final : public Strategy {
 public:
  const char* Name() const override { return "anneal"; }
  void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) override {
    const PlanSpace& space = ev.space();
    Candidate x;
    Score fx;
    if (!StartPoint(ev, rng, ctx, &x, &fx) || RangedDims(space).empty()) return;
    constexpr double kT0 = 0.03, kT1 = 0.0003;
    constexpr int kStall = 200;
    const int width = std::max(1, ctx.width);
    int since_best = 0;
    Score last_best = ev.best_score();
    while (!ev.Done()) {
      const double t = kT0 * std::pow(kT1 / kT0, ev.Progress());
      // Neighbours not simulated yet where possible: near an optimum most
      // are, and proposing them again teaches nothing.
      std::vector<Candidate> batch;
      for (int i = 0; i < width; ++i)
        batch.push_back(FreshMutant(ev, x, rng.Uniform() < 0.3 ? 2 : 1, rng));
      const std::vector<Outcome> outs = ev.Evaluate(batch);
      const double u = rng.Uniform();
      const int b = BestOf(outs);
      if (b >= 0) {
        const double gap = RelativeGap(outs[b].score, fx);
        if (gap <= 0.0 || u < std::exp(-gap / t)) {
          x = outs[b].candidate;
          fx = outs[b].score;
        }
      }
      if (ev.best_score() < last_best) {
        last_best = ev.best_score();
        since_best = 0;
      } else if (++since_best > kStall) {
        x = ev.best();
        fx = ev.best_score();
        since_best = 0;
      }
    }
  }
};

/// A genetic algorithm: a population of 32, two elites kept, parents by
/// 3-way tournaments, uniform crossover, each ranged knob mutated with
/// probability 1/(ranged knobs); duplicates are mutated again, and when a
/// generation brings nothing new, half the population is replaced by random plans.
class Genetic final : public Strategy {
 public:
  const char* Name() const override { return "genetic"; }
  void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) override {
    const PlanSpace& space = ev.space();
    constexpr size_t kPop = 32, kElite = 2;
    const std::vector<int32_t> ranged = RangedDims(space);
    const double pm = ranged.empty() ? 0.0 : 1.0 / static_cast<double>(ranged.size());
    std::vector<Candidate> pop;
    if (ctx.start) pop.push_back(space.Canonical(*ctx.start));
    while (pop.size() < kPop) pop.push_back(RandomCandidate(space, rng));
    while (!ev.Done()) {
      const int64_t before = ev.evaluations();
      const std::vector<Outcome> outs = ev.Evaluate(pop);
      std::vector<size_t> rank(outs.size());
      std::iota(rank.begin(), rank.end(), 0);
      std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
        if (outs[a].ok != outs[b].ok) return outs[a].ok;
        if (!outs[a].ok) return outs[a].candidate < outs[b].candidate;
        return Evaluator::Better(outs[a].score, outs[a].candidate, outs[b].score,
                                 outs[b].candidate);
      });
      std::vector<size_t> position(outs.size());  // rank of each individual
      for (size_t r = 0; r < rank.size(); ++r) position[rank[r]] = r;
      const auto tournament = [&]() {
        size_t best = rng.Below(pop.size());
        for (int k = 1; k < 3; ++k) {
          const size_t other = rng.Below(pop.size());
          if (position[other] < position[best]) best = other;
        }
        return best;
      };
      std::vector<Candidate> next;
      for (size_t r = 0; r < kElite && r < rank.size(); ++r) {
        if (std::find(next.begin(), next.end(), outs[rank[r]].candidate) == next.end())
          next.push_back(outs[rank[r]].candidate);
      }
      const bool stale = ev.evaluations() == before;
      while (next.size() < kPop) {
        Candidate child;
        if (stale && next.size() >= kPop / 2) {
          child = RandomCandidate(space, rng);
        } else {
          const Candidate& a = outs[tournament()].candidate;
          const Candidate& b = outs[tournament()].candidate;
          child = a;
          for (size_t d = 0; d < child.size(); ++d)
            if (rng.Below(2) == 1) child[d] = b[d];
          for (int32_t d : ranged) {
            if (rng.Uniform() < pm) {
              const uint64_t size = space.dims()[d].values.size();
              child[d] = static_cast<int32_t>((child[d] + 1 + rng.Below(size - 1)) % size);
            }
          }
          if (!Repair(space, child, rng)) child = RandomCandidate(space, rng);
          child = space.Canonical(child);
        }
        for (int tries = 0; tries < 4 && std::find(next.begin(), next.end(), child) != next.end();
             ++tries)
          child = Mutate(space, child, 1, rng);
        next.push_back(child);
      }
      pop = std::move(next);
    }
  }
};

/// What `auto` runs on spaces too large to enumerate: greedy descent for the
/// first 20% of the budget (fast to a good region), then annealing from the
/// best plan for the rest.
class Portfolio final : public Strategy {
 public:
  const char* Name() const override { return "portfolio"; }
  void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) override {
    Greedy greedy;
    ev.set_stop_at(0.2);
    ev.set_strategy("greedy");
    greedy.Run(ev, rng, ctx);
    ev.set_stop_at(1.0);
    if (ev.Done()) return;
    StrategyContext next = ctx;
    if (ev.has_best()) next.start = ev.best();
    Anneal anneal;
    ev.set_strategy("anneal");
    anneal.Run(ev, rng, next);
  }
};

}  // namespace

std::vector<std::string> StrategyNames() {
  return {"auto", "exhaustive", "random", "greedy", "anneal", "genetic", "surrogate"};
}

std::unique_ptr<Strategy> MakeStrategy(const std::string& name) {
  if (name == "exhaustive") return std::make_unique<Exhaustive>();
  if (name == "random") return std::make_unique<RandomSearch>();
  if (name == "greedy") return std::make_unique<Greedy>();
  if (name == "anneal") return std::make_unique<Anneal>();
  if (name == "genetic") return std::make_unique<Genetic>();
  if (name == "surrogate") return MakeSurrogateStrategy();
  if (name == "portfolio") return std::make_unique<Portfolio>();
  throw InputError("--strategy: " + ExpectedOneOf(nlohmann::json(name), StrategyNames()));
}

std::string ResolveAuto(const PlanSpace& space, int64_t affordable) {
  // Enumeration walks the raw space and skips equivalent plans: cheap next
  // to simulating as long as the raw space is not much larger.
  const uint64_t raw_limit = std::max<uint64_t>(1u << 20, SaturatingMul(space.Size(), 64));
  if (affordable > 0 && space.Size() <= static_cast<uint64_t>(affordable) &&
      space.RawSize() <= raw_limit)
    return "exhaustive";
  return "portfolio";
}

const std::vector<int32_t>& RangedDims(const PlanSpace& space) { return space.ranged(); }

bool NextCandidate(const PlanSpace& space, Candidate& c) {
  for (size_t d = c.size(); d-- > 0;) {
    if (++c[d] < static_cast<int32_t>(space.dims()[d].values.size())) return true;
    c[d] = 0;
  }
  return false;
}

bool Repair(const PlanSpace& space, Candidate& c, Rng& rng) {
  std::vector<int32_t> partitioned;
  while (!space.Feasible(c)) {
    partitioned.clear();
    for (int32_t ti = 0; ti < space.tenants(); ++ti) {
      const int32_t d = space.Dim(Knob::kSm, ti);
      const std::vector<int64_t>& v = space.dims()[d].values;
      // Can shrink: a smaller partition or "share" exists below it.
      if (v[c[d]] >= 0 && c[d] > 0) partitioned.push_back(d);
      // An llm tenant's prefill/decode partitions: can turn off.
      const int32_t pd = space.Dim(Knob::kPd, ti);
      if (pd >= 0 && c[pd] > 0) partitioned.push_back(pd);
    }
    if (partitioned.empty()) return false;
    const int32_t d = partitioned[rng.Below(partitioned.size())];
    const std::vector<int64_t>& v = space.dims()[d].values;
    if (space.dims()[d].knob == Knob::kPd) {
      c[d] = 0;  // one loop
    } else {
      c[d] = v[0] < 0 ? 0 : c[d] - 1;  // share if it may, else the next smaller partition
    }
  }
  return true;
}

Candidate RandomCandidate(const PlanSpace& space, Rng& rng) {
  Candidate c(space.dims().size());
  for (size_t d = 0; d < c.size(); ++d)
    c[d] = static_cast<int32_t>(rng.Below(space.dims()[d].values.size()));
  if (!Repair(space, c, rng)) {
    // No way to shrink: fall back to every tenant's smallest SM value.
    for (int32_t ti = 0; ti < space.tenants(); ++ti) {
      c[space.Dim(Knob::kSm, ti)] = 0;
      if (space.Dim(Knob::kPd, ti) >= 0) c[space.Dim(Knob::kPd, ti)] = 0;
    }
  }
  return space.Canonical(c);
}

Candidate Mutate(const PlanSpace& space, const Candidate& c, int changes, Rng& rng) {
  const std::vector<int32_t>& ranged = RangedDims(space);
  if (ranged.empty()) return space.Canonical(c);
  Candidate y = c;
  for (int attempt = 0; attempt < 8; ++attempt) {
    y = c;
    for (int k = 0; k < changes; ++k) {
      const int32_t d = ranged[rng.Below(ranged.size())];
      const Dimension& dim = space.dims()[d];
      const int32_t size = static_cast<int32_t>(dim.values.size());
      if (Ordered(dim.knob) && size > 2 && rng.Below(2) == 0) {
        // A step to a neighbouring value.
        const int32_t step = rng.Below(2) == 0 ? -1 : 1;
        y[d] = y[d] + step < 0 || y[d] + step >= size ? y[d] - step : y[d] + step;
      } else {
        y[d] = static_cast<int32_t>((y[d] + 1 + rng.Below(size - 1)) % size);
      }
    }
    if (!Repair(space, y, rng)) continue;
    y = space.Canonical(y);
    if (y != space.Canonical(c)) return y;
  }
  return y;
}

double RelativeGap(const Score& a, const Score& b) {
  const double scale = std::max(1.0, std::fabs(b.value));
  const double tie_scale = std::max(1.0, std::fabs(b.tie));
  return (a.value - b.value) / scale + 1e-3 * (a.tie - b.tie) / tie_scale;
}

}  // namespace cotenant::search
