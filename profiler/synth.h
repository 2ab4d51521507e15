// Synthetic traces: what PyTorch eager inference of a known model would launch,
// operator by operator and kernel by kernel, with kernel durations from a roofline of a
// GPU spec and host time from a per-operator cost model of the framework (estimates,
// not measurements), and random traces for stress tests.
//
// Model traces (Synthesize) assume:
//  - weights and activations in the request's dtype (fp16 by default; bf16; fp32, which
//    uses TF32 tensor cores where the framework profile says PyTorch would), NCHW
//    tensors, `batch` images at the model's size (224x224, inception_v3 299x299) or
//    `seq`-token sequences (BERT, default 128), no padding;
//  - PyTorch eager runs every operator separately (profiler/synth_models.cpp lists each
//    model's operators and kernel counts): conv, batch norm (a separate inference
//    kernel, not folded) and ReLU are three operators; tensor-core convolutions add
//    cuDNN's NCHW->NHWC transposes; a conv bias (VGG) is a second kernel; linear layers
//    fuse their bias; dropout in eval mode and views launch nothing but cost host time;
//  - vision: the FP32 input is copied host-to-device and cast by one kernel (none in
//    fp32), logits are copied back; bert-base (the encoder only) gets hidden states and
//    returns the last hidden state; bert-base-full (with embeddings and pooler) gets
//    int64 token ids and returns the pooled output.
//
// Kernel durations: SynthRoofline (synth_kernels.h) with the compute peak of the kernel's
// class and dtype, the share of peak from the efficiency table of the library generation
// (SynthEfficiency), times the wave efficiency of tensor-core grids.
//
// Host side: one thread (kSynthThread). Each operator is one `cpu` task labelled with
// its op (nn.Module, Python, dispatcher and library setup time: HostWorkNs) followed by
// one `launch` ("cudaLaunchKernel", launch_ns) per kernel, which shares its
// `correlation` with the kernel; every cost takes a seeded jitter. A GPU task starts at
// max(launch end + spec.model.launch_latency_ns, end of the previous task on its
// stream), i.e. where an isolated execution would place it. Copies (an "aten::copy_"
// cpu task, then "cudaMemcpyAsync") take bytes / pcie_gbps. A final stream sync returns
// spec.model.sync_latency_ns after the last task ends. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/synth_host.h"
#include "profiler/synth_kernels.h"
#include "profiler/synth_models.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// Host thread that issues all synthetic work.
constexpr int64_t kSynthThread = 1;
/// Stream of model traces, and the first stream of random traces.
constexpr int64_t kSynthStream = 7;
/// Largest batch Synthesize accepts.
constexpr int kSynthMaxBatch = 1024;

/// Largest prompt tokens (batch x seq) of one LLM prefill iteration: a sanity bound.
constexpr int64_t kSynthMaxPrefillTokens = 1 << 20;

/// One synthetic model trace to build.
struct SynthRequest {
  std::string model;      ///< a name from SynthModelNames() or SynthLlmNames()
  int batch = 1;          ///< 1..kSynthMaxBatch
  int seq = 0;            ///< BERT: tokens per sequence, 1..512, 0 = 128; vision: 0; LLMs
                          ///< (required): prompt tokens (prefill) or context tokens with the
                          ///< new one (decode), 1..the model's max context
  std::string phase;      ///< LLMs only (required): "prefill" or "decode"
  std::string dtype;      ///< a name from SynthDtypes(); "" = fp16 (bf16 for LLMs)
  std::string framework;  ///< a name from SynthFrameworks(); "" = pytorch-eager (vllm
                          ///< for LLMs)
  std::string library;    ///< a name from SynthLibraries(); "" = from the
                          ///< GPU's compute capability (DefaultLibrary)
  uint64_t seed = 1;      ///< drives the host-side jitter only
  bool jitter = true;     ///< false: host costs exactly as the profile
};

/// Models Synthesize knows, in help order: resnet50, resnet101, resnet152, mobilenetv2,
/// vgg16, vgg19, inception_v3, bert-base (encoder only: 12 layers, no embeddings or
/// pooler, as the Abacus tables measure it), bert-base-full (Hugging Face BertModel).
std::vector<std::string> SynthModelNames();

/// LLMs Synthesize knows (profiler/synth_llm.h), in help order: llama-3.2-1b,
/// llama-3.2-3b, llama-3.1-8b, qwen2.5-7b, mistral-7b, qwen1.5-moe-a2.7b.
std::vector<std::string> SynthLlmNames();

/// One kernel of a synthetic model with its roofline, for inspection and tests.
struct SynthKernelInfo {
  std::string op;    ///< operator label, "aten::conv2d"
  std::string name;  ///< kernel name
  KernelClass cls = KernelClass::kElementwise;
  double flops = 0.0;        ///< floating-point operations (2 per multiply-add)
  double bytes = 0.0;        ///< DRAM bytes (each input, weight and output once)
  double peak_tflops = 0.0;  ///< compute peak used, TFLOPS
  KernelEfficiency eff;      ///< table shares; eff.compute already times the wave efficiency
  RooflineCost cost;         ///< isolated duration
};

/// The roofline of kernel `k` of a request in `request_dtype` under `profile` (its TF32
/// choices) and `library` on `spec`, as every synthetic kernel is costed: the peak of the
/// kernel's class and dtype (FP8 requests run only kernels marked fp8 in FP8, the rest in
/// bf16), the library's efficiency, tile and wave efficiency for tensor classes. Writes
/// the peak used, the efficiency (compute already times tile and wave efficiency) and
/// the cost.
void SynthKernelRoofline(const SynthKernelDesc& k, SynthDtype request_dtype,
                         const HostCostProfile& profile, const std::string& library,
                         const GpuSpec& spec, double* peak_tflops, KernelEfficiency* eff,
                         RooflineCost* cost);

/// The kernels of `req` on `spec`, in launch order, without placing them in time.
/// Throws InputError as Synthesize does.
std::vector<SynthKernelInfo> SynthModelKernels(const SynthRequest& req, const GpuSpec& spec);

/// One inference of `req.model` on `spec`: the input copy, every operator PyTorch eager
/// would run (a cpu task each) with the kernels it launches, the output copy and a
/// final stream sync, all on stream kSynthStream. meta records model, batch, seq (0 for
/// vision), dtype, framework, library, gpu, seed and "synthetic": true. Throws
/// InputError naming the field for an unknown model, dtype, framework or library (with
/// a "did you mean"), a batch outside 1..kSynthMaxBatch, a seq outside 1..512 or given
/// for a vision model, bf16 on a GPU below compute capability 8.0, or a spec without
/// positive peaks and bandwidths.
///
/// LLM models: one iteration of a serving engine (the "vllm" profile): a cpu task for
/// the engine's step (HostCostProfile::step_ns), the input copy (int32 token ids, int64
/// positions and KV slots per token, the int32 block table and length of each
/// sequence), the operators of BuildLlmOps (prefill: each operator a cpu task and one
/// cudaLaunchKernel per kernel; decode with batch <= kLlmGraphMaxBatch: the operators up
/// to the final norm as one cudaGraphLaunch whose correlation all their kernels share,
/// then the LM head and sampler eagerly), the copy of the sampled int64 token ids back
/// and a stream sync. meta adds "phase". Further InputErrors: no or another --phase for
/// an LLM, --phase for another model, seq outside 1..max context, prefill batch x seq
/// above kSynthMaxPrefillTokens, weights and KV cache larger than the GPU's memory, a
/// dtype other than bf16/fp16/fp8 (fp8 for other models, or below compute capability
/// 8.9), a framework other than vllm (vllm for other models).
Trace Synthesize(const SynthRequest& req, const GpuSpec& spec);

/// Synthesize({model, batch, default seq, fp16, pytorch-eager, seed}, spec).
Trace SynthesizeModel(const std::string& model, int batch, const GpuSpec& spec, uint64_t seed = 1);

/// One zoo member of a measured co-location table (tools/validation): `model`
/// at `batch` and `seq_len` (0 = the model's default) in `dtype` with the
/// host costs of `framework` ("" = pytorch-eager) on `spec`. Out-of-range
/// batch and seq_len are clamped to one past the range, so that Synthesize
/// refuses them with its message. The plain-valued function that
/// validation::ZooSynthesizer wraps (validation knows nothing of synth).
Trace SynthesizeZooMember(const std::string& model, int64_t batch, int64_t seq_len,
                          const std::string& dtype, const std::string& framework,
                          const GpuSpec& spec);

/// `kernels` random kernels (1..1e8) over `streams` streams (1..1024, ids kSynthStream,
/// kSynthStream+1, ...) launched by one host thread: random launch shapes that fit
/// `spec`, durations 1 + 199*u^3 us for u uniform in [0,1) (1-200 us, mostly short),
/// random mem_bound, and an event_record / stream_wait pair between two streams before
/// every 50th kernel (the host first waits until both streams' latest kernels have
/// started, so each marker's start time also orders it within its stream); launches of
/// 3-6 us with 2-10 us of CPU time between calls; a device sync at the end.
/// Deterministic for a seed. Throws InputError for bad arguments.
Trace SynthesizeRandom(int64_t kernels, int streams, const GpuSpec& spec, uint64_t seed);

}  // namespace cotenant::profiler
