// The GPU model's properties (DESIGN.md, "Properties the tests must pin
// down"), each with an exact hand-computed expectation, for both models.
#include "sim/engine.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>

#include "sim/error.h"
#include "sim/graph.h"
#include "sim/models/fluid.h"
#include "sim/rng.h"
#include "sim/simulate.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using namespace testing;

/// Start and end of the i-th timeline entry of `tenant` with task index `task`.
std::pair<TimeNs, TimeNs> Span(const SimResult& r, int tenant, int task, int request = 0) {
  for (const TimelineEntry& e : r.timeline) {
    if (e.tenant == tenant && e.task == task && e.request == request) return {e.start_ns, e.end_ns};
  }
  FAIL("no timeline entry");
  return {-1, -1};
}

}  // namespace

TEST_CASE("alone, a kernel takes its dur_ns", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // One wave (8 blocks = 4 SMs x 2).
  REQUIRE(Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})}}), {}, model).makespan_ns == 1000);
  // 2.5 waves (20 blocks) with a duration not divisible by 3 waves: still exact.
  REQUIRE(Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1001, 20)})}}), {}, model).makespan_ns ==
          1001);
  // No launch shape: fills the GPU for its duration.
  Task k = Kernel(1, 7, 0, 777, 8);
  k.grid = {0, 0, 0};
  k.block = {0, 0, 0};
  REQUIRE(Run(Make({{MakeTrace("a", {k})}}), {}, model).makespan_ns == 777);
}

TEST_CASE("kernels whose footprints fit together overlap fully", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // 2 blocks = 1 SM and 4 blocks = 2 SMs: 3 of 4 SMs, both run from 0.
  const SimResult r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)})},
                                {MakeTrace("b", {Kernel(1, 7, 0, 600, 4)})}}),
                          {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1000);
  REQUIRE(r.tenants[1].finish_ns == 600);
  REQUIRE(r.makespan_ns == 1000);
}

TEST_CASE("two GPU-filling kernels serialize", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  const SimResult r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})},
                                {MakeTrace("b", {Kernel(1, 7, 0, 1000, 8)})}}),
                          {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1000);  // dispatched first (arrival order)
  REQUIRE(r.tenants[1].finish_ns == 2000);
}

TEST_CASE("a later kernel fills the slots of an earlier kernel's last wave", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // a: 12 blocks = 1.5 waves -> waves_full 2, wave 1000 ns; its last wave holds
  // 4 blocks = 2 SMs from 1000 to 2000. b (4 blocks = 2 SMs, 500 ns) waits
  // for a's first wave, then runs beside a's last wave: 1000..1500.
  const SimResult r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 2000, 12)})},
                                {MakeTrace("b", {Kernel(1, 7, 0, 500, 4)})}}),
                          {}, model);
  REQUIRE(Span(r, 1, 0) == std::make_pair<TimeNs, TimeNs>(1000, 1500));
  REQUIRE(r.tenants[0].finish_ns == 2000);
}

TEST_CASE("a higher-priority kernel takes freed slots first, never preempting", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // low1 runs 0..1000 filling the GPU. low2 (same priority) is pending from 0;
  // high (priority -1) arrives at 500. high does not preempt low1, but when
  // low1 ends it goes before low2: high 1000..2000, low2 2000..3000.
  LoadedWorkload lw = Make({{MakeTrace("low1", {Kernel(1, 7, 0, 1000, 8)})},
                            {MakeTrace("low2", {Kernel(1, 7, 0, 1000, 8)})},
                            {MakeTrace("high", {Kernel(1, 7, 0, 1000, 8)})}});
  Plan plan;
  plan.tenants["high"].priority = -1;
  plan.tenants["high"].offset_ns = 500;
  SimResult r = Run(lw, plan, model);
  REQUIRE(r.tenants[0].finish_ns == 1000);
  REQUIRE(Span(r, 2, 0) == std::make_pair<TimeNs, TimeNs>(1000, 2000));
  REQUIRE(r.tenants[1].finish_ns == 3000);
  // Without the priority, arrival order decides: low2 1000..2000, high 2000..3000.
  plan.tenants["high"].priority = 0;
  r = Run(lw, plan, model);
  REQUIRE(r.tenants[1].finish_ns == 2000);
  REQUIRE(r.tenants[2].finish_ns == 3000);
}

TEST_CASE("a higher-priority kernel gets SMs at the running kernel's next wave boundary",
          "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // low: 24 blocks = 3 waves of 1000 ns. high (GPU-filling, 1000 ns) arrives at
  // 1500, mid-wave: low's second wave ends at 2000, high runs 2000..3000, then
  // low's third wave 3000..4000.
  LoadedWorkload lw = Make({{MakeTrace("low", {Kernel(1, 7, 0, 3000, 24)})},
                            {MakeTrace("high", {Kernel(1, 7, 0, 1000, 8)})}});
  Plan plan;
  plan.tenants["high"].priority = -1;
  plan.tenants["high"].offset_ns = 1500;
  const SimResult r = Run(lw, plan, model);
  REQUIRE(Span(r, 1, 0) == std::make_pair<TimeNs, TimeNs>(2000, 3000));
  REQUIRE(r.tenants[0].finish_ns == 4000);
}

TEST_CASE("an SM cap of half the GPU doubles a compute-bound GPU-filling kernel",
          "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})}});
  Plan plan;
  plan.tenants["a"].sm_count = 2;
  REQUIRE(Run(lw, plan, model).makespan_ns == 2000);
}

TEST_CASE("DRAM overload slows memory-bound kernels in proportion", "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  // Each kernel alone moves 1e6 bytes in 1000 ns = the whole 1000 B/ns peak.
  // Together the demand is 2x the peak: m = 2.
  auto mem_kernel = [](double mem_bound) {
    Task k = Kernel(1, 7, 0, 1000, 2);
    k.dram_bytes = 1000000;
    k.mem_bound = mem_bound;
    return k;
  };
  // mem_bound 1: the whole time stretches by m = 2 -> 2000 ns each.
  SimResult r = Run(
      Make({{MakeTrace("a", {mem_kernel(1.0)})}, {MakeTrace("b", {mem_kernel(1.0)})}}), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 2000);
  REQUIRE(r.tenants[1].finish_ns == 2000);
  // mem_bound 0.5: time = 1000 * (0.5 + 0.5 * 2) = 1500 ns each.
  r = Run(Make({{MakeTrace("a", {mem_kernel(0.5)})}, {MakeTrace("b", {mem_kernel(0.5)})}}), {},
          model);
  REQUIRE(r.tenants[0].finish_ns == 1500);
  REQUIRE(r.tenants[1].finish_ns == 1500);
  // Alone, no slowdown.
  REQUIRE(Run(Make({{MakeTrace("a", {mem_kernel(1.0)})}}), {}, model).makespan_ns == 1000);
}

TEST_CASE("streams that share a hardware queue serialize", "[engine]") {
  const std::string model = GENERATE("fluid", "block");
  LoadedWorkload lw = Make(
      {{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)})}, {MakeTrace("b", {Kernel(1, 7, 0, 1000, 2)})}});
  Plan plan;
  plan.max_connections = 1;
  REQUIRE(Run(lw, plan, model).makespan_ns == 2000);
  plan.max_connections = 2;
  REQUIRE(Run(lw, plan, model).makespan_ns == 1000);
}

TEST_CASE("same input, same output", "[engine]") {
  const std::string model = GENERATE("fluid", "block");
  LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 2000, 12), Kernel(2, 7, 10, 300, 3)})},
                            {MakeTrace("b", {Kernel(1, 7, 0, 500, 4), Kernel(2, 9, 0, 700, 6)})}});
  const SimResult r1 = Run(lw, {}, model), r2 = Run(lw, {}, model);
  REQUIRE(ResultToJson(r1).dump() == ResultToJson(r2).dump());
  REQUIRE(TimelineToJsonText(r1) == TimelineToJsonText(r2));
}

TEST_CASE("edge rules: launch latency, thread gaps, stream order", "[engine][graph]") {
  // launch 0..4000 (corr 10) -> kernel ready at 4000 + 2000 latency = 6000,
  // runs 6000..7000. The second launch keeps its 1000 ns CPU gap after the
  // first (starts 5000, ends 6000) and its kernel follows on the stream:
  // ready 8000, runs 8000..8500.
  Task l1;
  l1.id = 1;
  l1.kind = TaskKind::kLaunch;
  l1.thread = 1;
  l1.start_ns = 0;
  l1.dur_ns = 4000;
  l1.correlation = 10;
  Task l2 = l1;
  l2.id = 3;
  l2.start_ns = 5000;
  l2.dur_ns = 1000;
  l2.correlation = 11;
  Task k1 = Kernel(2, 7, 6000, 1000, 8);
  k1.correlation = 10;
  Task k2 = Kernel(4, 7, 8000, 500, 8);
  k2.correlation = 11;
  const SimResult r = Run(Make({{MakeTrace("a", {l1, k1, l2, k2})}}));
  REQUIRE(Span(r, 0, 1) == std::make_pair<TimeNs, TimeNs>(6000, 7000));
  REQUIRE(Span(r, 0, 2) == std::make_pair<TimeNs, TimeNs>(5000, 6000));
  REQUIRE(Span(r, 0, 3) == std::make_pair<TimeNs, TimeNs>(8000, 8500));
}

TEST_CASE("edge rules: a stream sync waits for the last kernel issued before it",
          "[engine][graph]") {
  // launch 0..1000 -> kernel 3000..13000; sync starts at 2000 (1000 gap after
  // the launch) and returns 13000 + min(dur 11500, sync latency 1000) = 14000;
  // the cpu task after it keeps its 500 ns gap: 14500..15500.
  Task l;
  l.id = 1;
  l.kind = TaskKind::kLaunch;
  l.thread = 1;
  l.dur_ns = 1000;
  l.correlation = 5;
  Task k = Kernel(2, 7, 3000, 10000, 8);
  k.correlation = 5;
  Task s;
  s.id = 3;
  s.kind = TaskKind::kSync;
  s.scope = SyncScope::kStream;
  s.stream = 7;
  s.thread = 1;
  s.start_ns = 2000;
  s.dur_ns = 11500;
  Task c;
  c.id = 4;
  c.kind = TaskKind::kCpu;
  c.thread = 1;
  c.start_ns = 14000;
  c.dur_ns = 1000;
  const SimResult r = Run(Make({{MakeTrace("a", {l, k, s, c})}}));
  REQUIRE(Span(r, 0, 2) == std::make_pair<TimeNs, TimeNs>(2000, 14000));
  REQUIRE(Span(r, 0, 3) == std::make_pair<TimeNs, TimeNs>(14500, 15500));
}

TEST_CASE("edge rules: event record -> stream wait across streams", "[engine][graph]") {
  // GPU-only: stream 7 runs k1 (0..1000) then records event 3; stream 9 waits
  // for it before k2, so k2 runs 1000..1500 although it could start at 0.
  Task rec;
  rec.id = 2;
  rec.kind = TaskKind::kEventRecord;
  rec.event = 3;
  rec.stream = 7;
  rec.start_ns = 1000;
  Task wait;
  wait.id = 3;
  wait.kind = TaskKind::kStreamWait;
  wait.event = 3;
  wait.stream = 9;
  wait.start_ns = 1001;
  const SimResult r = Run(
      Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2), rec, wait, Kernel(4, 9, 1002, 500, 2)})}}));
  REQUIRE(Span(r, 0, 3) == std::make_pair<TimeNs, TimeNs>(1000, 1500));
}

TEST_CASE("edge rules: explicit `after` dependencies", "[engine][graph]") {
  // k2 on stream 9 could start at 0; `after: [1]` makes it wait for k1 (0..1000).
  Task k2 = Kernel(2, 9, 0, 500, 2);
  k2.after = {1};
  SimResult r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2), k2})}}));
  REQUIRE(Span(r, 0, 1) == std::make_pair<TimeNs, TimeNs>(1000, 1500));
  // k1 after k2 while k2 follows k1 on the same stream: a cycle, named by task ids.
  Task k1 = Kernel(1, 7, 0, 1000, 2);
  k1.after = {2};
  Trace cyclic = MakeTrace("a", {k1, Kernel(2, 7, 1000, 500, 2)});
  cyclic.file = "c.json";
  REQUIRE_THROWS_WITH(
      Run(Make({{cyclic}})),
      Catch::Contains("c.json: tasks: dependency cycle: task 1 -> task 2 -> task 1"));
}

TEST_CASE("requests: closed loop and periodic arrivals", "[engine][graph]") {
  TenantIn closed{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)}), 3};
  SimResult r = Run(Make({closed}));
  REQUIRE(r.makespan_ns == 3000);
  REQUIRE(r.tenants[0].latencies_ns == std::vector<TimeNs>{1000, 1000, 1000});
  TenantIn periodic = closed;
  periodic.arrival.kind = ArrivalKind::kPeriodic;
  periodic.arrival.period_ns = 500;
  r = Run(Make({periodic}));
  // Arrivals 0, 500, 1000; served back to back: done 1000, 2000, 3000.
  REQUIRE(r.tenants[0].latencies_ns == std::vector<TimeNs>{1000, 1500, 2000});
  REQUIRE(r.tenants[0].latency.mean == 1500);
  REQUIRE(r.tenants[0].latency.p50 == 1500);
  REQUIRE(r.tenants[0].latency.p99 == 2000);
}

TEST_CASE("plan: groups run one after another", "[engine][graph]") {
  LoadedWorkload lw = Make(
      {{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)})}, {MakeTrace("b", {Kernel(1, 7, 0, 1000, 2)})}});
  Plan plan;
  plan.groups = {{"b"}, {"a"}};
  const SimResult r = Run(lw, plan);
  REQUIRE(r.tenants[1].finish_ns == 1000);
  REQUIRE(r.tenants[0].finish_ns == 2000);
  REQUIRE(r.tenants[0].latency.mean == 2000);  // closed: arrival at 0, started by the group
}

TEST_CASE("plan: stage barriers interleave tenants", "[engine][graph]") {
  // a: ops A0 (1000 ns), A1 (1000 ns); b: ops B0 (3000 ns), B1 (100 ns), all
  // 1 SM so they could overlap. Cut both after op 0: A1 waits for B0 -> A1
  // runs 3000..4000 instead of 1000..2000.
  Task a0 = Kernel(1, 7, 0, 1000, 2), a1 = Kernel(2, 7, 1000, 1000, 2);
  Task b0 = Kernel(1, 7, 0, 3000, 2), b1 = Kernel(2, 7, 3000, 100, 2);
  Trace ta = MakeTrace("a", {a0, a1}), tb = MakeTrace("b", {b0, b1});
  ta.tasks[0].op = ta.Intern("A0");
  ta.tasks[1].op = ta.Intern("A1");
  tb.tasks[0].op = tb.Intern("B0");
  tb.tasks[1].op = tb.Intern("B1");
  LoadedWorkload lw = Make({{ta}, {tb}});
  REQUIRE(Run(lw).tenants[0].finish_ns == 2000);
  Plan plan;
  plan.stages["a"] = {1};
  plan.stages["b"] = {1};
  const SimResult r = Run(lw, plan);
  REQUIRE(Span(r, 0, 1) == std::make_pair<TimeNs, TimeNs>(3000, 4000));
  REQUIRE(Span(r, 1, 1) == std::make_pair<TimeNs, TimeNs>(3000, 3100));
  // A cut outside 1..operators-1 is an input error.
  plan.stages["a"] = {2};
  REQUIRE_THROWS_WITH(Run(lw, plan), Catch::Contains("stages.a[0]: expected a cut point in 1..1"));
  // A trace with one operator cannot be cut.
  LoadedWorkload single = Make({{MakeTrace("a", {a0})}, {tb}});
  plan.stages["a"] = {1};
  REQUIRE_THROWS_WITH(
      Run(single, plan),
      Catch::Contains("stages.a: no cut point is possible: the trace has 1 operator"));
}

TEST_CASE("plan: a stage's host calls wait until every tenant has issued the previous stage",
          "[engine][graph]") {
  // Each tenant: CPU work, launch (100 ns) -> kernel X0 (1000 ns), launch ->
  // kernel X1 (1000 ns), 2 blocks each; b's first launch comes at 5000 (100
  // ns of CPU work, then a 4900 ns gap). Launch latency 2000. Cut both after X0:
  // - a's second launch waits for the host barrier, i.e. b's first launch
  //   ending at 5100: it runs 5100..5200 instead of 100..200;
  // - b's X0 runs 7100..8100, so both X1 start at the stage barrier, 8100.
  auto tenant = [](const std::string& name, TimeNs first) {
    Task cpu;  // CPU work from 0 to 100 at most, then a gap until `first`
    cpu.id = 9;
    cpu.kind = TaskKind::kCpu;
    cpu.thread = 1;
    cpu.dur_ns = std::min<TimeNs>(first, 100);
    std::vector<Task> tasks = {cpu};
    for (int i = 0; i < 2; ++i) {
      Task l;
      l.id = 2 * i + 1;
      l.kind = TaskKind::kLaunch;
      l.thread = 1;
      l.start_ns = first + 100 * i;
      l.dur_ns = 100;
      l.correlation = 10 + i;
      Task k = Kernel(2 * i + 2, 7, first + 2100 + 1000 * i, 1000, 2);
      k.correlation = 10 + i;
      tasks.push_back(l);
      tasks.push_back(k);
    }
    Trace t = MakeTrace(name, tasks);
    t.tasks[2].op = t.Intern("X0");
    t.tasks[4].op = t.Intern("X1");
    return t;
  };
  LoadedWorkload lw = Make({{tenant("a", 0)}, {tenant("b", 5000)}});
  Plan plan;
  REQUIRE(Span(Run(lw, plan), 0, 3) == std::make_pair<TimeNs, TimeNs>(100, 200));
  plan.stages["a"] = {1};
  plan.stages["b"] = {1};
  SimResult r = Run(lw, plan);
  REQUIRE(Span(r, 0, 3) == std::make_pair<TimeNs, TimeNs>(5100, 5200));
  REQUIRE(Span(r, 1, 2) == std::make_pair<TimeNs, TimeNs>(7100, 8100));
  REQUIRE(Span(r, 0, 4) == std::make_pair<TimeNs, TimeNs>(8100, 9100));
  REQUIRE(Span(r, 1, 4) == std::make_pair<TimeNs, TimeNs>(8100, 9100));
  // On one hardware queue the queue holds a.X0, b.X0, then the X1s, and runs
  // them one after another (without the host barrier a.X1 would sit ahead of
  // b.X0 and wait for it forever).
  plan.max_connections = 1;
  r = Run(lw, plan);
  REQUIRE(Span(r, 0, 2) == std::make_pair<TimeNs, TimeNs>(2100, 3100));
  REQUIRE(Span(r, 1, 2) == std::make_pair<TimeNs, TimeNs>(7100, 8100));
  REQUIRE(r.makespan_ns == 10100);
}

TEST_CASE("plan: batch split runs each request as k sub-batches", "[engine][graph]") {
  // 8 blocks, 1000 ns -> two sub-batches of 4 blocks (2 SMs), 500 ns each, back
  // to back on the stream: still 1000 ns alone...
  LoadedWorkload lw = Make(
      {{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})}, {MakeTrace("b", {Kernel(1, 7, 0, 1000, 4)})}});
  Plan plan;
  plan.tenants["a"].batch_split = 2;
  SimResult r = Run(lw, plan);
  // ... and b (2 SMs) now fits beside a's halves: both end at 1000.
  REQUIRE(r.tenants[0].finish_ns == 1000);
  REQUIRE(r.tenants[1].finish_ns == 1000);
  // Native: a fills the GPU first, b runs after it.
  r = Run(lw);
  REQUIRE(r.tenants[1].finish_ns == 2000);
}

TEST_CASE("plan: batch split uses the measured sub-batch trace when there is one",
          "[engine][graph]") {
  // Batch 8 trace (1000 ns); the workload also has a measured batch-4 trace
  // whose kernel takes 700 ns (not 500: small batches are less efficient).
  LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})}});
  lw.traces[0].meta["batch"] = 8;
  Trace b4 = MakeTrace("a", {Kernel(1, 7, 0, 700, 4)});
  b4.meta["batch"] = 4;
  lw.by_batch[0].emplace(4, b4);
  Plan plan;
  plan.tenants["a"].batch_split = 2;
  REQUIRE(Run(lw, plan).makespan_ns == 1400);
  // Split 4 has no measured batch-2 trace: the what-if split, 250 ns x 4.
  plan.tenants["a"].batch_split = 4;
  REQUIRE(Run(lw, plan).makespan_ns == 1000);
}

TEST_CASE("lower bound: max(SM-work / SMs, critical path)", "[engine]") {
  // Two 1-SM kernels of 1000 ns: SM-work 2000 SM-ns / 4 SMs = 500 < critical 1000.
  SimResult r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)})},
                          {MakeTrace("b", {Kernel(1, 7, 0, 1000, 2)})}}));
  REQUIRE(r.lower_bound_ns == 1000);
  // Two GPU-filling kernels: SM-work 8000 / 4 = 2000 > critical path 1000.
  r = Run(Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)})},
                {MakeTrace("b", {Kernel(1, 7, 0, 1000, 8)})}}));
  REQUIRE(r.lower_bound_ns == 2000);
  REQUIRE(r.gpu.sm_busy_fraction == Approx(1.0));
  REQUIRE(r.gpu.mean_sm_occupancy == Approx(1.0));
}

}  // namespace cotenant

namespace cotenant {
namespace {

/// A small random workload on TinyGpu: 2-3 tenants, 2-8 kernels each on 1-2
/// streams, random shapes, durations, DRAM use and priorities.
LoadedWorkload RandomWorkload(uint64_t seed, Plan* plan) {
  SplitMix64 rng(seed * 0x9E3779B97F4A7C15ULL + 1);
  auto next = [&rng](int64_t lo, int64_t hi) { return rng.Uniform(lo, hi); };
  std::vector<TenantIn> tenants;
  const int n = static_cast<int>(next(2, 3));
  for (int t = 0; t < n; ++t) {
    std::vector<Task> tasks;
    const int kernels = static_cast<int>(next(2, 8));
    for (int k = 0; k < kernels; ++k) {
      Task task = Kernel(k + 1, 7 + 2 * next(0, 1), k * 10, next(1, 50) * 100,
                         static_cast<int32_t>(next(1, 24)));
      if (next(0, 2) == 0) {
        task.mem_bound = static_cast<double>(next(0, 10)) / 10.0;
        task.dram_bytes = task.dur_ns * next(100, 900);
      }
      tasks.push_back(task);
    }
    TenantIn tenant{MakeTrace("t" + std::to_string(t), tasks), next(1, 2)};
    if (next(0, 3) == 0) plan->tenants[tenant.trace.tenant].priority = -1;
    tenants.push_back(tenant);
  }
  return Make(tenants);
}

}  // namespace

TEST_CASE("a kernel without launch shape fills the GPU: half the SMs double it",
          "[engine][model]") {
  const std::string model = GENERATE("fluid", "block");
  Task k = Kernel(1, 7, 0, 700, 8);
  k.grid = {0, 0, 0};
  k.block = {0, 0, 0};
  LoadedWorkload lw = Make({{MakeTrace("a", {k})}});
  Plan plan;
  plan.tenants["a"].sm_count = 2;
  REQUIRE(Run(lw, plan, model).makespan_ns == 1400);
}

TEST_CASE("fluid's incremental path equals its full recomputation", "[engine][fluid]") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Plan plan;
    const LoadedWorkload lw = RandomWorkload(seed, &plan);
    const TaskGraph g = BuildTaskGraph(lw, plan);
    std::vector<TimeNs> ends[2];
    for (int incremental = 0; incremental < 2; ++incremental) {
      auto model = MakeFluidModel(lw.gpu, g.partitions, incremental == 1);
      Engine engine(g, lw.gpu, model.get());
      engine.Run();
      for (size_t v = 0; v < g.nodes.size(); ++v)
        ends[incremental].push_back(engine.end_ns(static_cast<int32_t>(v)));
    }
    INFO("seed " << seed);
    REQUIRE(ends[0] == ends[1]);
  }
}

TEST_CASE("fluid against block on small random workloads", "[engine][model]") {
  // block dispatches real blocks per SM; fluid shares SMs as fractions. They
  // agree exactly on the analytic cases above; here we bound how far apart
  // they drift on random contention and report the largest difference.
  double worst = 0.0, sum = 0.0;
  uint64_t worst_seed = 0;
  const int cases = 200;
  for (uint64_t seed = 1; seed <= cases; ++seed) {
    Plan plan;
    const LoadedWorkload lw = RandomWorkload(seed, &plan);
    const double f = static_cast<double>(Run(lw, plan, "fluid").makespan_ns);
    const double b = static_cast<double>(Run(lw, plan, "block").makespan_ns);
    const double diff = std::fabs(f - b) / b;
    sum += diff;
    if (diff > worst) {
      worst = diff;
      worst_seed = seed;
    }
  }
  std::printf(
      "fluid vs block makespan over %d random workloads: mean |diff| %.2f%%, largest "
      "%.2f%% (seed %llu)\n",
      cases, 100.0 * sum / cases, 100.0 * worst, static_cast<unsigned long long>(worst_seed));
  CHECK(sum / cases < 0.05);
  CHECK(worst < 0.25);
}

}  // namespace cotenant

namespace cotenant {

TEST_CASE("edge rules: device and event syncs", "[engine][graph]") {
  // Two launches on one thread put k1 (stream 7, 5000 ns) and k2 (stream 9,
  // 2000 ns) on the GPU: launches 0..1000 and 1000..2000, kernels ready at
  // 3000 and 4000 (2000 latency) and end at 8000 and 6000.
  Task l1;
  l1.id = 1;
  l1.kind = TaskKind::kLaunch;
  l1.thread = 1;
  l1.dur_ns = 1000;
  l1.correlation = 1;
  Task l2 = l1;
  l2.id = 3;
  l2.start_ns = 1000;
  l2.correlation = 2;
  Task k1 = Kernel(2, 7, 3000, 5000, 2);
  k1.correlation = 1;
  Task k2 = Kernel(4, 9, 4000, 2000, 2);
  k2.correlation = 2;
  // A device sync at 2000 waits for both streams: returns 8000 + 1000.
  Task dev;
  dev.id = 5;
  dev.kind = TaskKind::kSync;
  dev.scope = SyncScope::kDevice;
  dev.thread = 1;
  dev.start_ns = 2000;
  dev.dur_ns = 7000;
  SimResult r = Run(Make({{MakeTrace("a", {l1, k1, l2, k2, dev})}}));
  REQUIRE(Span(r, 0, 4) == std::make_pair<TimeNs, TimeNs>(2000, 9000));
  // An event recorded on stream 9 after k2 (record call 2000..2100): an
  // event sync at 2100 returns when k2 ends (6000) + min(dur 500, 1000).
  Task rec;
  rec.id = 5;
  rec.kind = TaskKind::kEventRecord;
  rec.event = 4;
  rec.stream = 9;
  rec.thread = 1;
  rec.start_ns = 2000;
  rec.dur_ns = 100;
  Task es;
  es.id = 6;
  es.kind = TaskKind::kSync;
  es.scope = SyncScope::kEvent;
  es.event = 4;
  es.thread = 1;
  es.start_ns = 2100;
  es.dur_ns = 500;
  r = Run(Make({{MakeTrace("a", {l1, k1, l2, k2, rec, es})}}));
  REQUIRE(Span(r, 0, 5) == std::make_pair<TimeNs, TimeNs>(2100, 6500));
}

TEST_CASE("copies of one direction share a copy engine", "[engine]") {
  // Two tenants copy host-to-device at 0 (1000 ns each): one after the other.
  // A device-to-host copy uses the other engine and overlaps.
  auto copy = [](CopyDir dir) {
    Task c;
    c.id = 1;
    c.kind = TaskKind::kMemcpy;
    c.dir = dir;
    c.bytes = 1000;
    c.stream = 7;
    c.dur_ns = 1000;
    return c;
  };
  const SimResult r = Run(Make({{MakeTrace("a", {copy(CopyDir::kH2D)})},
                                {MakeTrace("b", {copy(CopyDir::kH2D)})},
                                {MakeTrace("c", {copy(CopyDir::kD2H)})}}));
  REQUIRE(r.tenants[0].finish_ns == 1000);
  REQUIRE(r.tenants[1].finish_ns == 2000);
  REQUIRE(r.tenants[2].finish_ns == 1000);
}

TEST_CASE("plan: offsets delay a tenant's arrivals", "[engine][graph]") {
  TenantIn periodic{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)}), 2};
  periodic.arrival.kind = ArrivalKind::kPeriodic;
  periodic.arrival.period_ns = 3000;
  Plan plan;
  plan.tenants["a"].offset_ns = 700;
  const SimResult r = Run(Make({periodic}), plan);
  // Arrivals at 700 and 3700; each served at once: done at 1700 and 4700.
  REQUIRE(r.tenants[0].latencies_ns == std::vector<TimeNs>{1000, 1000});
  REQUIRE(r.tenants[0].finish_ns == 4700);
}

TEST_CASE("a workload that can never finish is reported as a deadlock", "[engine]") {
  // k2 (stream 9, issued first) must wait for k1 (stream 7, issued after it);
  // with one hardware queue k2 blocks the queue's head and k1 can never start.
  Task k2 = Kernel(2, 9, 0, 500, 2);
  k2.after = {1};
  LoadedWorkload lw = Make({{MakeTrace("a", {k2, Kernel(1, 7, 5, 1000, 2)})}});
  Plan plan;
  plan.max_connections = 1;
  REQUIRE_THROWS_WITH(Run(lw, plan),
                      Catch::Contains("workload deadlocks: 3 tasks never run (a request 0 task 2 "
                                      "(kernel) waits at the head of hardware queue 0)"));
  plan.max_connections = 2;
  REQUIRE(Run(lw, plan).makespan_ns == 1500);
}

TEST_CASE("result and timeline outputs", "[engine]") {
  TenantIn t{MakeTrace("a", {Kernel(1, 7, 0, 1000, 8)}), 2};
  t.trace.tasks[0].name = t.trace.Intern("gemm \"tile\"");
  t.trace.tasks[0].op = t.trace.Intern("aten::mm");
  LoadedWorkload lw = Make({t});
  lw.workload.tenants[0].slo_ns = 1500;
  const SimResult r = Run(lw);
  const nlohmann::json j = ResultToJson(r);
  REQUIRE(j["schema"] == "cotenant.result/1");
  REQUIRE(j["makespan_ns"] == 2000);
  REQUIRE(j["tenants"]["a"]["latency_ns"]["p99"] == 1000);
  REQUIRE(j["tenants"]["a"]["slo_violations"] == 0);
  REQUIRE(j["tenants"]["a"]["throughput_rps"] == Approx(1e6));
  REQUIRE(j["gpu"]["sm_busy_fraction"] == Approx(1.0));
  const nlohmann::json tl = nlohmann::json::parse(TimelineToJsonText(r));
  REQUIRE(tl["displayTimeUnit"] == "ns");
  int slices = 0;
  for (const nlohmann::json& e : tl["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++slices;
    REQUIRE(e["name"] == "gemm \"tile\"");
    REQUIRE(e["cat"] == "kernel");
    REQUIRE(e["pid"] == 1);
    REQUIRE(e["dur"] == Approx(1.0));  // µs
    REQUIRE(e["args"]["op"] == "aten::mm");
    REQUIRE(e["ts"] == Approx(e["args"]["request"].get<int>() * 1.0));
  }
  REQUIRE(slices == 2);
}

}  // namespace cotenant

namespace cotenant {

TEST_CASE("alone, every bundled trace replays its own timeline exactly", "[engine][graph]") {
  // The synthetic traces place every task where an isolated run would (launch
  // latency of the spec, stream order, CPU gaps, a final sync), so a single
  // request simulated alone must end exactly at the trace's last end, and
  // every kernel must start where the trace says.
  const GpuSpec spec = LoadGpuSpec("h100-sxm");
  for (const char* model : {"resnet50", "mobilenetv2", "vgg16", "bert-base"}) {
    for (int batch : {1, 8, 32}) {
      const std::string path = std::string(COTENANT_SOURCE_DIR) + "/traces/synthetic/" + model +
                               "_b" + std::to_string(batch) + ".json";
      LoadedWorkload lw = Make({{ReadTrace(path)}}, spec);
      const Trace& t = lw.traces[0];
      TimeNs first = kNever, last = 0;
      for (const Task& task : t.tasks) {
        first = std::min(first, task.start_ns);
        last = std::max(last, task.end_ns());
      }
      INFO(path);
      const SimResult r = Run(lw);
      REQUIRE(r.makespan_ns == last - first);
      for (const TimelineEntry& e : r.timeline) {
        const Task& task = t.tasks[e.task];
        if (task.kind != TaskKind::kKernel) continue;
        REQUIRE(e.start_ns == task.start_ns - first);
        REQUIRE(e.end_ns == task.end_ns() - first);
      }
    }
  }
}

}  // namespace cotenant
