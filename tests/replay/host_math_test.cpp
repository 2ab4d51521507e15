// Occupancy matching and kernel-sizing maths of the replay harness.
#include <catch2/catch.hpp>
#include <cmath>

#include "tests/common/fixtures.h"
#include "tools/replay/kernel_sizing.h"
#include "tools/replay/occupancy_match.h"

namespace cotenant::replay {

TEST_CASE("occupancy match: shared memory brings the replay kernel down to the trace's",
          "[replay][occupancy]") {
  const GpuSpec h100 = cotenant::testing::H100Sxm();
  const ReplayKernelResources replay{32, 0};
  // Traced: 128 threads, 168 registers (21 warps' worth per sub-partition:
  // 3 blocks), 96 KB smem (99328 B with the reservation: 2 blocks) -> 2.
  // The replay kernel alone fits 16; it needs an allocation above
  // 233472 / 3 = 77824 B: 77952 B = 76928 B dynamic + 1024 reserved.
  OccupancyMatch m = MatchOccupancy(h100, 128, 168, 98304, replay);
  REQUIRE(m.target_blocks_per_sm == 2);
  REQUIRE(m.replay_blocks_per_sm == 2);
  REQUIRE(m.dynamic_smem == 76928);
  REQUIRE(m.exact);
  REQUIRE(m.note.empty());
  // Same shape and resources: nothing to add.
  m = MatchOccupancy(h100, 256, 32, 0, replay);
  REQUIRE(m.target_blocks_per_sm == 8);
  REQUIRE(m.dynamic_smem == 0);
  REQUIRE(m.exact);
  // A replay kernel of 128 registers fits 2 blocks of 256 threads, the trace 8.
  m = MatchOccupancy(h100, 256, 32, 0, ReplayKernelResources{128, 0});
  REQUIRE_FALSE(m.exact);
  REQUIRE(m.replay_blocks_per_sm == 2);
  REQUIRE(m.note ==
          "the replay kernel fits only 2 blocks per SM (its 128 registers per thread), "
          "the trace 8");
  // Static shared memory of the replay kernel counts: 1 KB static -> 75904 B dynamic.
  m = MatchOccupancy(h100, 128, 168, 98304, ReplayKernelResources{32, 1024});
  REQUIRE(m.dynamic_smem == 76928 - 1024);
  REQUIRE(m.exact);
  // A traced block that cannot run.
  m = MatchOccupancy(h100, 2048, 32, 0, replay);
  REQUIRE(m.target_blocks_per_sm == 0);
  REQUIRE_FALSE(m.exact);
}

TEST_CASE("kernel sizing: least-squares line and its solution", "[replay][sizing]") {
  LinearFit f = FitLinear({{1, 105}, {3, 115}});
  REQUIRE(f.ok);
  REQUIRE(f.a == Approx(100));
  REQUIRE(f.b == Approx(5));
  REQUIRE(SolveWork(f, 150, 0, 1e9) == Approx(10));
  REQUIRE(SolveWork(f, 50, 0, 1e9) == 0);     // below the fixed cost: clamped
  REQUIRE(SolveWork(f, 1e6, 0, 100) == 100);  // clamped above
  // Noisy points: the least-squares line.
  f = FitLinear({{0, 1}, {1, 3}, {2, 7}});
  REQUIRE(f.b == Approx(3));
  REQUIRE(f.a == Approx(2.0 / 3.0));
  // One work value: through the origin.
  f = FitLinear({{4, 100}, {4, 120}});
  REQUIRE(f.ok);
  REQUIRE(f.a == 0);
  REQUIRE(f.b == Approx(27.5));
  REQUIRE_FALSE(FitLinear({{1, 100}, {2, 90}}).ok);
  REQUIRE_FALSE(FitLinear({}).ok);
  REQUIRE(ErrorPercent(110, 100) == Approx(10));
  REQUIRE(ErrorPercent(0, 0) == 0);
}

TEST_CASE("kernel sizing: converges on fake timers", "[replay][sizing]") {
  // Linear: exact after the two initial probes and one solve.
  int calls = 0;
  KernelSizing c = SizeKernel(65000, 100, [&](double w) {
    ++calls;
    return 5000 + 3 * w;
  });
  REQUIRE(c.work == Approx(20000));
  REQUIRE(std::fabs(c.error_pct) < 1e-9);
  REQUIRE(calls == 3);
  REQUIRE(c.probes.size() == 3);
  // Mildly convex with a fixed cost: within 1% in the iterations given.
  c = SizeKernel(2e6, 1000, [](double w) { return 3000 + w + 1e-7 * w * w; });
  REQUIRE(std::fabs(c.error_pct) <= 1.0);
  REQUIRE(c.probes.size() <= 6);
  // Flat (the fixed cost dominates, noise makes the slope negative): scales up.
  int n = 0;
  c = SizeKernel(1e5, 10, [&](double w) { return w > 1000 ? 100 * w : (n++ ? 5000 : 5100); });
  REQUIRE(c.probes.size() >= 3);
  REQUIRE(c.probes[2].work == Approx(80));  // 4 x the last probe (20)
  // Out of reach: the best probe, with its error.
  SizingOptions o;
  o.max_work = 10;
  c = SizeKernel(
      1e6, 1, [](double w) { return 1000 * w; }, o);
  REQUIRE(c.work == 10);
  REQUIRE(c.error_pct == Approx(-99));
}

TEST_CASE("kernel sizing: error summary and the work split", "[replay][sizing]") {
  const ErrorSummary s = SummarizeErrors({1, -2, 3, -4, 10, 0.5, -0.5, 2, 1, 1.5});
  REQUIRE(s.count == 10);
  REQUIRE(s.median_pct == 1.5);  // sorted |e|: .5 .5 1 1 1.5 2 2 3 4 10 -> rank 5
  REQUIRE(s.p90_pct == 4.0);     // rank 9
  REQUIRE(s.max_pct == 10.0);
  REQUIRE(SummarizeErrors({}).count == 0);
  const KernelWork k = SplitWork(1000, 0.25, 16);
  REQUIRE(k.spin_iters == 750);
  REQUIRE(k.bytes_per_block == 4000);
  REQUIRE(SplitWork(1000, 2.0, 16).spin_iters == 0);
  REQUIRE(SplitWork(1000, -1.0, 16).bytes_per_block == 0);
  // 1 ms at 2000 MHz, 2 waves, 4 cycles per iteration: 2e6 cycles / 2 / 4.
  REQUIRE(InitialWork(1000000, 2, 2000, 4) == Approx(250000));
  REQUIRE(InitialWork(10, 1, 0, 4) == 1.0);
}

}  // namespace cotenant::replay
