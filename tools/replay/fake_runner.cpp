#include "tools/replay/fake_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <tuple>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/models/contention_model.h"
#include "tools/replay/occupancy_match.h"

namespace cotenant::replay {
namespace {

/// DRAM bytes per work unit of the replay kernel's memory part (as the CUDA
/// runner's kernel streams them).
constexpr double kBytesPerUnit = 64.0;
/// Threads per block of a replay kernel standing for a kernel without a shape.
constexpr int32_t kThreadsNoShape = 256;

/// Standard normal draws from a generator whose sequence the C++ standard
/// fixes (mt19937_64), by Box-Muller, so a seed gives the same draws with
/// every standard library (std::normal_distribution does not).
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : gen_(seed) {}
  double Next() {
    const double u1 = (static_cast<double>(gen_() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(gen_() >> 11) * 0x1.0p-53;          // [0, 1)
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::mt19937_64 gen_;
};

TimeNs Scale(TimeNs t, double f) {
  return static_cast<TimeNs>(std::llround(static_cast<double>(t) * f));
}

/// The GPU spec of the fake device: `spec` with the fake's co-run slowdown,
/// and `scale` times slower (latencies up, bandwidths down).
GpuSpec FakeSpec(const GpuSpec& spec, const FakeGpu& fake, double scale) {
  GpuSpec s = spec;
  if (fake.corun_slowdown >= 0.0) s.model.corun_slowdown = fake.corun_slowdown;
  s.model.launch_latency_ns = Scale(s.model.launch_latency_ns, scale);
  s.model.sync_latency_ns = Scale(s.model.sync_latency_ns, scale);
  s.dram_gbps /= scale;
  s.pcie_gbps /= scale;
  return s;
}

/// One measured run: `g` with every template node's duration and gap (and
/// its kernel's) multiplied by its factor, run by the engine on `spec`.
MeasuredRun RunOnce(const TaskGraph& g, const GpuSpec& spec,
                    const std::vector<std::vector<double>>& factor) {
  TaskGraph fg = g;
  std::deque<TenantTemplate> scaled;
  for (size_t ti = 0; ti < g.templates.size(); ++ti) {
    scaled.push_back(*g.templates[ti]);
    TenantTemplate& t = scaled.back();
    const std::vector<double>& f = factor[ti];
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      t.nodes[i].dur_ns = Scale(t.nodes[i].dur_ns, f[i]);
      t.nodes[i].gap_ns = Scale(t.nodes[i].gap_ns, f[i]);
    }
    auto scale_kernel = [&](KernelLaunch& k) {
      const double x = f[static_cast<size_t>(k.task)];
      k.dur_ns = Scale(k.dur_ns, x);
      if (x > 0.0) k.dram_bytes_per_ns /= x;
    };
    for (KernelLaunch& k : t.kernels) scale_kernel(k);
    for (KernelLaunch& k : fg.kernels[ti]) scale_kernel(k);
    fg.templates[ti] = &t;
  }
  std::unique_ptr<ContentionModel> model = MakeContentionModel("fluid", spec, fg.partitions);
  Engine engine(fg, spec, model.get());
  engine.Run();
  MeasuredRun run = EmptyRun(g);
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    if (g.nodes[v].tmpl < 0) continue;  // gates and barriers are not measured
    run.start_ns[v] = engine.start_ns(static_cast<int32_t>(v));
    run.end_ns[v] = engine.end_ns(static_cast<int32_t>(v));
  }
  return run;
}

/// Occupancy matching and kernel sizing of every distinct kernel (name,
/// shape, duration, mem_bound), as the CUDA runner does them.
void SizeKernels(const LoadedWorkload& lw, const TaskGraph& g, const ReplayOptions& o,
                 ReplayReport* rep) {
  const ReplayKernelResources res{32, 0};
  std::map<std::tuple<std::string, int64_t, int32_t, int32_t, int32_t, TimeNs, double>, size_t>
      distinct;
  std::vector<double> errors;
  for (const TenantTemplate* tp : g.templates) {
    const TenantTemplate& t = *tp;
    for (const KernelLaunch& k : t.kernels) {
      const Task& task = t.trace->tasks[t.nodes[k.task].task];
      const auto key = std::make_tuple(t.trace->Name(task), k.blocks, k.threads_per_block, k.regs,
                                       k.smem, k.dur_ns, k.mem_bound);
      auto [it, fresh] = distinct.emplace(key, rep->kernels.size());
      if (!fresh) {
        ++rep->kernels[it->second].launches;
        continue;
      }
      KernelReport kr;
      kr.name = t.trace->Name(task);
      kr.launches = 1;
      kr.target_ns = k.dur_ns;
      kr.occupancy =
          task.HasShape()
              ? MatchOccupancy(lw.gpu, task.ThreadsPerBlock(), task.regs, task.smem, res)
              : MatchOccupancy(lw.gpu, kThreadsNoShape, res.regs_per_thread, res.static_smem, res);
      if (!kr.occupancy.exact) rep->notes.push_back("kernel " + kr.name + ": " + kr.occupancy.note);
      SizingOptions so;
      so.iterations = o.sizing_iterations;
      so.tolerance_pct = o.sizing_tolerance_pct;
      so.min_work = 1.0;
      kr.sizing = SizeKernel(
          static_cast<double>(k.dur_ns), 1.0, [](double w) { return kFakeKernelFixedNs + w; }, so);
      const int64_t blocks =
          task.HasShape() ? k.blocks
                          : static_cast<int64_t>(std::max(1, kr.occupancy.replay_blocks_per_sm)) *
                                lw.gpu.sm_count;
      kr.replay_dram_bytes =
          blocks * SplitWork(kr.sizing.work, k.mem_bound, kBytesPerUnit).bytes_per_block;
      kr.traced_dram_bytes = task.dram_bytes;
      errors.push_back(kr.sizing.error_pct);
      rep->kernels.push_back(std::move(kr));
    }
  }
  rep->sizing = SummarizeErrors(errors);
}

}  // namespace

FakeRunner::FakeRunner(const FakeGpu& gpu) : gpu_(gpu) {
  COTENANT_CHECK(gpu.bias > -1.0 && gpu.noise >= 0.0);
}

ReplayReport FakeRunner::Run(const LoadedWorkload& lw, const TaskGraph& g, const ReplayProgram&,
                             const ReplayOptions& options) {
  const double scale = 1.0 + gpu_.bias;
  const GpuSpec spec = FakeSpec(lw.gpu, gpu_, scale);
  ReplayReport rep;
  rep.device_name = "fake " + lw.gpu.key;
  rep.timing = "fake";
  rep.max_connections = options.max_connections;
  char note[256];
  std::snprintf(note, sizeof(note),
                "fake GPU (the simulator): corun_slowdown %g, bias %+g, noise %g, seed %llu",
                spec.model.corun_slowdown, gpu_.bias, gpu_.noise,
                static_cast<unsigned long long>(gpu_.seed));
  rep.notes.push_back(note);
  SizeKernels(lw, g, options, &rep);
  if (options.log) options.log("sized " + std::to_string(rep.kernels.size()) + " distinct kernels");
  Gaussian z(gpu_.seed);
  for (int32_t r = 0; r < options.repeat; ++r) {
    if (options.log)
      options.log("run " + std::to_string(r + 1) + "/" + std::to_string(options.repeat));
    std::vector<std::vector<double>> factor(g.templates.size());
    for (size_t ti = 0; ti < g.templates.size(); ++ti) {
      factor[ti].assign(g.templates[ti]->nodes.size(), scale);
      if (gpu_.noise <= 0.0) continue;
      for (double& f : factor[ti]) f = scale * std::max(0.0, 1.0 + gpu_.noise * z.Next());
    }
    rep.runs.push_back(RunOnce(g, spec, factor));
  }
  return rep;
}

}  // namespace cotenant::replay
