// Surrogate-guided search (the ML-guided search of the ICCAD'21 work): a
// ridge regression over plan features, fitted with Eigen on every plan
// simulated so far, ranks a pool of unseen candidates; the best-predicted
// ones (and a few random ones, to keep exploring) are simulated next.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "search/strategy.h"

namespace cotenant::search {
namespace {

constexpr int kRandomPool = 192;  ///< random candidates per round
constexpr int kMutantPool = 192;  ///< mutants of the best plans per round
constexpr int kTopParents = 8;    ///< best plans mutated
constexpr int kExploit = 16;      ///< best-predicted candidates simulated per round
constexpr int kExplore = 2;       ///< random candidates simulated per round
constexpr double kRidge = 1e-3;   ///< ridge penalty (targets are relative gaps)

/// Plan features: a bias, one indicator per non-first value of every ranged
/// dimension (an additive model of the knobs), and a few interactions the
/// knobs have through the whole GPU: groups in use, SMs partitioned, tenants
/// that share, each with its square.
class Features {
 public:
  explicit Features(const PlanSpace& space) : space_(space) {
    int32_t next = 1;
    offset_.assign(space.dims().size(), -1);
    for (size_t d = 0; d < space.dims().size(); ++d) {
      const int32_t size = static_cast<int32_t>(space.dims()[d].values.size());
      if (size <= 1) continue;
      offset_[d] = next;
      next += size - 1;
    }
    global_ = next;
    count_ = next + 6;
  }
  int32_t count() const { return count_; }

  void Fill(const Candidate& c, Eigen::VectorXd& x) const {
    x.setZero(count_);
    x[0] = 1.0;
    for (size_t d = 0; d < c.size(); ++d)
      if (offset_[d] >= 0 && c[d] > 0) x[offset_[d] + c[d] - 1] = 1.0;
    const int32_t n = space_.tenants();
    int32_t max_level = 0, shared = 0;
    double partitioned = 0.0;
    for (int32_t ti = 0; ti < n; ++ti) {
      max_level = std::max(max_level, c[space_.Dim(Knob::kGroups, ti)]);
      const int32_t d = space_.Dim(Knob::kSm, ti);
      const int64_t sm = space_.dims()[d].values[c[d]];
      const auto [prefill, decode] = space_.Pd(c, ti);
      if (prefill > 0) {
        partitioned += static_cast<double>(prefill + decode);
      } else if (sm < 0) {
        ++shared;
      } else {
        partitioned += static_cast<double>(sm);
      }
    }
    const double groups = static_cast<double>(max_level + 1) / n;
    const double part = partitioned / space_.workload().gpu.sm_count;
    const double share = static_cast<double>(shared) / n;
    const double g[3] = {groups, part, share};
    for (int i = 0; i < 3; ++i) {
      x[global_ + 2 * i] = g[i];
      x[global_ + 2 * i + 1] = g[i] * g[i];
    }
  }

 private:
  const PlanSpace& space_;
  std::vector<int32_t> offset_;
  int32_t global_ = 0, count_ = 0;
};

class Surrogate final : public Strategy {
 public:
  const char* Name() const override { return "surrogate"; }

  void Run(Evaluator& ev, Rng& rng, const StrategyContext& ctx) override {
    const PlanSpace& space = ev.space();
    const Features features(space);
    const int32_t p = features.count();
    Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(p, p);
    Eigen::VectorXd xty = Eigen::VectorXd::Zero(p);
    Eigen::VectorXd x(p);
    std::optional<Score> reference;  // targets are gaps relative to the first plan that ran
    std::vector<std::pair<Score, Candidate>> top;  // the best plans, best first
    int64_t samples = 0;

    const auto learn = [&](const std::vector<Outcome>& outs) {
      for (const Outcome& o : outs) {
        if (!o.ok || o.status != Status::kEvaluated) continue;
        if (!reference) reference = o.score;
        features.Fill(o.candidate, x);
        const double y = RelativeGap(o.score, *reference);
        xtx.selfadjointView<Eigen::Lower>().rankUpdate(x);
        xty += y * x;
        ++samples;
        top.emplace_back(o.score, o.candidate);
      }
      std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
        return Evaluator::Better(a.first, a.second, b.first, b.second);
      });
      if (top.size() > static_cast<size_t>(kTopParents)) top.resize(kTopParents);
    };

    // Initial design: the start plan and random plans.
    std::vector<Candidate> batch;
    if (ctx.start) batch.push_back(*ctx.start);
    const int initial = std::min(64, 8 + p / 2);
    while (static_cast<int>(batch.size()) < initial) batch.push_back(RandomCandidate(space, rng));
    learn(ev.Evaluate(batch));

    std::vector<Candidate> pool;
    std::vector<std::pair<double, size_t>> ranked;
    while (!ev.Done()) {
      // Fit: (X'X + lambda I) w = X'y.
      Eigen::MatrixXd a = xtx.selfadjointView<Eigen::Lower>();
      a.diagonal().array() += kRidge * std::max<int64_t>(1, samples);
      const Eigen::VectorXd w = a.ldlt().solve(xty);

      // Pool: random plans and mutants of the best ones, unseen and distinct.
      pool.clear();
      for (int i = 0; i < kRandomPool; ++i) pool.push_back(RandomCandidate(space, rng));
      for (int i = 0; i < kMutantPool && !top.empty(); ++i) {
        const Candidate& parent = top[static_cast<size_t>(i) % top.size()].second;
        pool.push_back(Mutate(space, parent, 1 + static_cast<int>(rng.Below(2)), rng));
      }
      std::sort(pool.begin(), pool.end());
      pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
      ranked.clear();
      for (size_t i = 0; i < pool.size(); ++i) {
        if (ev.Lookup(pool[i]) != nullptr || !space.Feasible(pool[i])) continue;
        features.Fill(pool[i], x);
        ranked.emplace_back(w.dot(x), i);
      }
      std::sort(ranked.begin(), ranked.end());  // by prediction, then pool (candidate) order
      batch.clear();
      for (size_t i = 0; i < ranked.size() && batch.size() < static_cast<size_t>(kExploit); ++i)
        batch.push_back(pool[ranked[i].second]);
      for (int i = 0; i < kExplore; ++i) batch.push_back(RandomCandidate(space, rng));
      learn(ev.Evaluate(batch));
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeSurrogateStrategy() { return std::make_unique<Surrogate>(); }

}  // namespace cotenant::search
