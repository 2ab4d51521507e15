// LLM tenants of a workload as synth models them: the model and dtype resolved against
// synth's LLMs, requests checked against the model's context window and the KV cache,
// iterations priced by serving_cost and split into the few kernels the task graph runs
// (sim/serving_mix.h's LlmTenantModel). LoadWorkload takes SynthLlmModels() as its `llm`
// factory; Simulate then serves the tenants alone or beside others.
#pragma once

#include <memory>
#include <string>

#include "sim/serving_mix.h"

namespace cotenant::profiler {

/// The factory of synth-modelled LLM tenants. It throws InputError naming the file and
/// field for an unknown model or dtype (with a did-you-mean) and a dtype the GPU lacks.
/// The models' CheckRequests refuses a request whose prompt, or prompt + output, exceeds
/// the model's context window, and a KV cache that cannot hold one request (or none at
/// all), naming the field and the memory arithmetic.
LlmModelFactory SynthLlmModels();

}  // namespace cotenant::profiler
