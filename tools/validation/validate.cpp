#include "tools/validation/validate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/error.h"

namespace cotenant::validation {
namespace {

/// -1, 0 or +1: how `a` compares with `b`, equal within `tie_pct` of the larger.
int Order(double a, double b, double tie_pct) {
  const double tol = tie_pct / 100.0 * std::max(std::fabs(a), std::fabs(b));
  if (std::fabs(a - b) <= tol) return 0;
  return a < b ? -1 : 1;
}

/// Adds one error to the statistics; a non-finite error (measured 0) is left out.
void Add(AbsErrorStats* s, double error_pct) {
  if (!std::isfinite(error_pct)) return;
  const double e = std::fabs(error_pct);
  s->mean_pct =
      (s->mean_pct * static_cast<double>(s->count) + e) / static_cast<double>(s->count + 1);
  s->max_pct = std::max(s->max_pct, e);
  ++s->count;
}

/// A JSON number, or null for a non-finite value (JSON has no infinity).
nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json ComparedJson(const Compared& c) {
  return {{"predicted", Num(c.predicted)},
          {"measured", Num(c.measured)},
          {"error_pct", Num(c.error_pct)}};
}

nlohmann::json StatsJson(const AbsErrorStats& s) {
  return {{"count", s.count}, {"mean_abs_pct", Num(s.mean_pct)}, {"max_abs_pct", Num(s.max_pct)}};
}

}  // namespace

Compared Compare(double predicted, double measured) {
  Compared c;
  c.predicted = predicted;
  c.measured = measured;
  if (measured != 0.0) {
    c.error_pct = (predicted - measured) / measured * 100.0;
  } else if (predicted != 0.0) {
    c.error_pct = predicted > 0.0 ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity();
  }
  return c;
}

Validation Validate(const std::vector<std::string>& labels, const std::vector<SimResult>& predicted,
                    const std::vector<SimResult>& measured, const ValidateOptions& options) {
  COTENANT_CHECK(!labels.empty() && labels.size() == predicted.size() &&
                 labels.size() == measured.size());
  Validation v;
  const size_t n = labels.size();
  for (size_t i = 0; i < n; ++i) {
    PlanValidation pv;
    pv.plan = labels[i];
    pv.makespan = Compare(static_cast<double>(predicted[i].makespan_ns),
                          static_cast<double>(measured[i].makespan_ns));
    Add(&v.makespan_error, pv.makespan.error_pct);
    for (const TenantResult& p : predicted[i].tenants) {
      auto m = std::find_if(measured[i].tenants.begin(), measured[i].tenants.end(),
                            [&](const TenantResult& t) { return t.name == p.name; });
      if (m == measured[i].tenants.end()) {
        throw InputError("plan " + labels[i] + ": tenant \"" + p.name +
                         "\" is predicted but was not measured");
      }
      TenantValidation tv;
      tv.name = p.name;
      tv.mean_latency =
          Compare(static_cast<double>(p.latency.mean), static_cast<double>(m->latency.mean));
      tv.p99_latency =
          Compare(static_cast<double>(p.latency.p99), static_cast<double>(m->latency.p99));
      Add(&v.latency_error, tv.mean_latency.error_pct);
      Add(&v.latency_error, tv.p99_latency.error_pct);
      pv.tenants.push_back(tv);
    }
    v.plans.push_back(std::move(pv));
  }

  // Pairwise speedups and Kendall's tau-b over the makespans.
  RankingValidation& r = v.ranking;
  int64_t pairs = 0;
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = a + 1; b < n; ++b) {
      const Compared& pa = v.plans[a].makespan;
      const Compared& pb = v.plans[b].makespan;
      SpeedupValidation s;
      s.a = a;
      s.b = b;
      const double sp = pb.predicted > 0.0 ? pa.predicted / pb.predicted
                                           : std::numeric_limits<double>::quiet_NaN();
      const double sm =
          pb.measured > 0.0 ? pa.measured / pb.measured : std::numeric_limits<double>::quiet_NaN();
      s.speedup = Compare(sp, sm);
      const int op = Order(pa.predicted, pb.predicted, options.tie_pct);
      const int om = Order(pa.measured, pb.measured, options.tie_pct);
      s.same_direction = op == om;
      Add(&v.speedup_error, s.speedup.error_pct);
      v.speedups.push_back(s);
      ++pairs;
      if (op == 0) ++r.ties_predicted;
      if (om == 0) ++r.ties_measured;
      if (op != 0 && om != 0) (op == om ? r.concordant : r.discordant) += 1;
    }
  }
  const double denom = std::sqrt(static_cast<double>(pairs - r.ties_predicted) *
                                 static_cast<double>(pairs - r.ties_measured));
  if (pairs > 0 && denom > 0.0) {
    r.kendall_tau = static_cast<double>(r.concordant - r.discordant) / denom;
  }
  for (size_t i = 1; i < n; ++i) {
    if (v.plans[i].makespan.predicted < v.plans[r.predicted_best].makespan.predicted)
      r.predicted_best = i;
    if (v.plans[i].makespan.measured < v.plans[r.measured_best].makespan.measured)
      r.measured_best = i;
  }
  r.best_agrees = r.predicted_best == r.measured_best;
  const double best = v.plans[r.measured_best].makespan.measured;
  r.regret_pct =
      best > 0.0 ? (v.plans[r.predicted_best].makespan.measured / best - 1.0) * 100.0 : 0.0;
  return v;
}

nlohmann::json ValidationToJson(const Validation& v, const std::string& workload,
                                const std::string& device) {
  nlohmann::json plans = nlohmann::json::array();
  for (const PlanValidation& p : v.plans) {
    nlohmann::json tenants = nlohmann::json::object();
    for (const TenantValidation& t : p.tenants) {
      tenants[t.name] = {{"mean_latency_ns", ComparedJson(t.mean_latency)},
                         {"p99_latency_ns", ComparedJson(t.p99_latency)}};
    }
    plans.push_back(
        {{"plan", p.plan}, {"makespan_ns", ComparedJson(p.makespan)}, {"tenants", tenants}});
  }
  nlohmann::json speedups = nlohmann::json::array();
  for (const SpeedupValidation& s : v.speedups) {
    nlohmann::json j = ComparedJson(s.speedup);
    j["base"] = v.plans[s.a].plan;
    j["plan"] = v.plans[s.b].plan;
    j["same_direction"] = s.same_direction;
    speedups.push_back(j);
  }
  const RankingValidation& r = v.ranking;
  nlohmann::json ranking = {{"concordant", r.concordant},
                            {"discordant", r.discordant},
                            {"ties_predicted", r.ties_predicted},
                            {"ties_measured", r.ties_measured},
                            {"kendall_tau", r.kendall_tau ? Num(*r.kendall_tau) : nlohmann::json()},
                            {"predicted_best", v.plans[r.predicted_best].plan},
                            {"measured_best", v.plans[r.measured_best].plan},
                            {"best_agrees", r.best_agrees},
                            {"regret_pct", Num(r.regret_pct)}};
  return {{"schema", "cotenant.validation/1"},
          {"workload", workload},
          {"device", device},
          {"plans", plans},
          {"speedups", speedups},
          {"ranking", ranking},
          {"summary",
           {{"makespan", StatsJson(v.makespan_error)},
            {"latency", StatsJson(v.latency_error)},
            {"speedup", StatsJson(v.speedup_error)}}}};
}

WorkloadValidation ValidateWorkload(const LoadedWorkload& lw,
                                    const std::vector<LabelledPlan>& plans,
                                    const std::string& model, Measurer& measurer,
                                    const ValidateOptions& options, const OnMeasured& on_measured) {
  COTENANT_CHECK(!plans.empty());
  std::vector<std::string> labels;
  std::vector<SimResult> predicted;
  for (const LabelledPlan& p : plans) {
    labels.push_back(p.label);
    SimOptions so;
    so.model = model;
    predicted.push_back(Simulate(lw, p.plan, so));
  }
  WorkloadValidation out;
  std::vector<SimResult> measured;
  for (size_t i = 0; i < plans.size(); ++i) {
    Measurement m = measurer.Measure(lw, plans[i].plan, plans[i].label);
    if (on_measured) on_measured(i, m);
    out.device = m.device;
    out.driver_version = m.driver_version;
    out.timing = m.timing;
    measured.push_back(std::move(m.result));
  }
  out.validation = Validate(labels, predicted, measured, options);
  return out;
}

nlohmann::json ValidationToJson(const WorkloadValidation& v, const std::string& workload) {
  nlohmann::json j = ValidationToJson(v.validation, workload, v.device);
  j["driver_version"] = v.driver_version;
  j["timing"] = v.timing;
  return j;
}

}  // namespace cotenant::validation
