// Decoder-only LLMs in synthetic traces: the published shapes of each model and the
// kernels of one serving-engine iteration (prefill of B prompts, or one decode step of B
// sequences), operator by operator, as vLLM runs them. Placement in time is synth.cpp's
// job. Shapes and their sources: profiler/README.md ("LLM models").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/synth_kernels.h"
#include "profiler/synth_models.h"
#include "sim/gpu_spec.h"
#include "sim/serving.h"

namespace cotenant::profiler {

/// The shape of one decoder-only transformer, from its Hugging Face config.json.
struct LlmConfig {
  const char* name;        ///< --model spelling: "llama-3.1-8b"
  const char* hf;          ///< Hugging Face repository: "meta-llama/Llama-3.1-8B"
  int64_t hidden;          ///< hidden_size
  int64_t layers;          ///< num_hidden_layers
  int64_t heads;           ///< num_attention_heads
  int64_t kv_heads;        ///< num_key_value_heads (GQA when < heads)
  int64_t head_dim;        ///< hidden / heads unless the config says otherwise
  int64_t ffn;             ///< intermediate_size of a dense MLP (0 for MoE layers)
  int64_t vocab;           ///< vocab_size
  int64_t max_context;     ///< max_position_embeddings, tokens
  bool tied;               ///< tie_word_embeddings: the LM head is the embedding table
  bool qkv_bias;           ///< q, k and v projections carry biases (Qwen)
  int64_t sliding_window;  ///< attention window in tokens (Mistral-7B-v0.1), 0 = none
  int64_t experts;         ///< routed experts per layer (num_experts), 0 = dense
  int64_t top_k;           ///< experts per token (num_experts_per_tok)
  int64_t moe_ffn;         ///< moe_intermediate_size of one routed expert
  int64_t shared_ffn;      ///< shared_expert_intermediate_size (with a sigmoid gate), 0 = none
  double rope_theta;       ///< rotary base (recorded, does not change costs)
};

/// Known LLMs in help order: llama-3.2-1b, llama-3.2-3b, llama-3.1-8b, qwen2.5-7b,
/// mistral-7b, qwen1.5-moe-a2.7b.
const std::vector<LlmConfig>& LlmModels();

/// The LLM called `name`, or nullptr.
const LlmConfig* FindLlmModel(const std::string& name);

/// Parameters of `c` from its shapes: embeddings + layers x (q, k, v with biases, o,
/// MLP or router + experts + shared expert and its gate, 2 RMSNorm weights) + final norm
/// + LM head when untied.
int64_t LlmParams(const LlmConfig& c);

/// KV-cache bytes one token occupies: layers x 2 (K and V) x kv_heads x head_dim x `elem`.
int64_t LlmKvBytesPerToken(const LlmConfig& c, int64_t elem);

/// One engine iteration: prefill runs `batch` prompts of `seq` tokens (T = batch x seq);
/// decode runs one new token for each of `batch` sequences whose context is `seq` tokens
/// (the new one included; T = batch).
enum class LlmPhase { kPrefill, kDecode };

/// "prefill" / "decode".
const char* LlmPhaseName(LlmPhase phase);

/// Largest decode batch replayed as a CUDA Graph: vLLM V1 captures graphs for batch sizes
/// up to 512 by default (its compilation config's largest capture size; not checked
/// against one release) and runs larger batches eagerly.
constexpr int64_t kLlmGraphMaxBatch = 512;

/// The operators of one iteration of `c` at `phase`, `batch`, `seq` in `dtype` (bf16,
/// fp16 or fp8) on `spec`, in launch order. In decode, the operators from the embedding
/// to the final norm are marked `graph` (what vLLM captures); the LM head and the
/// sampler run eagerly after it. Kernels, bytes and FLOPs: synth_llm.cpp.
std::vector<SynthOp> BuildLlmOps(const LlmConfig& c, LlmPhase phase, int64_t batch, int64_t seq,
                                 const DtypeInfo& dtype, const GpuSpec& spec);

/// One layer's attention kernels of a mixed iteration (vLLM V1 runs prefill chunks and
/// decodes in one forward pass): a fused prefill attention kernel over all of `shape`'s
/// prefill chunks (chunk i: S(c_i + k_i) - S(c_i) query-key pairs, S(n) the pairs of a
/// causal prompt of n tokens), then a paged decode attention kernel over its decodes;
/// either is left out when there is none. Kernel names are empty (for costs only). One
/// chunk with nothing cached, or decodes of one context, give BuildLlmOps's flops and
/// bytes.
std::vector<SynthKernelDesc> LlmMixedAttentionKernels(const LlmConfig& c,
                                                      const IterationShape& shape,
                                                      const DtypeInfo& dtype, const GpuSpec& spec);

}  // namespace cotenant::profiler
