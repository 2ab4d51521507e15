// LLM tenants beside trace tenants: the fixed point of sim/serving_mix.h with a fake
// iteration model (testing::FakeLlmModel) whose every iteration costs 1 ms alone and
// runs as one GPU-filling kernel of 8 blocks, so that stretches can be worked out by hand.
#include "sim/serving_mix.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>

#include "sim/error.h"
#include "sim/simulate.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::Host;
using testing::Kernel;
using testing::Make;
using testing::MakeTrace;
using testing::TenantIn;
using testing::TinyGpu;

constexpr TimeNs kIterNs = testing::kFakeLlmIterNs;  // every iteration alone: 1 ms

/// Adds LLM tenant "chat": 3 requests of 10 prompt and 3 output tokens, one every
/// second from `first_ns`; SLOs TTFT 1.5 ms, TPOT 1.5 ms.
void AddChat(LoadedWorkload* lw, TimeNs first_ns) {
  LlmTenantSpec t;
  t.name = "chat";
  t.at = "tenants[" + std::to_string(lw->workload.tenants.size()) + "]";
  t.model = "fake";
  t.requests = 3;
  t.slo.ttft_ns = 1500000;
  t.slo.tpot_ns = 1500000;
  lw->workload.llm_tenants.push_back(t);
  LoadedLlmTenant l;
  l.model = std::make_shared<testing::FakeLlmModel>();
  for (int64_t i = 0; i < 3; ++i) l.requests.push_back({i, first_ns + i * 1000000000, 10, 3});
  lw->llm.push_back(std::move(l));
  lw->gpu.dram_bytes = int64_t{1} << 30;
  lw->workload.file = "w.json";
}

/// A trace tenant "cnn": one launch and one kernel of `blocks` blocks and `dur` ns.
Trace Cnn(TimeNs dur, int32_t blocks) {
  return MakeTrace("cnn", {Host(1, TaskKind::kLaunch, 0, 1000, 1), [&] {
                             Task k = Kernel(2, 7, 3000, dur, blocks);
                             k.correlation = 1;
                             return k;
                           }()});
}

}  // namespace

TEST_CASE("llm tenant alone: one serving run, the iteration costs as they are", "[serving_mix]") {
  LoadedWorkload lw = Make({}, TinyGpu());
  AddChat(&lw, 0);
  const SimResult r = Simulate(lw, Plan{}, SimOptions{});
  REQUIRE(r.llm.size() == 1);
  const LlmTenantResult& l = r.llm[0];
  // Each request alone: a prefill iteration (first token), then two decodes; nothing
  // to simulate.
  CHECK(l.rounds == 0);
  CHECK(l.converged);
  CHECK(l.metrics.ttft.p50 == kIterNs);
  CHECK(l.metrics.tpot.p99 == kIterNs);
  CHECK(l.metrics.e2e.p99 == 3 * kIterNs);
  CHECK(l.metrics.makespan_ns == 2000000000 + 3 * kIterNs);
  CHECK(l.metrics.good == 3);
  REQUIRE(r.tenants.size() == 1);
  CHECK(r.tenants[0].name == "chat");
  CHECK(r.tenants[0].latency.p99 == 3 * kIterNs);
  CHECK(r.tenants[0].slo_violations == 0);
  CHECK(r.makespan_ns == l.metrics.makespan_ns);
  // The GPU is busy for the 9 iterations of 1 ms (3 requests x 3), each taken to hold
  // every SM, over the makespan.
  CHECK(l.run.busy_ns == 9 * kIterNs);
  const double busy = static_cast<double>(9 * kIterNs) / static_cast<double>(r.makespan_ns);
  CHECK(r.gpu.sm_busy_fraction == busy);
  CHECK(r.gpu.mean_sm_occupancy == busy);
  const nlohmann::json j = ResultToJson(r);
  CHECK(j["tenants"]["chat"]["llm"]["ttft_ns"]["p50"] == kIterNs);
  CHECK(j["tenants"]["chat"]["llm"]["fixed_point"]["rounds"] == 0);
}

TEST_CASE("llm tenant beside a trace tenant that is done before it starts: no stretch",
          "[serving_mix]") {
  // cnn runs at 0 for 100 µs; chat's first request arrives at 1 s. Every iteration runs
  // as it does alone: the first round's simulation finds the slowdown its loop assumed.
  LoadedWorkload lw = Make({TenantIn(Cnn(100000, 8))}, TinyGpu());
  const SimResult solo = Simulate(lw, Plan{}, SimOptions{});
  AddChat(&lw, 1000000000);
  const SimResult r = Simulate(lw, Plan{}, SimOptions{});
  const LlmTenantResult& l = r.llm[0];
  CHECK(l.rounds == 1);
  CHECK(l.converged);
  CHECK(l.last_change == 0.0);
  CHECK(l.mean_stretch == 1.0);
  CHECK(l.metrics.ttft.p99 == kIterNs);
  CHECK(l.metrics.e2e.p99 == 3 * kIterNs);
  REQUIRE(r.tenants.size() == 2);
  CHECK(r.tenants[0].name == "cnn");
  CHECK(r.tenants[0].latency.p99 == solo.tenants[0].latency.p99);
  CHECK(r.tenants[1].name == "chat");
  CHECK(r.makespan_ns == 3000000000 + 3 * kIterNs);
}

TEST_CASE("llm tenant on half the SMs: its GPU-filling iterations stretch by hand",
          "[serving_mix]") {
  // Alone, an iteration in the task graph: step 1 ns + launch 1 ns + launch latency
  // 2,000 + kernel 1,000,000 + sync latency 1,000 = 1,003,002 ns. On 2 of 4 SMs the
  // kernel's 8 blocks (2 per SM) run in two waves: 2,003,002 ns. The serving loop then
  // prices each iteration at 1 ms x 2,003,002 / 1,003,002 in round 2, whose simulation
  // finds that same slowdown.
  LoadedWorkload lw = Make({}, TinyGpu());
  AddChat(&lw, 0);
  Plan plan;
  plan.tenants["chat"].sm_count = 2;
  const SimResult r = Simulate(lw, plan, SimOptions{});
  const LlmTenantResult& l = r.llm[0];
  const TimeNs iter = std::llround(1e6 * 2003002.0 / 1003002.0);
  CHECK(l.rounds == 2);
  CHECK(l.converged);
  CHECK(l.last_change == 0.0);
  CHECK(l.mean_stretch == Approx(2003002.0 / 1003002.0).epsilon(1e-12));
  CHECK(l.metrics.ttft.p50 == iter);
  CHECK(l.metrics.e2e.p99 == 3 * iter);
  CHECK(l.metrics.good == 0);  // 1.997 ms > the 1.5 ms TTFT SLO
  CHECK(r.tenants[0].slo_violations == 3);
}

TEST_CASE("llm tenant beside a busy trace tenant: both slow down, within physical bounds",
          "[serving_mix]") {
  // cnn: 40 closed-loop requests of a GPU-filling 1 ms kernel (about 40 ms of work);
  // chat's three requests arrive at 0, 1 s, 2 s: the first meets cnn.
  LoadedWorkload lw = Make({TenantIn(Cnn(kIterNs, 8), 40)}, TinyGpu());
  const SimResult solo = Simulate(lw, Plan{}, SimOptions{});
  AddChat(&lw, 0);
  const SimResult r = Simulate(lw, Plan{}, SimOptions{});
  const LlmTenantResult& l = r.llm[0];
  CHECK(l.converged);
  CHECK(l.rounds >= 2);
  // The first request shares the GPU: slower than alone, and no slower than if every
  // cnn kernel ran first (each iteration waits at most for one 1 ms cnn kernel, then
  // runs: at most 2 x alone, plus host and latency overheads of a few µs).
  CHECK(l.metrics.e2e.p99 > 3 * kIterNs);
  CHECK(l.metrics.e2e.p99 <= 3 * (2 * kIterNs + 10000));
  // The later two requests run alone.
  CHECK(l.metrics.e2e.p50 == 3 * kIterNs);
  CHECK(r.tenants[0].finish_ns > solo.tenants[0].finish_ns);
  CHECK(r.tenants[0].finish_ns <= solo.tenants[0].finish_ns + 3 * (kIterNs + 10000));
}

TEST_CASE("two llm tenants on one GPU: neither beats the GPU's capacity", "[serving_mix]") {
  // chat and code each get 3 requests at 0, 1 s and 2 s, each request 3 iterations of a
  // GPU-filling 1 ms kernel. At 0 both need 3 ms of the whole GPU: the later of them
  // cannot finish before 6 ms, and neither before 3 ms (the later one by the tolerance of
  // the fixed point).
  LoadedWorkload lw = Make({}, TinyGpu());
  AddChat(&lw, 0);
  AddChat(&lw, 0);
  lw.workload.llm_tenants[1].name = "code";
  lw.workload.llm_tenants[1].at = "tenants[1]";
  for (LlmTenantSpec& t : lw.workload.llm_tenants) t.serving.gpu_memory_utilization = 0.4;
  const SimResult r = Simulate(lw, Plan{}, SimOptions{});
  REQUIRE(r.llm.size() == 2);
  CHECK(r.llm[0].converged);
  CHECK(r.llm[1].converged);
  const TimeNs a = r.llm[0].metrics.e2e.p99, b = r.llm[1].metrics.e2e.p99;
  CHECK(std::min(a, b) >= 3 * kIterNs);
  // (Within the fixed point's tolerance: its slowdowns agree to kLlmConvergence.)
  CHECK(static_cast<double>(std::max(a, b)) >= 6.0 * kIterNs * (1.0 - kLlmConvergence));
  CHECK(std::max(a, b) <= 7 * kIterNs);
  CHECK(r.tenants.size() == 2);
  CHECK(r.tenants[1].name == "code");
}

TEST_CASE("plans for llm tenants: knobs checked against the tenant's kind", "[serving_mix]") {
  LoadedWorkload lw = Make({TenantIn(Cnn(100000, 8))}, TinyGpu());
  AddChat(&lw, 0);
  Plan plan;
  plan.file = "p.json";
  plan.tenants["cnn"].max_num_batched_tokens = 512;
  CHECK(testing::ErrorOf([&] { Simulate(lw, plan, SimOptions{}); }) ==
        "p.json: tenants.cnn.max_num_batched_tokens: only llm tenants have this knob; \"cnn\" "
        "is a trace tenant");
  plan.tenants.clear();
  plan.tenants["chat"].batch_split = 2;
  CHECK(testing::ErrorOf([&] { Simulate(lw, plan, SimOptions{}); }) ==
        "p.json: tenants.chat.batch_split: expected 1 (an llm tenant's iterations are not "
        "split), found 2");
  plan.tenants.clear();
  plan.tenants["chat"].prefill_sm_count = 2;
  plan.tenants["chat"].decode_sm_count = 2;
  plan.tenants["chat"].sm_count = 2;
  CHECK(testing::ErrorOf([&] { Simulate(lw, plan, SimOptions{}); }) ==
        "p.json: tenants.chat.sm_count: expected null beside prefill_sm_count and "
        "decode_sm_count (the two phases have their own partitions), found 2");
  plan.tenants.clear();
  plan.groups = {{"cnn"}, {"chat"}};
  CHECK(testing::ErrorOf([&] {
          Simulate(lw, plan, SimOptions{});
        }).rfind("p.json: groups: expected one group with llm tenants", 0) == 0);
  plan.groups.clear();
  plan.tenants["chta"].priority = -1;
  CHECK(testing::ErrorOf([&] { Simulate(lw, plan, SimOptions{}); }) ==
        "p.json: tenants.chta: unknown tenant \"chta\"; did you mean \"chat\"?");
  // The plan reader: prefill without decode.
  CHECK(testing::ErrorOf([] {
          PlanFromJson(nlohmann::json::parse(R"({"schema": "cotenant.plan/1",
            "tenants": {"chat": {"prefill_sm_count": 64}}})"),
                       "p.json");
        }) ==
        "p.json: tenants.chat.decode_sm_count: expected an SM count beside "
        "prefill_sm_count (prefill and decode are multiplexed on two partitions), found "
        "none");
  // Round trip of the LLM knobs.
  Plan p;
  p.tenants["chat"].max_num_batched_tokens = 2048;
  p.tenants["chat"].chunked_prefill = 0;
  p.tenants["chat"].prefill_sm_count = 64;
  p.tenants["chat"].decode_sm_count = 68;
  p.tenants["chat"].decode_priority = -1;
  const Plan back = PlanFromJson(PlanToJson(p), "p.json");
  const TenantPlan& t = back.tenants.at("chat");
  CHECK(t.max_num_batched_tokens == 2048);
  CHECK(t.chunked_prefill == 0);
  CHECK(t.Multiplexed());
  CHECK(t.prefill_sm_count == 64);
  CHECK(t.decode_sm_count == 68);
  CHECK(t.decode_priority == -1);
  CHECK(t.prefill_priority == INT32_MIN);
}

TEST_CASE("llm tenants' memory: shares of the whole GPU, refused past it", "[serving_mix]") {
  Workload w;
  w.file = "w.json";
  TenantSpec cnn;
  cnn.name = "cnn";
  cnn.memory_bytes = 300;
  w.tenants.push_back(cnn);
  LlmTenantSpec a;
  a.name = "a";
  a.at = "tenants[1]";
  a.serving.gpu_memory_utilization = 0.5;
  w.llm_tenants.push_back(a);
  GpuSpec spec = TinyGpu();
  spec.dram_bytes = 1000;
  CHECK(LlmUsableBytes(w, spec, "w.json") == std::vector<int64_t>{500});
  LlmTenantSpec b = a;
  b.name = "b";
  b.at = "tenants[2]";
  b.serving.gpu_memory_utilization = 0.3;
  w.llm_tenants.push_back(b);
  // 500 + 300 + 300 > 1000.
  CHECK(testing::ErrorOf([&] { LlmUsableBytes(w, spec, "w.json"); })
            .rfind("w.json: tenants[2].serving.gpu_memory_utilization: the llm tenants' shares "
                   "of tiny's memory (80% in all) and the trace tenants' memory_bytes (300) "
                   "exceed its 1000 bytes",
                   0) == 0);
}

TEST_CASE("llm tenants need their models attached", "[serving_mix]") {
  LoadedWorkload lw = Make({}, TinyGpu());
  AddChat(&lw, 0);
  lw.llm.clear();
  CHECK(testing::ErrorOf([&] { Simulate(lw, Plan{}, SimOptions{}); }) ==
        "w.json: llm tenants were read without their models");
}

}  // namespace cotenant
