// cotenant simulate: predict a multi-tenant workload's execution under one
// plan, or under several plans side by side.
#include <cstdio>
#include <memory>

#include "profiler/serving_run.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/workload.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/measured_cli.h"
#include "tools/cotenant/progress.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

/// "native" for the empty plan, else the file's stem.
std::string PlanLabel(const std::string& path) {
  if (path.empty() || path == "native") return "native";
  std::string base = path.substr(path.find_last_of('/') + 1);
  const size_t dot = base.find(".json");
  return dot == std::string::npos ? base : base.substr(0, dot);
}

/// "<prefix>-<label>.json" (or .json kept at the end of prefix).
std::string PerPlanPath(const std::string& prefix, const std::string& label) {
  std::string stem = prefix;
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
    stem.resize(stem.size() - 5);
  return stem + "-" + label + ".json";
}

void PrintComparison(const std::vector<std::string>& labels, const std::vector<SimResult>& rs,
                     const LoadedWorkload& lw) {
  std::vector<Table::Column> cols = {{"metric"}};
  for (const std::string& l : labels) cols.push_back({l, Align::kRight});
  Table t(cols);
  auto row = [&](const std::string& name, auto cell) {
    std::vector<std::string> cells = {name};
    for (const SimResult& r : rs) cells.push_back(cell(r));
    t.AddRow(cells);
  };
  row("makespan", [](const SimResult& r) { return FormatNs(r.makespan_ns); });
  row("speedup vs " + labels[0], [&](const SimResult& r) {
    return FormatFixed(static_cast<double>(rs[0].makespan_ns) / static_cast<double>(r.makespan_ns),
                       3) +
           "x";
  });
  row("gap to lower bound", [](const SimResult& r) {
    return FormatPercent(static_cast<double>(r.makespan_ns) / r.lower_bound_ns - 1.0);
  });
  for (size_t i = 0; i < lw.workload.tenants.size(); ++i) {
    const std::string& name = lw.workload.tenants[i].name;
    t.AddRule();
    row(name + " mean latency",
        [i](const SimResult& r) { return FormatNs(r.tenants[i].latency.mean); });
    row(name + " p99 latency",
        [i](const SimResult& r) { return FormatNs(r.tenants[i].latency.p99); });
    if (lw.workload.tenants[i].slo_ns > 0)
      row(name + " SLO misses", [i](const SimResult& r) {
        return FormatCount(r.tenants[i].slo_violations) + "/" + FormatCount(r.tenants[i].requests);
      });
    row(name + " req/s",
        [i](const SimResult& r) { return FormatFixed(r.tenants[i].throughput_rps, 1); });
  }
  t.AddRule();
  row("SMs busy", [](const SimResult& r) { return FormatPercent(r.gpu.sm_busy_fraction); });
  row("mean SM occupancy",
      [](const SimResult& r) { return FormatPercent(r.gpu.mean_sm_occupancy); });
  row("DRAM busy", [](const SimResult& r) { return FormatPercent(r.gpu.dram_busy_fraction); });
  t.Print(stdout);
}

/// " (SLO x ms)" or "".
std::string SloText(TimeNs ns) { return ns > 0 ? " (SLO " + FormatNs(ns) + ")" : ""; }

/// The serving metrics of one LLM tenant as an aligned table.
void PrintLlm(const profiler::LlmTenantRun& r, std::FILE* out) {
  const ServingMetrics& m = r.metrics;
  std::fprintf(out, "%s: %s %s on %s, %s requests, KV cache %s tokens\n", r.name.c_str(),
               r.model.c_str(), r.dtype.c_str(), r.gpu.c_str(), FormatCount(m.requests).c_str(),
               FormatCount(r.kv.capacity_tokens).c_str());
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
  s.Print(out);
}

}  // namespace

RunFn AddSimulate(CLI::App* sub) {
  struct Options {
    std::string calibration, workload, gpu, model = "fluid", json, timeline;
    std::vector<std::string> traces, plans;
    bool stats = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("traces", o->traces, "Trace files, one tenant each (instead of --workload)");
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)");
  sub->add_option("-p,--plan", o->plans,
                  "Plan file (cotenant.plan/1) or \"native\" (default); repeat to compare plans "
                  "side by side")
      ->allow_extra_args(false);
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  sub->add_option("--calibration", o->calibration,
                  "Calibration from measured tables (cotenant.model-calibration/1, written by "
                  "calibrate --measured): its contention parameters and per-model time scales");
  sub->add_option("-m,--model", o->model, "Contention model: fluid (default) or block");
  sub->add_option("--json", o->json,
                  "Write the result (cotenant.result/1) to this file, - = stdout; with several "
                  "plans, one file per plan named <file>-<plan>.json");
  sub->add_option("--timeline", o->timeline,
                  "Write a Perfetto/Chrome trace-event timeline (one per plan with several plans)");
  sub->add_flag("--stats", o->stats, "Print phase times and event counts to stderr");
  sub->footer(
      "Examples:\n"
      "  cotenant simulate --workload configs/workloads/vision3.json --timeline t.json\n"
      "  cotenant simulate --workload W.json --plan native --plan configs/plans/P.json\n"
      "  cotenant simulate traces/synthetic/resnet50_b8.json traces/synthetic/bert-base_b8.json");
  return [o]() {
    if (!o->workload.empty() && o->traces.empty()) {
      const Workload w = ReadWorkload(o->workload);
      if (!w.llm_tenants.empty()) {
        // One LLM tenant alone on the GPU (the reader refuses any other tenant).
        for (const std::string& p : o->plans)
          if (p != "native") throw InputError("--plan: plans for llm tenants are not built yet");
        if (!o->calibration.empty()) throw InputError("--calibration: not used by llm tenants");
        const std::string key = !o->gpu.empty() ? o->gpu : !w.gpu.empty() ? w.gpu : "h100-sxm";
        const GpuSpec spec = LoadGpuSpec(key);
        const profiler::LlmTenantRun r =
            profiler::RunLlmTenant(w.llm_tenants[0], w.file, spec, !o->timeline.empty());
        if (!o->json.empty()) WriteOutput(o->json, profiler::LlmResultToJson(r).dump(2) + "\n");
        if (!o->timeline.empty()) WriteOutput(o->timeline, ServingTimelineJsonText(r.run, r.name));
        if (o->json != "-") PrintLlm(r, stdout);
        if (!o->timeline.empty() && o->json != "-")
          std::printf("timeline: %s\nopen timelines in https://ui.perfetto.dev\n",
                      o->timeline.c_str());
        std::fflush(stdout);
        if (o->stats)
          std::fprintf(stderr, "llm: %zu cached iteration shapes, %s iterations\n", r.cached_shapes,
                       FormatCount(r.metrics.iterations).c_str());
        return 0;
      }
    }
    LoadedWorkload lw = LoadInputs(o->workload, o->traces, o->gpu);
    ApplyCalibrationFile(o->calibration, &lw, "simulate");
    if (o->plans.empty()) o->plans.push_back("native");
    const bool many = o->plans.size() > 1;
    if (many && o->json == "-") throw InputError("--json -: only with a single --plan");
    std::vector<std::string> labels;
    std::vector<SimResult> results;
    for (const std::string& path : o->plans) {
      const Plan plan = LoadPlanOrNative(path == "native" ? "" : path);
      SimOptions options;
      options.model = o->model;
      options.record_timeline = !o->timeline.empty();
      ProgressBar bar("simulate " + PlanLabel(path));
      options.progress = [&bar](int64_t done, int64_t all) {
        bar.Update(static_cast<double>(done) / static_cast<double>(all));
      };
      SimResult r = Simulate(lw, plan, options);
      bar.Finish();
      const std::string label = PlanLabel(path);
      if (!o->json.empty())
        WriteOutput(many ? PerPlanPath(o->json, label) : o->json, ResultToJson(r).dump(2) + "\n");
      if (!o->timeline.empty()) {
        const std::string file = many ? PerPlanPath(o->timeline, label) : o->timeline;
        WriteOutput(file, TimelineToJsonText(r));
        if (o->json != "-") std::printf("timeline (%s): %s\n", label.c_str(), file.c_str());
      }
      if (o->stats) {
        std::fprintf(stderr, "%s ", label.c_str());
        PrintStats(r, stderr);
      }
      r.timeline.clear();
      labels.push_back(label);
      results.push_back(std::move(r));
    }
    if (o->json != "-") {
      if (many) {
        PrintComparison(labels, results, lw);
      } else {
        PrintResult(results[0], lw, stdout);
      }
    }
    std::fflush(stdout);
    NoteGpuChoice("simulate", lw, stderr);
    NoteGpuMismatch(lw, stderr);
    if (o->json == "-") return 0;
    if (!o->timeline.empty()) std::printf("open timelines in https://ui.perfetto.dev\n");
    return 0;
  };
}

}  // namespace cotenant::cli
