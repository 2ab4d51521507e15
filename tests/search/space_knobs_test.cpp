// One builder per knob of the plan space (search/space_knobs.h), each on a
// tiny workload whose domains are worked out by hand, and the trace facts
// they read (search/trace_facts.h).
//
// TinyGpu: 4 SMs, partitions in steps of 1 SM from 1 SM, 32 hardware queues.
// Every kernel of a TinyTenant is its own operator; kernels run back to
// back from 0 on stream 7.
#include "search/space_knobs.h"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>

#include "search/trace_facts.h"
#include "sim/trace_stats.h"
#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

using testing::ErrorOf;
using testing::TinyWorkload;
using V = std::vector<int64_t>;
using Cuts = std::vector<std::vector<int64_t>>;

/// a: one 4000 ns kernel; b: four 1000 ns kernels; c: 6000, 1000, 1000 ns.
LoadedWorkload Three() {
  return TinyWorkload({{"a", {{4000, 8}}},
                       {"b", {{1000, 8}, {1000, 8}, {1000, 8}, {1000, 8}}},
                       {"c", {{6000, 8}, {1000, 8}, {1000, 8}}}});
}

/// The settings `--set S` merged in order, over `knobs` (a --knobs list, or
/// "" for every knob).
SpaceConfig Config(const std::string& knobs, std::initializer_list<std::string> settings = {}) {
  SpaceConfig c = knobs.empty() ? SpaceConfig{} : SpaceConfigFromKnobList(knobs);
  for (const std::string& s : settings) c.MergeFrom(SpaceConfigFromSetting(s));
  return c;
}

}  // namespace

TEST_CASE("knob inputs reject tenants the workload does not have", "[search][knobs]") {
  const LoadedWorkload lw = Three();
  const SpaceConfig c = Config("", {"bb.priority=0"});
  REQUIRE(ErrorOf([&] { KnobInputs(lw, c); }) ==
          "--set bb.priority=0: tenants.bb: unknown tenant \"bb\"; did you mean \"b\"?");
  const KnobInputs in(lw, Config("sm,split"));
  REQUIRE(in.tenants() == 3);
  REQUIRE(in.Ranged(Knob::kSm));
  REQUIRE(in.Ranged(Knob::kSplit));
  REQUIRE(!in.Ranged(Knob::kGroups));
  REQUIRE(in.Configured(0) == nullptr);
}

TEST_CASE("group levels: 0..k-1 when ranged, one level when fixed", "[search][knobs]") {
  const LoadedWorkload lw = Three();
  REQUIRE(GroupDomains(KnobInputs(lw, Config(""))) == KnobDomains{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}});
  REQUIRE(GroupDomains(KnobInputs(lw, Config("", {"max_groups=2"}))) ==
          KnobDomains{{0, 1}, {0, 1}, {0, 1}});
  REQUIRE(GroupDomains(KnobInputs(lw, Config("", {"max_groups=9"}))) ==
          KnobDomains{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}});
  REQUIRE(GroupDomains(KnobInputs(lw, Config("priority"))) == KnobDomains{{0}, {0}, {0}});
  REQUIRE(GroupDomains(KnobInputs(lw, Config("", {"groups=c,a+b"}))) == KnobDomains{{1}, {1}, {0}});
  REQUIRE(ErrorOf([&] { GroupDomains(KnobInputs(lw, Config("", {"groups=a+b"}))); }) ==
          "--set groups=a+b: groups: tenant \"c\" is in no group (groups must hold every "
          "tenant once)");
  REQUIRE(ErrorOf([&] { GroupDomains(KnobInputs(lw, Config("", {"groups=a+b,cc"}))); }) ==
          "--set groups=a+b,cc: groups[1][0]: unknown tenant \"cc\"; did you mean \"c\"?");
}

TEST_CASE("priorities: lowest first, as many levels as tenants at most", "[search][knobs]") {
  const LoadedWorkload lw = Three();
  REQUIRE(PriorityDomains(KnobInputs(lw, Config(""))) ==
          KnobDomains{{0, -1, -2}, {0, -1, -2}, {0, -1, -2}});
  REQUIRE(PriorityDomains(KnobInputs(lw, Config("", {"priority_levels=2"}))) ==
          KnobDomains{{0, -1}, {0, -1}, {0, -1}});
  REQUIRE(PriorityDomains(KnobInputs(lw, Config("groups"))) == KnobDomains{{0}, {0}, {0}});
  REQUIRE(PriorityDomains(KnobInputs(lw, Config("groups", {"b.priority=-3,2"}))) ==
          KnobDomains{{0}, {2, -3}, {0}});
  const LoadedWorkload one = TinyWorkload({{"a", {{1000, 8}}}});
  REQUIRE(PriorityDomains(KnobInputs(one, Config(""))) == KnobDomains{{0}});
}

TEST_CASE("SM partitions: shared first, then multiples of the step", "[search][knobs]") {
  const LoadedWorkload lw = Three();
  REQUIRE(SmStep(KnobInputs(lw, Config(""))) == 1);
  REQUIRE(SmDomains(KnobInputs(lw, Config(""))) ==
          KnobDomains{{-1, 1, 2, 3, 4}, {-1, 1, 2, 3, 4}, {-1, 1, 2, 3, 4}});
  REQUIRE(SmStep(KnobInputs(lw, Config("", {"sm_step=2"}))) == 2);
  REQUIRE(SmDomains(KnobInputs(lw, Config("", {"sm_step=2"}))) ==
          KnobDomains{{-1, 2, 4}, {-1, 2, 4}, {-1, 2, 4}});
  REQUIRE(SmDomains(KnobInputs(lw, Config("priority", {"c.sm_count=3,null"}))) ==
          KnobDomains{{-1}, {-1}, {-1, 3}});
  REQUIRE(ErrorOf([&] { SmDomains(KnobInputs(lw, Config("", {"c.sm_count=null,5"}))); }) ==
          "--set c.sm_count=null,5: tenants.c.sm_count[1]: expected at most 4 SMs (tiny has 4), "
          "found 5");
  REQUIRE(ErrorOf([&] { SmDomains(KnobInputs(lw, Config("", {"c.sm_count=5"}))); }) ==
          "--set c.sm_count=5: tenants.c.sm_count: expected at most 4 SMs (tiny has 4), found 5");

  // Granularity 2 from 3 SMs on 8: the first partition rounds up to 4.
  LoadedWorkload coarse = Three();
  coarse.gpu.sm_count = 8;
  coarse.gpu.sm_partition_granularity = 2;
  coarse.gpu.sm_partition_min = 3;
  REQUIRE(SmDomains(KnobInputs(coarse, Config("")))[0] == V{-1, 4, 6, 8});
  REQUIRE(ErrorOf([&] { SmStep(KnobInputs(coarse, Config("", {"sm_step=3"}))); }) ==
          "--set sm_step=3: sm_step: expected a multiple of 2 SMs (the partition granularity of "
          "tiny), found 3");
  REQUIRE(ErrorOf([&] { SmDomains(KnobInputs(coarse, Config("", {"a.sm_count=2"}))); }) ==
          "--set a.sm_count=2: tenants.a.sm_count: expected at least 3 SMs (the smallest "
          "partition of tiny), found 2");
  REQUIRE(ErrorOf([&] { SmDomains(KnobInputs(coarse, Config("", {"a.sm_count=5"}))); }) ==
          "--set a.sm_count=5: tenants.a.sm_count: expected a multiple of 2 SMs (the partition "
          "granularity of tiny), found 5");

  // No partitioning: only sharing, and no step to set.
  LoadedWorkload none = Three();
  none.gpu.sm_partition_granularity = 0;
  REQUIRE(SmStep(KnobInputs(none, Config(""))) == 0);
  REQUIRE(SmDomains(KnobInputs(none, Config(""))) == KnobDomains{{-1}, {-1}, {-1}});
  REQUIRE(ErrorOf([&] { SmStep(KnobInputs(none, Config("", {"sm_step=8"}))); }) ==
          "--set sm_step=8: sm_step: expected no sm_step (tiny has no SM partitioning), found 8");
  REQUIRE(ErrorOf([&] { SmDomains(KnobInputs(none, Config("", {"b.sm_count=2"}))); }) ==
          "--set b.sm_count=2: tenants.b.sm_count: expected null (tiny has no SM partitioning), "
          "found 2");
}

TEST_CASE("batch splits: measured sub-batches, else 2 and 4 where they divide", "[search][knobs]") {
  LoadedWorkload lw = Three();
  // a: batch unknown; b: batch 8 with traces of batch 2 and 4; c: batch 6.
  lw.traces[1].meta["batch"] = 8;
  lw.by_batch[1][2] = lw.traces[1];
  lw.by_batch[1][4] = lw.traces[1];
  lw.traces[2].meta["batch"] = 6;
  REQUIRE(SplitDomains(KnobInputs(lw, Config(""))) == KnobDomains{{1, 2, 4}, {1, 2, 4}, {1, 2}});
  // c with a trace of batch 3: the measured split 2 only (no what-if 4).
  lw.by_batch[2][3] = lw.traces[2];
  lw.traces[1].meta["batch"] = 2;  // b: its traces are not smaller: what-if 2
  REQUIRE(SplitDomains(KnobInputs(lw, Config(""))) == KnobDomains{{1, 2, 4}, {1, 2}, {1, 2}});
  REQUIRE(SplitDomains(KnobInputs(lw, Config("sm", {"a.batch_split=8,2"}))) ==
          KnobDomains{{2, 8}, {1}, {1}});
}

TEST_CASE("stage options: none, then choices of grid points", "[search][knobs]") {
  const LoadedWorkload lw = Three();
  // a: 1 operator, no cut; b: 4 equal operators, grid points 1, 2, 3; c:
  // 6000, 1000, 1000 ns, every quarter of its time falls in operator 0.
  REQUIRE(StageOptions(KnobInputs(lw, Config(""))) ==
          std::vector<Cuts>{{{}}, {{}, {1}, {2}, {3}}, {{}, {1}}});
  REQUIRE(StageOptions(KnobInputs(lw, Config("", {"max_cuts=2"})))[1] ==
          Cuts{{}, {1}, {2}, {3}, {1, 2}, {1, 3}, {2, 3}});
  REQUIRE(StageOptions(KnobInputs(lw, Config("", {"cut_grid=2"})))[1] == Cuts{{}, {2}});
  REQUIRE(StageOptions(KnobInputs(lw, Config("", {"max_cuts=0"})))[1] == Cuts{{}});
  REQUIRE(StageOptions(KnobInputs(lw, Config("sm"))) == std::vector<Cuts>{{{}}, {{}}, {{}}});
  REQUIRE(StageOptions(KnobInputs(lw, Config("sm", {"b.stages=1/3,none"})))[1] == Cuts{{1, 3}, {}});
  REQUIRE(ErrorOf([&] { StageOptions(KnobInputs(lw, Config("", {"b.stages=none,2/4"}))); }) ==
          "--set b.stages=none,2/4: tenants.b.stages[1][1]: expected a cut point in 1..3 (b has "
          "4 operators), found 4");
  REQUIRE(ErrorOf([&] { StageOptions(KnobInputs(lw, Config("", {"a.stages=1"}))); }) ==
          "--set a.stages=1: tenants.a.stages[0][0]: no cut point is possible: a has 1 operator");
}

TEST_CASE("offsets: 0 and fractions of the request span", "[search][knobs]") {
  LoadedWorkload lw = Three();
  // Spans 4000, 4000 and 8000 ns: whole ns below 1 ms.
  REQUIRE(OffsetDomains(KnobInputs(lw, Config(""))) ==
          KnobDomains{{0, 1000, 2000}, {0, 1000, 2000}, {0, 2000, 4000}});
  // A 1,234,567 ns span: whole µs, 308.64 -> 309 and 617.28 -> 617.
  lw.traces[0].tasks[0].dur_ns = 1234567;
  REQUIRE(OffsetDomains(KnobInputs(lw, Config("")))[0] == V{0, 309000, 617000});
  REQUIRE(OffsetDomains(KnobInputs(lw, Config("", {"offset_fractions=0.1,0.0000001"})))[0] ==
          V{0, 123000});
  REQUIRE(OffsetDomains(KnobInputs(lw, Config("sm", {"c.offset_ns=700,0"}))) ==
          KnobDomains{{0}, {0}, {0, 700}});
}

TEST_CASE("max_connections: powers of two up to the hardware queues", "[search][knobs]") {
  LoadedWorkload lw = Three();
  REQUIRE(ConnectionDomain(KnobInputs(lw, Config(""))) == V{1, 2, 4, 8, 16, 32});
  REQUIRE(ConnectionDomain(KnobInputs(lw, Config("sm"))) == V{8});
  REQUIRE(ConnectionDomain(KnobInputs(lw, Config("sm", {"max_connections=4,2"}))) == V{2, 4});
  lw.gpu.hw_queues = 6;
  REQUIRE(ConnectionDomain(KnobInputs(lw, Config(""))) == V{1, 2, 4});
  REQUIRE(ConnectionDomain(KnobInputs(lw, Config("sm"))) == V{6});
  REQUIRE(ErrorOf([&] { ConnectionDomain(KnobInputs(lw, Config("", {"max_connections=2,8"}))); }) ==
          "--set max_connections=2,8: max_connections[1]: expected at most 6 (the hardware "
          "queues of tiny), found 8");
  REQUIRE(MaxStreams(lw) == 3);  // one stream per tenant
}

TEST_CASE("trace facts: operators, span, streams, batch", "[search][knobs]") {
  LoadedWorkload lw = Three();
  REQUIRE(OperatorTimes(lw.traces[2], lw.gpu) == std::vector<TimeNs>{6000, 1000, 1000});
  REQUIRE(RequestSpanNs(lw.traces[2]) == 8000);
  REQUIRE(RequestSpanNs(Trace{}) == 0);
  REQUIRE(StreamCount(lw.traces[1]) == 1);
  lw.traces[1].tasks[3].stream = 9;
  REQUIRE(StreamCount(lw.traces[1]) == 2);
  REQUIRE(TraceBatch(lw.traces[1]) == -1);
  lw.traces[1].meta["batch"] = 16;
  REQUIRE(TraceBatch(lw.traces[1]) == 16);
}

}  // namespace cotenant::search
