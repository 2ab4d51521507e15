// Validation: predicted against measured results, with hand-computed errors.
#include "tools/validation/validate.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::validation {
namespace {

/// A result with one makespan and per-tenant (name, mean, p99) latencies.
SimResult Result(TimeNs makespan, std::vector<std::tuple<std::string, TimeNs, TimeNs>> tenants) {
  SimResult r;
  r.model = "x";
  r.makespan_ns = makespan;
  for (const auto& [name, mean, p99] : tenants) {
    TenantResult t;
    t.name = name;
    t.latency.mean = mean;
    t.latency.p99 = p99;
    r.tenants.push_back(t);
  }
  return r;
}

}  // namespace

TEST_CASE("validate: errors, speedup and ranking of two plans", "[validation][validate]") {
  // Predicted 100 -> 80 ns, measured 110 -> 90 ns: both say plan b is faster.
  const std::vector<SimResult> pred = {Result(100, {{"a", 50, 60}, {"b", 10, 20}}),
                                       Result(80, {{"a", 40, 40}, {"b", 10, 10}})};
  const std::vector<SimResult> meas = {Result(110, {{"b", 10, 25}, {"a", 40, 80}}),
                                       Result(90, {{"a", 40, 50}, {"b", 8, 10}})};
  const Validation v = Validate({"native", "best"}, pred, meas);
  REQUIRE(v.plans.size() == 2);
  REQUIRE(v.plans[0].makespan.error_pct == Approx(-100.0 / 11.0));  // (100-110)/110
  REQUIRE(v.plans[1].makespan.error_pct == Approx(-100.0 / 9.0));
  // Tenants matched by name, not position.
  REQUIRE(v.plans[0].tenants[0].name == "a");
  REQUIRE(v.plans[0].tenants[0].mean_latency.error_pct == Approx(25.0));  // 50 vs 40
  REQUIRE(v.plans[0].tenants[0].p99_latency.error_pct == Approx(-25.0));  // 60 vs 80
  REQUIRE(v.plans[0].tenants[1].p99_latency.error_pct == Approx(-20.0));  // 20 vs 25
  REQUIRE(v.plans[1].tenants[1].mean_latency.error_pct == Approx(25.0));  // 10 vs 8
  REQUIRE(v.speedups.size() == 1);
  REQUIRE(v.speedups[0].speedup.predicted == Approx(1.25));
  REQUIRE(v.speedups[0].speedup.measured == Approx(110.0 / 90.0));
  REQUIRE(v.speedups[0].speedup.error_pct == Approx((1.25 / (110.0 / 90.0) - 1.0) * 100.0));
  REQUIRE(v.speedups[0].same_direction);
  REQUIRE(v.ranking.concordant == 1);
  REQUIRE(v.ranking.discordant == 0);
  REQUIRE(v.ranking.kendall_tau.has_value());
  REQUIRE(*v.ranking.kendall_tau == Approx(1.0));
  REQUIRE(v.ranking.predicted_best == 1);
  REQUIRE(v.ranking.best_agrees);
  REQUIRE(v.ranking.regret_pct == 0.0);
  REQUIRE(v.makespan_error.count == 2);
  REQUIRE(v.makespan_error.mean_pct == Approx((100.0 / 11.0 + 100.0 / 9.0) / 2.0));
  REQUIRE(v.makespan_error.max_pct == Approx(100.0 / 9.0));
  REQUIRE(v.latency_error.count == 8);
  REQUIRE(v.latency_error.max_pct == Approx(25.0));
}

TEST_CASE("validate: a wrong ranking gives a negative tau and a regret", "[validation][validate]") {
  // Predicted 100, 90, 120; measured 100, 110, 105. Pairs (0,1) and (1,2)
  // are ordered oppositely, (0,2) alike: tau = (1 - 2) / 3. The simulator
  // picks plan 1, which really takes 110 against the best 100: 10% regret.
  const std::vector<SimResult> pred = {Result(100, {}), Result(90, {}), Result(120, {})};
  const std::vector<SimResult> meas = {Result(100, {}), Result(110, {}), Result(105, {})};
  const Validation v = Validate({"p0", "p1", "p2"}, pred, meas);
  REQUIRE(v.speedups.size() == 3);
  REQUIRE(v.speedups[0].a == 0);
  REQUIRE(v.speedups[0].b == 1);
  REQUIRE_FALSE(v.speedups[0].same_direction);
  REQUIRE(v.speedups[1].same_direction);
  REQUIRE_FALSE(v.speedups[2].same_direction);
  REQUIRE(v.ranking.concordant == 1);
  REQUIRE(v.ranking.discordant == 2);
  REQUIRE(*v.ranking.kendall_tau == Approx(-1.0 / 3.0));
  REQUIRE(v.ranking.predicted_best == 1);
  REQUIRE(v.ranking.measured_best == 0);
  REQUIRE_FALSE(v.ranking.best_agrees);
  REQUIRE(v.ranking.regret_pct == Approx(10.0));
  const nlohmann::json j = ValidationToJson(v, "w.json", "GPU");
  REQUIRE(j["schema"] == "cotenant.validation/1");
  REQUIRE(j["ranking"]["predicted_best"] == "p1");
  REQUIRE(j["ranking"]["measured_best"] == "p0");
  REQUIRE(j["speedups"][1]["base"] == "p0");
  REQUIRE(j["speedups"][1]["plan"] == "p2");
  REQUIRE(j["plans"][2]["makespan_ns"]["measured"] == 105.0);
  REQUIRE(j["summary"]["makespan"]["count"] == 3);
}

TEST_CASE("validate: ties within the tolerance; tau undefined", "[validation][validate]") {
  // 100 vs 102 is a tie at 5%; the measurement separates them, so every
  // pair is tied on the predicted side and tau-b is undefined.
  const std::vector<SimResult> pred = {Result(100, {}), Result(102, {})};
  const std::vector<SimResult> meas = {Result(100, {}), Result(120, {})};
  ValidateOptions o;
  o.tie_pct = 5.0;
  const Validation v = Validate({"a", "b"}, pred, meas, o);
  REQUIRE(v.ranking.ties_predicted == 1);
  REQUIRE(v.ranking.ties_measured == 0);
  REQUIRE_FALSE(v.ranking.kendall_tau.has_value());
  REQUIRE_FALSE(v.speedups[0].same_direction);
  REQUIRE(ValidationToJson(v, "w", "d")["ranking"]["kendall_tau"].is_null());
  // Exact comparison: no ties, concordant.
  const Validation e = Validate({"a", "b"}, pred, meas);
  REQUIRE(*e.ranking.kendall_tau == Approx(1.0));
  // One plan: nothing to rank.
  const Validation one = Validate({"a"}, {pred[0]}, {meas[0]});
  REQUIRE(one.speedups.empty());
  REQUIRE_FALSE(one.ranking.kendall_tau.has_value());
  REQUIRE(one.ranking.best_agrees);
}

TEST_CASE("validate: zero measured values and missing tenants", "[validation][validate]") {
  const Compared c = Compare(5.0, 0.0);
  REQUIRE(std::isinf(c.error_pct));
  REQUIRE(Compare(0.0, 0.0).error_pct == 0.0);
  const Validation v = Validate({"a"}, {Result(10, {{"t", 5, 5}})}, {Result(10, {{"t", 0, 5}})});
  REQUIRE(ValidationToJson(v, "w", "d")["plans"][0]["tenants"]["t"]["mean_latency_ns"]["error_pct"]
              .is_null());
  REQUIRE_THROWS_WITH(Validate({"a"}, {Result(10, {{"t", 5, 5}})}, {Result(10, {{"u", 5, 5}})}),
                      "plan a: tenant \"t\" is predicted but was not measured");
}

}  // namespace cotenant::validation

namespace cotenant::validation {
namespace {

/// Measurements from a table: each plan's result by label, as a measured
/// co-location table would give them (no replay, no GPU).
class TableMeasurer : public Measurer {
 public:
  std::map<std::string, SimResult> rows;
  std::vector<std::string> asked;
  Measurement Measure(const LoadedWorkload&, const Plan& plan, const std::string& label) override {
    asked.push_back(label + (plan.max_connections == 1 ? " (1 queue)" : ""));
    Measurement m;
    m.result = rows.at(label);
    m.device = "table GPU";
    m.driver_version = 12040 + static_cast<int32_t>(asked.size());
    m.timing = "table";
    m.notes = {"row " + label};
    return m;
  }
};

}  // namespace

TEST_CASE("validate: a workload through a Measurer", "[validation][validate]") {
  using namespace cotenant::testing;
  // One tenant on the tiny GPU: one 1000-ns GPU-filling kernel, two closed requests.
  const LoadedWorkload one_kernel_twice = Make({{MakeTrace("t", {Kernel(1, 1, 0, 1000, 8)}), 2}});
  // Predicted: two requests of 1000 ns back to back: makespan 2000, each
  // latency 1000. The table says 2500 and 1250 (plan a), 2000 and 1000 (b).
  TableMeasurer table;
  table.rows["a"] = Result(2500, {{"t", 1250, 1250}});
  table.rows["b"] = Result(2000, {{"t", 1000, 1000}});
  Plan one_queue;
  one_queue.max_connections = 1;
  std::vector<size_t> seen;
  const WorkloadValidation wv =
      ValidateWorkload(one_kernel_twice, {{"a", Plan{}}, {"b", one_queue}}, "fluid", table, {},
                       [&](size_t i, const Measurement& m) {
                         seen.push_back(i);
                         REQUIRE(m.notes.size() == 1);
                       });
  REQUIRE(seen == std::vector<size_t>{0, 1});
  REQUIRE(table.asked == std::vector<std::string>{"a", "b (1 queue)"});
  const Validation& v = wv.validation;
  REQUIRE(v.plans[0].makespan.predicted == 2000.0);
  REQUIRE(v.plans[0].makespan.error_pct == -20.0);  // (2000 - 2500) / 2500
  REQUIRE(v.plans[0].tenants[0].mean_latency.error_pct == -20.0);
  REQUIRE(v.plans[1].makespan.error_pct == 0.0);
  REQUIRE(v.speedups[0].speedup.predicted == 1.0);
  REQUIRE(v.speedups[0].speedup.measured == 1.25);
  // Provenance: the last measurement's.
  REQUIRE(wv.device == "table GPU");
  REQUIRE(wv.driver_version == 12042);
  REQUIRE(wv.timing == "table");
  const nlohmann::json j = ValidationToJson(wv, "w.json");
  REQUIRE(j["device"] == "table GPU");
  REQUIRE(j["driver_version"] == 12042);
  REQUIRE(j["timing"] == "table");
  REQUIRE(j["workload"] == "w.json");
  // A row missing a predicted tenant is named.
  table.rows["a"] = Result(2500, {{"u", 1250, 1250}});
  REQUIRE_THROWS_WITH(ValidateWorkload(one_kernel_twice, {{"a", Plan{}}}, "fluid", table),
                      "plan a: tenant \"t\" is predicted but was not measured");
}

}  // namespace cotenant::validation
