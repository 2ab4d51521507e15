#include "profiler/serving_run.h"

#include <cstdio>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

std::string Gb(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

json PercentilesJson(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}};
}

}  // namespace

LlmTenantRun RunLlmTenant(const LlmTenantSpec& t, const std::string& file, const GpuSpec& spec,
                          bool record_iterations) {
  const LlmConfig* c = FindLlmModel(t.model);
  if (c == nullptr) FailAt(file, t.at + ".model", ExpectedOneOf(json(t.model), SynthLlmNames()));
  static const std::vector<std::string> kDtypes = {"bf16", "fp16", "fp8"};
  if (IndexOf(json(t.dtype), kDtypes) < 0)
    FailAt(file, t.at + ".dtype", ExpectedOneOf(json(t.dtype), kDtypes));
  const int32_t need_cc = t.dtype == "fp8" ? 89 : t.dtype == "bf16" ? 80 : 0;
  if (spec.compute_capability < need_cc) {
    FailAt(file, t.at + ".dtype",
           t.dtype + " needs compute capability " + std::to_string(need_cc / 10) + "." +
               std::to_string(need_cc % 10) + " or newer; gpu " + spec.key + " has " +
               std::to_string(spec.compute_capability / 10) + "." +
               std::to_string(spec.compute_capability % 10));
  }
  const DtypeInfo dtype = FindDtype(t.dtype);
  const std::vector<LlmRequest> requests = LlmRequests(t, file);

  LlmTenantRun r;
  r.name = t.name;
  r.model = c->name;
  r.dtype = t.dtype;
  r.gpu = spec.key.empty() ? spec.name : spec.key;
  r.slo = t.slo;
  r.config.max_num_batched_tokens = t.serving.max_num_batched_tokens;
  r.config.max_num_seqs = t.serving.max_num_seqs;
  r.config.chunked_prefill = t.serving.chunked_prefill;
  r.config.block_tokens = t.serving.block_size;
  r.kv = LlmKvCapacity(*c, dtype, spec, t.serving.gpu_memory_utilization,
                       t.serving.max_num_batched_tokens, t.serving.max_num_seqs);
  r.config.kv_capacity_tokens = r.kv.capacity_tokens;

  // Context window and KV cache, request by request, with the field to blame.
  const int64_t blocks = r.kv.capacity_tokens / t.serving.block_size;
  for (size_t i = 0; i < requests.size(); ++i) {
    const LlmRequest& q = requests[i];
    const std::string which = "request " + std::to_string(i) + " has ";
    if (q.prompt_tokens > c->max_context) {
      FailAt(file, t.prompt.field,
             which + std::to_string(q.prompt_tokens) + " prompt tokens, above " + c->name +
                 "'s context window of " + std::to_string(c->max_context) + " tokens");
    }
    if (q.prompt_tokens + q.output_tokens > c->max_context) {
      FailAt(file, t.output.field,
             which + std::to_string(q.prompt_tokens) + " prompt + " +
                 std::to_string(q.output_tokens) + " output tokens, above " + c->name +
                 "'s context window of " + std::to_string(c->max_context) + " tokens");
    }
    const int64_t peak = q.prompt_tokens + q.output_tokens - 1;
    const int64_t bs = t.serving.block_size;
    if ((peak + bs - 1) / bs > blocks) {
      FailAt(file, t.at,
             "the KV cache cannot hold one request: " + which + std::to_string(peak) +
                 " tokens to cache (prompt + output - 1), the cache holds " +
                 std::to_string(blocks * bs) + " (gpu " + r.gpu + ": " + Gb(r.kv.usable_bytes) +
                 " at gpu_memory_utilization " + json(t.serving.gpu_memory_utilization).dump() +
                 " - weights " + Gb(r.kv.weights_bytes) + " - activations " +
                 Gb(r.kv.activation_bytes) + ", " + std::to_string(r.kv.kv_bytes_per_token) +
                 " bytes per token)");
    }
  }

  LlmIterationCost cost(*c, dtype, spec);
  try {
    r.run = RunServing(
        requests, r.config, [&cost](const IterationShape& s, TimeNs) { return cost(s); },
        record_iterations);
  } catch (const InputError& e) {
    FailAt(file, t.at, e.what());
  }
  r.cached_shapes = cost.cached();
  r.metrics = ComputeServingMetrics(r.run, r.slo);
  return r;
}

json LlmTenantRunToJson(const LlmTenantRun& r) {
  const ServingMetrics& m = r.metrics;
  return {
      {"model", r.model},
      {"dtype", r.dtype},
      {"gpu", r.gpu},
      {"requests", m.requests},
      {"generated_tokens", m.generated_tokens},
      {"iterations", m.iterations},
      {"preemptions", m.preemptions},
      {"makespan_ns", m.makespan_ns},
      {"ttft_ns", PercentilesJson(m.ttft)},
      {"tpot_ns", PercentilesJson(m.tpot)},
      {"tpot_requests", m.tpot_requests},
      {"e2e_ns", PercentilesJson(m.e2e)},
      {"tokens_per_s", m.tokens_per_s},
      {"goodput",
       {{"slo_ttft_ns", r.slo.ttft_ns},
        {"slo_tpot_ns", r.slo.tpot_ns},
        {"good_requests", m.good},
        {"share", m.good_share},
        {"requests_per_s", m.goodput_rps}}},
      {"kv_cache",
       {{"capacity_tokens", r.kv.capacity_tokens},
        {"bytes_per_token", r.kv.kv_bytes_per_token},
        {"usable_bytes", r.kv.usable_bytes},
        {"weights_bytes", r.kv.weights_bytes},
        {"activation_bytes", r.kv.activation_bytes}}},
      {"serving",
       {{"max_num_batched_tokens", r.config.max_num_batched_tokens},
        {"max_num_seqs", r.config.max_num_seqs},
        {"chunked_prefill", r.config.chunked_prefill},
        {"block_size", r.config.block_tokens}}},
  };
}

json LlmResultToJson(const LlmTenantRun& r) {
  json j;
  j["schema"] = "cotenant.result/1";
  j["model"] = "llm-serving";
  j["makespan_ns"] = r.metrics.makespan_ns;
  const double s = static_cast<double>(r.metrics.makespan_ns) * 1e-9;
  j["tenants"] = {{r.name,
                   {{"requests", r.metrics.requests},
                    {"finish_ns", r.metrics.makespan_ns},
                    {"throughput_rps", s > 0 ? static_cast<double>(r.metrics.requests) / s : 0.0},
                    {"llm", LlmTenantRunToJson(r)}}}};
  return j;
}

}  // namespace cotenant::profiler
