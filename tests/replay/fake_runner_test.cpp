// The fake GPU (the simulator behind the Runner interface) through the code
// path a real GPU takes: replay in a child process, measured-result
// assembly, then validation and calibration (tools/validation/) through
// ReplayMeasurer.
#include "tools/replay/fake_runner.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "sim/timeline.h"
#include "tests/common/fixtures.h"
#include "tools/replay/replay_measurer.h"
#include "tools/validation/calibration.h"
#include "tools/validation/validate.h"

namespace cotenant::replay {
namespace {

using namespace cotenant::testing;

/// Two tenants on the tiny GPU: `a` launches a GPU-filling kernel (8 blocks
/// of 1024 threads, 2 per SM) from a host thread, twice; `b` is a GPU-only
/// trace of a half-GPU kernel, three times. Every duration is a multiple of
/// 10 ns, so a bias of +10% scales them without rounding.
LoadedWorkload TwoTenants() {
  Trace a =
      MakeTrace("a", {Host(1, TaskKind::kLaunch, 0, 4000, 10), Kernel(2, 7, 5000, 100000, 8)});
  a.tasks[1].correlation = 10;
  Trace b = MakeTrace("b", {Kernel(1, 3, 0, 50000, 4)});
  return Make({{a, 2}, {b, 3}});
}

std::vector<validation::LabelledPlan> TwoPlans() {
  Plan partition;
  partition.tenants["a"].sm_count = 2;
  partition.tenants["b"].sm_count = 2;
  return {{"native", Plan{}}, {"partition", partition}};
}

validation::WorkloadValidation ValidateOnFake(const FakeGpu& fake, int32_t repeat = 1) {
  FakeRunner runner(fake);
  ReplayOptions o;
  o.repeat = repeat;
  ReplayMeasurer measurer(runner, o, nullptr);
  return validation::ValidateWorkload(TwoTenants(), TwoPlans(), "fluid", measurer);
}

}  // namespace

TEST_CASE("fake runner: no bias, no noise: validate reports 0% error", "[replay][fake]") {
  const validation::WorkloadValidation wv = ValidateOnFake(FakeGpu{});
  const validation::Validation& v = wv.validation;
  REQUIRE(v.plans.size() == 2);
  for (const validation::PlanValidation& p : v.plans) {
    INFO(p.plan);
    REQUIRE(p.makespan.measured == p.makespan.predicted);
    REQUIRE(p.makespan.error_pct == 0.0);
    REQUIRE(p.tenants.size() == 2);
    for (const validation::TenantValidation& t : p.tenants) {
      REQUIRE(t.mean_latency.error_pct == 0.0);
      REQUIRE(t.p99_latency.error_pct == 0.0);
    }
  }
  REQUIRE(v.makespan_error.max_pct == 0.0);
  REQUIRE(v.latency_error.max_pct == 0.0);
  REQUIRE(v.speedup_error.max_pct == 0.0);
  REQUIRE(v.ranking.best_agrees);
  REQUIRE(wv.device == "fake tiny");
  REQUIRE(wv.timing == "fake");
  REQUIRE(wv.driver_version == 0);
  const nlohmann::json j = validation::ValidationToJson(wv, "w.json");
  REQUIRE(j["timing"] == "fake");
  REQUIRE(j["driver_version"] == 0);
  REQUIRE(j["summary"]["makespan"]["max_abs_pct"] == 0.0);
}

TEST_CASE("fake runner: a +10% bias is measured as 10% slower", "[replay][fake]") {
  FakeGpu fake;
  fake.bias = 0.1;
  const validation::WorkloadValidation wv = ValidateOnFake(fake);
  const validation::Validation& v = wv.validation;
  for (const validation::PlanValidation& p : v.plans) {
    INFO(p.plan << ": predicted " << p.makespan.predicted << ", measured " << p.makespan.measured);
    // Every time, latency and rate of the fake GPU is 1.1 times the spec's,
    // so the schedule is the predicted one stretched by 1.1; the engine's
    // rounding up of a co-run kernel's end to whole ns moves an end by at
    // most 1 ns, on either side.
    REQUIRE(std::fabs(p.makespan.measured - 1.1 * p.makespan.predicted) <= 1.0);
    // validate's error is relative to the measured value: 1/1.1 - 1.
    REQUIRE(p.makespan.error_pct == Approx(-100.0 / 11.0).margin(1e-4));
    for (const validation::TenantValidation& t : p.tenants) {
      REQUIRE(t.mean_latency.error_pct == Approx(-100.0 / 11.0).margin(1e-3));
      REQUIRE(t.p99_latency.error_pct == Approx(-100.0 / 11.0).margin(1e-3));
    }
  }
  // A uniformly slower GPU changes no speedup and no ranking.
  REQUIRE(v.speedups[0].speedup.error_pct == Approx(0.0).margin(1e-3));
  REQUIRE(v.ranking.best_agrees);
}

TEST_CASE("fake runner: noise is seeded, and the median run is picked", "[replay][fake]") {
  FakeGpu fake;
  fake.noise = 0.05;
  fake.seed = 7;
  const validation::WorkloadValidation a = ValidateOnFake(fake, 3);
  const validation::WorkloadValidation b = ValidateOnFake(fake, 3);
  fake.seed = 8;
  const validation::WorkloadValidation c = ValidateOnFake(fake, 3);
  const double ea = a.validation.plans[0].makespan.error_pct;
  REQUIRE(ea == b.validation.plans[0].makespan.error_pct);
  REQUIRE(ea != c.validation.plans[0].makespan.error_pct);
  REQUIRE(ea != 0.0);
  REQUIRE(std::fabs(ea) < 15.0);  // 5% noise on each of a handful of tasks

  // Three runs of different makespans: the result is the one in the middle.
  const LoadedWorkload lw = TwoTenants();
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  FakeRunner runner(fake);
  ReplayOptions o;
  o.repeat = 3;
  const MeasuredPlan m = MeasurePlan(runner, lw, g, o, false);
  REQUIRE(m.results.size() == 3);
  std::vector<TimeNs> spans;
  for (const SimResult& r : m.results) spans.push_back(r.makespan_ns);
  std::sort(spans.begin(), spans.end());
  REQUIRE(spans[0] < spans[2]);
  REQUIRE(m.results[m.median].makespan_ns == spans[1]);
}

TEST_CASE("fake runner: the report a GPU would give", "[replay][fake]") {
  const LoadedWorkload lw = TwoTenants();
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  FakeGpu fake;
  fake.corun_slowdown = 0.25;
  FakeRunner runner(fake);
  ReplayOptions o;
  o.repeat = 2;
  o.max_connections = 4;
  std::vector<std::string> lines;
  o.log = [&lines](const std::string& s) { lines.push_back(s); };
  const ReplayReport rep = runner.Run(lw, g, BuildReplayProgram(g), o);
  REQUIRE(lines == std::vector<std::string>{"sized 2 distinct kernels", "run 1/2", "run 2/2"});
  REQUIRE(rep.device_name == "fake tiny");
  REQUIRE(rep.timing == "fake");
  REQUIRE(rep.max_connections == 4);
  REQUIRE(rep.notes ==
          std::vector<std::string>{"fake GPU (the simulator): corun_slowdown 0.25, bias +0, "
                                   "noise 0, seed 1"});
  REQUIRE(rep.runs.size() == 2);
  REQUIRE(rep.runs[0].end_ns == rep.runs[1].end_ns);  // no noise: runs alike
  // One distinct kernel per tenant, counted once per request template (as
  // the CUDA runner counts them), whatever the number of requests.
  REQUIRE(rep.kernels.size() == 2);
  REQUIRE(rep.kernels[0].launches == 1);
  REQUIRE(rep.kernels[0].target_ns == 100000);
  REQUIRE(rep.kernels[1].launches == 1);
  REQUIRE(rep.kernels[1].target_ns == 50000);
  // Sizing on the linear fake kernel (2000 ns + 1 ns per unit): the first
  // probes (1 and 2 units) fit the line exactly, the third hits the target.
  REQUIRE(rep.kernels[0].sizing.work == 98000.0);
  REQUIRE(rep.kernels[0].sizing.error_pct == 0.0);
  REQUIRE(rep.kernels[0].sizing.probes.size() == 3);
  REQUIRE(rep.sizing.count == 2);
  REQUIRE(rep.sizing.max_pct == 0.0);
  // 1024-thread blocks: 2 per SM, no shared memory needed to match.
  REQUIRE(rep.kernels[0].occupancy.target_blocks_per_sm == 2);
  REQUIRE(rep.kernels[0].occupancy.exact);
}

TEST_CASE("fake runner: predicted and measured timelines line up", "[replay][fake][timeline]") {
  // The same tasks on the same tracks, with the same names and args, at the
  // same times (no bias, no noise): the Perfetto files differ only in the
  // model name.
  const LoadedWorkload lw = TwoTenants();
  SimOptions so;
  so.record_timeline = true;
  SimResult predicted = Simulate(lw, Plan{}, so);
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  FakeRunner runner(FakeGpu{});
  const MeasuredPlan m = MeasurePlan(runner, lw, g, ReplayOptions{}, true);
  SimResult measured = m.results[m.median];
  REQUIRE(measured.model == "measured");
  REQUIRE(predicted.timeline.size() == 7);  // a: (launch + kernel) x 2; b: kernel x 3
  REQUIRE(measured.timeline.size() == predicted.timeline.size());
  REQUIRE(measured.strings == predicted.strings);
  for (size_t i = 0; i < predicted.timeline.size(); ++i) {
    const TimelineEntry& p = predicted.timeline[i];
    const TimelineEntry& q = measured.timeline[i];
    INFO("entry " << i);
    REQUIRE(std::tie(p.tenant, p.request, p.sub_batch, p.task, p.name, p.op, p.kind, p.track, p.gpu,
                     p.start_ns, p.end_ns) == std::tie(q.tenant, q.request, q.sub_batch, q.task,
                                                       q.name, q.op, q.kind, q.track, q.gpu,
                                                       q.start_ns, q.end_ns));
  }
  measured.model = predicted.model;
  REQUIRE(TimelineToJsonText(measured) == TimelineToJsonText(predicted));
}

TEST_CASE("fake runner: calibrate recovers the fake GPU's co-run slowdown", "[replay][fake]") {
  // The fake GPU's co-run times are the fluid model's at corun_slowdown 0.3
  // (the spec says 0), rounded to whole ns by the engine: at the truth
  // every residual is within 1e-5 relative (1 ns on 100 µs and more), and
  // the residuals move by 0.1 to 1 per unit of corun_slowdown, so the fit
  // lands within about 1e-4 of 0.3; 1e-3 leaves 10x room. The other
  // parameters are the spec's on the fake and must stay where they are.
  const GpuSpec spec = testing::FitGpu();
  FakeGpu fake;
  fake.corun_slowdown = 0.3;
  FakeRunner runner(fake);
  ReplayMeasurer measurer(runner, ReplayOptions{}, nullptr);
  size_t seen = 0;
  const validation::Calibration c =
      validation::Calibrate(spec, measurer, "2026-12-05", {}, {},
                            [&](const validation::MicroBenchmark&, size_t i, size_t count,
                                const validation::Measurement& m) {
                              REQUIRE(i == seen++);
                              REQUIRE(count == 147);
                              REQUIRE(m.timing == "fake");
                            });
  REQUIRE(seen == 147);
  INFO("corun_slowdown " << c.fit.after.corun_slowdown << ", dram_efficiency "
                         << c.fit.after.dram_efficiency << ", launch latency "
                         << c.fit.after.launch_latency_ns);
  REQUIRE(c.fit.converged);
  REQUIRE(c.fit.after.corun_slowdown == Approx(0.3).margin(1e-3));
  REQUIRE(c.fit.after.dram_efficiency == Approx(0.9).margin(1e-3));
  REQUIRE(c.fit.after.launch_latency_ns == Approx(3000).margin(10));
  REQUIRE(c.fit.held_out_after.max_abs_pct < 0.01);
  REQUIRE(c.spec.model.calibrated);
  REQUIRE(c.spec.model.corun_slowdown == c.fit.after.corun_slowdown);
  REQUIRE(c.provenance.device == "fake test-h100");
  REQUIRE(c.provenance.driver == "");
  REQUIRE(c.provenance.date == "2026-12-05");
}

}  // namespace cotenant::replay
