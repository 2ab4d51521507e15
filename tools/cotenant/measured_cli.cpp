#include "tools/cotenant/measured_cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "profiler/synth.h"
#include "sim/error.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/progress.h"
#include "tools/cotenant/table.h"
#include "tools/validation/table_run.h"

namespace cotenant::cli {
namespace {

std::string Pct(double v) { return (v >= 0.0 ? "+" : "") + FormatFixed(v, 1) + "%"; }

std::string Ms(double ns) { return FormatFixed(ns / 1e6, 2); }

std::string Value(const validation::FittedParameter& p, double v) {
  if (p.name == "harness_ns") return FormatFixed(v / 1000.0, 1) + " us";
  return FormatFixed(v, 4);
}

void PrintFit(const validation::TableFit& fit, const validation::MeasuredTable& table) {
  Table t({{"parameter"},
           {"stage"},
           {"before", Align::kRight},
           {"after", Align::kRight},
           {"std. error", Align::kRight},
           {"identified"}});
  for (const validation::FittedParameter& p : fit.parameters) {
    t.AddRow({p.name, p.stage, Value(p, p.before), Value(p, p.after),
              std::isfinite(p.sd) ? Value(p, p.sd) : "-",
              !p.fitted      ? "fixed"
              : p.identified ? "yes"
                             : "no: " + p.why});
  }
  t.Print(stdout);
  std::vector<double> solo_b, solo_a, co_b, co_a;
  for (const validation::RowFit& r : fit.rows) {
    const double b = 100.0 * std::fabs(r.before_ns - r.measured_ns) / r.measured_ns;
    const double a = 100.0 * std::fabs(r.after_ns - r.measured_ns) / r.measured_ns;
    if (table.rows[r.row].IsSolo()) {
      solo_b.push_back(b);
      solo_a.push_back(a);
    } else {
      co_b.push_back(b);
      co_a.push_back(a);
    }
  }
  const validation::ErrorSummary sb = validation::SummarizeAbsPct(solo_b),
                                 sa = validation::SummarizeAbsPct(solo_a),
                                 cb = validation::SummarizeAbsPct(co_b),
                                 ca = validation::SummarizeAbsPct(co_a);
  std::printf("\n");
  Table e({{"rows"},
           {"count", Align::kRight},
           {"|error| mean before", Align::kRight},
           {"mean after", Align::kRight},
           {"worst after", Align::kRight}});
  e.AddRow({"solo", std::to_string(sa.count), FormatFixed(sb.mape, 1) + "%",
            FormatFixed(sa.mape, 1) + "%", FormatFixed(sa.worst, 1) + "%"});
  e.AddRow({"co-run", std::to_string(ca.count), FormatFixed(cb.mape, 1) + "%",
            FormatFixed(ca.mape, 1) + "%", FormatFixed(ca.worst, 1) + "%"});
  e.Print(stdout);
  // The largest residuals, so that a user sees where the model is off.
  std::vector<const validation::RowFit*> order;
  for (const validation::RowFit& r : fit.rows) order.push_back(&r);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::fabs(a->after_ns / a->measured_ns - 1) >
           std::fabs(b->after_ns / b->measured_ns - 1);
  });
  std::printf("\nlargest residuals after the fit (all rows: the JSON's fit.rows):\n");
  Table w({{"line", Align::kRight},
           {"group"},
           {"measured ms", Align::kRight},
           {"fitted ms", Align::kRight},
           {"error", Align::kRight}});
  for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k) {
    const validation::RowFit& r = *order[k];
    w.AddRow({std::to_string(table.rows[r.row].line), table.rows[r.row].Label(), Ms(r.measured_ns),
              Ms(r.after_ns), Pct(100.0 * (r.after_ns - r.measured_ns) / r.measured_ns)});
  }
  w.Print(stdout);
}

void PrintValidation(const validation::TableValidation& v, const validation::MeasuredTable& table,
                     bool rows) {
  if (rows) {
    Table t({{"line", Align::kRight},
             {"group"},
             {"measured ms", Align::kRight},
             {"predicted ms", Align::kRight},
             {"error", Align::kRight},
             {"slowdown meas.", Align::kRight},
             {"slowdown pred.", Align::kRight},
             {"no-interf. err", Align::kRight},
             {"serial err", Align::kRight}});
    for (const validation::GroupComparison& g : v.groups) {
      const validation::MeasuredRow& r = table.rows[g.row];
      auto err = [&](const std::optional<double>& b) {
        return b ? Pct(100.0 * (*b - g.measured_ns) / g.measured_ns) : std::string("-");
      };
      t.AddRow({std::to_string(r.line), r.Label(), Ms(g.measured_ns), Ms(g.predicted_ns),
                Pct(100.0 * (g.predicted_ns - g.measured_ns) / g.measured_ns),
                g.measured_slowdown ? FormatFixed(*g.measured_slowdown, 3) : "-",
                g.predicted_slowdown ? FormatFixed(*g.predicted_slowdown, 3) : "-",
                err(g.no_interference_ns), err(g.serial_ns)});
    }
    t.Print(stdout);
    std::printf("\n");
  }
  Table s({{"predictor"},
           {"latency MAPE", Align::kRight},
           {"median", Align::kRight},
           {"worst", Align::kRight},
           {"slowdown MAPE", Align::kRight},
           {"median", Align::kRight},
           {"worst", Align::kRight}});
  auto add = [&](const std::string& name, const validation::ErrorSummary& l,
                 const validation::ErrorSummary& sd) {
    s.AddRow({name, FormatFixed(l.mape, 1) + "%", FormatFixed(l.median, 1) + "%",
              FormatFixed(l.worst, 1) + "%", FormatFixed(sd.mape, 1) + "%",
              FormatFixed(sd.median, 1) + "%", FormatFixed(sd.worst, 1) + "%"});
  };
  add(v.folds > 0 ? "cotenant (" + std::to_string(v.folds) + "-fold, held out)" : "cotenant",
      v.latency, v.slowdown);
  add("no interference (max solo)", v.no_interference_latency, v.no_interference_slowdown);
  add("serial (sum of solos)", v.serial_latency, v.serial_slowdown);
  s.Print(stdout);
  std::printf("solo rows: %lld, latency MAPE %.1f%%, worst %.1f%%\n",
              static_cast<long long>(v.solo.count), v.solo.mape, v.solo.worst);
  std::printf("%s\n", validation::SummaryLine(v).c_str());
}

}  // namespace

void AddMeasuredOptions(CLI::App* sub, MeasuredCliOptions* o, bool with_model) {
  sub->add_option("--framework", o->framework,
                  "Host-cost profile of the zoo models' synthetic traces (see cotenant synth "
                  "--help)");
  if (with_model) {
    sub->add_option("--model", o->model, "Contention model")
        ->check(CLI::IsMember({"fluid", "block"}));
  }
  sub->add_option("--threads", o->threads, "Simulation threads")->check(CLI::Range(1, 256));
}

validation::ZooSynthesizer Zoo() {
  return {profiler::SynthesizeZooMember, profiler::SynthFrameworks().front()};
}

int RunCalibrateMeasured(const MeasuredCliOptions& o) {
  validation::MeasuredCalibrateOptions co;
  co.table = o.table;
  co.model = o.model;
  co.framework = o.framework;
  co.threads = o.threads;
  co.max_iterations = o.max_iterations;
  co.fix = o.fix;
  co.date = o.date;
  ProgressBar bar("calibrate");
  co.on_iteration = [&](const std::string& stage, int32_t it, int32_t max, double cost) {
    bar.Update(static_cast<double>(it) / max,
               stage + " iteration " + std::to_string(it) + ", cost " + FormatFixed(cost, 5));
  };
  const validation::MeasuredCalibration c = validation::CalibrateMeasured(co, Zoo());
  bar.Finish();
  if (!c.table.ignored_columns.empty()) {
    std::string cols;
    for (const std::string& col : c.table.ignored_columns) cols += (cols.empty() ? "" : ", ") + col;
    std::fprintf(stderr, "calibrate: %s: ignored columns: %s\n", o.table.c_str(), cols.c_str());
  }
  WriteOutput(o.out, validation::TableCalibrationToJson(c.fit.calibration).dump(2) + "\n");
  std::printf("calibrated on %s (%zu rows, GPU %s, model %s)\n", o.table.c_str(),
              c.table.rows.size(), c.spec.key.c_str(), o.model.c_str());
  PrintFit(c.fit, c.table);
  return 0;
}

int RunValidateMeasured(const MeasuredCliOptions& o) {
  validation::MeasuredValidateOptions vo;
  vo.table = o.table;
  vo.calibration = o.calibration;
  vo.kfold = o.kfold;
  vo.model = o.model;
  vo.framework = o.framework;
  vo.threads = o.threads;
  ProgressBar bar("validate");
  vo.on_fold = [&](int32_t f, int32_t n) {
    bar.Update(static_cast<double>(f) / n,
               "fold " + std::to_string(f + 1) + "/" + std::to_string(n));
  };
  const validation::MeasuredValidation v = validation::ValidateMeasured(vo, Zoo());
  bar.Finish();
  if (!o.json.empty()) WriteOutput(o.json, v.ToJson().dump(2) + "\n");
  if (o.json != "-") PrintValidation(v.validation, v.table, !o.quiet_rows);
  return 0;
}

void ApplyCalibrationFile(const std::string& path, LoadedWorkload* lw, const char* command) {
  if (path.empty()) return;
  const validation::TableCalibration c = validation::ReadTableCalibration(path);
  const validation::AppliedCalibration a = validation::ApplyTableCalibration(lw, c, path);
  for (const std::string& line : a.lines)
    std::fprintf(stderr, "%s: calibration: %s\n", command, line.c_str());
}

}  // namespace cotenant::cli
