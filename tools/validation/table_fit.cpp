#include "tools/validation/table_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "sim/error.h"
#include "tools/validation/least_squares.h"

namespace cotenant::validation {
namespace {

/// Bounds of a fitted time scale.
constexpr double kMinScale = 0.02, kMaxScale = 50.0;
/// A scale counts as identified when its standard error is below this in
/// log units (a factor of 1.25).
constexpr double kMaxLogScaleSd = 0.22;
/// The harness cost counts as identified when its standard error is below this, us.
constexpr double kMaxHarnessSdUs = 100.0;
/// Upper bound of a contention parameter.
constexpr double kMaxContention = 10.0;
/// A contention parameter counts as identified when its standard error is
/// at most max(this, half its value).
constexpr double kMaxContentionSd = 0.01, kMaxContentionRelSd = 0.5;

bool Fixed(const TableFitOptions& o, const std::string& name) {
  for (const std::string& f : o.fixed) {
    if (f == name) return true;
    if (f.size() > 2 && f.compare(f.size() - 2, 2, ".*") == 0 &&
        name.compare(0, f.size() - 1, f, 0, f.size() - 1) == 0)
      return true;
  }
  return false;
}

/// One parameter of a stage: how it maps onto the calibration.
struct Slot {
  std::string name;
  LsParameter ls;
  std::function<void(TableCalibration*, double)> set;
};

double Relative(double predicted, double measured) { return (predicted - measured) / measured; }

}  // namespace

TableFit FitTable(const TablePredictor& predictor, const TableCalibration& start,
                  const TableFitOptions& options) {
  const MeasuredTable& table = predictor.table();
  const size_t n_rows = table.rows.size();
  if (!options.train.empty() && options.train.size() != n_rows) {
    throw InputError("fit: the training mask has " + std::to_string(options.train.size()) +
                     " rows, the table " + std::to_string(n_rows));
  }
  auto used = [&](size_t i) { return options.train.empty() || options.train[i]; };
  std::vector<size_t> solo_rows, corun_rows;
  for (size_t i = 0; i < n_rows; ++i) {
    if (!used(i)) continue;
    (table.rows[i].IsSolo() ? solo_rows : corun_rows).push_back(i);
  }
  if (solo_rows.empty() && corun_rows.empty()) throw InputError(table.file + ": no row to fit");

  TableFit fit;
  fit.calibration = start;
  TableCalibration& cal = fit.calibration;
  for (const std::string& m : predictor.Models()) cal.models.emplace(m, ModelScales{});

  auto predict_rows = [&](const TableCalibration& c, const std::vector<size_t>& rows) {
    std::vector<double> out(rows.size());
    ParallelFor(rows.size(), options.threads,
                [&](size_t k) { out[k] = predictor.Row(rows[k], c); });
    return out;
  };

  auto run_stage = [&](const std::string& stage, std::vector<Slot> slots,
                       const std::vector<size_t>& rows) {
    std::vector<LsParameter> params;
    std::vector<Slot> free;
    for (Slot& s : slots) {
      FittedParameter fp;
      fp.name = s.name;
      fp.stage = stage;
      fp.before = fp.after = s.ls.value;
      if (Fixed(options, s.name)) {
        fp.fitted = false;
        fp.sd = std::numeric_limits<double>::quiet_NaN();
        fp.why = "held fixed";
        fit.parameters.push_back(fp);
        continue;
      }
      fit.parameters.push_back(fp);
      params.push_back(s.ls);
      free.push_back(std::move(s));
    }
    if (params.empty() || rows.empty()) {
      for (size_t k = fit.parameters.size() - slots.size(); k < fit.parameters.size(); ++k) {
        if (fit.parameters[k].fitted && rows.empty()) {
          fit.parameters[k].identified = false;
          fit.parameters[k].sd = std::numeric_limits<double>::quiet_NaN();
          fit.parameters[k].why = "no " + stage + " row to fit";
        }
      }
      return;
    }
    std::vector<double> measured;
    for (size_t i : rows) measured.push_back(table.rows[i].latency_ns);
    auto apply = [&](const std::vector<double>& x) {
      TableCalibration c = cal;
      for (size_t j = 0; j < free.size(); ++j) free[j].set(&c, x[j]);
      return c;
    };
    const ResidualFn fn = [&](const std::vector<double>& x) {
      const std::vector<double> p = predict_rows(apply(x), rows);
      std::vector<double> r(p.size());
      for (size_t k = 0; k < p.size(); ++k) r[k] = Relative(p[k], measured[k]);
      return r;
    };
    LsOptions lo;
    lo.max_iterations = options.max_iterations;
    if (options.on_iteration) {
      lo.on_iteration = [&](int32_t it, int32_t max, double cost) {
        options.on_iteration(stage, it, max, cost);
      };
    }
    LsResult res = LeastSquares(params, fn, lo);
    fit.iterations += res.iterations;
    // Parameters the data do not identify go back to their start value and
    // the others are fitted again without them: what the data cannot see
    // keeps its default instead of drifting to wherever the noise pushes it.
    std::vector<double> x = res.x;
    std::vector<bool> identified = res.identified;
    std::vector<double> sd = res.sd;
    std::vector<std::string> why = res.why;
    const size_t n_id = static_cast<size_t>(std::count(identified.begin(), identified.end(), true));
    if (n_id < params.size()) {
      std::vector<LsParameter> again;
      std::vector<size_t> index;
      for (size_t j = 0; j < params.size(); ++j) {
        if (identified[j]) {
          again.push_back(params[j]);
          again.back().value = x[j];
          index.push_back(j);
        } else {
          x[j] = params[j].value;
        }
      }
      if (!again.empty()) {
        const std::vector<double> base = x;
        const ResidualFn fn2 = [&](const std::vector<double>& y) {
          std::vector<double> full = base;
          for (size_t k = 0; k < index.size(); ++k) full[index[k]] = y[k];
          return fn(full);
        };
        const LsResult res2 = LeastSquares(again, fn2, lo);
        fit.iterations += res2.iterations;
        for (size_t k = 0; k < index.size(); ++k) {
          x[index[k]] = res2.x[k];
          sd[index[k]] = res2.sd[k];
          identified[index[k]] = res2.identified[k];
          why[index[k]] = res2.why[k];
        }
        res.converged = res2.converged;
      }
    }
    cal = apply(x);
    fit.converged = res.converged;
    // Record results against the stage's fitted parameters (in order).
    size_t j = 0;
    for (FittedParameter& fp : fit.parameters) {
      if (fp.stage != stage || !fp.fitted) continue;
      fp.after = x[j];
      fp.sd = sd[j];
      fp.identified = identified[j];
      fp.why = why[j].empty() || identified[j] ? why[j] : why[j] + "; kept at its start value";
      ++j;
    }
  };

  // Stage 1: per-model scales (log units) and the harness cost (us), on solo rows.
  std::set<std::string> solo_models;
  for (size_t i : solo_rows) solo_models.insert(table.rows[i].members[0].model);
  std::vector<Slot> s1;
  double min_solo_us = 1e300;
  for (size_t i : solo_rows) min_solo_us = std::min(min_solo_us, table.rows[i].latency_ns / 1000.0);
  {
    Slot h;
    h.name = "harness_ns";
    h.ls = {h.name, static_cast<double>(cal.harness_ns) / 1000.0,
            0.0,    std::max(0.0, solo_rows.empty() ? 0.0 : 0.9 * min_solo_us),
            1.0,    kMaxHarnessSdUs};
    h.ls.value = std::min(h.ls.value, h.ls.hi);
    h.set = [](TableCalibration* c, double us) {
      c->harness_ns = static_cast<TimeNs>(std::llround(us * 1000.0));
    };
    s1.push_back(h);
  }
  for (const auto& [model, scales] : cal.models) {
    const std::string m = model;
    if (!solo_models.count(m)) continue;
    Slot host, gpu;
    host.name = m + ".host_scale";
    host.ls = {host.name, std::log(scales.host), std::log(kMinScale), std::log(kMaxScale),
               1e-3,      kMaxLogScaleSd};
    host.set = [m](TableCalibration* c, double v) { c->models[m].host = std::exp(v); };
    gpu.name = m + ".gpu_scale";
    gpu.ls = {gpu.name, std::log(scales.gpu), std::log(kMinScale), std::log(kMaxScale),
              1e-3,     kMaxLogScaleSd};
    gpu.set = [m](TableCalibration* c, double v) { c->models[m].gpu = std::exp(v); };
    s1.push_back(host);
    s1.push_back(gpu);
  }
  run_stage("solo", s1, solo_rows);
  // Report scales as factors, not logs.
  for (FittedParameter& fp : fit.parameters) {
    if (fp.name.size() > 6 && fp.name.compare(fp.name.size() - 6, 6, "_scale") == 0) {
      fp.before = std::exp(fp.before);
      fp.after = std::exp(fp.after);
      if (std::isfinite(fp.sd)) fp.sd *= fp.after;  // delta method: sd of exp(v)
    } else if (fp.name == "harness_ns") {
      fp.before *= 1000.0;
      fp.after *= 1000.0;
      if (std::isfinite(fp.sd)) fp.sd *= 1000.0;
    }
  }
  for (const auto& [model, scales] : cal.models) {
    if (solo_models.count(model)) continue;
    for (const char* which : {".host_scale", ".gpu_scale"}) {
      FittedParameter fp;
      fp.name = model + which;
      fp.stage = "solo";
      fp.before = fp.after = 1.0;
      fp.sd = std::numeric_limits<double>::quiet_NaN();
      fp.why = "no solo row of this model";
      fit.parameters.push_back(fp);
    }
  }

  // Stage 2: contention parameters, on co-run rows.
  std::vector<Slot> s2;
  for (const std::string& name : TableContentionParameters()) {
    Slot s;
    s.name = name;
    s.ls = {name,
            GetContention(cal.contention, name),
            0.0,
            kMaxContention,
            1e-3,
            kMaxContentionSd,
            kMaxContentionRelSd};
    s.set = [name](TableCalibration* c, double v) { SetContention(&c->contention, name, v); };
    s2.push_back(s);
  }
  run_stage("co-run", s2, corun_rows);

  // Every row, before and after.
  std::vector<size_t> all(n_rows);
  for (size_t i = 0; i < n_rows; ++i) all[i] = i;
  const std::vector<double> before = predict_rows(start, all);
  const std::vector<double> after = predict_rows(cal, all);
  for (size_t i = 0; i < n_rows; ++i) {
    RowFit r;
    r.row = i;
    r.used = used(i);
    r.measured_ns = table.rows[i].latency_ns;
    r.before_ns = before[i];
    r.after_ns = after[i];
    fit.rows.push_back(r);
  }
  return fit;
}

nlohmann::json TableFitToJson(const TableFit& fit, const MeasuredTable& table) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json params = nlohmann::json::array();
  for (const FittedParameter& p : fit.parameters) {
    params.push_back({{"name", p.name},
                      {"stage", p.stage},
                      {"before", p.before},
                      {"after", p.after},
                      {"sd", num(p.sd)},
                      {"fitted", p.fitted},
                      {"identified", p.identified},
                      {"why", p.why}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const RowFit& r : fit.rows) {
    const MeasuredRow& m = table.rows[r.row];
    rows.push_back({{"line", m.line},
                    {"group", m.Label()},
                    {"used", r.used},
                    {"measured_ns", r.measured_ns},
                    {"before_ns", r.before_ns},
                    {"after_ns", r.after_ns},
                    {"error_before_pct", 100.0 * Relative(r.before_ns, r.measured_ns)},
                    {"error_after_pct", 100.0 * Relative(r.after_ns, r.measured_ns)}});
  }
  return {{"iterations", fit.iterations},
          {"converged", fit.converged},
          {"parameters", params},
          {"rows", rows}};
}

}  // namespace cotenant::validation
