#include "tools/validation/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/error.h"
#include "sim/occupancy.h"
#include "tools/validation/least_squares.h"

namespace cotenant::validation {
namespace {

/// "0.50" style numbers for benchmark names.
std::string Fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

/// Equal green-context shares of `spec` for `n` kernels (a multiple of the
/// granularity, at least the minimum), or -1 when the GPU cannot be split so.
int32_t EqualShare(const GpuSpec& spec, int32_t n) {
  const int32_t g = spec.sm_partition_granularity;
  if (g <= 0) return -1;
  const int32_t share = spec.sm_count / n / g * g;
  return share >= std::max(spec.sm_partition_min, 1) ? share : -1;
}

enum class Mode : uint8_t { kShared, kPriority, kPartition };
const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kShared:
      return "shared";
    case Mode::kPriority:
      return "priority";
    case Mode::kPartition:
      return "partition";
  }
  return "?";
}

/// The parameters the fit moves, in the units it moves them (latency in µs,
/// so that the steps are of similar size).
struct Param {
  std::string name;
  double lo = 0.0, hi = 0.0, step = 0.0;
  double Get(const ModelParams& m) const {
    if (name == "dram_efficiency") return m.dram_efficiency;
    if (name == "corun_slowdown") return m.corun_slowdown;
    return static_cast<double>(m.launch_latency_ns) / 1000.0;
  }
  void Set(ModelParams* m, double v) const {
    if (name == "dram_efficiency") {
      m->dram_efficiency = v;
    } else if (name == "corun_slowdown") {
      m->corun_slowdown = v;
    } else {
      m->launch_latency_ns = static_cast<TimeNs>(std::llround(v * 1000.0));
    }
  }
};

/// Relative errors (predicted / measured - 1) over the selected benchmarks.
struct Evaluator {
  const std::vector<MicroBenchmark>& set;
  const CoRunTimes& measured;
  std::vector<LoadedWorkload> workloads;
  std::vector<Plan> plans;

  std::vector<double> Errors(const ModelParams& m, bool held_out) {
    std::vector<double> e;
    for (size_t i = 0; i < set.size(); ++i) {
      if (set[i].held_out != held_out) continue;
      workloads[i].gpu.model = m;
      const SimResult r = Simulate(workloads[i], plans[i], SimOptions{});
      for (size_t k = 0; k < r.tenants.size(); ++k) {
        e.push_back(static_cast<double>(r.tenants[k].finish_ns) / measured[i][k] - 1.0);
      }
    }
    return e;
  }
};

FitError Summarize(const std::vector<double>& rel) {
  FitError f;
  f.count = static_cast<int64_t>(rel.size());
  if (rel.empty()) return f;
  double sum = 0.0, sq = 0.0;
  for (double r : rel) {
    const double a = std::fabs(r) * 100.0;
    sum += a;
    sq += a * a;
    f.max_abs_pct = std::max(f.max_abs_pct, a);
  }
  f.mean_abs_pct = sum / static_cast<double>(rel.size());
  f.rms_pct = std::sqrt(sq / static_cast<double>(rel.size()));
  return f;
}

nlohmann::json ErrorJson(const FitError& f) {
  return {{"count", f.count},
          {"mean_abs_pct", f.mean_abs_pct},
          {"max_abs_pct", f.max_abs_pct},
          {"rms_pct", f.rms_pct}};
}

/// The simulator as a measurer: what PredictCoRun measures with.
class Predictor : public Measurer {
 public:
  Measurement Measure(const LoadedWorkload& lw, const Plan& plan, const std::string&) override {
    Measurement m;
    m.result = Simulate(lw, plan, SimOptions{});
    return m;
  }
};

nlohmann::json ParamsJson(const ModelParams& m) {
  return {{"dram_efficiency", m.dram_efficiency},
          {"corun_slowdown", m.corun_slowdown},
          {"launch_latency_ns", m.launch_latency_ns}};
}

}  // namespace

std::vector<MicroBenchmark> BuildMicroBenchmarks(const GpuSpec& spec,
                                                 const MicroSetOptions& options) {
  COTENANT_CHECK(options.wave_ns > 0 && options.held_out_every >= 1 && options.keep_every >= 1);
  constexpr int32_t kThreads = 256;
  const int32_t per_sm = std::max(1, ComputeOccupancy(spec, kThreads, 32, 0).blocks_per_sm);
  const double slots = static_cast<double>(per_sm) * spec.sm_count;
  const double traffic = options.dram_share * spec.dram_gbps;  // bytes/ns while DRAM-bound

  // Kernel i of a benchmark: footprint f (share of the slots; > 1 = waves),
  // DRAM intensity mb; its wave lasts a little longer than the previous
  // kernel's, so no two kernels end together by construction.
  auto kernel = [&](size_t i, double f, double mb) {
    MicroKernel k;
    k.threads = kThreads;
    k.blocks = std::max<int64_t>(1, std::llround(f * slots));
    const int64_t waves =
        (k.blocks + static_cast<int64_t>(slots) - 1) / static_cast<int64_t>(slots);
    k.dur_ns = waves * options.wave_ns * (4 + static_cast<int64_t>(i)) / 4;
    k.mem_bound = mb;
    k.dram_bytes = std::llround(mb * traffic * static_cast<double>(k.dur_ns));
    return k;
  };
  std::vector<MicroBenchmark> set;
  auto add = [&](const std::string& kind, const std::vector<double>& fs,
                 const std::vector<double>& mbs, Mode mode) {
    const int32_t n = static_cast<int32_t>(fs.size());
    const int32_t share = EqualShare(spec, n);
    if (mode == Mode::kPartition && share < 0) return;
    MicroBenchmark b;
    b.name = kind + "-f";
    for (size_t i = 0; i < fs.size(); ++i) b.name += (i ? "x" : "") + Fixed2(fs[i]);
    b.name += "-m";
    for (size_t i = 0; i < mbs.size(); ++i) b.name += (i ? "x" : "") + Fixed2(mbs[i]).substr(0, 3);
    b.name += std::string("-") + ModeName(mode);
    for (size_t i = 0; i < fs.size(); ++i) {
      MicroKernel k = kernel(i, fs[i], mbs[i]);
      if (mode == Mode::kPartition) k.sm_count = share;
      if (mode == Mode::kPriority && i + 1 == fs.size()) {
        // The last kernel arrives a quarter wave later at a higher priority:
        // it takes slots as the others' blocks end, never preempting them.
        k.priority = -1;
        k.offset_ns = options.wave_ns / 4;
      }
      b.kernels.push_back(k);
    }
    b.held_out = set.size() % static_cast<size_t>(options.held_out_every) ==
                 static_cast<size_t>(options.held_out_every - 1);
    set.push_back(std::move(b));
  };
  const std::vector<double> footprints = {0.25, 0.5, 1.0, 2.5};
  const std::vector<std::vector<double>> pair_mem = {{0, 0}, {0.5, 0.5}, {0.9, 0.9}, {0, 0.9}};
  const Mode modes[] = {Mode::kShared, Mode::kPriority, Mode::kPartition};
  for (size_t a = 0; a < footprints.size(); ++a) {
    for (size_t b = a; b < footprints.size(); ++b) {
      for (const auto& mem : pair_mem) {
        for (Mode mode : modes) add("pair", {footprints[a], footprints[b]}, mem, mode);
      }
    }
  }
  const std::vector<std::vector<double>> triple_fs = {
      {0.25, 0.25, 0.25}, {0.5, 0.5, 0.5}, {0.25, 0.5, 1.0}};
  const std::vector<std::vector<double>> triple_mem = {{0, 0, 0}, {0.9, 0.9, 0.9}, {0, 0.5, 0.9}};
  for (const auto& fs : triple_fs) {
    for (const auto& mem : triple_mem) {
      for (Mode mode : modes) add("triple", fs, mem, mode);
    }
  }
  if (options.keep_every > 1) {
    std::vector<MicroBenchmark> kept;
    for (size_t i = 0; i < set.size(); i += static_cast<size_t>(options.keep_every)) {
      kept.push_back(std::move(set[i]));
      kept.back().held_out = kept.size() % static_cast<size_t>(options.held_out_every) == 0;
    }
    set = std::move(kept);
  }
  return set;
}

LoadedWorkload MicroWorkload(const GpuSpec& spec, const MicroBenchmark& b) {
  LoadedWorkload lw;
  lw.gpu = spec;
  lw.workload.gpu = spec.key;
  lw.workload.file = "<micro-benchmark " + b.name + ">";
  for (size_t i = 0; i < b.kernels.size(); ++i) {
    const MicroKernel& k = b.kernels[i];
    Trace t;
    t.tenant = "k" + std::to_string(i);
    t.file = lw.workload.file;
    Task launch;
    launch.id = 1;
    launch.kind = TaskKind::kLaunch;
    launch.name = t.Intern("cudaLaunchKernel");
    launch.thread = 1;
    launch.start_ns = 0;
    launch.dur_ns = kMicroLaunchNs;
    launch.correlation = 1;
    Task kern;
    kern.id = 2;
    kern.kind = TaskKind::kKernel;
    kern.name = t.Intern("micro_" + std::to_string(i));
    kern.stream = 1;
    kern.start_ns = kMicroLaunchNs;
    kern.dur_ns = k.dur_ns;
    kern.correlation = 1;
    kern.grid = {static_cast<int32_t>(k.blocks), 1, 1};
    kern.block = {k.threads, 1, 1};
    kern.regs = 32;
    kern.smem = 0;
    kern.mem_bound = k.mem_bound;
    kern.dram_bytes = k.dram_bytes;
    t.tasks = {launch, kern};
    TenantSpec ts;
    ts.name = t.tenant;
    ts.requests = 1;
    lw.workload.tenants.push_back(ts);
    lw.traces.push_back(std::move(t));
    lw.by_batch.emplace_back();
  }
  return lw;
}

Plan MicroPlan(const MicroBenchmark& b) {
  Plan p;
  p.file = "<micro-benchmark " + b.name + ">";
  for (size_t i = 0; i < b.kernels.size(); ++i) {
    const MicroKernel& k = b.kernels[i];
    TenantPlan tp;
    tp.priority = k.priority;
    tp.sm_count = k.sm_count;
    tp.offset_ns = k.offset_ns;
    p.tenants["k" + std::to_string(i)] = tp;
  }
  return p;
}

CoRunTimes MeasureCoRun(const GpuSpec& spec, const std::vector<MicroBenchmark>& set,
                        Measurer& measurer, const OnBenchmark& on_measured) {
  CoRunTimes out;
  for (size_t i = 0; i < set.size(); ++i) {
    const MicroBenchmark& b = set[i];
    const Measurement m = measurer.Measure(MicroWorkload(spec, b), MicroPlan(b), b.name);
    COTENANT_CHECK(m.result.tenants.size() == b.kernels.size());
    if (on_measured) on_measured(b, i, set.size(), m);
    std::vector<double> times;
    for (const TenantResult& t : m.result.tenants)
      times.push_back(static_cast<double>(t.finish_ns));
    out.push_back(std::move(times));
  }
  return out;
}

CoRunTimes PredictCoRun(const GpuSpec& spec, const std::vector<MicroBenchmark>& set) {
  Predictor predictor;
  return MeasureCoRun(spec, set, predictor);
}

FitReport FitModel(const GpuSpec& spec, const std::vector<MicroBenchmark>& set,
                   const CoRunTimes& measured, const FitOptions& options) {
  if (measured.size() != set.size()) {
    throw InputError("calibration: " + std::to_string(measured.size()) +
                     " measured benchmarks, expected " + std::to_string(set.size()));
  }
  Evaluator ev{set, measured, {}, {}};
  FitReport rep;
  for (size_t i = 0; i < set.size(); ++i) {
    if (measured[i].size() != set[i].kernels.size()) {
      throw InputError("calibration: benchmark " + set[i].name + ": " +
                       std::to_string(measured[i].size()) + " measured times, expected " +
                       std::to_string(set[i].kernels.size()));
    }
    for (double t : measured[i]) {
      if (!(t > 0.0) || !std::isfinite(t)) {
        throw InputError("calibration: benchmark " + set[i].name +
                         ": measured times must be positive");
      }
    }
    ev.workloads.push_back(MicroWorkload(spec, set[i]));
    ev.plans.push_back(MicroPlan(set[i]));
    ++(set[i].held_out ? rep.held_out : rep.fitted);
  }
  rep.benchmarks = static_cast<int64_t>(set.size());
  if (rep.fitted == 0) throw InputError("calibration: no benchmark left to fit");

  std::vector<Param> params;
  if (options.fit_dram_efficiency) params.push_back({"dram_efficiency", 0.05, 1.0, 5e-3});
  if (options.fit_corun_slowdown) params.push_back({"corun_slowdown", 0.0, 10.0, 5e-3});
  if (options.fit_launch_latency) params.push_back({"launch_latency_ns", 0.0, 1000.0, 0.1});
  for (const Param& p : params) rep.parameters.push_back(p.name);

  ModelParams m = spec.model;
  rep.before = m;
  for (const Param& p : params) p.Set(&m, std::clamp(p.Get(m), p.lo, p.hi));
  if (!params.empty()) {
    // Levenberg-Marquardt over Simulate (tools/validation/least_squares.h).
    std::vector<LsParameter> ls;
    for (const Param& p : params) ls.push_back({p.name, p.Get(m), p.lo, p.hi, p.step});
    auto with = [&](const std::vector<double>& x) {
      ModelParams t = m;
      for (size_t j = 0; j < params.size(); ++j) params[j].Set(&t, x[j]);
      return t;
    };
    LsOptions lo;
    lo.max_iterations = options.max_iterations;
    lo.tolerance = options.tolerance;
    const LsResult res = LeastSquares(
        ls, [&](const std::vector<double>& x) { return ev.Errors(with(x), false); }, lo);
    m = with(res.x);
    rep.iterations = res.iterations;
    rep.converged = res.converged;
  }
  rep.after = m;
  rep.train_before = Summarize(ev.Errors(rep.before, false));
  rep.train_after = Summarize(ev.Errors(rep.after, false));
  if (rep.held_out > 0) {
    rep.held_out_before = Summarize(ev.Errors(rep.before, true));
    rep.held_out_after = Summarize(ev.Errors(rep.after, true));
  }
  return rep;
}

GpuSpec ApplyCalibration(const GpuSpec& spec, const FitReport& report,
                         const CalibrationProvenance& provenance) {
  GpuSpec out = spec;
  out.model.dram_efficiency = report.after.dram_efficiency;
  out.model.corun_slowdown = report.after.corun_slowdown;
  out.model.launch_latency_ns = report.after.launch_latency_ns;
  out.model.calibrated = true;
  char line[512];
  std::snprintf(line, sizeof(line),
                "cotenant calibrate %s on %s (driver %s): %lld co-location micro-benchmarks "
                "(%lld fitted, %lld held out); held-out |error| mean %.2f%% -> %.2f%%, max "
                "%.2f%% -> %.2f%%",
                provenance.date.c_str(), provenance.device.c_str(),
                provenance.driver.empty() ? "unknown" : provenance.driver.c_str(),
                static_cast<long long>(report.benchmarks), static_cast<long long>(report.fitted),
                static_cast<long long>(report.held_out), report.held_out_before.mean_abs_pct,
                report.held_out_after.mean_abs_pct, report.held_out_before.max_abs_pct,
                report.held_out_after.max_abs_pct);
  out.model.source = line;
  if (!out.sources.is_object()) out.sources = nlohmann::json::object();
  out.sources["model"] = line;
  out.sources["calibration"] = CalibrationReportToJson(report, provenance, spec.key);
  out.sources["calibration"].erase("schema");
  return out;
}

nlohmann::json CalibrationReportToJson(const FitReport& report,
                                       const CalibrationProvenance& provenance,
                                       const std::string& gpu_key) {
  return {{"schema", "cotenant.calibration/1"},
          {"gpu", gpu_key},
          {"date", provenance.date},
          {"device", provenance.device},
          {"driver", provenance.driver},
          {"benchmarks", report.benchmarks},
          {"fitted", report.fitted},
          {"held_out", report.held_out},
          {"parameters", report.parameters},
          {"before", ParamsJson(report.before)},
          {"after", ParamsJson(report.after)},
          {"iterations", report.iterations},
          {"converged", report.converged},
          {"residuals",
           {{"train_before", ErrorJson(report.train_before)},
            {"train_after", ErrorJson(report.train_after)},
            {"held_out_before", ErrorJson(report.held_out_before)},
            {"held_out_after", ErrorJson(report.held_out_after)}}}};
}

Calibration Calibrate(const GpuSpec& spec, Measurer& measurer, const std::string& date,
                      const FitOptions& fit_options, const MicroSetOptions& set_options,
                      const OnBenchmark& on_measured) {
  Calibration c;
  c.set = BuildMicroBenchmarks(spec, set_options);
  c.provenance.date = date;
  const CoRunTimes measured = MeasureCoRun(
      spec, c.set, measurer,
      [&](const MicroBenchmark& b, size_t i, size_t count, const Measurement& m) {
        c.provenance.device = m.device;
        c.provenance.driver = m.driver_version > 0 ? std::to_string(m.driver_version) : "";
        if (on_measured) on_measured(b, i, count, m);
      });
  c.fit = FitModel(spec, c.set, measured, fit_options);
  c.spec = ApplyCalibration(spec, c.fit, c.provenance);
  return c;
}

}  // namespace cotenant::validation
