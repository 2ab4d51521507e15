#include "tools/validation/table_fit.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
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
/// Relative measurement noise at which a parameter's identification is
/// judged (LsOptions::identify_noise): an assumption, inside the 1-10%
/// run-to-run variation the reference table's README gives for solo rows.
constexpr double kIdentifyNoise = 0.03;
/// Bounds of a model's batch exponent, and the standard error at which it counts as identified.
constexpr double kMaxBatchExponent = 1.0, kMaxBatchExponentSd = 0.1;
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
  /// When several parameters are not identified, those of the highest rank
  /// go back to their start value first (refinements before the main terms).
  int32_t drop_rank = 0;
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

  // Parameters as reported, by name, in the order first seen.
  std::vector<FittedParameter> records;
  auto record = [&](const FittedParameter& fp) -> FittedParameter& {
    for (FittedParameter& r : records) {
      if (r.name != fp.name) continue;
      const double before = r.before;
      r = fp;
      r.before = before;  // the start of the whole fit
      return r;
    }
    records.push_back(fp);
    return records.back();
  };

  auto predict_rows = [&](const TableCalibration& c, const std::vector<size_t>& rows) {
    std::vector<double> out(rows.size());
    ParallelFor(rows.size(), options.threads,
                [&](size_t k) { out[k] = predictor.Row(rows[k], c); });
    return out;
  };

  // Fits `slots` to `rows`; parameters the data do not identify go back to
  // their start value and the others are fitted again without them, so what
  // the data cannot see keeps its default instead of drifting with the noise.
  auto run_stage = [&](const std::string& stage, const std::vector<Slot>& slots,
                       const std::vector<size_t>& rows) {
    std::vector<const Slot*> free;
    for (const Slot& s : slots) {
      FittedParameter fp;
      fp.name = s.name;
      fp.stage = stage;
      fp.before = fp.after = s.ls.value;
      fp.sd = std::numeric_limits<double>::quiet_NaN();
      if (Fixed(options, s.name)) {
        fp.fitted = false;
        fp.why = "held fixed";
      } else if (rows.empty()) {
        fp.why = "no " + stage + " row to fit";
      } else {
        free.push_back(&s);
      }
      record(fp);
    }
    if (free.empty()) return;
    std::vector<double> measured;
    for (size_t i : rows) measured.push_back(table.rows[i].latency_ns);
    std::vector<double> x;
    for (const Slot* s : free) x.push_back(s->ls.value);
    auto apply = [&](const std::vector<double>& v) {
      TableCalibration c = cal;
      for (size_t j = 0; j < free.size(); ++j) free[j]->set(&c, v[j]);
      return c;
    };
    LsOptions lo;
    lo.max_iterations = options.max_iterations;
    lo.identify_noise = kIdentifyNoise;
    if (options.on_iteration) {
      lo.on_iteration = [&](int32_t it, int32_t max, double cost) {
        options.on_iteration(stage, it, max, cost);
      };
    }
    std::vector<bool> live(free.size(), true);
    LsResult last;
    for (int pass = 0; pass < 4; ++pass) {
      std::vector<LsParameter> params;
      std::vector<size_t> index;
      for (size_t j = 0; j < free.size(); ++j) {
        if (!live[j]) continue;
        params.push_back(free[j]->ls);
        params.back().value = x[j];
        index.push_back(j);
      }
      if (params.empty()) break;
      const std::vector<double> base = x;
      const ResidualFn fn = [&](const std::vector<double>& y) {
        std::vector<double> full = base;
        for (size_t k = 0; k < index.size(); ++k) full[index[k]] = y[k];
        const std::vector<double> p = predict_rows(apply(full), rows);
        std::vector<double> r(p.size());
        for (size_t k = 0; k < p.size(); ++k) r[k] = Relative(p[k], measured[k]);
        return r;
      };
      last = LeastSquares(params, fn, lo);
      fit.iterations += last.iterations;
      fit.converged = last.converged;
      bool dropped = false;
      int32_t rank = INT32_MIN;  // drop the highest rank among the unidentified only
      for (size_t k = 0; k < index.size(); ++k)
        if (!last.identified[k]) rank = std::max(rank, free[index[k]]->drop_rank);
      for (size_t k = 0; k < index.size(); ++k) {
        const size_t j = index[k];
        if (!last.identified[k] && free[j]->drop_rank < rank) {
          x[j] = last.x[k];  // refitted in the next pass, without the dropped ones
          continue;
        }
        FittedParameter fp;
        fp.name = free[j]->name;
        fp.stage = stage;
        fp.before = free[j]->ls.value;
        fp.sd = last.sd[k];
        fp.identified = last.identified[k];
        fp.why = last.why[k];
        if (fp.identified) {
          x[j] = last.x[k];
        } else {
          x[j] = free[j]->ls.value;
          live[j] = false;
          dropped = true;
          fp.why += "; kept at its start value";
        }
        fp.after = x[j];
        record(fp);
      }
      if (!dropped) break;
    }
    cal = apply(x);
  };

  // Stage 1: per-model scales (log units) and the harness cost (us), on solo rows.
  std::set<std::string> solo_models;
  for (size_t i : solo_rows) solo_models.insert(table.rows[i].members[0].model);
  // The batch term's reference: the geometric mean of a model's solo batch
  // sizes (so that gpu_scale is the factor in the middle of the data and
  // the two are fitted nearly independently); none with one batch size.
  {
    std::map<std::string, std::set<int64_t>> batches;
    for (size_t i : solo_rows) {
      const MeasuredMember& m = table.rows[i].members[0];
      batches[m.model].insert(m.batch);
    }
    for (auto& [model, b] : batches) {
      if (b.size() < 2 || Fixed(options, model + ".gpu_batch_exponent")) continue;
      double log_sum = 0.0;
      for (int64_t x : b) log_sum += std::log(static_cast<double>(x));
      ModelScales& sc = cal.models[model];
      if (sc.batch_ref <= 0) {
        sc.batch_ref =
            std::max<int64_t>(1, std::llround(std::exp(log_sum / static_cast<double>(b.size()))));
      }
    }
  }
  double min_solo_us = 1e300;
  for (size_t i : solo_rows) min_solo_us = std::min(min_solo_us, table.rows[i].latency_ns / 1000.0);
  auto solo_slots = [&]() {
    std::vector<Slot> s1;
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
      if (scales.batch_ref > 0) {  // solo rows at two or more batch sizes
        Slot e;
        e.name = m + ".gpu_batch_exponent";
        e.ls = {e.name, scales.gpu_batch_exponent, -kMaxBatchExponent, kMaxBatchExponent,
                1e-3,   kMaxBatchExponentSd};
        e.set = [m](TableCalibration* c, double v) { c->models[m].gpu_batch_exponent = v; };
        e.drop_rank = 1;
        s1.push_back(e);
      }
    }
    return s1;
  };
  // Each model's scales start at the median ratio of its measured to
  // predicted solo latencies (where the start is the identity and nothing is
  // held fixed), so that the fit starts near the data even when the traces
  // are far off (synth's host costs can be several times too low for an old
  // framework, and far from the solution one side of a model can hide
  // behind the other where the fit cannot see it).
  if (!solo_rows.empty()) {
    const std::vector<double> predicted = predict_rows(cal, solo_rows);
    std::map<std::string, std::vector<double>> ratios;
    for (size_t k = 0; k < solo_rows.size(); ++k) {
      const MeasuredRow& r = table.rows[solo_rows[k]];
      if (predicted[k] > 0.0) ratios[r.members[0].model].push_back(r.latency_ns / predicted[k]);
    }
    for (auto& [model, v] : ratios) {
      ModelScales& sc = cal.models[model];
      if (sc.host != 1.0 || sc.gpu != 1.0 || Fixed(options, model + ".host_scale") ||
          Fixed(options, model + ".gpu_scale"))
        continue;
      std::sort(v.begin(), v.end());
      const double median =
          v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
      sc.host = sc.gpu = std::clamp(median, kMinScale, kMaxScale);
    }
  }
  run_stage("solo", solo_slots(), solo_rows);
  // A scale the data do not identify for one model (its solo rows never
  // show that side: a host-bound model's GPU time, a GPU-bound model's host
  // time) takes the geometric mean of the scales identified for the other
  // models: they share the framework, the CPU and the libraries. Then the
  // solo stage runs again from there (a GPU scale may show once it starts
  // from a realistic value).
  auto is_scale = [](const std::string& name, const char* which) {
    const std::string suffix = std::string(".") + which;
    return name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<std::string> borrowed;
  for (const char* which : {"host_scale", "gpu_scale"}) {
    double sum = 0.0;
    int n = 0;
    for (const FittedParameter& fp : records) {
      if (is_scale(fp.name, which) && fp.identified) {
        sum += fp.after;  // (log units until reported)
        ++n;
      }
    }
    if (n == 0) continue;
    const double mean = sum / n;
    for (auto& [model, scales] : cal.models) {
      const std::string name = model + "." + which;
      if (Fixed(options, name)) continue;
      bool identified = false;
      for (const FittedParameter& fp : records)
        if (fp.name == name && fp.identified) identified = true;
      if (identified) continue;
      (std::string(which) == "host_scale" ? scales.host : scales.gpu) = std::exp(mean);
      borrowed.push_back(name);
    }
  }
  if (!borrowed.empty() && !solo_rows.empty()) run_stage("solo", solo_slots(), solo_rows);
  // Report scales as factors, not logs.
  for (FittedParameter& fp : records) {
    if (is_scale(fp.name, "host_scale") || is_scale(fp.name, "gpu_scale")) {
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
    for (const char* which : {"host_scale", "gpu_scale"}) {
      const std::string name = model + "." + which;
      const bool was_borrowed = std::find(borrowed.begin(), borrowed.end(), name) != borrowed.end();
      FittedParameter* fp = nullptr;
      for (FittedParameter& r : records)
        if (r.name == name) fp = &r;
      if (fp == nullptr) {  // no solo row of this model
        FittedParameter add;
        add.name = name;
        add.stage = "solo";
        add.before = 1.0;
        add.sd = std::numeric_limits<double>::quiet_NaN();
        add.why = "no solo row of this model";
        fp = &record(add);
      }
      fp->after = std::string(which) == "host_scale" ? scales.host : scales.gpu;
      if (was_borrowed && !fp->identified) {
        const size_t cut = fp->why.find("; kept at its start value");
        if (cut != std::string::npos) fp->why.resize(cut);
        fp->why += "; set to the geometric mean of the other models' identified scales";
      }
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
  fit.parameters = records;

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
