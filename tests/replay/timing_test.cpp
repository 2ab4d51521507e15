// CUPTI replay timing: tagged activities mapped onto the measured run.
#include "tools/replay/timing.h"

#include <catch2/catch.hpp>

#include "tests/common/fixtures.h"

namespace cotenant::replay {
namespace {

using namespace cotenant::testing;

Task Copy(int64_t id, int64_t stream, int64_t bytes) {
  Task t;
  t.id = id;
  t.kind = TaskKind::kMemcpy;
  t.dir = CopyDir::kH2D;
  t.stream = stream;
  t.start_ns = 0;
  t.dur_ns = 500;
  t.bytes = bytes;
  return t;
}

std::vector<int32_t> NodesOfKind(const TaskGraph& g, NodeKind kind) {
  std::vector<int32_t> out;
  for (size_t v = 0; v < g.nodes.size(); ++v)
    if (g.nodes[v].kind == kind) out.push_back(static_cast<int32_t>(v));
  return out;
}

}  // namespace

TEST_CASE("replay timing: kernels and non-empty copies expect a sample", "[replay][timing]") {
  const LoadedWorkload lw =
      Make({{MakeTrace("a", {Copy(1, 7, 4096), Kernel(2, 7, 600, 1000, 8), Copy(3, 7, 0)}), 1}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  int expected = 0;
  for (size_t v = 0; v < g.nodes.size(); ++v) expected += ExpectsSample(g, static_cast<int32_t>(v));
  REQUIRE(expected == 2);  // the 4096-byte copy and the kernel; not the 0-byte copy
  REQUIRE(TimingId(0) == 1);
}

TEST_CASE("replay timing: samples land on their nodes, relative to the origin",
          "[replay][timing]") {
  const LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)}), 3}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  const std::vector<int32_t> k = NodesOfKind(g, NodeKind::kKernel);
  REQUIRE(k.size() == 3);
  MeasuredRun run = EmptyRun(g);
  const uint64_t origin = 1'000'000'000'000ull;
  // Out of order, as CUPTI may deliver them; one id unknown; node k[2]
  // reported twice (spans both), one sample starting before the origin.
  const std::vector<TimingSample> samples = {
      {TimingId(k[1]), origin + 3000, origin + 4000},
      {TimingId(k[0]), origin - 50, origin + 1000},
      {TimingId(k[2]), origin + 6000, origin + 6500},
      {TimingId(k[2]), origin + 5500, origin + 6200},
      {999999, origin, origin + 1},
      {0, origin, origin + 1},
  };
  const TimingApplied a = ApplyTimings(g, samples, origin, &run);
  REQUIRE(a.matched == 3);
  REQUIRE(a.unknown == 2);
  REQUIRE(a.missing == 0);
  REQUIRE(DescribeMissing(g, a, 3).empty());
  REQUIRE(run.start_ns[k[0]] == 0);
  REQUIRE(run.end_ns[k[0]] == 1000);
  REQUIRE(run.start_ns[k[1]] == 3000);
  REQUIRE(run.end_ns[k[1]] == 4000);
  REQUIRE(run.start_ns[k[2]] == 5500);
  REQUIRE(run.end_ns[k[2]] == 6500);
  // The start gate of each request and the end gates are not measured.
  for (size_t v = 0; v < g.nodes.size(); ++v)
    if (g.nodes[v].kind != NodeKind::kKernel) REQUIRE(run.start_ns[v] == -1);
}

TEST_CASE("replay timing: a missing sample is named", "[replay][timing]") {
  Trace t = MakeTrace("resnet50", {Kernel(1, 7, 0, 1000, 8), Kernel(2, 7, 1000, 1000, 8)});
  t.tasks[1].name = t.Intern("gemm");
  const LoadedWorkload lw = Make({{t, 2}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  const std::vector<int32_t> k = NodesOfKind(g, NodeKind::kKernel);
  REQUIRE(k.size() == 4);
  MeasuredRun run = EmptyRun(g);
  // Everything but request 1's gemm.
  std::vector<TimingSample> samples;
  for (int32_t v : k) {
    const Node& n = g.nodes[v];
    if (n.request == 1 && g.Tmpl(n).task == 1) continue;
    samples.push_back({TimingId(v), 10, 20});
  }
  const TimingApplied a = ApplyTimings(g, samples, 0, &run);
  REQUIRE(a.matched == 3);
  REQUIRE(a.missing == 1);
  REQUIRE(DescribeMissing(g, a, 4) ==
          "CUPTI reported no time for 1 of 4 GPU operations (first: gemm of tenant resnet50, "
          "request 1)");
}

TEST_CASE("replay timing: real call time is paid from the next traced API time",
          "[replay][timing]") {
  ApiTimeLedger l;
  REQUIRE(l.Spin(5000) == 5000);  // nothing owed yet
  l.Owe(3000);                    // a launch really took 3 us
  REQUIRE(l.Spin(5000) == 2000);  // the next 5 us call spins 2 us
  REQUIRE(l.debt() == 0);
  l.Owe(4000);
  l.Owe(4000);
  REQUIRE(l.Spin(5000) == 0);  // 8 us owed: this call is paid in full...
  REQUIRE(l.debt() == 3000);   // ...and 3 us carry over
  REQUIRE(l.Spin(1000) == 0);
  REQUIRE(l.Spin(4000) == 2000);
  REQUIRE(l.debt() == 0);
  l.Owe(-5);  // a clock going backwards owes nothing
  REQUIRE(l.Spin(-10) == 0);
  REQUIRE(l.debt() == 0);
}

}  // namespace cotenant::replay
