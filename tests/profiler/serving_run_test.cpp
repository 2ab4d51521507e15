// One LLM tenant served alone through Simulate with synth's models: the checks against
// the model and the KV cache, and a run whose requests never meet, so each TTFT is one
// prefill iteration's cost.
#include "profiler/serving_run.h"

#include "profiler/serving_cost.h"
#include "profiler/synth_llm.h"
#include "sim/simulate.h"
#include <catch2/catch.hpp>
#include <string>

#include "sim/error.h"
#include "sim/workload.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

GpuSpec H100() {
  GpuSpec s = testing::H100Sxm();
  s.dram_bytes = 80LL << 30;
  return s;
}

json Chat() {
  return json::parse(R"({"schema": "cotenant.workload/1", "tenants": [{
    "name": "chat", "kind": "llm", "model": "llama-3.1-8b", "requests": 3,
    "arrival": {"kind": "periodic", "period_ns": 10000000000},
    "prompt_tokens": {"kind": "fixed", "value": 512},
    "output_tokens": {"kind": "fixed", "value": 11},
    "slo": {"ttft_ms": 500, "tpot_ms": 50}}]})");
}

/// Serves the workload `j` on H100() (its LLM tenants' models from synth).
SimResult Run(const json& j) {
  LoadedWorkload lw;
  lw.workload = WorkloadFromJson(j, "w.json", "");
  lw.gpu = H100();
  const LlmModelFactory synth = SynthLlmModels();
  for (const LlmTenantSpec& t : lw.workload.llm_tenants)
    lw.llm.push_back({synth(t, "w.json", lw.gpu), LlmRequests(t, "w.json")});
  return Simulate(lw, Plan{}, SimOptions{});
}

}  // namespace

TEST_CASE("serving run: requests 10 s apart each see an idle engine", "[serving]") {
  const SimResult sim = Run(Chat());
  const LlmTenantResult& r = sim.llm.at(0);
  LlmIterationCost cost(*FindLlmModel("llama-3.1-8b"), FindDtype("bf16"), H100());
  IterationShape prefill;
  prefill.prefills = {{512, 0}};
  prefill.sampled = 1;
  const TimeNs ttft = cost(prefill);
  // TTFT: one prefill of 512 tokens; then 10 decodes at contexts 513..522.
  TimeNs decodes = 0;
  for (int64_t ctx = 513; ctx <= 522; ++ctx) {
    IterationShape d;
    d.decode_contexts = {ctx};
    d.sampled = 1;
    decodes += cost(d);
  }
  CHECK(r.metrics.ttft.p50 == ttft);
  CHECK(r.metrics.ttft.p99 == ttft);
  CHECK(r.metrics.tpot.p50 == decodes / 10);
  CHECK(r.metrics.e2e.p99 == ttft + decodes);
  CHECK(r.metrics.makespan_ns == 20000000000 + ttft + decodes);
  CHECK(r.metrics.generated_tokens == 33);
  CHECK(r.metrics.good == 3);
  CHECK(r.kv.capacity_tokens == 450673);
  const json j = ResultToJson(sim);
  CHECK(j["tenants"]["chat"]["llm"]["ttft_ns"]["p50"] == ttft);
  CHECK(j["tenants"]["chat"]["llm"]["goodput"]["good_requests"] == 3);
}

TEST_CASE("serving run: unknown model, context window and KV cache errors", "[serving]") {
  json j = Chat();
  j["tenants"][0]["model"] = "llama3.1-8b";
  CHECK_THROWS_WITH(Run(j), Catch::StartsWith("w.json: tenants[0].model: expected one of") &&
                                Catch::EndsWith("did you mean \"llama-3.1-8b\"?"));
  j = Chat();
  j["tenants"][0]["prompt_tokens"]["value"] = 131073;
  CHECK_THROWS_WITH(Run(j),
                    "w.json: tenants[0].prompt_tokens: request 0 has 131073 prompt "
                    "tokens, above llama-3.1-8b's context window of 131072 tokens");
  j = Chat();
  j["tenants"][0]["prompt_tokens"]["value"] = 131000;
  j["tenants"][0]["output_tokens"]["value"] = 100;
  CHECK_THROWS_WITH(Run(j), Catch::StartsWith("w.json: tenants[0].output_tokens: request 0 has "
                                              "131000 prompt + 100 output tokens"));
  j = Chat();
  j["tenants"][0]["serving"] = {{"gpu_memory_utilization", 0.2}};
  CHECK_THROWS_WITH(Run(j), Catch::StartsWith("w.json: tenants[0]: the KV cache cannot hold one "
                                              "request: request 0 has 522 tokens to cache"));
  j = Chat();
  j["tenants"][0]["dtype"] = "fp32";
  CHECK_THROWS_WITH(Run(j), Catch::StartsWith("w.json: tenants[0].dtype: expected one of"));
  j = Chat();
  j["tenants"][0]["serving"] = {{"chunked_prefill", false}, {"max_num_batched_tokens", 256}};
  CHECK_THROWS_WITH(Run(j), Catch::StartsWith("w.json: tenants[0]: request 0: prompt_tokens + "
                                              "output_tokens - 1 = 522 exceeds"));
}

}  // namespace cotenant::profiler
