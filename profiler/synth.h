// Synthetic traces: what PyTorch eager inference of a known model would launch,
// kernel by kernel, with durations from a roofline of a GPU spec (estimates, not
// measurements), and random traces for stress tests.
//
// Model traces (SynthesizeModel) assume:
//  - FP16 weights and activations (2 bytes per element), NCHW tensors, batch
//    `batch`, 224x224 images (vision) or 128-token sequences (BERT), no padding;
//  - PyTorch eager launches every operator separately: conv, batch-norm (a separate
//    inference kernel, not folded) and ReLU are three kernels; a conv with a bias
//    (VGG-16) adds the bias in a second kernel; linear layers fuse their bias in the
//    GEMM epilogue; dropout is a no-op in eval mode; views launch nothing;
//  - the FP32 input is copied host-to-device and cast to FP16 by one kernel (vision);
//    BERT gets int64 token ids; the output (logits / pooled output) is copied back;
//  - cuDNN layout transposes and cuBLAS split-K reduction kernels are not modelled
//    (split-K GEMMs are taken to reduce in their own epilogue).
//
// Kernel durations (SynthRoofline):
//   compute_ns = flops / (peak * efficiency)     peak = tensor_tflops for GEMMs and
//                                                convolutions, fp32_tflops otherwise
//   memory_ns  = bytes / (dram_gbps * kSynthDramEfficiency)
//   dur_ns     = max(compute_ns, memory_ns) + kSynthKernelOverheadNs
//   mem_bound  = memory_ns / dur_ns
// with compute_ns and memory_ns each rounded up to whole ns (DurationFromWork).
// `bytes` counts each input, weight and output tensor once (ideal caching).
//
// Host side: one thread (id kSynthThread) issues every GPU task through a `launch`
// ("cudaLaunchKernel" / "cudaMemcpyAsync", 3-6 us, seeded jitter) that shares its
// `correlation`, with 2-10 us of CPU time between calls; a GPU task starts at
// max(launch end + spec.model.launch_latency_ns, end of the previous task on its
// stream), i.e. where an isolated execution would place it. Copies take
// bytes / pcie_gbps. A final stream sync returns spec.model.sync_latency_ns after the
// last task ends. Everything is deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// Share of `tensor_tflops` that GEMM and convolution kernels reach.
constexpr double kSynthTensorEfficiency = 0.6;
/// Share of `fp32_tflops` that other kernels (elementwise, pooling, depthwise, ...) reach.
constexpr double kSynthCudaCoreEfficiency = 0.6;
/// Share of `dram_gbps` every kernel reaches when it streams memory.
constexpr double kSynthDramEfficiency = 0.8;
/// Fixed cost added to every synthetic kernel (ramp-up, tail, launch inside the GPU), ns.
constexpr TimeNs kSynthKernelOverheadNs = 2000;
/// Host thread that issues all synthetic work.
constexpr int64_t kSynthThread = 1;
/// Stream of model traces, and the first stream of random traces.
constexpr int64_t kSynthStream = 7;
/// Largest batch SynthesizeModel accepts.
constexpr int kSynthMaxBatch = 1024;

/// A kernel's isolated duration and the share of it bound by DRAM.
struct RooflineCost {
  TimeNs dur_ns = 0;       ///< max(compute, memory) + kSynthKernelOverheadNs
  TimeNs compute_ns = 0;   ///< flops at the derated peak, rounded up
  TimeNs memory_ns = 0;    ///< bytes at the derated bandwidth, rounded up
  double mem_bound = 0.0;  ///< memory_ns / dur_ns, in [0, 1)
};

/// The roofline estimate of a kernel doing `flops` floating-point operations and
/// moving `bytes` DRAM bytes on `spec`; `tensor_core` picks tensor_tflops (GEMM,
/// convolution) over fp32_tflops as the compute peak.
RooflineCost SynthRoofline(double flops, double bytes, bool tensor_core, const GpuSpec& spec);

/// Models SynthesizeModel knows: resnet50, mobilenetv2, vgg16, bert-base.
std::vector<std::string> SynthModelNames();

/// One inference request of `model` at `batch` (1..kSynthMaxBatch) on `spec`: the
/// input copy, every kernel PyTorch eager would launch, the output copy and a final
/// stream sync, all on stream kSynthStream. `seed` drives the host-side jitter only.
/// Throws InputError for an unknown model (with a "did you mean") or a bad batch.
Trace SynthesizeModel(const std::string& model, int batch, const GpuSpec& spec, uint64_t seed = 1);

/// `kernels` random kernels (1..1e8) over `streams` streams (1..1024, ids kSynthStream,
/// kSynthStream+1, ...) launched by one host thread: random launch shapes that fit
/// `spec`, durations 1 + 199*u^3 us for u uniform in [0,1) (1-200 us, mostly short),
/// random mem_bound, and an event_record / stream_wait pair between two streams before
/// every 50th kernel (the host first waits until both streams' latest kernels have
/// started, so each marker's start time also orders it within its stream); a device
/// sync at the end. Deterministic for a seed. Throws InputError for bad arguments.
Trace SynthesizeRandom(int64_t kernels, int streams, const GpuSpec& spec, uint64_t seed);

}  // namespace cotenant::profiler
