// Simulation speed and memory: an N-kernel workload of 8 tenants with
// closed-loop requests, simulated once per size.
//   build/sim_bench [--model fluid|block] [--mix models|random] [--requests R] N1 N2 ...
// --mix models (default): the synthetic model traces (resnet50, mobilenetv2,
//   vgg16, bert-base at batch 8 and 32: 51-236 kernels per request), as many
//   requests per tenant as make N kernels in all.
// --mix random: 8 random 2-stream traces of N/(8*R) kernels each, R requests
//   (default 10: 12,500-kernel requests at N = 1M, a cache stress case).
// Prints one line per size: kernels, tasks, build/run seconds (wall and this
// thread's CPU), kernels per second, peak RSS growth per task.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"

namespace {

/// Resident set (VmRSS) or its peak (VmHWM) of this process, bytes.
long ProcStatusKb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return 0;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0).
void ResetPeak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "fluid", mix = "models";
  const int tenants = 8;
  int requests = 10;
  std::vector<long long> sizes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      model = argv[++i];
    else if (a == "--mix" && i + 1 < argc)
      mix = argv[++i];
    else if (a == "--requests" && i + 1 < argc)
      requests = std::atoi(argv[++i]);
    else
      sizes.push_back(std::atoll(a.c_str()));
  }
  if (sizes.empty()) sizes = {10000, 100000, 1000000};
  const cotenant::GpuSpec spec = cotenant::LoadGpuSpec("h100-sxm");
  std::printf("%-6s %9s %9s %8s %8s %8s %13s %13s %11s %11s %8s\n", "model", "kernels", "tasks",
              "build s", "run s", "run cpu", "kern/s wall", "kern/s cpu", "peak B/task",
              "peak B/kern", "recomp/k");
  for (long long n : sizes) {
    cotenant::LoadedWorkload lw;
    lw.gpu = spec;
    if (mix == "models") {
      const char* models[] = {"resnet50", "mobilenetv2", "vgg16", "bert-base"};
      long long per_round = 0;
      for (int t = 0; t < tenants; ++t) {
        lw.traces.push_back(
            cotenant::profiler::SynthesizeModel(models[t % 4], t < 4 ? 8 : 32, spec, 1));
        lw.traces.back().tenant += t < 4 ? "_b8" : "_b32";
        for (const cotenant::Task& task : lw.traces.back().tasks)
          per_round += task.kind == cotenant::TaskKind::kKernel;
      }
      requests = static_cast<int>(std::max(1LL, n / per_round));
    } else {
      const long long per_trace = std::max(1LL, n / (tenants * requests));
      for (int t = 0; t < tenants; ++t) {
        lw.traces.push_back(cotenant::profiler::SynthesizeRandom(per_trace, 2, spec, 1000 + t));
        lw.traces.back().tenant = "t" + std::to_string(t);
      }
    }
    for (int t = 0; t < tenants; ++t) {
      cotenant::TenantSpec ts;
      ts.name = lw.traces[t].tenant;
      ts.requests = requests;
      lw.workload.tenants.push_back(ts);
      lw.by_batch.emplace_back();
    }
    lw.workload.gpu = spec.key;
    ResetPeak();
    const long base_kb = ProcStatusKb("VmRSS:");
    cotenant::SimOptions o;
    o.model = model;
    const cotenant::SimResult r = cotenant::Simulate(lw, cotenant::Plan{}, o);
    const long peak_kb = ProcStatusKb("VmHWM:");
    const double grow = static_cast<double>(peak_kb - base_kb) * 1024.0;
    const double kernels = static_cast<double>(r.stats.kernels);
    std::printf("%-6s %9lld %9lld %8.3f %8.3f %8.3f %13.0f %13.0f %11.0f %11.0f %8.2f\n",
                model.c_str(), static_cast<long long>(r.stats.kernels),
                static_cast<long long>(r.stats.tasks), r.stats.build_seconds, r.stats.run_seconds,
                r.stats.run_cpu_seconds, kernels / r.stats.run_seconds,
                kernels / r.stats.run_cpu_seconds, grow / static_cast<double>(r.stats.tasks),
                grow / kernels, static_cast<double>(r.stats.model_recomputes) / kernels);
    std::fflush(stdout);
  }
  return 0;
}
