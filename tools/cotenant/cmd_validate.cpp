// cotenant validate: simulate and replay the same workload under one or
// more plans, and compare predicted with measured (makespan, per-tenant
// latencies, speedups between plans, ranking).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "sim/error.h"
#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/table.h"
#include "tools/replay/measured.h"
#include "tools/replay/program.h"
#include "tools/replay/runner.h"
#include "tools/replay/validate.h"

namespace cotenant::cli {
namespace {

std::string PlanLabel(const std::string& path) {
  if (path.empty() || path == "native") return "native";
  return std::filesystem::path(path).filename().string();
}

std::string Pct(double pct) {
  if (!std::isfinite(pct)) return "n/a";
  return (pct >= 0.0 ? "+" : "") + FormatFixed(pct, 1) + "%";
}

void PrintValidation(const replay::Validation& v, std::FILE* out) {
  Table t({{"plan"},
           {"metric"},
           {"predicted", Align::kRight},
           {"measured", Align::kRight},
           {"error", Align::kRight}});
  for (const replay::PlanValidation& p : v.plans) {
    auto row = [&](const std::string& metric, const replay::Compared& c) {
      t.AddRow({p.plan, metric, FormatNs(static_cast<TimeNs>(std::llround(c.predicted))),
                FormatNs(static_cast<TimeNs>(std::llround(c.measured))), Pct(c.error_pct)});
    };
    row("makespan", p.makespan);
    for (const replay::TenantValidation& tv : p.tenants) {
      row(tv.name + " mean latency", tv.mean_latency);
      row(tv.name + " p99 latency", tv.p99_latency);
    }
  }
  t.Print(out);
  if (!v.speedups.empty()) {
    std::fprintf(out, "\n");
    Table s({{"speedup of"},
             {"over"},
             {"predicted", Align::kRight},
             {"measured", Align::kRight},
             {"error", Align::kRight},
             {"direction"}});
    for (const replay::SpeedupValidation& x : v.speedups) {
      s.AddRow({v.plans[x.b].plan, v.plans[x.a].plan, FormatFixed(x.speedup.predicted, 3) + "x",
                FormatFixed(x.speedup.measured, 3) + "x", Pct(x.speedup.error_pct),
                x.same_direction ? "agrees" : "WRONG"});
    }
    s.Print(out);
    const replay::RankingValidation& r = v.ranking;
    std::fprintf(out, "\nranking: Kendall tau %s (%lld concordant, %lld discordant pairs); ",
                 r.kendall_tau ? FormatFixed(*r.kendall_tau, 3).c_str() : "n/a",
                 static_cast<long long>(r.concordant), static_cast<long long>(r.discordant));
    std::fprintf(out, "predicted best %s, measured best %s%s\n",
                 v.plans[r.predicted_best].plan.c_str(), v.plans[r.measured_best].plan.c_str(),
                 r.best_agrees ? "" : (" (regret " + Pct(r.regret_pct) + ")").c_str());
  }
  std::fprintf(out, "|error| mean/max: makespan %.1f%%/%.1f%%, latency %.1f%%/%.1f%%\n",
               v.makespan_error.mean_pct, v.makespan_error.max_pct, v.latency_error.mean_pct,
               v.latency_error.max_pct);
}

}  // namespace

RunFn AddValidate(CLI::App* sub) {
  struct Options {
    std::string workload, gpu, json, model = "fluid";
    std::vector<std::string> plans;
    int repeat = 3, device = 0, iterations = 4;
    double tie_pct = 1.0;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)")->required();
  sub->add_option("-p,--plan", o->plans,
                  "Plan file (cotenant.plan/1) or 'native'; repeat to compare plans "
                  "(default: native)");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  sub->add_option("--model", o->model, "Contention model of the prediction")
      ->check(CLI::IsMember({"fluid", "block"}));
  sub->add_option("--json", o->json, "Write the comparison (cotenant.validation/1), - = stdout");
  sub->add_option("--repeat", o->repeat,
                  "Measured runs per plan; the one of median makespan is compared")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--device", o->device, "CUDA device ordinal")->check(CLI::NonNegativeNumber);
  sub->add_option("--calibration-iterations", o->iterations, "Work refinements per distinct kernel")
      ->check(CLI::Range(0, 50));
  sub->add_option("--tie-pct", o->tie_pct,
                  "Makespans within this many percent rank as a tie (measurement noise)")
      ->check(CLI::Range(0.0, 100.0));
  sub->footer(
      "Example:\n"
      "  cotenant validate --workload configs/workloads/vision3.json --plan native \\\n"
      "      --plan configs/plans/vision3_partition.json --json validation.json");
  return [o]() {
    if (!replay::ReplayBuilt()) {
      throw InputError(
          "validate needs a CUDA GPU: this cotenant was built without the CUDA toolkit (nvcc)");
    }
    if (o->plans.empty()) o->plans.push_back("native");
    const LoadedWorkload lw = LoadWorkload(o->workload, o->gpu);
    // Every input is read and every prediction made before the GPU is touched.
    std::vector<Plan> plans;
    std::vector<std::string> labels;
    std::vector<SimResult> predicted;
    for (const std::string& p : o->plans) {
      plans.push_back(LoadPlanOrNative(p == "native" ? "" : p));
      labels.push_back(PlanLabel(p));
      SimOptions so;
      so.model = o->model;
      predicted.push_back(Simulate(lw, plans.back(), so));
    }
    std::vector<SimResult> measured;
    std::string device;
    for (size_t i = 0; i < plans.size(); ++i) {
      if (plans[i].max_connections != plans[0].max_connections) {
        std::fprintf(stderr,
                     "validate: note: plan %s asks for max_connections %d, but the CUDA context "
                     "of this process was created with %d\n",
                     labels[i].c_str(), plans[i].max_connections, plans[0].max_connections);
      }
      const TaskGraph g = BuildTaskGraph(lw, plans[i]);
      const replay::ReplayProgram program = replay::BuildReplayProgram(g);
      replay::ReplayOptions ro;
      ro.device = o->device;
      ro.repeat = o->repeat;
      ro.calibration_iterations = o->iterations;
      ro.max_connections = plans[0].max_connections;
      ro.log = [&](const std::string& line) {
        std::fprintf(stderr, "validate: %s: %s\n", labels[i].c_str(), line.c_str());
      };
      const replay::ReplayReport rep = replay::RunReplay(lw, g, program, ro);
      device = rep.device_name;
      std::vector<SimResult> runs;
      for (const replay::MeasuredRun& run : rep.runs)
        runs.push_back(replay::AssembleResult(lw, g, run, false));
      std::sort(runs.begin(), runs.end(), [](const SimResult& a, const SimResult& b) {
        return a.makespan_ns < b.makespan_ns;
      });
      measured.push_back(runs[runs.size() / 2]);
    }
    replay::ValidateOptions vo;
    vo.tie_pct = o->tie_pct;
    const replay::Validation v = replay::Validate(labels, predicted, measured, vo);
    if (!o->json.empty())
      WriteOutput(o->json, replay::ValidationToJson(v, o->workload, device).dump(2) + "\n");
    if (o->json != "-") PrintValidation(v, stdout);
    return 0;
  };
}

}  // namespace cotenant::cli
