// What one iteration of an LLM serving loop (sim/serving.h) costs on a GPU, from the
// synthetic kernels of synth_llm and the roofline of synth, with host time from the
// "vllm" framework profile; cached per shape bucket so runs of thousands of requests
// stay fast. And the KV-cache capacity the engine would get. The model and its error
// bounds: docs/models.md ("LLM serving loop").
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "profiler/synth_host.h"
#include "profiler/synth_kernels.h"
#include "profiler/synth_llm.h"
#include "profiler/synth_models.h"
#include "sim/gpu_spec.h"
#include "sim/serving.h"
#include "sim/serving_mix.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// vLLM's default gpu_memory_utilization (EngineArgs): the share of the GPU's memory the
/// engine may use for weights, activations and the KV cache.
constexpr double kLlmGpuMemoryUtilization = 0.9;

/// Memory outside weights, activations and the KV cache: CUDA context, cuBLAS workspaces,
/// the CUDA Graph pool and non-torch allocations, bytes. An assumption (1 GiB), of the
/// order vLLM's startup logs report for 8B models on an H100; not measured here.
constexpr int64_t kLlmFixedReserveBytes = int64_t{1} << 30;

/// The KV-cache capacity of `c` in `dtype` on `spec`: what vLLM's profile run leaves
/// (dram_bytes x `gpu_memory_utilization` - `other_bytes` - weights - activation reserve)
/// divided by LlmKvBytesPerToken. Activation reserve (an assumption standing for vLLM's
/// measured peak of a forward pass of max_num_batched_tokens): the largest tensors of a
/// layer at `max_num_batched_tokens` tokens, tokens x (3 x ffn + 4 x hidden) activation
/// elements (ffn of a MoE: top_k x moe_ffn + shared_ffn), plus fp32 logits of
/// `max_num_seqs` rows, plus kLlmFixedReserveBytes.
LlmKvBudget LlmKvCapacity(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec,
                          double gpu_memory_utilization, int64_t max_num_batched_tokens,
                          int64_t max_num_seqs, int64_t other_bytes = 0);

/// The same with the engine's memory given directly: `usable_bytes` - weights -
/// activation reserve, divided by LlmKvBytesPerToken.
LlmKvBudget LlmKvCapacityOf(const LlmConfig& c, const DtypeInfo& dtype, int64_t usable_bytes,
                            int64_t max_num_batched_tokens, int64_t max_num_seqs);

/// The task graph runs an iteration's layers as kernels of at least this long, ns (and
/// at most one per layer): short enough that another tenant's kernel waits at most a
/// fraction of a millisecond for SMs a GPU-filling layer holds, long enough that 10,000
/// requests stay a few million tasks (docs/models.md, "LLM tenants beside other tenants").
constexpr TimeNs kLlmGraphKernelNs = 500000;

/// Forward-pass tokens an iteration of `tokens` is priced at: exact up to 256, else
/// rounded up to a multiple of 16 (at most 15 tokens, under 6 %, more than the real
/// forward pass; GEMM and elementwise costs do not fall with more tokens, so the error
/// overestimates).
int64_t LlmDenseTokenBucket(int64_t tokens);

/// The iteration cost of `c` on `spec` in `dtype`, under the "vllm" profile and the
/// GPU's default library:
///   GPU = dense(T) + head(R) + layers x attention(shape)
///     dense: every kernel of a prefill of LlmDenseTokenBucket(T) tokens except the
///       attention kernels, the LM head and the sampler (GEMMs, norms, rotary, cache
///       write, activations see all T tokens of a mixed iteration at once);
///     head: the LM head and sampler on the R sampled rows;
///     attention: LlmMixedAttentionKernels (prefill chunks, decodes), exact per shape;
///   host launch = graph ? python_ns + graph_launch_ns + head's : dense's + head's
///     (graph: a decode-only iteration of at most kLlmGraphMaxBatch sequences replays a
///     CUDA Graph; each eager operator costs HostWorkNs + launch_ns per kernel);
///   time = step_ns + 2 x (copy HostWorkNs + memcpy_ns) + max(host launch, GPU)
///          + launch_latency_ns + sync_latency_ns.
/// dense and head are cached by bucket; attention is computed per iteration.
class LlmIterationCost {
 public:
  LlmIterationCost(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec);

  /// Duration of the iteration `shape`, ns (> 0). With `out`, also the same iteration
  /// for the task graph (sim/serving_mix.h), priced once: host work before the launches
  /// = step + input and output copies; launch work = the host launch time above;
  /// kernels: g groups of whole layers, g = min(layers, (dense + layers x attention) /
  /// kLlmGraphKernelNs) (at least 1), each 1/g of that time and DRAM bytes, with the
  /// launch shape of dense's longest kernel, then "lm_head" (head's, when rows are
  /// sampled, with its longest kernel's shape). Groups keep the graph small (10,000
  /// requests stay within seconds) while other tenants' kernels still find SMs between
  /// them. The task graph adds the launch and sync latencies itself.
  TimeNs operator()(const IterationShape& shape, IterationWork* out = nullptr);

  /// Cached dense and head entries so far.
  size_t cached() const { return dense_.size() + head_.size(); }

 private:
  struct Part {
    TimeNs gpu_ns = 0;        ///< kernel durations
    TimeNs host_ns = 0;       ///< eager host work and launches
    double bytes = 0;         ///< DRAM bytes of its kernels
    SynthKernelDesc longest;  ///< the shape of its longest kernel
    TimeNs longest_ns = 0;
    /// Adds a kernel of `cost` to the part.
    void Add(const SynthKernelDesc& k, TimeNs dur_ns);
  };
  /// Host launch time of an iteration with `dense` and `head` parts.
  TimeNs LaunchNs(const IterationShape& shape, const Part& dense, const Part& head) const;
  /// Attention of one layer: duration and DRAM bytes.
  Part Attention(const IterationShape& shape) const;
  /// Adds kernel `k`, priced by the roofline, to `*p`.
  void AddKernel(const SynthKernelDesc& k, Part* p) const;
  /// The head operators of `ops` (`head`), or the others without their attention kernels.
  Part PriceOps(const std::vector<SynthOp>& ops, bool head) const;
  const Part& Dense(int64_t tokens);
  const Part& Head(int64_t rows);

  const LlmConfig& c_;
  DtypeInfo dtype_;
  GpuSpec spec_;
  std::string library_;
  const HostCostProfile& profile_;
  TimeNs fixed_ns_ = 0;  ///< step, copies, launch and sync latencies
  std::unordered_map<int64_t, Part> dense_, head_;
};

}  // namespace cotenant::profiler
