#include "tools/cotenant/common.h"

#include <cstdio>
#include <optional>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/whatif.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {

LoadedWorkload LoadInputs(const std::string& workload, const std::vector<std::string>& traces,
                          const std::string& gpu) {
  if (!workload.empty() && !traces.empty())
    throw InputError("give either --workload or trace files, not both");
  if (workload.empty() && traces.empty())
    throw InputError("nothing to simulate: give --workload W.json or trace files");
  LoadedWorkload lw = !workload.empty() ? LoadWorkload(workload, gpu) : LoadTraces(traces, gpu);
  if (!gpu.empty()) RescaleToGpu(&lw);
  return lw;
}

void RescaleToGpu(LoadedWorkload* lw) {
  for (size_t i = 0; i < lw->traces.size() && i < lw->traced_gpu.size(); ++i) {
    const std::string& traced = lw->traced_gpu[i];
    if (traced.empty() || traced == lw->gpu.key) continue;
    std::optional<GpuSpec> from;
    try {
      from = LoadGpuSpec(traced);
    } catch (const InputError&) {
      continue;  // an unknown device.gpu: left as it is, and NoteGpuMismatch says so
    }
    const Trace& t = lw->traces[i];
    const std::string device =
        t.device_name.empty() || !t.device_gpu.empty() ? "" : " (device " + t.device_name + ")";
    const std::string what = SwapGpu(lw->traces[i], *from, lw->gpu);
    for (auto& [batch, tr] : lw->by_batch[i]) SwapGpu(tr, *from, lw->gpu);
    // SwapGpu says "swapped GPU A -> B: rescaled ..."; keep what follows.
    const size_t colon = what.find(": ");
    lw->gpu_notes.push_back(lw->workload.tenants[i].name + " was traced on " + traced + device +
                            "; its durations were rescaled to " + lw->gpu.key +
                            " by the what-if GPU swap (" +
                            (colon == std::string::npos ? what : what.substr(colon + 2)) + ")");
    lw->traced_gpu[i] = lw->gpu.key;
  }
}

void NoteGpuChoice(const char* command, const LoadedWorkload& lw, std::FILE* out) {
  std::fprintf(out, "%s: GPU %s from %s\n", command, lw.gpu.key.c_str(), lw.gpu_reason.c_str());
  for (const std::string& note : lw.gpu_notes) std::fprintf(out, "note: %s\n", note.c_str());
}

void NoteGpuMismatch(const LoadedWorkload& lw, std::FILE* out) {
  for (size_t i = 0; i < lw.traces.size() && i < lw.traced_gpu.size(); ++i) {
    const std::string& traced = lw.traced_gpu[i];
    if (traced.empty() || traced == lw.gpu.key) continue;
    const Trace& t = lw.traces[i];
    const std::string device =
        t.device_name.empty() || !t.device_gpu.empty() ? "" : " (device " + t.device_name + ")";
    std::fprintf(out,
                 "note: %s was traced on %s%s; simulating on %s with its durations NOT rescaled "
                 "(cotenant whatif --swap-gpu %s rescales them)\n",
                 lw.workload.tenants[i].name.c_str(), traced.c_str(), device.c_str(),
                 lw.gpu.key.c_str(), lw.gpu.key.c_str());
  }
}

Plan LoadPlanOrNative(const std::string& path) {
  if (path.empty()) return Plan{};
  return ReadPlan(path);
}

void WriteOutput(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  WriteFileAtomic(path, text);
}

void PrintResult(const SimResult& r, const LoadedWorkload& lw, std::FILE* out) {
  Table t({{"tenant"},
           {"requests", Align::kRight},
           {"finish", Align::kRight},
           {"mean lat", Align::kRight},
           {"p50", Align::kRight},
           {"p99", Align::kRight},
           {"max", Align::kRight},
           {"SLO miss", Align::kRight},
           {"req/s", Align::kRight}});
  for (size_t i = 0; i < r.tenants.size(); ++i) {
    const TenantResult& tr = r.tenants[i];
    const bool has_slo = lw.workload.tenants[i].slo_ns > 0;
    t.AddRow({tr.name, FormatCount(tr.requests), FormatNs(tr.finish_ns), FormatNs(tr.latency.mean),
              FormatNs(tr.latency.p50), FormatNs(tr.latency.p99), FormatNs(tr.latency.max),
              has_slo ? FormatCount(tr.slo_violations) : "-", FormatFixed(tr.throughput_rps, 1)});
  }
  t.Print(out);
  const double gap =
      r.lower_bound_ns > 0
          ? static_cast<double>(r.makespan_ns) / static_cast<double>(r.lower_bound_ns) - 1.0
          : 0.0;
  std::fprintf(out,
               "makespan %s (lower bound %s, gap %s) | SMs busy %s, mean SM occupancy %s, "
               "DRAM busy %s | model %s on %s\n",
               FormatNs(r.makespan_ns).c_str(), FormatNs(r.lower_bound_ns).c_str(),
               FormatPercent(gap).c_str(), FormatPercent(r.gpu.sm_busy_fraction).c_str(),
               FormatPercent(r.gpu.mean_sm_occupancy).c_str(),
               FormatPercent(r.gpu.dram_busy_fraction).c_str(), r.model.c_str(),
               lw.gpu.key.c_str());
}

void PrintStats(const SimResult& r, std::FILE* out) {
  const SimStats& s = r.stats;
  const double kps = s.run_seconds > 0 ? static_cast<double>(s.kernels) / s.run_seconds : 0.0;
  std::fprintf(out,
               "stats: build %.3f s, run %.3f s | %s tasks, %s kernels, %s edges, %s events, %s "
               "model recomputes | %.2f M kernels/s\n",
               s.build_seconds, s.run_seconds, FormatCount(s.tasks).c_str(),
               FormatCount(s.kernels).c_str(), FormatCount(s.edges).c_str(),
               FormatCount(s.events).c_str(), FormatCount(s.model_recomputes).c_str(), kps / 1e6);
}

std::string DramFiguresText(const profiler::MemoryReport& m) {
  std::string text =
      profiler::MemoryCoverageText(m.counter, m.shape, m.name, m.none) + " on " + m.gpu;
  if (m.clamped > 0) text += "; " + FormatCount(m.clamped) + " cut to peak bandwidth";
  return text;
}

void ImportLine(const char* what, const std::string& value) {
  std::printf("  %-19s %s\n", what, value.c_str());
}

void PrintBuildCounts(const profiler::BuildReport& b) {
  ImportLine("kernels", FormatCount(b.kernels));
  ImportLine("memcpys", FormatCount(b.memcpys));
  ImportLine("memsets", FormatCount(b.memsets));
  ImportLine("launches", FormatCount(b.launches));
  ImportLine("syncs", FormatCount(b.syncs));
  ImportLine("streams", FormatCount(b.streams));
  ImportLine("host threads", FormatCount(b.threads));
  ImportLine("GPU busy", FormatNs(b.gpu_busy_ns) + " of " + FormatNs(b.span_ns) + " (" +
                             FormatPercent(b.span_ns > 0 ? static_cast<double>(b.gpu_busy_ns) /
                                                               static_cast<double>(b.span_ns)
                                                         : 0.0) +
                             ")");
}

void PrintBuildFigures(const profiler::BuildReport& b, const profiler::MemoryReport& memory) {
  ImportLine("unlabelled kernels", FormatCount(b.unlabelled_kernels));
  ImportLine("DRAM figures", DramFiguresText(memory));
  ImportLine("outside selection", FormatCount(b.outside_window));
  if (b.orphan_gpu > 0) ImportLine("GPU without launch", FormatCount(b.orphan_gpu));
}

}  // namespace cotenant::cli
