// Measured-run assembly: result and traces from per-node times.
#include "tools/replay/measured.h"

#include <catch2/catch.hpp>

#include "tests/common/fixtures.h"

namespace cotenant::replay {

using namespace cotenant::testing;

TEST_CASE("measured result: latencies as the simulator computes them", "[replay][measured]") {
  // Closed loop of 3 requests of one kernel; the replay measured 0..1100,
  // 1300..2300, 2500..3700.
  const LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)}), 3}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  MeasuredRun run = EmptyRun(g);
  const TimeNs spans[3][2] = {{0, 1100}, {1300, 2300}, {2500, 3700}};
  int r = 0;
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    if (g.nodes[v].kind != NodeKind::kKernel) continue;
    run.start_ns[v] = spans[g.nodes[v].request][0];
    run.end_ns[v] = spans[g.nodes[v].request][1];
    ++r;
  }
  REQUIRE(r == 3);
  const SimResult res = AssembleResult(lw, g, run, true);
  REQUIRE(res.model == "measured");
  REQUIRE(res.makespan_ns == 3700);
  REQUIRE(res.tenants[0].latencies_ns == std::vector<TimeNs>{1100, 1200, 1400});
  REQUIRE(res.tenants[0].latency.mean == 1233);
  REQUIRE(res.tenants[0].latency.p99 == 1400);
  REQUIRE(res.gpu.sm_busy_fraction == Approx(3300.0 / 3700.0));
  REQUIRE(res.timeline.size() == 3);
  REQUIRE(res.timeline[1].start_ns == 1300);
  REQUIRE(ResultToJson(res)["tenants"]["a"]["finish_ns"] == 3700);
  REQUIRE(TimelineToJsonText(res).find("\"ts\":1.300") != std::string::npos);
}

TEST_CASE("measured traces: readable cotenant.trace/1 with measured times", "[replay][measured]") {
  Trace t = MakeTrace("a", {Host(1, TaskKind::kLaunch, 0, 100, 10), Kernel(2, 7, 200, 1000, 8)});
  t.tasks[1].correlation = 10;
  const LoadedWorkload lw = Make({{t, 2}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  MeasuredRun run = EmptyRun(g);
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.tmpl < 0) continue;
    const TimeNs base = 5000 * n.request;
    run.start_ns[v] = base + (n.kind == NodeKind::kKernel ? 3000 : 0);
    run.end_ns[v] = run.start_ns[v] + (n.kind == NodeKind::kKernel ? 900 : 150);
  }
  const std::vector<Trace> traces = MeasuredTraces(lw, g, run);
  REQUIRE(traces.size() == 1);
  const Trace back = ParseTrace(TraceToJsonText(traces[0]), "measured.json");
  REQUIRE(back.tasks.size() == 4);
  REQUIRE(back.meta["requests"] == 2);
  REQUIRE(back.tasks[1].kind == TaskKind::kKernel);
  REQUIRE(back.tasks[1].start_ns == 3000);
  REQUIRE(back.tasks[1].dur_ns == 900);
  REQUIRE(back.tasks[3].start_ns == 8000);
  REQUIRE(back.tasks[0].correlation == back.tasks[1].correlation);
  REQUIRE(back.tasks[2].correlation == back.tasks[3].correlation);
  REQUIRE(back.tasks[0].correlation != back.tasks[2].correlation);
}

}  // namespace cotenant::replay
