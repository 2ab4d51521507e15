// cotenant replay: run a workload under a plan on a real GPU with synthetic
// kernels shaped like the traced ones, and write what really happened.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "sim/error.h"
#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/replay/measured.h"
#include "tools/replay/program.h"
#include "tools/replay/runner.h"

namespace cotenant::cli {
namespace {

nlohmann::json CalibrationJson(const replay::ReplayReport& rep) {
  nlohmann::json kernels = nlohmann::json::array();
  for (const replay::KernelReport& k : rep.kernels) {
    kernels.push_back({{"name", k.name},
                       {"launches", k.launches},
                       {"target_ns", k.target_ns},
                       {"measured_ns", k.work.measured_ns},
                       {"error_pct", k.work.error_pct},
                       {"work", k.work.work},
                       {"blocks_per_sm", k.occupancy.replay_blocks_per_sm},
                       {"traced_blocks_per_sm", k.occupancy.target_blocks_per_sm},
                       {"dynamic_smem", k.occupancy.dynamic_smem}});
  }
  return {{"schema", "cotenant.replay-calibration/1"},
          {"device", rep.device_name},
          {"error_pct",
           {{"median", rep.calibration.median_pct},
            {"p90", rep.calibration.p90_pct},
            {"max", rep.calibration.max_pct}}},
          {"kernels", kernels},
          {"notes", rep.notes}};
}

}  // namespace

RunFn AddReplay(CLI::App* sub) {
  struct Options {
    std::string workload, plan, gpu, out, timeline, traces, calibration;
    int repeat = 1, device = 0, iterations = 4;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)")->required();
  sub->add_option("-p,--plan", o->plan, "Plan file (cotenant.plan/1); default: native");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  sub->add_option("-o,--output", o->out,
                  "Write the measured result (cotenant.result/1), - = stdout")
      ->required();
  sub->add_option("--repeat", o->repeat, "Measured runs; the one of median makespan is written")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--device", o->device, "CUDA device ordinal")->check(CLI::NonNegativeNumber);
  sub->add_option("--calibration-iterations", o->iterations, "Work refinements per distinct kernel")
      ->check(CLI::Range(0, 50));
  sub->add_option(
      "--timeline", o->timeline,
      "Write the measured Perfetto/Chrome timeline (lines up with simulate --timeline)");
  sub->add_option("--traces", o->traces,
                  "Write the measured timeline as one cotenant.trace/1 per tenant: "
                  "<prefix>-<tenant>.json");
  sub->add_option("--calibration", o->calibration,
                  "Write the per-kernel calibration residuals (JSON)");
  sub->footer(
      "Example:\n"
      "  cotenant replay --workload configs/workloads/vision3.json --plan P.json -o measured.json");
  return [o]() {
    if (!replay::ReplayBuilt()) {
      throw InputError(
          "replay needs a CUDA GPU: this cotenant was built without the CUDA toolkit (nvcc)");
    }
    const LoadedWorkload lw = LoadWorkload(o->workload, o->gpu);
    const Plan plan = LoadPlanOrNative(o->plan == "native" ? "" : o->plan);
    const TaskGraph g = BuildTaskGraph(lw, plan);
    const replay::ReplayProgram program = replay::BuildReplayProgram(g);
    replay::ReplayOptions ro;
    ro.device = o->device;
    ro.repeat = o->repeat;
    ro.calibration_iterations = o->iterations;
    ro.max_connections = plan.max_connections;
    ro.log = [](const std::string& line) { std::fprintf(stderr, "replay: %s\n", line.c_str()); };
    const replay::ReplayReport rep = replay::RunReplay(lw, g, program, ro);
    // The run of median makespan.
    std::vector<std::pair<TimeNs, size_t>> spans;
    std::vector<SimResult> results;
    for (size_t i = 0; i < rep.runs.size(); ++i) {
      results.push_back(replay::AssembleResult(lw, g, rep.runs[i], !o->timeline.empty()));
      spans.emplace_back(results.back().makespan_ns, i);
    }
    std::sort(spans.begin(), spans.end());
    const size_t pick = spans[spans.size() / 2].second;
    const SimResult& r = results[pick];
    nlohmann::json j = ResultToJson(r);
    j["device"] = rep.device_name;
    j["calibration_error_pct"] = {{"median", rep.calibration.median_pct},
                                  {"p90", rep.calibration.p90_pct},
                                  {"max", rep.calibration.max_pct}};
    nlohmann::json makespans = nlohmann::json::array();
    for (const SimResult& x : results) makespans.push_back(x.makespan_ns);
    j["run_makespans_ns"] = makespans;
    WriteOutput(o->out, j.dump(2) + "\n");
    if (!o->timeline.empty()) WriteOutput(o->timeline, TimelineToJsonText(r));
    if (!o->traces.empty()) {
      std::string stem = o->traces;
      if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
        stem.resize(stem.size() - 5);
      for (const Trace& t : replay::MeasuredTraces(lw, g, rep.runs[pick]))
        WriteTrace(t, stem + "-" + t.tenant + ".json");
    }
    if (!o->calibration.empty()) WriteOutput(o->calibration, CalibrationJson(rep).dump(2) + "\n");
    if (o->out != "-") PrintResult(r, lw, stdout);
    std::fprintf(
        stderr,
        "replay: calibration error |%%| median %.2f, p90 %.2f, max %.2f over %lld kernels\n",
        rep.calibration.median_pct, rep.calibration.p90_pct, rep.calibration.max_pct,
        static_cast<long long>(rep.calibration.count));
    return 0;
  };
}

}  // namespace cotenant::cli
