// Strategies: each finds the known optimum of a small space, runs are
// reproducible for a seed and thread count, and budgets are kept exactly.
#include "search/strategy.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "search/search.h"
#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

using testing::TinyWorkload;

/// Three tenants on the 4-SM GPU, mean latency: a 3-wave GPU hog, a 1-SM
/// kernel, and a GPU-filling kernel followed by a 2-SM one. Knobs: groups,
/// priorities and SM partitions (37 x 35 = 1,295 plans).
LoadedWorkload Mix() {
  return TinyWorkload({{"L", {{3000, 24}}}, {"S", {{1000, 2}}}, {"M", {{1000, 8}, {1000, 4}}}},
                      Objective::kMeanLatency);
}

SpaceConfig MixKnobs() { return SpaceConfigFromKnobList("groups,priority,sm"); }

SearchResult Search(const PlanSpace& space, const std::string& strategy, int64_t budget,
                    int threads = 1, uint64_t seed = 1) {
  SearchOptions o;
  o.strategy = strategy;
  o.budget_evaluations = budget;
  o.threads = threads;
  o.seed = seed;
  return RunSearch(space, o);
}

}  // namespace

TEST_CASE("every strategy finds the optimum of a small space", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, MixKnobs());
  REQUIRE(space.Size() == 1295);
  const SearchResult truth = Search(space, "exhaustive", 0);
  REQUIRE(truth.evaluations + 4 == 1295);  // all but the four baselines (inside the space)
  // The optimum, a mean latency of 2666.7 ns, is reached by 14 of the 1,295
  // plans (the first in candidate order: S and M at priority -1 above L).
  const Score best = truth.best_score;
  REQUIRE(std::round(best.value * 10) == 26667);
  REQUIRE(truth.best_plan.For("S").priority == -1);
  REQUIRE(truth.best_plan.For("M").priority == -1);
  REQUIRE(truth.best_plan.For("L").priority == 0);
  const std::string name = GENERATE("random", "greedy", "anneal", "genetic", "surrogate", "auto");
  for (uint64_t seed : {1, 2, 3}) {
    const SearchResult r = Search(space, name, 500, 1, seed);
    INFO(name << " seed " << seed << ": " << FormatScore(r.best_score, lw.workload.objective)
              << " vs " << FormatScore(best, lw.workload.objective));
    REQUIRE(r.best_score == best);
  }
}

TEST_CASE("auto enumerates spaces the budget covers", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, MixKnobs());
  REQUIRE(Search(space, "auto", 2000).strategy == "exhaustive");
  REQUIRE(Search(space, "auto", 100).strategy == "portfolio");
  const SearchResult all = Search(space, "exhaustive", 0);
  const SearchResult a = Search(space, "auto", 2000);
  REQUIRE(a.best_candidate == all.best_candidate);
}

TEST_CASE("same seed and thread count, same run", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, SpaceConfig{});  // every knob: about 10^9 plans
  const std::string name =
      GENERATE("exhaustive", "random", "greedy", "anneal", "genetic", "surrogate", "auto");
  const SearchResult a = Search(space, name, 300, 2, 42);
  const SearchResult b = Search(space, name, 300, 2, 42);
  REQUIRE(a.best_candidate == b.best_candidate);
  REQUIRE(PlanToJson(a.best_plan) == PlanToJson(b.best_plan));
  REQUIRE(a.best_score == b.best_score);
  REQUIRE(a.evaluations == b.evaluations);
  REQUIRE(a.cache_hits == b.cache_hits);
  REQUIRE(a.curve.size() == b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    REQUIRE(a.curve[i].evaluation == b.curve[i].evaluation);
    REQUIRE(a.curve[i].best == b.curve[i].best);
    REQUIRE(a.curve[i].strategy == b.curve[i].strategy);
  }
  // Strategies whose proposals do not depend on the thread count give the
  // same run on one thread.
  if (name != "anneal" && name != "auto") {
    const SearchResult one = Search(space, name, 300, 1, 42);
    REQUIRE(one.best_candidate == a.best_candidate);
    REQUIRE(one.evaluations == a.evaluations);
  }
  // Another seed explores differently (exhaustive has no randomness).
  if (name != "exhaustive") {
    const SearchResult c = Search(space, name, 300, 2, 43);
    REQUIRE((c.best_candidate != a.best_candidate || c.cache_hits != a.cache_hits ||
             c.curve.size() != a.curve.size()));
  }
}

TEST_CASE("a budget in evaluations is kept exactly", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace big(lw, SpaceConfig{});
  const std::string name =
      GENERATE("exhaustive", "random", "greedy", "anneal", "genetic", "surrogate", "auto");
  for (int64_t budget : {1, 7, 64, 250}) {
    for (int threads : {1, 3}) {
      INFO(name << " budget " << budget << " threads " << threads);
      REQUIRE(Search(big, name, budget, threads).evaluations == budget);
    }
  }
  // A budget larger than the space: every plan once, then stop.
  const PlanSpace small(lw, SpaceConfigFromKnobList("priority"));
  REQUIRE(small.Size() == 13);
  const SearchResult r = Search(small, name, 1000);
  REQUIRE(r.evaluations + 2 <= 13);  // native and priority are baselines inside it
}

TEST_CASE("a budget in seconds ends the search at its deadline", "[search][strategy]") {
  // A fake clock that moves 1 s per batch of evaluations: with a 5 s budget
  // the strategy may simulate in its first 5 batches and in none after, and
  // must say it stopped on the deadline. (A search that ignores its deadline
  // walks the space for 100 batches and fails the guard below.)
  struct FakeClock : Clock {
    double Seconds() const override { return now; }
    double now = 1000.0;
  };
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, SpaceConfig{});
  REQUIRE(space.Size() > 10000);  // far more than 5 batches can cover
  FakeClock clock;
  SearchOptions o;
  o.strategy = GENERATE("exhaustive", "random", "greedy", "anneal", "genetic", "surrogate");
  o.threads = GENERATE(1, 3);
  o.budget_seconds = 5.0;
  o.clock = &clock;
  int batches = 0;
  int64_t by_deadline = -1;  // simulations when the clock reached 5 s
  o.on_batch = [&](const Evaluator& ev) {
    clock.now += 1.0;
    if (++batches == 5) by_deadline = ev.evaluations();
    if (batches > 100) throw std::runtime_error("the search ran past its deadline");
  };
  INFO(o.strategy << ", " << o.threads << " threads");
  const SearchResult r = RunSearch(space, o);
  REQUIRE(r.stopped == StopReason::kDeadline);
  REQUIRE(batches >= 5);
  REQUIRE(r.evaluations > 0);
  REQUIRE(r.evaluations == by_deadline);
  REQUIRE(r.seconds == 5.0);
  for (const CurvePoint& p : r.curve) REQUIRE(p.seconds < 5.0);
}

TEST_CASE("a budget in evaluations stops the search on the count", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, SpaceConfig{});
  const SearchResult r = Search(space, "random", 40);
  REQUIRE(r.stopped == StopReason::kEvaluations);
  const PlanSpace small(lw, SpaceConfigFromKnobList("priority"));
  REQUIRE(Search(small, "random", 1000).stopped == StopReason::kCovered);
}

TEST_CASE("a target score stops the search once reached; baselines can be chosen",
          "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, MixKnobs());
  SearchOptions o;
  o.strategy = "exhaustive";
  o.baselines = {"priority"};
  // Every plan's mean latency is below 1 s: the baselines reach the target, and the
  // strategy simulates nothing.
  o.target_value = 1e9;
  SearchResult r = RunSearch(space, o);
  REQUIRE(r.baselines.size() == 2);  // native always runs, then the one asked for
  REQUIRE(r.baselines[0].name == "native");
  REQUIRE(r.baselines[1].name == "priority");
  REQUIRE(r.evaluations == 0);
  REQUIRE(r.stopped == StopReason::kTarget);
  // The optimum's 2666.7 ns (previous test) as the target: the exhaustive walk stops at
  // the first plan that reaches it, before the 1,293 others.
  o.target_value = 2666.7;
  r = RunSearch(space, o);
  REQUIRE(r.stopped == StopReason::kTarget);
  REQUIRE(std::round(r.best_score.value * 10) == 26667);
  REQUIRE(r.evaluations > 0);
  REQUIRE(r.evaluations < 1293);
}

TEST_CASE("a search reports baselines, the best plan and its curve", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, MixKnobs());
  const SearchResult r = Search(space, "exhaustive", 0);
  REQUIRE(r.baselines.size() == 4);
  REQUIRE(r.baselines[0].name == "sequential");
  REQUIRE(r.baselines[1].name == "native");
  REQUIRE(r.baselines[2].name == "equal-partition");
  REQUIRE(r.baselines[3].name == "priority");
  // 4 SMs / 3 tenants: 1 SM each.
  REQUIRE(r.baselines[2].plan->For("M").sm_count == 1);
  // No SLOs or weights: the shortest request is the latency-critical one.
  REQUIRE(r.baselines[3].plan->For("S").priority == -1);
  for (const BaselineResult& b : r.baselines) {
    REQUIRE(b.in_space);
    REQUIRE_FALSE(r.best_score.value > b.score.value);
  }
  REQUIRE(r.best_score == ScoreOf(r.best_result, lw.workload));
  REQUIRE(r.lower_bound_ns == r.baselines[1].result.lower_bound_ns);
  // The curve only improves, and ends at the best.
  REQUIRE_FALSE(r.curve.empty());
  REQUIRE(r.curve.front().strategy == "baseline");
  for (size_t i = 1; i < r.curve.size(); ++i) REQUIRE(r.curve[i].best < r.curve[i - 1].best);
  REQUIRE(r.curve.back().best == r.best_score);
  const nlohmann::json j = SearchResultToJson(r, space);
  REQUIRE(j["schema"] == "cotenant.search/1");
  REQUIRE(j["baselines"].size() == 4);
  REQUIRE(j["best"]["result"]["schema"] == "cotenant.result/1");
  REQUIRE(CurveCsv(r).rfind("strategy,evaluation,seconds,objective,tie\n", 0) == 0);
  const std::vector<std::string> words =
      ExplainPlan(r.best_plan, r.best_result, r.baselines[1].result, lw);
  REQUIRE(words.size() >= 2);
  REQUIRE(words.back().rfind("Against native multi-stream: makespan", 0) == 0);
}

TEST_CASE("bad strategies and start plans", "[search][strategy]") {
  const LoadedWorkload lw = Mix();
  const PlanSpace space(lw, MixKnobs());
  SearchOptions o;
  o.strategy = "anneel";
  o.budget_evaluations = 10;
  REQUIRE(testing::ErrorOf([&] { RunSearch(space, o); }) ==
          "--strategy: expected one of \"auto\", \"exhaustive\", \"random\", \"greedy\", "
          "\"anneal\", \"genetic\", \"surrogate\", found \"anneel\"; did you mean \"anneal\"?");
  o.strategy = "greedy";
  Plan start;
  start.file = "start.json";
  start.tenants["L"].batch_split = 2;
  o.start = start;
  REQUIRE(testing::ErrorOf([&] { RunSearch(space, o); }) ==
          "start.json: tenants.L.batch_split: outside the search space: expected one of 1, "
          "found 2");
}

}  // namespace cotenant::search
