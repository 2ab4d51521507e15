#include "profiler/serving_cost.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/error.h"

namespace cotenant::profiler {
namespace {

bool IsHeadOp(const std::string& op) {
  return op.rfind("vllm::lm_head", 0) == 0 || op.rfind("vllm::sampler", 0) == 0;
}

bool IsAttention(KernelClass cls) {
  return cls == KernelClass::kFlashAttention || cls == KernelClass::kPagedAttention;
}

/// x.cuda() / .cpu(): to -> _to_copy -> copy_ (3 dispatcher passes), one Python call, as
/// synth.cpp prices the copies around an iteration.
constexpr HostWork kCopyWork{0, 1, 3, LibrarySetup::kNone};

}  // namespace

LlmKvBudget LlmKvCapacity(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec,
                          double gpu_memory_utilization, int64_t max_num_batched_tokens,
                          int64_t max_num_seqs, int64_t other_bytes) {
  const int64_t usable =
      static_cast<int64_t>(static_cast<double>(spec.dram_bytes) * gpu_memory_utilization) -
      other_bytes;
  return LlmKvCapacityOf(c, dtype, usable, max_num_batched_tokens, max_num_seqs);
}

LlmKvBudget LlmKvCapacityOf(const LlmConfig& c, const DtypeInfo& dtype, int64_t usable_bytes,
                            int64_t max_num_batched_tokens, int64_t max_num_seqs) {
  const bool fp8 = dtype.dtype == SynthDtype::kFp8;
  const int64_t weight_elem = fp8 ? 1 : dtype.bytes;
  const int64_t act_elem = fp8 ? 2 : dtype.bytes;
  const int64_t kv_elem = fp8 ? 1 : dtype.bytes;
  const int64_t ffn = c.experts > 0 ? c.top_k * c.moe_ffn + c.shared_ffn : c.ffn;
  LlmKvBudget b;
  b.usable_bytes = usable_bytes;
  b.weights_bytes = LlmParams(c) * weight_elem;
  b.activation_bytes = max_num_batched_tokens * (3 * ffn + 4 * c.hidden) * act_elem +
                       max_num_seqs * c.vocab * 4 + kLlmFixedReserveBytes;
  b.kv_bytes_per_token = LlmKvBytesPerToken(c, kv_elem);
  const int64_t left = b.usable_bytes - b.weights_bytes - b.activation_bytes;
  b.capacity_tokens = left > 0 ? left / b.kv_bytes_per_token : 0;
  return b;
}

int64_t LlmDenseTokenBucket(int64_t tokens) {
  if (tokens <= 256) return tokens;
  return (tokens + 15) / 16 * 16;
}

LlmIterationCost::LlmIterationCost(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec)
    : c_(c),
      dtype_(dtype),
      spec_(spec),
      library_(DefaultLibrary(spec)),
      profile_(FindFramework("vllm")) {
  fixed_ns_ = profile_.step_ns + 2 * (HostWorkNs(profile_, kCopyWork) + profile_.memcpy_ns) +
              spec_.model.launch_latency_ns + spec_.model.sync_latency_ns;
}

void LlmIterationCost::Part::Add(const SynthKernelDesc& k, TimeNs dur_ns) {
  gpu_ns += dur_ns;
  bytes += k.bytes;
  if (dur_ns > longest_ns) {
    longest_ns = dur_ns;
    longest = k;
  }
}

void LlmIterationCost::AddKernel(const SynthKernelDesc& k, Part* p) const {
  double peak = 0.0;
  KernelEfficiency eff;
  RooflineCost cost;
  SynthKernelRoofline(k, dtype_.dtype, profile_, library_, spec_, &peak, &eff, &cost);
  p->Add(k, cost.dur_ns);
}

LlmIterationCost::Part LlmIterationCost::PriceOps(const std::vector<SynthOp>& ops,
                                                  bool head) const {
  Part p;
  for (const SynthOp& op : ops) {
    if (IsHeadOp(op.op) != head) continue;
    p.host_ns +=
        HostWorkNs(profile_, op.host) + profile_.launch_ns * static_cast<TimeNs>(op.kernels.size());
    for (const SynthKernelDesc& k : op.kernels)
      if (!IsAttention(k.cls)) AddKernel(k, &p);
  }
  return p;
}

const LlmIterationCost::Part& LlmIterationCost::Dense(int64_t tokens) {
  const int64_t t = LlmDenseTokenBucket(tokens);
  auto it = dense_.find(t);
  if (it != dense_.end()) return it->second;
  return dense_
      .emplace(t, PriceOps(BuildLlmOps(c_, LlmPhase::kPrefill, 1, t, dtype_, spec_), false))
      .first->second;
}

const LlmIterationCost::Part& LlmIterationCost::Head(int64_t rows) {
  auto it = head_.find(rows);
  if (it != head_.end()) return it->second;
  return head_
      .emplace(rows, PriceOps(BuildLlmOps(c_, LlmPhase::kDecode, rows, 1, dtype_, spec_), true))
      .first->second;
}

LlmIterationCost::Part LlmIterationCost::Attention(const IterationShape& shape) const {
  Part p;
  for (const SynthKernelDesc& k : LlmMixedAttentionKernels(c_, shape, dtype_, spec_))
    AddKernel(k, &p);
  return p;
}

TimeNs LlmIterationCost::LaunchNs(const IterationShape& shape, const Part& dense,
                                  const Part& head) const {
  const int64_t decodes = static_cast<int64_t>(shape.decode_contexts.size());
  const bool graph =
      shape.prefills.empty() && profile_.decode_cuda_graph && decodes <= kLlmGraphMaxBatch;
  return (graph ? profile_.python_ns + profile_.graph_launch_ns : dense.host_ns) + head.host_ns;
}

TimeNs LlmIterationCost::operator()(const IterationShape& shape, IterationWork* out) {
  const int64_t tokens = shape.Tokens();
  COTENANT_CHECK(tokens > 0);
  const Part dense = Dense(tokens);
  const Part head = shape.sampled > 0 ? Head(shape.sampled) : Part{};
  const Part attention = Attention(shape);
  const TimeNs launch_ns = LaunchNs(shape, dense, head);
  const TimeNs gpu_ns = dense.gpu_ns + head.gpu_ns + c_.layers * attention.gpu_ns;
  const TimeNs cost = fixed_ns_ + std::max(launch_ns, gpu_ns);
  if (out == nullptr) return cost;
  out->host_before_ns = fixed_ns_ - spec_.model.launch_latency_ns - spec_.model.sync_latency_ns;
  out->host_launch_ns = launch_ns;
  out->kernels.clear();
  const auto shaped = [](const char* name, int64_t repeat, TimeNs dur, double bytes,
                         const SynthKernelDesc& like) {
    IterationKernel k;
    k.name = name;
    k.repeat = repeat;
    k.dur_ns = std::max<TimeNs>(1, dur);
    k.dram_bytes = bytes;
    k.grid = like.grid;
    k.block = like.block;
    k.regs = like.regs;
    k.smem = like.smem;
    return k;
  };
  const TimeNs layers_ns = dense.gpu_ns + c_.layers * attention.gpu_ns;
  const double layers_bytes = dense.bytes + static_cast<double>(c_.layers) * attention.bytes;
  // Groups of whole layers, each about kLlmGraphKernelNs or more (at most one per layer).
  const int64_t by_time = std::max<int64_t>(1, layers_ns / kLlmGraphKernelNs);
  const int64_t groups = std::min(c_.layers, by_time);
  out->kernels.push_back(shaped("layers", groups, layers_ns / groups,
                                layers_bytes / static_cast<double>(groups), dense.longest));
  if (head.gpu_ns > 0)
    out->kernels.push_back(shaped("lm_head", 1, head.gpu_ns, head.bytes, head.longest));
  return cost;
}

}  // namespace cotenant::profiler
