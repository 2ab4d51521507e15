#include "tools/cotenant/common.h"

#include <cstdio>

#include "profiler/serving_run.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/workload_whatif.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {

LoadedWorkload LoadInputs(const std::string& workload, const std::vector<std::string>& traces,
                          const std::string& gpu, const std::string& command) {
  if (!workload.empty() && !traces.empty())
    throw InputError("give either --workload or trace files, not both");
  if (workload.empty() && traces.empty())
    throw InputError("nothing to simulate: give --workload W.json or trace files");
  const LlmModelFactory synth = profiler::SynthLlmModels();
  const bool llm = command == "simulate" || command == "search";
  LoadedWorkload lw = !workload.empty()
                          ? LoadWorkload(workload, gpu, llm ? &synth : nullptr, command)
                          : LoadTraces(traces, gpu);
  if (!gpu.empty()) RescaleToGpu(&lw);
  return lw;
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

bool TenantHasSlo(const LoadedWorkload& lw, size_t i) {
  const Workload& w = lw.workload;
  if (i < w.tenants.size()) return w.tenants[i].slo_ns > 0;
  const size_t l = i - w.tenants.size();
  return l < w.llm_tenants.size() &&
         (w.llm_tenants[l].slo.ttft_ns > 0 || w.llm_tenants[l].slo.tpot_ns > 0);
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
    t.AddRow({tr.name, FormatCount(tr.requests), FormatNs(tr.finish_ns), FormatNs(tr.latency.mean),
              FormatNs(tr.latency.p50), FormatNs(tr.latency.p99), FormatNs(tr.latency.max),
              TenantHasSlo(lw, i) ? FormatCount(tr.slo_violations) : "-",
              FormatFixed(tr.throughput_rps, 1)});
  }
  t.Print(out);
  if (r.stats.tasks == 0 && !r.llm.empty()) {
    // One LLM tenant alone: no task graph was simulated.
    std::fprintf(out,
                 "makespan %s | %s alone on the whole GPU: its serving loop with synth's "
                 "iteration costs on %s\n",
                 FormatNs(r.makespan_ns).c_str(), r.llm[0].name.c_str(), lw.gpu.key.c_str());
  } else {
    const double gap =
        r.lower_bound_ns > 0
            ? static_cast<double>(r.makespan_ns) / static_cast<double>(r.lower_bound_ns) - 1.0
            : 0.0;
    const std::string bound = r.lower_bound_ns > 0 ? " (lower bound " + FormatNs(r.lower_bound_ns) +
                                                         ", gap " + FormatPercent(gap) + ")"
                                                   : "";
    std::fprintf(out,
                 "makespan %s%s | SMs busy %s, mean SM occupancy %s, "
                 "DRAM busy %s | model %s on %s\n",
                 FormatNs(r.makespan_ns).c_str(), bound.c_str(),
                 FormatPercent(r.gpu.sm_busy_fraction).c_str(),
                 FormatPercent(r.gpu.mean_sm_occupancy).c_str(),
                 FormatPercent(r.gpu.dram_busy_fraction).c_str(), r.model.c_str(),
                 lw.gpu.key.c_str());
  }
  for (const LlmTenantResult& l : r.llm) {
    std::fputc('\n', out);
    PrintLlmTenant(l, out);
  }
}

namespace {

/// " (SLO x ms)" or "".
std::string SloText(TimeNs ns) { return ns > 0 ? " (SLO " + FormatNs(ns) + ")" : ""; }

}  // namespace

void PrintLlmTenant(const LlmTenantResult& r, std::FILE* out) {
  const ServingMetrics& m = r.metrics;
  std::string how = r.config.chunked_prefill ? "chunked prefill" : "whole prefills";
  how += ", token budget " + FormatCount(r.config.max_num_batched_tokens);
  if (r.multiplexed) {
    how += ", prefill on " + std::to_string(r.prefill_sm_count) + " SMs beside decode on " +
           std::to_string(r.decode_sm_count);
  }
  std::fprintf(out, "%s: %s %s on %s, %s requests, KV cache %s tokens (%s)\n", r.name.c_str(),
               r.model.c_str(), r.dtype.c_str(), r.gpu.c_str(), FormatCount(m.requests).c_str(),
               FormatCount(r.kv.capacity_tokens).c_str(), how.c_str());
  Table t({{"metric"}, {"p50", Align::kRight}, {"p90", Align::kRight}, {"p99", Align::kRight}});
  auto pct = [&](const std::string& name, const Percentiles& p) {
    t.AddRow({name, FormatNs(p.p50), FormatNs(p.p90), FormatNs(p.p99)});
  };
  pct("TTFT" + SloText(r.slo.ttft_ns), m.ttft);
  pct("TPOT" + SloText(r.slo.tpot_ns), m.tpot);
  pct("end-to-end", m.e2e);
  t.Print(out);
  Table s({{"total"}, {"value", Align::kRight}});
  s.AddRow({"makespan", FormatNs(m.makespan_ns)});
  s.AddRow({"generated tokens", FormatCount(m.generated_tokens)});
  s.AddRow({"throughput", FormatFixed(m.tokens_per_s, 1) + " tokens/s"});
  s.AddRow({"goodput", FormatFixed(m.goodput_rps, 2) + " req/s (" + FormatCount(m.good) + "/" +
                           FormatCount(m.requests) + ", " + FormatPercent(m.good_share) +
                           " meet the SLOs)"});
  s.AddRow({"iterations", FormatCount(m.iterations)});
  s.AddRow({"preemptions", FormatCount(m.preemptions)});
  if (r.rounds > 0) {
    s.AddRow({"slowdown beside others", FormatFixed(r.mean_stretch, 2) + "x mean per iteration (" +
                                            std::to_string(r.rounds) + " rounds, " +
                                            (r.converged ? "converged" : "NOT converged") +
                                            ", last change " + FormatPercent(r.last_change) + ")"});
  }
  s.Print(out);
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
