#include "tools/validation/table_validate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "sim/error.h"

namespace cotenant::validation {

ErrorSummary SummarizeAbsPct(std::vector<double> abs_pct) {
  ErrorSummary s;
  s.count = static_cast<int64_t>(abs_pct.size());
  if (abs_pct.empty()) return s;
  double sum = 0.0;
  for (double v : abs_pct) {
    sum += v;
    s.worst = std::max(s.worst, v);
  }
  s.mape = sum / static_cast<double>(abs_pct.size());
  std::sort(abs_pct.begin(), abs_pct.end());
  const size_t n = abs_pct.size();
  s.median = n % 2 ? abs_pct[n / 2] : 0.5 * (abs_pct[n / 2 - 1] + abs_pct[n / 2]);
  return s;
}

namespace {

double AbsPct(double predicted, double measured) {
  return 100.0 * std::fabs(predicted - measured) / measured;
}

/// Measured solos of a row's members: (largest, sum), or nothing if one is missing.
bool MeasuredSolos(const MeasuredTable& t, const MeasuredRow& r, double* largest, double* sum) {
  *largest = 0.0;
  *sum = 0.0;
  for (const MeasuredMember& m : r.members) {
    const double* s = t.Solo(r.gpu, r.dtype, m);
    if (s == nullptr) return false;
    *largest = std::max(*largest, *s);
    *sum += *s;
  }
  return true;
}

/// Predicted solo latency of each (dtype, member) of some rows, ns.
using PredictedSolos = std::map<std::pair<std::string, MeasuredMember>, double>;

/// Predicts every member of `rows` alone once (members recur in many rows).
PredictedSolos PredictSolos(const TablePredictor& p, const TableCalibration& c,
                            const std::vector<size_t>& rows, int32_t threads) {
  PredictedSolos solos;
  for (size_t i : rows)
    for (const MeasuredMember& m : p.table().rows[i].members)
      solos.emplace(std::make_pair(p.table().rows[i].dtype, m), 0.0);
  std::vector<PredictedSolos::value_type*> todo;
  for (auto& e : solos) todo.push_back(&e);
  ParallelFor(todo.size(), threads, [&](size_t k) {
    todo[k]->second = p.Group({todo[k]->first.second}, todo[k]->first.first, c);
  });
  return solos;
}

/// Fills the comparison of co-run row `i` predicted with `c`; `solos` holds
/// the members' solos predicted with `c`.
GroupComparison CompareRow(const TablePredictor& p, const TableCalibration& c, size_t i,
                           const PredictedSolos& solos) {
  const MeasuredTable& t = p.table();
  const MeasuredRow& r = t.rows[i];
  GroupComparison g;
  g.row = i;
  g.measured_ns = r.latency_ns;
  g.predicted_ns = p.Row(i, c);
  double largest = 0.0, sum = 0.0;
  if (MeasuredSolos(t, r, &largest, &sum)) {
    g.measured_slowdown = r.latency_ns / largest;
    g.no_interference_ns = largest;
    g.serial_ns = sum;
    double predicted_largest = 0.0;
    for (const MeasuredMember& m : r.members)
      predicted_largest = std::max(predicted_largest, solos.at(std::make_pair(r.dtype, m)));
    g.predicted_slowdown = g.predicted_ns / predicted_largest;
  }
  return g;
}

void Summarize(TableValidation* v) {
  std::vector<double> lat, sd, ni_lat, ni_sd, se_lat, se_sd, solo;
  for (const GroupComparison& g : v->groups) {
    lat.push_back(AbsPct(g.predicted_ns, g.measured_ns));
    if (g.measured_slowdown) {
      sd.push_back(AbsPct(*g.predicted_slowdown, *g.measured_slowdown));
      ni_lat.push_back(AbsPct(*g.no_interference_ns, g.measured_ns));
      ni_sd.push_back(AbsPct(1.0, *g.measured_slowdown));
      se_lat.push_back(AbsPct(*g.serial_ns, g.measured_ns));
      se_sd.push_back(AbsPct(*g.serial_ns / *g.no_interference_ns, *g.measured_slowdown));
    }
  }
  for (const RowFit& s : v->solos) solo.push_back(AbsPct(s.after_ns, s.measured_ns));
  v->latency = SummarizeAbsPct(lat);
  v->slowdown = SummarizeAbsPct(sd);
  v->no_interference_latency = SummarizeAbsPct(ni_lat);
  v->no_interference_slowdown = SummarizeAbsPct(ni_sd);
  v->serial_latency = SummarizeAbsPct(se_lat);
  v->serial_slowdown = SummarizeAbsPct(se_sd);
  v->solo = SummarizeAbsPct(solo);
}

nlohmann::json SummaryJson(const ErrorSummary& s) {
  return {
      {"count", s.count}, {"mape_pct", s.mape}, {"median_pct", s.median}, {"worst_pct", s.worst}};
}

}  // namespace

TableValidation ValidateTable(const TablePredictor& predictor, const TableCalibration& c,
                              int32_t threads) {
  const MeasuredTable& t = predictor.table();
  TableValidation v;
  std::vector<size_t> corun, solo;
  for (size_t i = 0; i < t.rows.size(); ++i) (t.rows[i].IsSolo() ? solo : corun).push_back(i);
  v.groups.resize(corun.size());
  const PredictedSolos solos = PredictSolos(predictor, c, corun, threads);
  ParallelFor(corun.size(), threads,
              [&](size_t k) { v.groups[k] = CompareRow(predictor, c, corun[k], solos); });
  v.solos.resize(solo.size());
  ParallelFor(solo.size(), threads, [&](size_t k) {
    RowFit& r = v.solos[k];
    r.row = solo[k];
    r.used = true;
    r.measured_ns = t.rows[solo[k]].latency_ns;
    r.before_ns = r.after_ns = predictor.Row(solo[k], c);
  });
  Summarize(&v);
  return v;
}

TableValidation CrossValidateTable(const TablePredictor& predictor, const TableCalibration& start,
                                   const KFoldOptions& options) {
  const MeasuredTable& t = predictor.table();
  std::set<std::string> combos;
  for (const MeasuredRow& r : t.rows)
    if (!r.IsSolo()) combos.insert(r.Combination());
  if (options.folds < 2 || static_cast<size_t>(options.folds) > combos.size()) {
    throw InputError(t.file + ": --kfold " + std::to_string(options.folds) + ": expected 2.." +
                     std::to_string(combos.size()) + " folds (one per model combination at most)");
  }
  std::map<std::string, int32_t> fold_of;
  int32_t k = 0;
  for (const std::string& c : combos) fold_of[c] = k++ % options.folds;
  TableValidation v;
  v.folds = options.folds;
  std::vector<GroupComparison> groups;
  for (int32_t f = 0; f < options.folds; ++f) {
    if (options.on_fold) options.on_fold(f, options.folds);
    TableFitOptions fo = options.fit;
    fo.train.assign(t.rows.size(), true);
    std::vector<size_t> test;
    for (size_t i = 0; i < t.rows.size(); ++i) {
      if (t.rows[i].IsSolo() || fold_of[t.rows[i].Combination()] != f) continue;
      fo.train[i] = false;
      test.push_back(i);
    }
    const TableFit fit = FitTable(predictor, start, fo);
    std::vector<GroupComparison> part(test.size());
    const PredictedSolos solos =
        PredictSolos(predictor, fit.calibration, test, options.fit.threads);
    ParallelFor(test.size(), options.fit.threads, [&](size_t j) {
      part[j] = CompareRow(predictor, fit.calibration, test[j], solos);
      part[j].fold = f;
    });
    groups.insert(groups.end(), part.begin(), part.end());
    if (f == 0) {  // solo rows are in every fold's training set: report the first fold's fit
      for (const RowFit& r : fit.rows)
        if (t.rows[r.row].IsSolo()) v.solos.push_back(r);
    }
  }
  std::sort(groups.begin(), groups.end(),
            [](const GroupComparison& a, const GroupComparison& b) { return a.row < b.row; });
  v.groups = std::move(groups);
  Summarize(&v);
  return v;
}

std::string SummaryLine(const TableValidation& v) {
  char buf[160];
  std::snprintf(
      buf, sizeof(buf), "%lld groups: latency MAPE %.1f%%, slowdown MAPE %.1f%%, worst %.1f%%",
      static_cast<long long>(v.latency.count), v.latency.mape, v.slowdown.mape, v.latency.worst);
  return buf;
}

nlohmann::json TableValidationToJson(const TableValidation& v, const MeasuredTable& table,
                                     const std::string& calibration) {
  auto opt = [](const std::optional<double>& x) {
    return x ? nlohmann::json(*x) : nlohmann::json();
  };
  nlohmann::json groups = nlohmann::json::array();
  for (const GroupComparison& g : v.groups) {
    const MeasuredRow& r = table.rows[g.row];
    nlohmann::json j = {{"line", r.line},
                        {"group", r.Label()},
                        {"measured_ns", g.measured_ns},
                        {"predicted_ns", g.predicted_ns},
                        {"error_pct", 100.0 * (g.predicted_ns - g.measured_ns) / g.measured_ns},
                        {"measured_slowdown", opt(g.measured_slowdown)},
                        {"predicted_slowdown", opt(g.predicted_slowdown)},
                        {"no_interference_ns", opt(g.no_interference_ns)},
                        {"serial_ns", opt(g.serial_ns)}};
    if (g.fold >= 0) j["fold"] = g.fold;
    groups.push_back(j);
  }
  nlohmann::json solos = nlohmann::json::array();
  for (const RowFit& s : v.solos) {
    const MeasuredRow& r = table.rows[s.row];
    solos.push_back({{"line", r.line},
                     {"member", r.Label()},
                     {"measured_ns", s.measured_ns},
                     {"predicted_ns", s.after_ns},
                     {"error_pct", 100.0 * (s.after_ns - s.measured_ns) / s.measured_ns}});
  }
  return {{"schema", "cotenant.table-validation/1"},
          {"table", table.file},
          {"calibration", calibration},
          {"folds", v.folds},
          {"summary",
           {{"latency", SummaryJson(v.latency)},
            {"slowdown", SummaryJson(v.slowdown)},
            {"solo_latency", SummaryJson(v.solo)},
            {"no_interference",
             {{"latency", SummaryJson(v.no_interference_latency)},
              {"slowdown", SummaryJson(v.no_interference_slowdown)}}},
            {"serial",
             {{"latency", SummaryJson(v.serial_latency)},
              {"slowdown", SummaryJson(v.serial_slowdown)}}}}},
          {"line", SummaryLine(v)},
          {"groups", groups},
          {"solos", solos}};
}

}  // namespace cotenant::validation
