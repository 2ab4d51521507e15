// cotenant simulate: predict a multi-tenant workload's execution under one
// plan, or under several plans side by side.
#include <cstdio>
#include <memory>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/serving.h"
#include "sim/simulate.h"
#include "sim/workload.h"
#include "sim/workload_whatif.h"
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
    if (r.lower_bound_ns <= 0) return std::string("-");  // (LLM tenants: not computed)
    return FormatPercent(static_cast<double>(r.makespan_ns) / r.lower_bound_ns - 1.0);
  });
  for (size_t i = 0; i < rs[0].tenants.size(); ++i) {
    const std::string& name = rs[0].tenants[i].name;
    t.AddRule();
    row(name + " mean latency",
        [i](const SimResult& r) { return FormatNs(r.tenants[i].latency.mean); });
    row(name + " p99 latency",
        [i](const SimResult& r) { return FormatNs(r.tenants[i].latency.p99); });
    if (TenantHasSlo(lw, i))
      row(name + " SLO misses", [i](const SimResult& r) {
        return FormatCount(r.tenants[i].slo_violations) + "/" + FormatCount(r.tenants[i].requests);
      });
    row(name + " req/s",
        [i](const SimResult& r) { return FormatFixed(r.tenants[i].throughput_rps, 1); });
  }
  for (size_t l = 0; l < rs[0].llm.size(); ++l) {
    const std::string& name = rs[0].llm[l].name;
    t.AddRule();
    row(name + " TTFT p99",
        [l](const SimResult& r) { return FormatNs(r.llm[l].metrics.ttft.p99); });
    row(name + " TPOT p99",
        [l](const SimResult& r) { return FormatNs(r.llm[l].metrics.tpot.p99); });
    row(name + " goodput", [l](const SimResult& r) {
      return FormatFixed(r.llm[l].metrics.goodput_rps, 2) + " req/s";
    });
  }
  t.AddRule();
  row("SMs busy", [](const SimResult& r) { return FormatPercent(r.gpu.sm_busy_fraction); });
  row("mean SM occupancy",
      [](const SimResult& r) { return FormatPercent(r.gpu.mean_sm_occupancy); });
  row("DRAM busy", [](const SimResult& r) { return FormatPercent(r.gpu.dram_busy_fraction); });
  t.Print(stdout);
}

}  // namespace

RunFn AddSimulate(CLI::App* sub) {
  struct Options {
    std::string calibration, workload, gpu, model = "fluid", json, timeline;
    std::vector<std::string> traces, plans;
    int64_t requests = 0;
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
  sub->add_option("--requests", o->requests,
                  "Run every tenant with this many requests instead of the workload's")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
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
    LoadedWorkload lw = LoadInputs(o->workload, o->traces, o->gpu, "simulate");
    ApplyCalibrationFile(o->calibration, &lw, "simulate");
    OverrideRequests(&lw, o->requests);
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
        // One LLM tenant alone runs no task graph: its iterations make the timeline.
        WriteOutput(file, r.timeline.empty() && r.stats.tasks == 0 && !r.llm.empty()
                              ? ServingTimelineJsonText(r.llm[0].run, r.llm[0].name)
                              : TimelineToJsonText(r));
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
