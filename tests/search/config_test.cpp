// Bad search spaces and plans outside the space: every message names the
// file (or the command-line setting) and the field, then what was expected
// and what was found.
#include <catch2/catch.hpp>

#include "search/space.h"
#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

using testing::ErrorOf;
using testing::kData;

LoadedWorkload Three() {
  return testing::TinyWorkload(
      {{"a", {{1000, 8}}}, {"b", {{1000, 4}}}, {"c", {{1000, 2}, {500, 2}}}});
}

/// The error building the space of Three() from a fixture gives, without the folder.
std::string SpaceError(const std::string& name) {
  const LoadedWorkload lw = Three();
  const std::string path = kData + "/search/" + name;
  std::string e = ErrorOf([&] { PlanSpace(lw, ReadSpaceConfig(path)); });
  if (e.rfind(path, 0) == 0) e = name + e.substr(path.size());
  return e;
}

std::string SettingError(const std::string& setting) {
  const LoadedWorkload lw = Three();
  return ErrorOf([&] { PlanSpace(lw, SpaceConfigFromSetting(setting)); });
}

}  // namespace

TEST_CASE("a good search space file", "[search][config]") {
  const LoadedWorkload lw = Three();
  const PlanSpace space(lw, ReadSpaceConfig(kData + "/search/space_good.json"));
  // Ranged: groups (at most 2) and priorities by "knobs"; a's SM partition,
  // c's stages and offsets, max_connections by explicit domains. a's split
  // is fixed at 1; everything else stays at the native default.
  REQUIRE(space.dims()[space.Dim(Knob::kSm, 0)].values == std::vector<int64_t>{-1, 2, 4});
  REQUIRE(space.dims()[space.Dim(Knob::kSm, 1)].values == std::vector<int64_t>{-1});
  REQUIRE(space.dims()[space.Dim(Knob::kSplit, 0)].values == std::vector<int64_t>{1});
  REQUIRE(space.dims()[space.Dim(Knob::kOffset, 2)].values == std::vector<int64_t>{0, 500, 1000});
  REQUIRE(space.cut_options()[2] == std::vector<std::vector<int64_t>>{{}, {1}});
  REQUIRE(space.dims()[space.Dim(Knob::kConnections, -1)].values == std::vector<int64_t>{2, 8});
  // groups x priorities: {abc} 13, two groups 6 x 3 = 18 -> 31; SM 3; stages
  // 2; offsets 3; max_connections 2 and 8 (>= 3 streams): 2.
  REQUIRE(space.Size() == 31u * 3 * 2 * 3 * 2);
}

TEST_CASE("bad search space files", "[search][config]") {
  CHECK(SpaceError("space_wrong_schema.json") ==
        "space_wrong_schema.json: schema: expected \"cotenant.searchspace/1\", found "
        "\"cotenant.searchspace/2\"");
  CHECK(SpaceError("space_unknown_key.json") ==
        "space_unknown_key.json: sm_stepp: unknown key; did you mean \"sm_step\"?");
  CHECK(SpaceError("space_unknown_knob.json") ==
        "space_unknown_knob.json: knobs[1]: expected one of \"groups\", \"priority\", \"sm\", "
        "\"split\", \"stages\", \"offset\", \"connections\", \"budget\", \"chunked\", \"pd\", "
        "found \"smm\"; did you mean \"sm\"?");
  CHECK(SpaceError("space_unknown_tenant.json") ==
        "space_unknown_tenant.json: tenants.bret: unknown tenant \"bret\"");
  CHECK(SpaceError("space_sm_too_big.json") ==
        "space_sm_too_big.json: tenants.a.sm_count[2]: expected at most 4 SMs (tiny has 4), "
        "found 5");
  CHECK(SpaceError("space_bad_split.json") ==
        "space_bad_split.json: tenants.a.batch_split[1]: expected an integer in 1..64, found 0");
  CHECK(SpaceError("space_cut_out_of_range.json") ==
        "space_cut_out_of_range.json: tenants.c.stages[1][0]: expected a cut point in 1..1 (c "
        "has 2 operators), found 2");
  CHECK(SpaceError("space_cuts_not_increasing.json") ==
        "space_cuts_not_increasing.json: tenants.c.stages[0][1]: expected an integer >= 2 (cut "
        "points must increase), found 1");
  CHECK(SpaceError("space_bad_connections.json") ==
        "space_bad_connections.json: max_connections[1]: expected an integer in 1..32, found 64");
  CHECK(SpaceError("space_groups_missing.json") ==
        "space_groups_missing.json: groups: tenant \"c\" is in no group (groups must hold every "
        "tenant once)");
  CHECK(SpaceError("space_bad_range.json") ==
        "space_bad_range.json: tenants.a.offset_ns.max: expected an integer >= min (10), found 0");
  CHECK(SpaceError("space_bad_levels.json") ==
        "space_bad_levels.json: priority_levels: expected an integer in 1..6, found 0");
  CHECK(SpaceError("space_wrong_type.json") ==
        "space_wrong_type.json: tenants.a.priority: expected an integer, found a string");
  CHECK(SpaceError("space_duplicate.json") ==
        "space_duplicate.json: tenants.a.sm_count[1]: value 2 appears twice");
  CHECK(SpaceError("missing.json").find("missing.json") != std::string::npos);
}

TEST_CASE("bad command-line settings", "[search][config]") {
  CHECK(SettingError("x") == "--set x: expected KEY=VALUES (e.g. bert.sm_count=null,64,96)");
  CHECK(SettingError("a.sm_count=x") ==
        "--set a.sm_count=x: expected an integer, null or lo:hi[:step], found \"x\"");
  CHECK(SettingError("a.sm_count=3:") ==
        "--set a.sm_count=3:: expected an integer in lo:hi[:step], found \"\"");
  CHECK(SettingError("max_connections=64") ==
        "--set max_connections=64: max_connections: expected an integer in 1..32, found 64");
  CHECK(SettingError("groups=a+b") ==
        "--set groups=a+b: groups: tenant \"c\" is in no group (groups must hold every tenant "
        "once)");
  CHECK(SettingError("a.stages=none,1") ==
        "--set a.stages=none,1: tenants.a.stages[1][0]: no cut point is possible: a has 1 "
        "operator");
  CHECK(SettingError("a.prio=1") ==
        "--set a.prio=1: unknown tenant knob \"prio\" (expected one of \"priority\", "
        "\"sm_count\", \"batch_split\", \"offset_ns\", \"stages\", \"max_num_batched_tokens\", "
        "\"chunked_prefill\", \"prefill_decode_sm\")");
  CHECK(SettingError("sm_stepp=8") ==
        "--set sm_stepp=8: unknown key \"sm_stepp\"; did you mean \"sm_step\"? (per-tenant knobs "
        "are TENANT.priority, .sm_count, .batch_split, .offset_ns, .stages, "
        ".max_num_batched_tokens, .chunked_prefill, .prefill_decode_sm)");
  CHECK(SettingError("bret.priority=0,-1") ==
        "--set bret.priority=0,-1: tenants.bret: unknown tenant \"bret\"");
  CHECK(ErrorOf([] { SpaceConfigFromKnobList("groups,smm"); }) ==
        "--knobs: expected one of \"groups\", \"priority\", \"sm\", \"split\", \"stages\", "
        "\"offset\", \"connections\", \"budget\", \"chunked\", \"pd\", found \"smm\"; did you "
        "mean \"sm\"?");
  // sm_step must be a multiple of the granularity (H100: 8).
  LoadedWorkload h100 = Three();
  h100.gpu = testing::H100Sxm();
  h100.gpu.sm_partition_granularity = 8;
  h100.gpu.sm_partition_min = 8;
  CHECK(ErrorOf([&] { PlanSpace(h100, SpaceConfigFromSetting("sm_step=12")); }) ==
        "--set sm_step=12: sm_step: expected a multiple of 8 SMs (the partition granularity of "
        "h100-sxm), found 12");
}

TEST_CASE("plans outside the space are rejected", "[search][config]") {
  const LoadedWorkload lw = Three();
  const PlanSpace space(lw, ReadSpaceConfig(kData + "/search/space_good.json"));
  const std::string plan = kData + "/search/plan_outside.json";
  CHECK(ErrorOf([&] { space.FromPlan(ReadPlan(plan)); }) ==
        plan +
            ": tenants.a.sm_count: outside the search space: expected one of null, 2, 4, "
            "found 3");
  Plan p;
  p.file = "p.json";
  p.groups = {{"a"}, {"b"}, {"c"}};
  CHECK(ErrorOf([&] { space.FromPlan(p); }) ==
        "p.json: groups: outside the search space: expected at most 2 groups, found 3");
  p.groups.clear();
  p.tenants["b"].batch_split = 2;
  CHECK(ErrorOf([&] { space.FromPlan(p); }) ==
        "p.json: tenants.b.batch_split: outside the search space: expected one of 1, found 2");
  p.tenants.clear();
  p.stages["a"] = {1};
  CHECK(ErrorOf([&] { space.FromPlan(p); }) ==
        "p.json: stages.a: outside the search space: expected one of [], found [1]");
  p.stages.clear();
  p.max_connections = 1;
  CHECK(ErrorOf([&] { space.FromPlan(p); }) ==
        "p.json: max_connections: outside the search space: expected one of 2, 8, found 1");
  // Equivalent values are inside: 32 connections are 8 (more than the 3 streams).
  p.max_connections = 32;
  CHECK(ErrorOf([&] { space.FromPlan(p); }) == "<no error>");
  // The plan checker's own errors come first (unknown tenants, ...).
  Plan q;
  q.file = "q.json";
  q.tenants["bret"].priority = -1;
  CHECK(ErrorOf([&] { space.FromPlan(q); }) == "q.json: tenants.bret: unknown tenant \"bret\"");
}

}  // namespace cotenant::search
