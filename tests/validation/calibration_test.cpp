// Calibration: the built-in micro-benchmark set, exact predictions of a few
// of its benchmarks, and the fit recovering known parameters from co-run
// times simulated with them (a synthetic ground truth).
#include "tools/validation/calibration.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::validation {

using cotenant::testing::FitGpu;

TEST_CASE("calibration: the built-in set", "[validation][calibration]") {
  const GpuSpec spec = FitGpu();
  const std::vector<MicroBenchmark> set = BuildMicroBenchmarks(spec);
  // Pairs: 10 footprint pairs x 4 DRAM mixes x 3 modes; triples: 3 x 3 x 3.
  REQUIRE(set.size() == 147);
  std::set<std::string> names;
  int64_t held = 0, triples = 0, partitioned = 0, prioritised = 0;
  for (const MicroBenchmark& b : set) {
    names.insert(b.name);
    held += b.held_out;
    triples += b.kernels.size() == 3;
    partitioned += b.kernels[0].sm_count > 0;
    prioritised += b.kernels.back().priority < 0;
  }
  REQUIRE(names.size() == set.size());
  REQUIRE(held == 36);  // indices 3, 7, ..., 143
  REQUIRE(triples == 27);
  REQUIRE(partitioned == 49);
  REQUIRE(prioritised == 49);
  // 256-thread blocks: 8 per SM, 1056 slots. A half footprint is 528 blocks.
  const MicroBenchmark& first = set[0];
  REQUIRE(first.name == "pair-f0.25x0.25-m0.0x0.0-shared");
  REQUIRE(first.kernels[0].blocks == 264);
  REQUIRE(first.kernels[0].dur_ns == 100000);
  REQUIRE(first.kernels[1].dur_ns == 125000);
  const MicroBenchmark& part = set[2];
  REQUIRE(part.name == "pair-f0.25x0.25-m0.0x0.0-partition");
  REQUIRE(part.kernels[0].sm_count == 64);  // 132 / 2 rounded down to 8
  // 2.5 waves: 2640 blocks, 3 waves of the wave time.
  const MicroBenchmark& big = set[3 * 4 * 9];  // the (2.5, 2.5) pair
  REQUIRE(big.kernels[0].blocks == 2640);
  REQUIRE(big.kernels[0].dur_ns == 300000);
  // DRAM bytes: mem_bound x 0.6 x peak x duration.
  const MicroBenchmark& mem = set[6];  // pair 0.25 x 0.25, m 0.9 x 0.9, shared
  REQUIRE(mem.name == "pair-f0.25x0.25-m0.9x0.9-shared");
  REQUIRE(mem.kernels[0].dram_bytes == std::llround(0.9 * 0.6 * 3350.0 * 100000.0));
  // Deterministic.
  REQUIRE(BuildMicroBenchmarks(spec)[100].name == set[100].name);
  // A GPU without partitions has no partition benchmarks.
  GpuSpec whole = spec;
  whole.sm_partition_granularity = 0;
  REQUIRE(BuildMicroBenchmarks(whole).size() == 147 - 49);
  // Every 4th: benchmarks 0, 4, ..., 144 (37), held out counted over those.
  MicroSetOptions thin;
  thin.keep_every = 4;
  const std::vector<MicroBenchmark> sub = BuildMicroBenchmarks(spec, thin);
  REQUIRE(sub.size() == 37);
  REQUIRE(sub[1].name == set[4].name);
  REQUIRE(sub[36].name == set[144].name);
  int64_t sub_held = 0;
  for (const MicroBenchmark& b : sub) sub_held += b.held_out;
  REQUIRE(sub_held == 9);  // kept indices 3, 7, ..., 35
  REQUIRE(sub[3].held_out);
  REQUIRE_FALSE(sub[4].held_out);
}

TEST_CASE("calibration: predictions of benchmarks, by hand", "[validation][calibration]") {
  GpuSpec spec = FitGpu();
  // Two quarter-GPU compute kernels overlap fully: each ends at launch +
  // latency + its duration.
  std::vector<MicroBenchmark> set = {BuildMicroBenchmarks(spec)[0]};
  CoRunTimes t = PredictCoRun(spec, set);
  REQUIRE(t[0] == std::vector<double>{5000 + 3000 + 100000, 5000 + 3000 + 125000});
  // With corun_slowdown 0.4, each sees the other holding a quarter of the
  // GPU (33 of 132 SMs): others = 0.25, speed 1 / (1 + 0.4 * 0.25) = 1/1.1.
  // Kernel 0 ends at 8000 + 110000; then kernel 1 runs alone: it did
  // 100000 of 125000 at 1/1.1, the last 25000 at full speed.
  spec.model.corun_slowdown = 0.4;
  t = PredictCoRun(spec, set);
  REQUIRE(t[0][0] == Approx(8000 + 110000).margin(1));
  REQUIRE(t[0][1] == Approx(8000 + 110000 + 25000).margin(1));
  // Two DRAM-bound (0.9) quarter kernels: demand 2 x 0.9 x 0.6 x 3350 B/ns
  // against a peak of 0.9 x 3350: m = 1.2, speed = 1 / (0.1 + 0.9 x 1.2).
  spec.model.corun_slowdown = 0.0;
  set = {BuildMicroBenchmarks(spec)[6]};
  t = PredictCoRun(spec, set);
  const double slow = 0.1 + 0.9 * 1.2;
  REQUIRE(t[0][0] == Approx(8000 + 100000 * slow).margin(1));
  // Kernel 1 then runs alone, unslowed, for the rest of its 125000.
  REQUIRE(t[0][1] == Approx(8000 + 100000 * slow + 25000).margin(1));
}

TEST_CASE("calibration: the fit recovers known parameters", "[validation][calibration]") {
  // Ground truth: the fluid model with parameters other than the spec's.
  // The "measured" co-run times are its predictions, so at the truth every
  // residual is zero up to the 1-ns rounding of simulated times (relative
  // 1e-5 on times of 100 µs and more). The residuals' sensitivity to each
  // parameter is of order 0.1 to 1 per unit (per µs for the latency), so the
  // fit must land within about 1e-4 of the truth; the tolerances below are
  // 10 to 50 times that.
  const GpuSpec spec = FitGpu();
  GpuSpec truth = spec;
  truth.model.dram_efficiency = 0.72;
  truth.model.corun_slowdown = 0.15;
  truth.model.launch_latency_ns = 4500;
  const std::vector<MicroBenchmark> set = BuildMicroBenchmarks(spec);
  const CoRunTimes measured = PredictCoRun(truth, set);
  const FitReport rep = FitModel(spec, set, measured);
  INFO("fitted dram_efficiency " << rep.after.dram_efficiency << ", corun_slowdown "
                                 << rep.after.corun_slowdown << ", launch_latency_ns "
                                 << rep.after.launch_latency_ns << " in " << rep.iterations
                                 << " iterations; held-out mean |error| "
                                 << rep.held_out_before.mean_abs_pct << "% -> "
                                 << rep.held_out_after.mean_abs_pct << "%");
  REQUIRE(rep.converged);
  REQUIRE(rep.after.dram_efficiency == Approx(0.72).margin(0.005));
  REQUIRE(rep.after.corun_slowdown == Approx(0.15).margin(0.005));
  REQUIRE(rep.after.launch_latency_ns == Approx(4500).margin(50));
  REQUIRE(rep.fitted == 111);
  REQUIRE(rep.held_out == 36);
  // The held-out benchmarks were not fitted, and the error falls there too.
  REQUIRE(rep.held_out_before.mean_abs_pct > 3.0);
  REQUIRE(rep.held_out_after.mean_abs_pct < 0.05);
  REQUIRE(rep.held_out_after.max_abs_pct < 0.2);
  REQUIRE(rep.train_after.rms_pct < rep.train_before.rms_pct);
}

TEST_CASE("calibration: the fit with measurement noise", "[validation][calibration]") {
  // +-2% deterministic multiplicative noise on every measured time: the fit
  // is no longer exact, but lands near the truth and beats the spec's
  // defaults on the held-out part.
  const GpuSpec spec = FitGpu();
  GpuSpec truth = spec;
  truth.model.dram_efficiency = 0.8;
  truth.model.corun_slowdown = 0.3;
  truth.model.launch_latency_ns = 2000;
  const std::vector<MicroBenchmark> set = BuildMicroBenchmarks(spec);
  CoRunTimes measured = PredictCoRun(truth, set);
  uint64_t x = 12345;
  for (auto& b : measured) {
    for (double& t : b) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = static_cast<double>(x >> 11) / 9007199254740992.0;  // [0, 1)
      t *= 1.0 + 0.04 * (u - 0.5);
    }
  }
  const FitReport rep = FitModel(spec, set, measured);
  INFO("fitted " << rep.after.dram_efficiency << " " << rep.after.corun_slowdown << " "
                 << rep.after.launch_latency_ns);
  REQUIRE(rep.after.dram_efficiency == Approx(0.8).margin(0.03));
  REQUIRE(rep.after.corun_slowdown == Approx(0.3).margin(0.03));
  REQUIRE(rep.after.launch_latency_ns == Approx(2000).margin(300));
  REQUIRE(rep.held_out_after.mean_abs_pct < 1.5);  // the noise alone is 1% on average
  REQUIRE(rep.held_out_after.mean_abs_pct < rep.held_out_before.mean_abs_pct);
}

TEST_CASE("calibration: fixed parameters, bad input, writing the spec",
          "[validation][calibration]") {
  const GpuSpec spec = FitGpu();
  GpuSpec truth = spec;
  truth.model.corun_slowdown = 0.2;
  const std::vector<MicroBenchmark> set = BuildMicroBenchmarks(spec);
  const CoRunTimes measured = PredictCoRun(truth, set);
  FitOptions only;
  only.fit_dram_efficiency = false;
  only.fit_launch_latency = false;
  const FitReport rep = FitModel(spec, set, measured, only);
  REQUIRE(rep.parameters == std::vector<std::string>{"corun_slowdown"});
  REQUIRE(rep.after.dram_efficiency == 0.9);
  REQUIRE(rep.after.launch_latency_ns == 3000);
  REQUIRE(rep.after.corun_slowdown == Approx(0.2).margin(0.002));

  CoRunTimes short_set(measured.begin(), measured.end() - 1);
  REQUIRE_THROWS_WITH(FitModel(spec, set, short_set),
                      "calibration: 146 measured benchmarks, expected 147");
  CoRunTimes zero = measured;
  zero[5][1] = 0.0;
  REQUIRE_THROWS_WITH(FitModel(spec, set, zero),
                      Catch::Contains("pair-f0.25x0.25-m0.5x0.5-partition: measured times must "
                                      "be positive"));

  // The calibrated spec goes through the spec reader unchanged.
  const GpuSpec out = ApplyCalibration(spec, rep, {"2026-11-21", "NVIDIA H100 80GB HBM3", "580"});
  const GpuSpec back = GpuSpecFromJson(GpuSpecToJson(out), "calibrated.json");
  REQUIRE(back.model.calibrated);
  REQUIRE(back.model.corun_slowdown == rep.after.corun_slowdown);
  REQUIRE(back.model.source.find("NVIDIA H100 80GB HBM3 (driver 580)") != std::string::npos);
  REQUIRE(back.sources["calibration"]["benchmarks"] == 147);
  REQUIRE(back.sources["calibration"]["after"]["corun_slowdown"] == rep.after.corun_slowdown);
  REQUIRE(back.sources["model"] == back.model.source);
  const nlohmann::json j = CalibrationReportToJson(rep, {"d", "g", ""}, "test-h100");
  REQUIRE(j["schema"] == "cotenant.calibration/1");
  int64_t held_kernels = 0;
  for (const MicroBenchmark& b : set) held_kernels += b.held_out ? b.kernels.size() : 0;
  REQUIRE(held_kernels == 30 * 2 + 6 * 3);  // held-out pairs and triples
  REQUIRE(j["residuals"]["held_out_after"]["count"] == held_kernels);
}

}  // namespace cotenant::validation

namespace cotenant::validation {

TEST_CASE("calibration: the set simulates on every bundled GPU", "[validation][calibration]") {
  for (const std::string& key : ListGpuSpecs()) {
    INFO(key);
    const GpuSpec spec = LoadGpuSpec(key);
    const std::vector<MicroBenchmark> set = BuildMicroBenchmarks(spec);
    REQUIRE((set.size() == 147 || set.size() == 98));
    const CoRunTimes t = PredictCoRun(spec, set);
    REQUIRE(t.size() == set.size());
    // Alone, the first kernel of the first benchmark would take launch +
    // latency + duration; co-running never makes it faster.
    REQUIRE(t[0][0] >= static_cast<double>(kMicroLaunchNs + spec.model.launch_latency_ns +
                                           set[0].kernels[0].dur_ns));
  }
}

}  // namespace cotenant::validation

namespace cotenant::validation {
namespace {

/// A GPU that behaves as the fluid model with other parameters: the
/// ground truth of the fit tests as a Measurer.
class TruthMeasurer : public Measurer {
 public:
  explicit TruthMeasurer(const GpuSpec& truth) : truth_(truth) {}
  Measurement Measure(const LoadedWorkload& lw, const Plan& plan, const std::string&) override {
    LoadedWorkload on_truth = lw;
    on_truth.gpu = truth_;
    Measurement m;
    m.result = Simulate(on_truth, plan, SimOptions{});
    m.device = "truth GPU";
    m.driver_version = 13000;
    m.timing = "simulated";
    return m;
  }

 private:
  GpuSpec truth_;
};

}  // namespace

TEST_CASE("calibration: Calibrate measures, fits and applies", "[validation][calibration]") {
  // The same truth as "fixed parameters" above (corun_slowdown 0.2), through
  // the Measurer: the same fit, and the provenance of the measurements.
  const GpuSpec spec = FitGpu();
  GpuSpec truth = spec;
  truth.model.corun_slowdown = 0.2;
  TruthMeasurer measurer(truth);
  FitOptions only;
  only.fit_dram_efficiency = false;
  only.fit_launch_latency = false;
  std::vector<std::string> names;
  const Calibration c =
      Calibrate(spec, measurer, "2026-12-05", only, {},
                [&](const MicroBenchmark& b, size_t i, size_t count, const Measurement& m) {
                  REQUIRE(i == names.size());
                  REQUIRE(count == 147);
                  REQUIRE(m.timing == "simulated");
                  names.push_back(b.name);
                });
  REQUIRE(names.size() == 147);
  REQUIRE(names[0] == "pair-f0.25x0.25-m0.0x0.0-shared");
  REQUIRE(c.set.size() == 147);
  const FitReport direct = FitModel(spec, c.set, PredictCoRun(truth, c.set), only);
  REQUIRE(c.fit.after.corun_slowdown == direct.after.corun_slowdown);
  REQUIRE(c.fit.after.corun_slowdown == Approx(0.2).margin(0.002));
  REQUIRE(c.provenance.date == "2026-12-05");
  REQUIRE(c.provenance.device == "truth GPU");
  REQUIRE(c.provenance.driver == "13000");
  REQUIRE(c.spec.model.calibrated);
  REQUIRE(c.spec.model.source.find("truth GPU (driver 13000)") != std::string::npos);
  REQUIRE(c.spec.sources["calibration"]["after"]["corun_slowdown"] == c.fit.after.corun_slowdown);
}

}  // namespace cotenant::validation
