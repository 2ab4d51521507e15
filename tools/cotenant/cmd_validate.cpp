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
#include "tools/cotenant/measured_cli.h"
#include "tools/cotenant/replay_cli.h"
#include "tools/cotenant/table.h"
#include "tools/replay/replay_measurer.h"
#include "tools/replay/runner.h"
#include "tools/validation/validate.h"

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

void PrintValidation(const validation::Validation& v, std::FILE* out) {
  Table t({{"plan"},
           {"metric"},
           {"predicted", Align::kRight},
           {"measured", Align::kRight},
           {"error", Align::kRight}});
  for (const validation::PlanValidation& p : v.plans) {
    auto row = [&](const std::string& metric, const validation::Compared& c) {
      t.AddRow({p.plan, metric, FormatNs(static_cast<TimeNs>(std::llround(c.predicted))),
                FormatNs(static_cast<TimeNs>(std::llround(c.measured))), Pct(c.error_pct)});
    };
    row("makespan", p.makespan);
    for (const validation::TenantValidation& tv : p.tenants) {
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
    for (const validation::SpeedupValidation& x : v.speedups) {
      s.AddRow({v.plans[x.b].plan, v.plans[x.a].plan, FormatFixed(x.speedup.predicted, 3) + "x",
                FormatFixed(x.speedup.measured, 3) + "x", Pct(x.speedup.error_pct),
                x.same_direction ? "agrees" : "WRONG"});
    }
    s.Print(out);
    const validation::RankingValidation& r = v.ranking;
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
    ReplayCliOptions replay;
    double tie_pct = 1.0;
    MeasuredCliOptions measured;
  };
  auto o = std::make_shared<Options>();
  o->replay.repeat = 3;
  sub->add_option("-w,--workload", o->workload,
                  "Workload file (cotenant.workload/1): replay it and compare");
  sub->add_option("--measured", o->measured.table,
                  "Measured table (CSV: gpu,dtype,models,batch,seq_len,latency_us): predict "
                  "every row and compare, no GPU needed");
  sub->add_option("--calibration", o->measured.calibration,
                  "With --measured: use this calibration (cotenant.model-calibration/1)");
  sub->add_option("--kfold", o->measured.kfold,
                  "With --measured: k-fold cross-validation; each fold's model combinations "
                  "are predicted by a calibration fitted on the others")
      ->check(CLI::Range(2, 1000));
  sub->add_flag("--summary-only", o->measured.quiet_rows,
                "With --measured: print the summary, not a line per group");
  AddMeasuredOptions(sub, &o->measured, false);
  sub->add_option("-p,--plan", o->plans,
                  "Plan file (cotenant.plan/1) or 'native'; repeat to compare plans "
                  "(default: native)");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  sub->add_option("--model", o->model, "Contention model of the prediction")
      ->check(CLI::IsMember({"fluid", "block"}));
  sub->add_option("--json", o->json, "Write the comparison (cotenant.validation/1), - = stdout");
  AddReplayOptions(sub, &o->replay);
  sub->add_option("--tie-pct", o->tie_pct,
                  "Makespans within this many percent rank as a tie (measurement noise)")
      ->check(CLI::Range(0.0, 100.0));
  sub->footer(
      "Example:\n"
      "  cotenant validate --workload configs/workloads/vision3.json --plan native \\\n"
      "      --plan configs/plans/vision3_partition.json --json validation.json\n"
      "  cotenant validate --measured pairs.csv --calibration cal.json\n"
      "  cotenant validate --measured pairs.csv --kfold 7 --summary-only");
  return [o]() {
    if (!o->measured.table.empty()) {
      if (!o->workload.empty() || !o->plans.empty())
        throw InputError(
            "validate: --measured predicts the table's groups: drop --workload/--plan");
      if (o->measured.kfold > 0 && !o->measured.calibration.empty())
        throw InputError("validate: --kfold fits its own calibrations: drop --calibration");
      o->measured.model = o->model;
      o->measured.json = o->json;
      return RunValidateMeasured(o->measured);
    }
    if (o->workload.empty())
      throw InputError("validate: give --workload (replay on a GPU) or --measured (a table)");
    const std::unique_ptr<replay::Runner> runner = MakeRunner(o->replay, "validate");
    if (o->plans.empty()) o->plans.push_back("native");
    const LoadedWorkload lw = LoadWorkload(o->workload, o->gpu, nullptr, "validate");
    std::vector<validation::LabelledPlan> plans;
    for (const std::string& p : o->plans)
      plans.push_back({PlanLabel(p), LoadPlanOrNative(p == "native" ? "" : p)});
    // Each plan is replayed in its own process: its max_connections is its own.
    replay::ReplayMeasurer measurer(*runner, MakeReplayOptions(o->replay, nullptr),
                                    [](const std::string& label, const std::string& line) {
                                      std::fprintf(stderr, "validate: %s: %s\n", label.c_str(),
                                                   line.c_str());
                                    });
    validation::ValidateOptions vo;
    vo.tie_pct = o->tie_pct;
    const validation::WorkloadValidation wv = validation::ValidateWorkload(
        lw, plans, o->model, measurer, vo, [&](size_t i, const validation::Measurement& m) {
          for (const std::string& note : m.notes)
            std::fprintf(stderr, "validate: %s: note: %s\n", plans[i].label.c_str(), note.c_str());
        });
    const validation::Validation& v = wv.validation;
    if (!o->json.empty())
      WriteOutput(o->json, validation::ValidationToJson(wv, o->workload).dump(2) + "\n");
    if (o->json != "-") PrintValidation(v, stdout);
    return 0;
  };
}

}  // namespace cotenant::cli
