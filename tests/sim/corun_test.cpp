// The two co-run contention parameters of the GPU spec's model block, with
// exact hand-computed times: host_corun_slowdown (the engine: host tasks and
// CPU gaps of tenants that co-run) and l2_corun_traffic (the contention
// models: DRAM traffic grown by L2 sharing), both 0 = no effect.
#include <catch2/catch.hpp>

#include "sim/simulate.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using namespace testing;

/// Start and end of the timeline entry of `tenant`'s task index `task`.
std::pair<TimeNs, TimeNs> Span(const SimResult& r, int tenant, int task) {
  for (const TimelineEntry& e : r.timeline) {
    if (e.tenant == tenant && e.task == task && e.request == 0) return {e.start_ns, e.end_ns};
  }
  FAIL("no timeline entry");
  return {-1, -1};
}

using SpanNs = std::pair<TimeNs, TimeNs>;

/// A launch-bound tenant: one 10000 ns launch at 0 (correlation 10) and its
/// small kernel (2 blocks = 1 SM of TinyGpu, 1000 ns).
Trace LaunchTenant(const std::string& name) {
  Task k = Kernel(2, 7, 12000, 1000, 2);
  k.correlation = 10;
  return MakeTrace(name, {Host(1, TaskKind::kLaunch, 0, 10000, 10), k});
}

/// TinyGpu (launch latency 2000 ns, sync latency 1000 ns) with host
/// co-run slowdown `s`.
GpuSpec HostGpu(double s) {
  GpuSpec g = TinyGpu();
  g.model.host_corun_slowdown = s;
  return g;
}

/// A kernel of 4 blocks (2 of TinyGpu's 4 SMs: half the GPU), 1000 ns alone,
/// moving `bytes` (bytes / 1000 ns of traffic), `mem_bound` of it DRAM-bound.
Task HalfGpuKernel(int64_t bytes, double mem_bound) {
  Task k = Kernel(1, 7, 0, 1000, 4);
  k.dram_bytes = bytes;
  k.mem_bound = mem_bound;
  return k;
}

/// Two tenants each running one HalfGpuKernel from 0: each sees the other
/// holding half the GPU (others = 0.5).
LoadedWorkload HalfGpuPair(const GpuSpec& gpu, int64_t bytes, double mem_bound) {
  return Make({{MakeTrace("a", {HalfGpuKernel(bytes, mem_bound)})},
               {MakeTrace("b", {HalfGpuKernel(bytes, mem_bound)})}},
              gpu);
}

GpuSpec L2Gpu(double l2, double corun = 0.0) {
  GpuSpec g = TinyGpu();  // peak 1000 bytes/ns
  g.model.l2_corun_traffic = l2;
  g.model.corun_slowdown = corun;
  return g;
}

}  // namespace

TEST_CASE("host co-run: a host task slows by the other tenants in flight", "[engine][corun]") {
  // Alone: launch 0..10000, kernel ready at 10000 + 2000 latency, 12000..13000.
  SimResult r = Run(Make({{LaunchTenant("a")}}, HostGpu(0.5)));
  REQUIRE(Span(r, 0, 0) == SpanNs(0, 10000));
  REQUIRE(Span(r, 0, 1) == SpanNs(12000, 13000));
  REQUIRE(r.tenants[0].finish_ns == 13000);

  // Two tenants from 0: each launch starts with one other tenant in flight
  // (both start gates open at 0, before either launch starts): 10000 * (1 +
  // 0.5 * 1) = 15000, 0..15000; kernels 17000..18000 side by side (1 SM each).
  r = Run(Make({{LaunchTenant("a")}, {LaunchTenant("b")}}, HostGpu(0.5)));
  for (int t : {0, 1}) {
    REQUIRE(Span(r, t, 0) == SpanNs(0, 15000));
    REQUIRE(Span(r, t, 1) == SpanNs(17000, 18000));
    REQUIRE(r.tenants[t].finish_ns == 18000);
  }

  // Three: two others each: 10000 * (1 + 0.5 * 2) = 20000; kernels 22000..23000.
  r = Run(Make({{LaunchTenant("a")}, {LaunchTenant("b")}, {LaunchTenant("c")}}, HostGpu(0.5)));
  for (int t : {0, 1, 2}) {
    REQUIRE(Span(r, t, 0) == SpanNs(0, 20000));
    REQUIRE(r.tenants[t].finish_ns == 23000);
  }

  // A slowdown of 0 changes nothing (the old engine): 0..10000, 12000..13000.
  r = Run(Make({{LaunchTenant("a")}, {LaunchTenant("b")}}, HostGpu(0.0)));
  REQUIRE(Span(r, 1, 0) == SpanNs(0, 10000));
  REQUIRE(r.tenants[1].finish_ns == 13000);
}

TEST_CASE("host co-run: only requests in flight count, seen when the task starts",
          "[engine][corun]") {
  LoadedWorkload lw = Make({{LaunchTenant("a")}, {LaunchTenant("b")}}, HostGpu(0.5));
  Plan plan;
  // b arrives at 20000, after a's request ended (its end gate at 13000): a
  // runs as if alone (b not yet started), and so does b (a finished):
  // b's launch 20000..30000, its kernel 32000..33000.
  plan.tenants["b"].offset_ns = 20000;
  SimResult r = Run(lw, plan);
  REQUIRE(Span(r, 0, 0) == SpanNs(0, 10000));
  REQUIRE(r.tenants[0].finish_ns == 13000);
  REQUIRE(Span(r, 1, 0) == SpanNs(20000, 30000));
  REQUIRE(r.tenants[1].finish_ns == 33000);

  // b arrives at 5000, while a is in flight (until 13000): b's launch takes
  // 15000, 5000..20000, kernel 22000..23000. a's launch was decided when it
  // started at 0, alone: 10000 (the static approximation of a rate).
  plan.tenants["b"].offset_ns = 5000;
  r = Run(lw, plan);
  REQUIRE(Span(r, 0, 0) == SpanNs(0, 10000));
  REQUIRE(r.tenants[0].finish_ns == 13000);
  REQUIRE(Span(r, 1, 0) == SpanNs(5000, 20000));
  REQUIRE(r.tenants[1].finish_ns == 23000);
}

TEST_CASE("host co-run: CPU gaps slow the same way, syncs keep their cost", "[engine][corun]") {
  // cpu 0..10000; a 2000 ns CPU gap; launch 12000..22000 (corr 10); its
  // kernel; a stream sync right after the launch (trace: 22000..30000).
  Task k = Kernel(3, 7, 24000, 1000, 2);
  k.correlation = 10;
  Task s = Host(4, TaskKind::kSync, 22000, 8000);
  s.scope = SyncScope::kStream;
  s.stream = 7;
  const Trace t = MakeTrace(
      "a", {Host(1, TaskKind::kCpu, 0, 10000), Host(2, TaskKind::kLaunch, 12000, 10000, 10), k, s});
  Trace u = t;
  u.tenant = "b";

  // Alone: cpu 0..10000, gap to 12000, launch 12000..22000, kernel
  // 24000..25000, sync 22000..25000 + min(8000, 1000 sync latency) = 26000.
  SimResult r = Run(Make({{t}}, HostGpu(0.5)));
  REQUIRE(Span(r, 0, 0) == SpanNs(0, 10000));
  REQUIRE(Span(r, 0, 1) == SpanNs(12000, 22000));
  REQUIRE(Span(r, 0, 3) == SpanNs(22000, 26000));

  // Two tenants: cpu 0..15000; the gap starts at 15000 with the other in
  // flight: 2000 * 1.5 = 3000; launch 18000..33000; kernel ready 35000,
  // 35000..36000; the sync starts at 33000 and returns 36000 + 1000 = 37000
  // (its own cost unchanged).
  r = Run(Make({{t}, {u}}, HostGpu(0.5)));
  for (int i : {0, 1}) {
    REQUIRE(Span(r, i, 0) == SpanNs(0, 15000));
    REQUIRE(Span(r, i, 1) == SpanNs(18000, 33000));
    REQUIRE(Span(r, i, 2) == SpanNs(35000, 36000));
    REQUIRE(Span(r, i, 3) == SpanNs(33000, 37000));
    REQUIRE(r.tenants[i].finish_ns == 37000);
  }
}

TEST_CASE("host co-run: rounds up", "[engine][corun]") {
  // 10001 * (1 + 0.25) = 12501.25 -> 12502.
  Task k = Kernel(2, 7, 12000, 1000, 2);
  k.correlation = 10;
  const Trace t = MakeTrace("a", {Host(1, TaskKind::kLaunch, 0, 10001, 10), k});
  Trace u = t;
  u.tenant = "b";
  const SimResult r = Run(Make({{t}, {u}}, HostGpu(0.25)));
  REQUIRE(Span(r, 0, 0) == SpanNs(0, 12502));
}

TEST_CASE("L2 co-run traffic: grows each kernel's DRAM traffic by the others' share",
          "[engine][model][corun]") {
  const std::string model = GENERATE("fluid", "block");
  // Each kernel holds 2 of 4 SMs, so the other holds others = 0.5; each
  // moves 400 bytes/ns alone. With l2 = 0.2 its traffic is 400 * (1 + 0.2 *
  // 0.5) = 440; the sum, 880, stays under the 1000 bytes/ns peak: m = 1.
  // Fully memory-bound: speed = 1 / (1 * 1 * 1.1), so 1000 ns -> 1100 ns.
  SimResult r = Run(HalfGpuPair(L2Gpu(0.2), 400000, 1.0), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1100);
  REQUIRE(r.tenants[1].finish_ns == 1100);
  // Without it (the old model): 800 <= 1000, no slowdown.
  r = Run(HalfGpuPair(L2Gpu(0.0), 400000, 1.0), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1000);
  // Alone, nobody else holds SMs: 1000 ns.
  r = Run(Make({{MakeTrace("a", {HalfGpuKernel(400000, 1.0)})}}, L2Gpu(0.2)), {}, model);
  REQUIRE(r.makespan_ns == 1000);
  // With corun_slowdown 0.4 and mem_bound 0.5: compute part 0.5 * (1 + 0.4 *
  // 0.5) = 0.6, memory part 0.5 * 1 * 1.1 = 0.55: 1150 ns.
  r = Run(HalfGpuPair(L2Gpu(0.2, 0.4), 400000, 0.5), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1150);
  REQUIRE(r.tenants[1].finish_ns == 1150);
}

TEST_CASE("L2 co-run traffic: the grown demand can overload DRAM", "[engine][model][corun]") {
  const std::string model = GENERATE("fluid", "block");
  // 500 bytes/ns each: together exactly the peak, m = 1: 1000 ns (l2 = 0).
  SimResult r = Run(HalfGpuPair(L2Gpu(0.0), 500000, 1.0), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1000);
  // l2 = 0.2: 550 each, 1100 in all: m = 1.1; and each moves 1.1x its
  // bytes: speed = 1 / (1.1 * 1.1), 1000 ns -> 1210 ns.
  r = Run(HalfGpuPair(L2Gpu(0.2), 500000, 1.0), {}, model);
  REQUIRE(r.tenants[0].finish_ns == 1210);
  REQUIRE(r.tenants[1].finish_ns == 1210);
  // The DRAM statistic sees the grown demand: saturated for the whole 1210 ns.
  REQUIRE(r.gpu.dram_busy_fraction == Approx(1.0));
}

}  // namespace cotenant
