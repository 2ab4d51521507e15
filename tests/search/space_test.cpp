// The plan space: exact sizes, canonical forms, the candidate <-> plan
// mapping, feasibility and the bundled workloads.
#include "search/space.h"

#include <catch2/catch.hpp>
#include <set>

#include "search/baselines.h"
#include "search/strategy.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "tests/common/fixtures.h"
#include "tests/search/enumerate.h"

namespace cotenant::search {
namespace {

using testing::TinyTenant;
using testing::TinyWorkload;

uint64_t Enumerate(const PlanSpace& space) { return EnumerateCanonical(space); }

LoadedWorkload Three() {
  return TinyWorkload({{"a", {{1000, 8}}}, {"b", {{1000, 4}}}, {"c", {{1000, 2}, {500, 2}}}});
}

}  // namespace

TEST_CASE("space size is exact and matches enumeration", "[search][space]") {
  const LoadedWorkload two = TinyWorkload({{"A", {{1000, 8}}}, {"B", {{1000, 2}}}});
  SECTION("every knob, two tenants") {
    const PlanSpace space(two, SpaceConfig{});
    // groups x priorities: together (3 orders of priority) + 2 sequences = 5;
    // SM: 15 (see knobs_test); splits 3 x 3; one operator each: no cuts;
    // offsets 3 x 3; max_connections: 1, or >= 2 streams.
    REQUIRE(space.Size() == 5u * 15 * 9 * 9 * 2);
    REQUIRE(space.RawSize() == 4u * 4 * 25 * 9 * 9 * 6);
    REQUIRE(Enumerate(space) == space.Size());
  }
  SECTION("groups and priorities of three tenants") {
    const LoadedWorkload lw = Three();
    const PlanSpace space(lw, SpaceConfigFromKnobList("groups,priority"));
    // Ordered set partitions weighted by weak orders within each group:
    // {abc}: 13; {ab}{c} in 3 x 2 ways x 3 orders: 18; singletons: 3! = 6.
    REQUIRE(space.Size() == 37);
    REQUIRE(Enumerate(space) == 37);
  }
  SECTION("two priority levels, at most two groups, SMs in steps of 2") {
    const LoadedWorkload lw = Three();
    SpaceConfig config = SpaceConfigFromKnobList("groups,priority,sm");
    config.MergeFrom(SpaceConfigFromSetting("priority_levels=2"));
    config.MergeFrom(SpaceConfigFromSetting("max_groups=2"));
    config.MergeFrom(SpaceConfigFromSetting("sm_step=2"));
    const PlanSpace space(lw, config);
    // groups x priorities: {abc} with 2 levels: 1 + 6 = 7; two groups: 6
    // ordered splits, each a pair with 3 orders: 18. SM: {share, 2, 4} each
    // with a sum <= 4: 1 + 3*2 + 3*1 (one 4 or one 2) ... counted by hand:
    // all share 1; one 2: 3; one 4: 3; two 2s: 3 -> 10.
    REQUIRE(space.Size() == 25u * 10);
    REQUIRE(Enumerate(space) == space.Size());
  }
  SECTION("fixed groups") {
    const LoadedWorkload lw = Three();
    SpaceConfig config = SpaceConfigFromKnobList("priority");
    config.MergeFrom(SpaceConfigFromSetting("groups=a+b,c"));
    const PlanSpace space(lw, config);
    // Priorities matter only within {a, b}: 3.
    REQUIRE(space.Size() == 3);
    REQUIRE(Enumerate(space) == 3);
  }
  SECTION("sizes saturate") {
    std::vector<TinyTenant> many;
    for (int i = 0; i < 24; ++i) many.push_back({"t" + std::to_string(i), {{1000, 2}}});
    const LoadedWorkload lw = TinyWorkload(many);
    const PlanSpace space(lw, SpaceConfig{});
    REQUIRE(space.Size() == UINT64_MAX);
    REQUIRE(space.RawSize() == UINT64_MAX);
  }
}

TEST_CASE("canonical forms: groups in order, priorities dense within groups", "[search][space]") {
  const LoadedWorkload lw = Three();
  const PlanSpace space(lw, SpaceConfig{});
  const auto dim = [&](Knob k, int t) { return space.Dim(k, t); };
  Candidate c(space.dims().size(), 0);
  // Groups 2, 0, 2 -> 1, 0, 1: b first, then a and c.
  c[dim(Knob::kGroups, 0)] = 2;
  c[dim(Knob::kGroups, 1)] = 0;
  c[dim(Knob::kGroups, 2)] = 2;
  // Priorities -2, -1, 0: b is alone (-> 0); a above c (-> -1, 0).
  c[dim(Knob::kPriority, 0)] = 2;
  c[dim(Knob::kPriority, 1)] = 1;
  c[dim(Knob::kPriority, 2)] = 0;
  // max_connections 32 (index 5) >= 3 streams: the same as the default 8 (index 3).
  c[dim(Knob::kConnections, -1)] = 5;
  const Candidate k = space.Canonical(c);
  REQUIRE(k[dim(Knob::kGroups, 0)] == 1);
  REQUIRE(k[dim(Knob::kGroups, 1)] == 0);
  REQUIRE(k[dim(Knob::kGroups, 2)] == 1);
  REQUIRE(k[dim(Knob::kPriority, 0)] == 1);
  REQUIRE(k[dim(Knob::kPriority, 1)] == 0);
  REQUIRE(k[dim(Knob::kPriority, 2)] == 0);
  REQUIRE(k[dim(Knob::kConnections, -1)] == 3);
  REQUIRE(space.Canonical(k) == k);
  const Plan plan = *space.ToPlan(k);
  REQUIRE(plan.groups == std::vector<std::vector<std::string>>{{"b"}, {"a", "c"}});
  REQUIRE(plan.For("a").priority == -1);
  REQUIRE(plan.For("c").priority == 0);
  REQUIRE(plan.tenants.count("b") == 0);  // every knob at its default
  REQUIRE(plan.max_connections == 8);
}

TEST_CASE("candidates and plans map both ways", "[search][space]") {
  const LoadedWorkload lw = Three();
  const PlanSpace space(lw, SpaceConfig{});
  Rng rng(7);
  for (int i = 0; i < 500; ++i) {
    const Candidate c = RandomCandidate(space, rng);
    REQUIRE(space.Feasible(c));
    REQUIRE(space.IsCanonical(c));
    const std::optional<Plan> plan = space.ToPlan(c);
    REQUIRE(plan.has_value());
    REQUIRE(space.FromPlan(*plan) == c);
  }
  // The native plan is in the default space, at the all-defaults candidate.
  const std::optional<Candidate> native = space.Native();
  REQUIRE(native.has_value());
  REQUIRE(PlanToJson(*space.ToPlan(*native)) == PlanToJson(Plan{}));
  // Equivalent plans land on one candidate: priorities -5 and 0 in one group
  // are the same as -1 and 0.
  Plan a, b;
  a.tenants["a"].priority = -5;
  b.tenants["a"].priority = -1;
  REQUIRE(space.FromPlan(a) == space.FromPlan(b));
}

TEST_CASE("infeasible candidates are values, not errors", "[search][space]") {
  const LoadedWorkload lw = Three();
  const PlanSpace space(lw, SpaceConfigFromKnobList("sm"));
  Candidate c(space.dims().size(), 0);
  c[space.Dim(Knob::kSm, 0)] = 3;  // 3 SMs
  c[space.Dim(Knob::kSm, 1)] = 2;  // 2 SMs: 5 > 4
  REQUIRE_FALSE(space.Feasible(c));
  REQUIRE_FALSE(space.ToPlan(c).has_value());
  Rng rng(1);
  REQUIRE(Repair(space, c, rng));
  REQUIRE(space.Feasible(c));
}

TEST_CASE("the bundled vision mix: default space", "[search][space]") {
  const LoadedWorkload lw =
      LoadWorkload(std::string(COTENANT_SOURCE_DIR) + "/configs/workloads/vision3.json");
  const PlanSpace space(lw, SpaceConfig{});
  // SM partitions in steps of 8 on 132 SMs: share, 8, ..., 128.
  const Dimension& sm = space.dims()[space.Dim(Knob::kSm, 0)];
  REQUIRE(sm.values.size() == 17);
  REQUIRE(sm.values.front() == -1);
  REQUIRE(sm.values.back() == 128);
  // Batch 32 with a measured batch-8 trace: splits 1 and 4.
  REQUIRE(space.dims()[space.Dim(Knob::kSplit, 0)].values == std::vector<int64_t>{1, 4});
  // Stage options: none, or one cut near a quarter, half, three quarters.
  REQUIRE(space.cut_options()[0].size() == 4);
  REQUIRE(space.Native().has_value());
  // The space file written back describes the same space.
  const PlanSpace again(lw, SpaceConfigFromJson(space.ToJson(), "roundtrip"));
  REQUIRE(again.Size() == space.Size());
  REQUIRE(again.ToJson() == space.ToJson());
}

}  // namespace cotenant::search

namespace cotenant::search {

TEST_CASE("a GPU without SM partitions", "[search][space]") {
  LoadedWorkload lw = Three();
  lw.gpu.sm_partition_granularity = 0;
  const PlanSpace space(lw, SpaceConfig{});
  for (int t = 0; t < 3; ++t)
    REQUIRE(space.dims()[space.Dim(Knob::kSm, t)].values == std::vector<int64_t>{-1});
  REQUIRE(testing::ErrorOf([&] { PlanSpace(lw, SpaceConfigFromSetting("a.sm_count=null,2")); }) ==
          "--set a.sm_count=null,2: tenants.a.sm_count[1]: expected null (tiny has no SM "
          "partitioning), found 2");
  const std::vector<BaselinePlan> baselines = BaselinePlans(lw);
  REQUIRE(baselines[2].name == "equal-partition");
  REQUIRE_FALSE(baselines[2].plan.has_value());
  REQUIRE(baselines[2].missing == "tiny has no SM partitioning");
}

}  // namespace cotenant::search
