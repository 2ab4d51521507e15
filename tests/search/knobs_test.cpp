// Each knob of the plan space on a tiny workload whose timelines are worked
// out by hand: the space holds the expected plans, exhaustive search
// simulates every one of them, and the best is the one computed on paper.
//
// Shorthand (TinyGpu: 4 SMs, 2 blocks of 1024 threads per SM): "GPU-filling"
// = 8 blocks, one wave on 4 SMs; a kernel of 2 blocks needs 1 SM. Tenants are
// GPU-only traces, issued at time 0; at equal priority, kernels get freed SMs
// in the order they became ready (tenant order at a tie).
#include <catch2/catch.hpp>
#include <map>

#include "search/evaluator.h"
#include "search/search.h"
#include "search/space.h"
#include "search/strategy.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

using testing::TinyTenant;
using testing::TinyWorkload;

/// Every plan of the space with its score, by exhaustive search.
std::map<Candidate, Score> Exhaust(const PlanSpace& space) {
  EvalOptions eo;
  Evaluator ev(space, eo);
  Rng rng(1);
  MakeStrategy("exhaustive")->Run(ev, rng, {});
  std::map<Candidate, Score> all;
  Candidate c(space.dims().size(), 0);
  do {
    const Candidate k = space.Canonical(c);
    if (const Outcome* o = ev.Lookup(k)) all[k] = o->score;
  } while (NextCandidate(space, c));
  REQUIRE(static_cast<uint64_t>(all.size()) == space.Size());
  REQUIRE(ev.evaluations() == static_cast<int64_t>(space.Size()));
  return all;
}

/// The best plan of the space (score, then candidate order).
std::pair<Plan, Score> Best(const PlanSpace& space) {
  const std::map<Candidate, Score> all = Exhaust(space);
  const Candidate* best = nullptr;
  const Score* score = nullptr;
  for (const auto& [c, s] : all) {
    if (best == nullptr || Evaluator::Better(s, c, *score, *best)) {
      best = &c;
      score = &s;
    }
  }
  return {*space.ToPlan(*best), *score};
}

/// The score of one plan.
Score ScoreOfPlan(const LoadedWorkload& lw, const Plan& plan) {
  SimOptions o;
  return ScoreOf(Simulate(lw, plan, o), lw.workload);
}

SpaceConfig Knobs(const std::string& list) { return SpaceConfigFromKnobList(list); }

// L: one GPU-filling kernel of 4000 ns; S: one of 1000 ns. L comes first.
LoadedWorkload LongShort(Objective o) {
  return TinyWorkload({{"L", {{4000, 8}}}, {"S", {{1000, 8}}}}, o);
}

}  // namespace

TEST_CASE("groups: running the short tenant first halves its wait", "[search][knobs]") {
  const LoadedWorkload lw = LongShort(Objective::kMeanLatency);
  const PlanSpace space(lw, Knobs("groups"));
  // Ordered set partitions of {L, S}: together, L then S, S then L.
  REQUIRE(space.Size() == 3);
  // Native: L 0..4000, S 4000..5000: mean (4000 + 5000) / 2.
  REQUIRE(ScoreOfPlan(lw, Plan{}).value == 4500);
  // [[S], [L]]: S 0..1000, then L 1000..5000 (its latency counts from 0).
  const auto [plan, score] = Best(space);
  REQUIRE(plan.groups == std::vector<std::vector<std::string>>{{"S"}, {"L"}});
  REQUIRE(score.value == 3000);
}

TEST_CASE("priority: the short tenant's kernels go first", "[search][knobs]") {
  const LoadedWorkload lw = LongShort(Objective::kMeanLatency);
  const PlanSpace space(lw, Knobs("priority"));
  // Only the order matters: equal, L higher, S higher.
  REQUIRE(space.Size() == 3);
  const auto [plan, score] = Best(space);
  REQUIRE(plan.For("S").priority == -1);
  REQUIRE(plan.For("L").priority == 0);
  // S 0..1000, L 1000..5000.
  REQUIRE(score.value == 3000);
  // L higher: the native order, 4500.
  Plan l_first;
  l_first.tenants["L"].priority = -1;
  REQUIRE(ScoreOfPlan(lw, l_first).value == 4500);
}

TEST_CASE("sm: capping the big tenant lets the small one run beside it", "[search][knobs]") {
  // L: 24 blocks = 3 waves of 1000 ns on 4 SMs; S: 2 blocks (1 SM), 1000 ns.
  const LoadedWorkload lw =
      TinyWorkload({{"L", {{3000, 24}}}, {"S", {{1000, 2}}}}, Objective::kMeanLatency);
  const PlanSpace space(lw, Knobs("sm"));
  // Each of {share, 1, 2, 3, 4} SMs, partitions adding up to at most 4: both
  // share (1), one shares and the other has 1..4 (8), both partitioned (6).
  REQUIRE(space.Size() == 15);
  // Native: L holds all SMs 0..3000, S 3000..4000: mean 3500.
  REQUIRE(ScoreOfPlan(lw, Plan{}).value == 3500);
  // L capped at 3 SMs: 4 waves, 0..4000; S on the SM left, 0..1000: mean 2500
  // (L=3 with S=1 ties, and comes later in candidate order).
  const auto [plan, score] = Best(space);
  REQUIRE(score.value == 2500);
  REQUIRE(plan.For("L").sm_count == 3);
  REQUIRE(plan.For("S").sm_count == -1);
  Plan both;
  both.tenants["L"].sm_count = 3;
  both.tenants["S"].sm_count = 1;
  REQUIRE(ScoreOfPlan(lw, both).value == 2500);
  // A partition for S alone does not help: L, sharing, may use idle
  // partitioned SMs too, and takes all 4 first. Mean 3500.
  Plan s1;
  s1.tenants["S"].sm_count = 1;
  REQUIRE(ScoreOfPlan(lw, s1).value == 3500);
  // Half the GPU for L: 6 waves, 0..6000; S beside it: mean 3500.
  Plan l2;
  l2.tenants["L"].sm_count = 2;
  REQUIRE(ScoreOfPlan(lw, l2).value == 3500);
}

TEST_CASE("split: sub-batches leave room for the other tenant", "[search][knobs]") {
  // A: 16 blocks = 2 waves, 2000 ns; B: 2 blocks (1 SM), 1000 ns. No measured
  // sub-batch traces, so A's splits are the what-if split {1, 2, 4}.
  const LoadedWorkload lw =
      TinyWorkload({{"A", {{2000, 16}}}, {"B", {{1000, 2}}}}, Objective::kMeanLatency);
  SpaceConfig config = Knobs("split");
  config.MergeFrom(SpaceConfigFromSetting("B.batch_split=1"));
  const PlanSpace space(lw, config);
  REQUIRE(space.Size() == 3);
  // 1: A holds the GPU through both waves, B 2000..3000: mean 2500.
  REQUIRE(ScoreOfPlan(lw, Plan{}).value == 2500);
  // 2: two 8-block, 1000 ns kernels. At 1000 B (waiting since 0) takes 1 SM
  // before A's second kernel, which runs at 3/4 speed until B ends at 2000,
  // then at full speed: 750 + 250 ns of work -> A ends at 2250. Mean 2125.
  Plan two;
  two.tenants["A"].batch_split = 2;
  REQUIRE(ScoreOfPlan(lw, two).value == 2125);
  // 4: four 4-block (2 SMs) 500 ns kernels back to back, beside B from 0:
  // A ends at 2000, B at 1000. Mean 1500.
  const auto [plan, score] = Best(space);
  REQUIRE(plan.For("A").batch_split == 4);
  REQUIRE(score.value == 1500);
}

TEST_CASE("split: measured sub-batch traces come first", "[search][knobs]") {
  LoadedWorkload lw = TinyWorkload({{"A", {{2000, 16}}}});
  lw.traces[0].meta["batch"] = 8;
  lw.by_batch[0].emplace(2, lw.traces[0]);  // a "measured" batch-2 trace
  lw.by_batch[0].emplace(4, lw.traces[0]);
  const PlanSpace space(lw, Knobs("split"));
  // batch 8 / 2 = 4 and 8 / 4 = 2: splits 1, 2 and 4, none derived.
  const Dimension& d = space.dims()[space.Dim(Knob::kSplit, 0)];
  REQUIRE(d.values == std::vector<int64_t>{1, 2, 4});
  // Without measured traces and with batch 6: the what-if splits that divide it.
  lw.by_batch[0].clear();
  lw.traces[0].meta["batch"] = 6;
  const PlanSpace what_if(lw, Knobs("split"));
  REQUIRE(what_if.dims()[what_if.Dim(Knob::kSplit, 0)].values == std::vector<int64_t>{1, 2});
}

TEST_CASE("stages: cut points at operator boundaries line the tenants up", "[search][knobs]") {
  // A: a GPU-filling kernel then a 1-SM one; B: a 1-SM kernel then a
  // GPU-filling one; 1000 ns each, each kernel its own operator.
  const LoadedWorkload lw = TinyWorkload(
      {{"A", {{1000, 8}, {1000, 2}}}, {"B", {{1000, 2}, {1000, 8}}}}, Objective::kMeanLatency);
  const PlanSpace space(lw, Knobs("stages"));
  // Two operators each: no cut or a cut at operator 1 (the grid points at a
  // quarter, half and three quarters of the kernel time all land there).
  REQUIRE(space.cut_options()[0] == std::vector<std::vector<int64_t>>{{}, {1}});
  REQUIRE(space.Size() == 4);
  // Native: a1 0..1000 (b1 waits); then b1 and a2 on 1 SM each 1000..2000; b2
  // 2000..3000. Mean (2000 + 3000) / 2 = 2500.
  const auto [plan, score] = Best(space);
  REQUIRE(plan.stages.empty());
  REQUIRE(score.value == 2500);
  // Both cut after their first operator: stage 0 = a1 0..1000, b1 1000..2000;
  // stage 1 from 2000: a2 takes 1 SM first, b2 runs on 3 SMs (750 ns of work
  // by 3000), then on 4: A ends at 3000, B at 3250. Mean 3125.
  Plan staged;
  staged.stages["A"] = {1};
  staged.stages["B"] = {1};
  REQUIRE(ScoreOfPlan(lw, staged).value == 3125);
  // A cut in one tenant only constrains nothing across tenants here: 2500.
  Plan one;
  one.stages["A"] = {1};
  REQUIRE(ScoreOfPlan(lw, one).value == 2500);
}

TEST_CASE("offset: starting the long tenant late lets the short one through", "[search][knobs]") {
  const LoadedWorkload lw = LongShort(Objective::kMeanLatency);
  const PlanSpace space(lw, Knobs("offset"));
  // Offsets: 0 and 25%, 50% of each tenant's isolated request (L: 1000, 2000;
  // S: 250, 500 ns).
  REQUIRE(space.dims()[space.Dim(Knob::kOffset, 0)].values == std::vector<int64_t>{0, 1000, 2000});
  REQUIRE(space.dims()[space.Dim(Knob::kOffset, 1)].values == std::vector<int64_t>{0, 250, 500});
  REQUIRE(space.Size() == 9);
  // L at 1000: S 0..1000, L 1000..5000; L's latency counts from its start.
  // Mean (4000 + 1000) / 2 = 2500; L at 2000 ties, and loses on candidate order.
  const auto [plan, score] = Best(space);
  REQUIRE(plan.For("L").offset_ns == 1000);
  REQUIRE(plan.For("S").offset_ns == 0);
  REQUIRE(score.value == 2500);
  // S at 250 waits behind L: S 4000..5000 -> latency 4750; mean 4375.
  Plan late_s;
  late_s.tenants["S"].offset_ns = 250;
  REQUIRE(ScoreOfPlan(lw, late_s).value == 4375);
}

TEST_CASE("connections: one hardware queue serialises the tenants", "[search][knobs]") {
  // Two 1-SM kernels of 1000 ns: side by side on 2+ queues, one after the
  // other on one.
  const LoadedWorkload lw = TinyWorkload({{"A", {{1000, 2}}}, {"B", {{1000, 2}}}});
  const PlanSpace space(lw, Knobs("connections"));
  // 1, 2, 4, 8, 16, 32 queues; from 2 up (the stream count) they are alike,
  // and the default 8 stands for them.
  REQUIRE(space.dims().back().values == std::vector<int64_t>{1, 2, 4, 8, 16, 32});
  REQUIRE(space.Size() == 2);
  Plan one;
  one.max_connections = 1;
  REQUIRE(ScoreOfPlan(lw, one).value == 2000);
  const auto [plan, score] = Best(space);
  REQUIRE(plan.max_connections == 8);
  REQUIRE(score.value == 1000);
}

}  // namespace cotenant::search
