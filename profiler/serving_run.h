// One LLM tenant of a workload served alone on a GPU: its model and dtype resolved
// against synth's LLMs, its requests checked against the model's context window and the
// KV cache, the serving loop (sim/serving) run with the synth iteration cost
// (serving_cost), and the metrics as `cotenant.result/1`'s "llm" object.
#pragma once

#include <cstdint>
#include <string>

#include "profiler/serving_cost.h"
#include "sim/gpu_spec.h"
#include "sim/llm_workload.h"
#include "sim/serving.h"

namespace cotenant::profiler {

struct LlmTenantRun {
  std::string name, model, dtype, gpu;
  LlmKvBudget kv;
  ServingConfig config;
  ServingRun run;
  ServingSlo slo;
  ServingMetrics metrics;
  size_t cached_shapes = 0;  ///< dense and head cost entries built
};

/// Serves `t` (read from `file`) alone on `spec`. Throws InputError naming the file and
/// field for an unknown model or dtype (with a did-you-mean), a dtype the GPU lacks, a
/// request whose prompt, or prompt + output, exceeds the model's context window, a KV
/// cache that cannot hold one request (or no KV cache at all), and bad CSV lengths.
/// `record_iterations`: keep each iteration for a timeline.
LlmTenantRun RunLlmTenant(const LlmTenantSpec& t, const std::string& file, const GpuSpec& spec,
                          bool record_iterations = false);

/// The "llm" object of `cotenant.result/1` (docs/formats.md).
nlohmann::json LlmTenantRunToJson(const LlmTenantRun& r);

/// A whole `cotenant.result/1` document for one served LLM tenant.
nlohmann::json LlmResultToJson(const LlmTenantRun& r);

}  // namespace cotenant::profiler
