// Fleet placement on hand-made models: one kernel per request of a known
// duration on the whole GPU, so loads, memory and SLOs can be worked out by hand.
#include "fleet/placement.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fleet/pool.h"
#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::fleet {
namespace {

using nlohmann::json;
using testing::ErrorOf;

/// A zoo source: model "kNms" is one kernel of N ms that fills the GPU in one
/// wave (two 1024-thread blocks per SM), captured on the GPU asked for.
FleetSources FakeSources() {
  FleetSources s;
  s.zoo = [](const FleetModel& m, const GpuSpec& spec) {
    if (m.zoo.size() < 4 || m.zoo[0] != 'k') throw InputError("unknown model " + m.zoo);
    const TimeNs ms = std::stoll(m.zoo.substr(1));
    Trace t =
        testing::MakeTrace(m.name, {testing::Kernel(1, 7, 0, ms * 1000000, 2 * spec.sm_count)});
    t.device_gpu = spec.key;
    return t;
  };
  return s;
}

json Model(const std::string& name, const std::string& zoo, double rate, double slo_ms,
           double memory_gib = 0) {
  json m = {{"name", name}, {"zoo", zoo}, {"rate_hz", rate}, {"slo_ms", slo_ms}};
  if (memory_gib > 0) m["memory_gib"] = memory_gib;
  return m;
}

json Fleet(json models, json gpus = json::array({{{"gpu", "h100-sxm"}, {"count", 4}}})) {
  return {{"schema", "cotenant.fleet/1"},
          {"gpus", gpus},
          {"models", models},
          {"window_s", 1.0},
          {"search_budget", 4}};
}

FleetResult Place(const json& j, int threads = 1, LoadedFleet* keep = nullptr) {
  LoadedFleet f = LoadFleet(FleetFromJson(j, "f.json", ""), FakeSources());
  std::unique_ptr<Pool> pool = MakeLocalPool(threads);
  FleetResult r = PlaceFleet(f, *pool);
  if (keep) *keep = std::move(f);
  return r;
}

const Placement& Named(const FleetResult& r, const std::string& name) {
  for (const Placement& p : r.placements)
    if (p.name == name) return p;
  FAIL("no placement " << name);
  return r.placements.front();
}

}  // namespace

TEST_CASE("fleet file: fields are checked, naming the file and field", "[fleet]") {
  const json ok = Fleet(json::array({Model("a", "k1ms", 10, 50)}));
  CHECK_NOTHROW(FleetFromJson(ok, "f.json", ""));
  json j = ok;
  j["models"][0]["rate_hs"] = 1;
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[0].rate_hs: unknown key; did you mean \"rate_hz\"?");
  j = ok;
  j["models"][0].erase("slo_ms");
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[0].slo_ms: required (placement meets SLOs)");
  j = ok;
  j["models"][0]["trace"] = "t.json";
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[0].zoo: give either trace or zoo, not both");
  j = ok;
  j["models"].push_back(Model("a", "k1ms", 1, 5));
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[1].name: duplicate model name \"a\" (also models[0])");
  j = ok;
  j["gpus"][0]["gpu"] = "h100-sxn";
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }).rfind("f.json: gpus[0].gpu: ", 0) == 0);
  j = ok;
  j["models"] = json::array({{{"name", "chat"},
                              {"kind", "llm"},
                              {"model", "llama-3.2-1b"},
                              {"rate_hz", 1},
                              {"prompt_tokens", {{"kind", "fixed"}, {"value", 100}}},
                              {"output_tokens", {{"kind", "fixed"}, {"value", 10}}},
                              {"slo", {{"ttft_ms", 100}}}}});
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[0].memory_gib: required for an llm model: the memory its engine takes "
        "(weights and KV cache)");
  j["models"][0]["memory_gib"] = 10;
  j["models"][0]["requests"] = 5;
  CHECK(ErrorOf([&] { FleetFromJson(j, "f.json", ""); }) ==
        "f.json: models[0].requests: not a fleet key: placement sets each replica's requests "
        "and Poisson arrivals from rate_hz (and burstiness)");
  j["models"][0].erase("requests");
  const FleetSpec s = FleetFromJson(j, "f.json", "");
  CHECK(s.models[0].kind == ModelKind::kLlm);
  CHECK(s.models[0].memory_bytes == 10LL << 30);
  CHECK(s.models[0].llm.slo.ttft_ns == 100000000);
}

TEST_CASE("fleet: a model no GPU can hold is refused, naming it and the largest GPU", "[fleet]") {
  const json j =
      Fleet(json::array({Model("small", "k1ms", 10, 50, 1), Model("big", "k1ms", 10, 50, 50)}),
            json::array({{{"gpu", "a100-sxm4-40g"}, {"count", 2}}}));
  CHECK(ErrorOf([&] { Place(j); }) ==
        "f.json: models[1].memory_gib: big needs 50.0 GiB per replica; no GPU of the fleet "
        "holds it (the largest, a100-sxm4-40g, has 40.0 GiB)");
}

TEST_CASE("fleet: an SLO below the model's latency alone is refused, saying by how much",
          "[fleet]") {
  // One request takes at least its 1 ms kernel: an SLO of 0.5 ms is never met.
  const json j = Fleet(json::array({Model("slow", "k1ms", 10, 0.5)}));
  const std::string e = ErrorOf([&] { Place(j); });
  CHECK(e.rfind("f.json: models[0]: slow: no GPU of the fleet meets its SLO, even alone with its "
                "10 req/s split over 4 replicas (2.5 req/s each): at best it meets it on 0.0% of "
                "requests, on h100-sxm (p99 1.0",
                0) == 0);
  CHECK(e.find("against an SLO of 0.50 ms; the fleet asks for 99.0%)") != std::string::npos);
}

TEST_CASE("fleet: light models share one GPU; one per GPU uses one each", "[fleet]") {
  // 1 ms per request at 50 req/s: 5% busy each; SLO 100 ms.
  LoadedFleet f;
  const FleetResult r =
      Place(Fleet(json::array({Model("a", "k1ms", 50, 100), Model("b", "k1ms", 50, 100)})), 1, &f);
  REQUIRE(r.models.size() == 2);
  CHECK(r.models[0].replicas == 1);
  CHECK(r.models[0].preferred == 0);
  // Busy alone: each request's kernel runs 1 ms; 50 requests (window 1 s, 50/s) over a
  // span a little over 1 s; the share is below 5% x (1 + slack) and above half of it.
  const double busy = r.models[0].alone[0].sm_busy;
  CHECK(busy > 0.025);
  CHECK(busy <= 0.06);
  const Placement& c = Named(r, "cotenant");
  REQUIRE(c.gpus.size() == 1);
  CHECK(c.gpus[0].replicas.size() == 2);
  CHECK(c.gpus[0].verdict.feasible);
  CHECK(c.AllSlosMet());
  CHECK(Named(r, "one-per-gpu").gpus.size() == 2);
  const Placement& packed = Named(r, "bin-packing");
  CHECK(packed.gpus.size() == 1);
  CHECK(packed.AllSlosMet());
  CHECK_FALSE(Named(r, "bin-packing-tightened").exists);
  const json out = FleetResultToJson(r, f);
  CHECK(out["schema"] == "cotenant.fleet-result/1");
  CHECK(out["placements"][0]["gpus_used"] == 1);
  CHECK(out["placements"][0]["free"]["h100-sxm"] == 3);
  CHECK(out["placements"][1]["gpus_used"] == 2);
}

TEST_CASE("fleet: a model whose load exceeds one GPU gets replicas", "[fleet]") {
  // 1500 req/s of 1 ms each is 1.5 GPUs of work: one copy's queue grows by 0.5 s every
  // second, so most requests of a 1 s window miss 100 ms; two copies at 750/s each are
  // 75% busy, and an M/D/1 queue at 75% waits 1.5 ms on average, far within 100 ms.
  const FleetResult r = Place(Fleet(json::array({Model("hot", "k1ms", 1500, 100)})));
  CHECK(r.models[0].replicas == 2);
  const Placement& c = Named(r, "cotenant");
  REQUIRE(c.gpus.size() == 2);  // copies never share a GPU
  CHECK(c.AllSlosMet());
  CHECK(c.gpus[0].replicas[0].index != c.gpus[1].replicas[0].index);
}

TEST_CASE("fleet: memory keeps models apart; out of GPUs, a model is unplaced", "[fleet]") {
  // 30 GiB each on 40 GiB GPUs: no two fit together, and there are two GPUs.
  const FleetResult r =
      Place(Fleet(json::array({Model("a", "k1ms", 10, 100, 30), Model("b", "k1ms", 10, 100, 30),
                               Model("c", "k1ms", 10, 100, 30)}),
                  json::array({{{"gpu", "a100-sxm4-40g"}, {"count", 2}}})));
  const Placement& c = Named(r, "cotenant");
  CHECK(c.gpus.size() == 2);
  CHECK(c.unplaced.size() == 1);
  CHECK_FALSE(c.AllSlosMet());
}

TEST_CASE("fleet: a new GPU comes from the first kind listed that meets the SLO", "[fleet]") {
  const json two =
      json::array({{{"gpu", "a100-sxm4-40g"}, {"count", 1}}, {{"gpu", "h100-sxm"}, {"count", 1}}});
  const FleetResult r = Place(Fleet(json::array({Model("a", "k1ms", 10, 100)}), two));
  CHECK(r.models[0].preferred == 0);
  CHECK(Named(r, "cotenant").gpus[0].kind == 0);
}

TEST_CASE("fleet: the answer does not depend on the thread count", "[fleet]") {
  const json j = Fleet(json::array({Model("a", "k2ms", 120, 40), Model("b", "k1ms", 200, 20),
                                    Model("c", "k3ms", 60, 60), Model("d", "k1ms", 300, 30)}));
  LoadedFleet f1, f2;
  const json one = FleetResultToJson(Place(j, 1, &f1), f1);
  const json two = FleetResultToJson(Place(j, 2, &f2), f2);
  CHECK(one.dump() == two.dump());
}

}  // namespace cotenant::fleet
