// Simulation speed and memory: an N-kernel workload of T tenants (random
// synthetic traces, closed-loop requests), simulated once per size.
//   build/sim_bench [--model fluid|block] [--tenants 8] [--requests 10] N1 N2 ...
// Prints one line per size: kernels, tasks, build/run seconds, kernel tasks
// per second, peak RSS growth per task.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/synth.h"

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
  std::string model = "fluid";
  int tenants = 8, requests = 10;
  std::vector<long long> sizes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model = argv[++i];
    else if (a == "--tenants" && i + 1 < argc) tenants = std::atoi(argv[++i]);
    else if (a == "--requests" && i + 1 < argc) requests = std::atoi(argv[++i]);
    else sizes.push_back(std::atoll(a.c_str()));
  }
  if (sizes.empty()) sizes = {10000, 100000, 1000000};
  const cotenant::GpuSpec spec = cotenant::LoadGpuSpec("h100-sxm");
  std::printf("%-6s %9s %9s %8s %8s %8s %13s %13s %11s %11s %8s\n", "model", "kernels", "tasks",
              "build s", "run s", "run cpu", "kern/s wall", "kern/s cpu", "peak B/task",
              "peak B/kern", "recomp/k");
  for (long long n : sizes) {
    cotenant::LoadedWorkload lw;
    lw.gpu = spec;
    const long long per_trace = std::max(1LL, n / (tenants * requests));
    std::vector<std::string> names;
    for (int t = 0; t < tenants; ++t) {
      lw.traces.push_back(cotenant::SynthesizeRandom(per_trace, 2, spec, 1000 + t));
      lw.traces.back().tenant = "t" + std::to_string(t);
      cotenant::TenantSpec ts;
      ts.name = lw.traces.back().tenant;
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
