// Synthetic kernels: element types, library generations, the efficiency table
// (share of peak a kernel class reaches) and the roofline that turns a kernel's
// flops and bytes into an isolated duration. Figures and their sources are in
// synth_kernels.cpp and profiler/README.md ("Kernel efficiency").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// Fixed cost added to every synthetic kernel (ramp-up, tail, launch inside the GPU), ns.
/// An assumption carried over from the first synth, not measured.
constexpr TimeNs kSynthKernelOverheadNs = 2000;

/// Element type of a synthetic model's weights and activations.
enum class SynthDtype {
  kFp16,
  kBf16,
  kFp32,
  kFp8,  ///< e4m3 weights and GEMM inputs, BF16 accumulate and output (LLM models only)
};

/// What an element type means for kernels: bytes and the names its kernels carry.
struct DtypeInfo {
  SynthDtype dtype = SynthDtype::kFp16;
  std::string name;       ///< "fp16", "bf16", "fp32", "fp8" (the --dtype spelling)
  int64_t bytes = 2;      ///< bytes per element
  std::string aten;       ///< PyTorch scalar type in kernel names: "c10::Half"
  std::string cuda;       ///< CUDA type in cuDNN kernel names: "__half"
  std::string xmma;       ///< xmma tensor-core type tag: "f16f16_f16f32_f32"
  std::string xmma_tf32;  ///< tag when an FP32 kernel runs on TF32 tensor cores ("" else)
};

/// The spellings --dtype accepts, in help order: fp16, bf16, fp32, fp8 (fp8: LLM models only).
std::vector<std::string> SynthDtypes();

/// The element type called `name`. Throws InputError ("dtype: expected one of ...,
/// found X; did you mean ...") for another name.
DtypeInfo FindDtype(const std::string& name);

/// What a kernel does, for the efficiency table and the choice of peak.
enum class KernelClass {
  kConv,            ///< implicit-GEMM convolution with a k x k (k > 1) filter, tensor cores
  kConv1x1,         ///< 1x1 convolution (a plain GEMM over pixels), tensor cores
  kConvFirst,       ///< first-layer convolution on 3 input channels (padded K), tensor cores
  kDepthwise,       ///< depthwise convolution, CUDA cores
  kGemm,            ///< cuBLAS GEMM of a linear layer, tensor cores
  kBmm,             ///< batched GEMM of eager attention (scores, context), tensor cores
  kElementwise,     ///< elementwise (activation, add, cast, bias), DRAM-bound
  kReduction,       ///< pooling, softmax, batch/layer norm, embedding gather, DRAM-bound
  kTranspose,       ///< layout transposes and strided copies, DRAM-bound
  kFlashAttention,  ///< fused prefill attention (FlashAttention-style), tensor cores
  kPagedAttention,  ///< decode attention reading a paged KV cache, DRAM-bound
  kGroupedGemm,     ///< MoE expert GEMMs, one launch for all experts, tensor cores
};

/// Name of a class as written in docs and tests ("conv", "gemm", ...).
const char* KernelClassName(KernelClass cls);

/// True for classes that run on tensor cores (convolutions other than depthwise, GEMMs,
/// grouped GEMMs, fused prefill attention).
bool IsTensorClass(KernelClass cls);

/// Shares of peak a kernel class reaches.
struct KernelEfficiency {
  double compute = 1.0;  ///< share of the compute peak, (0, 1]
  double dram = 1.0;     ///< share of dram_gbps, (0, 1]
};

/// Library generations with an efficiency table, in help order:
/// "cudnn8-cublas11" (Volta, Turing, Ampere, Ada), "cudnn9-cublas12" (Hopper).
std::vector<std::string> SynthLibraries();

/// The generation PyTorch builds for `spec` ship with: cudnn9-cublas12 from compute
/// capability 9.0, cudnn8-cublas11 below.
std::string DefaultLibrary(const GpuSpec& spec);

/// Checks a --library name; throws InputError with a did-you-mean for an unknown one.
void CheckLibrary(const std::string& library);

/// The efficiency of `cls` kernels in `library` (a name from SynthLibraries()).
KernelEfficiency SynthEfficiency(const std::string& library, KernelClass cls);

/// Share of the GPU's tile slots a grid of `tiles` blocks keeps busy over its waves
/// (wave quantisation): tiles / (ceil(tiles / slots) * slots), slots = SMs x resident
/// blocks per SM. In (0, 1]; 1 when slots <= 0.
double WaveEfficiency(int64_t tiles, int64_t slots);

/// Compute peak of a kernel, TFLOPS (1e12 flop/s): tensor_tflops for tensor classes in
/// FP16/BF16; 2 x tensor_tflops in FP8 (GPU specs carry no FP8 field, so it is derived:
/// the H100 SXM datasheet gives FP8 3,958 vs BF16 1,979 TFLOPS, both with sparsity; the
/// caller checks compute capability >= 8.9); for FP32, tensor_tflops / 2 (TF32, compute
/// capability >= 8.0) when `tf32` is set, fp32_tflops otherwise; fp32_tflops for
/// CUDA-core classes.
double PeakTflops(KernelClass cls, SynthDtype dtype, bool tf32, const GpuSpec& spec);

/// A kernel's isolated duration and the share of it bound by DRAM.
struct RooflineCost {
  TimeNs dur_ns = 0;       ///< max(compute, memory) + kSynthKernelOverheadNs
  TimeNs compute_ns = 0;   ///< flops at the derated peak, rounded up
  TimeNs memory_ns = 0;    ///< bytes at the derated bandwidth, rounded up
  double mem_bound = 0.0;  ///< memory_ns / dur_ns, in [0, 1)
};

/// The roofline of a kernel doing `flops` floating-point operations and moving `bytes`
/// DRAM bytes on `spec`:
///   compute_ns = flops / (peak_tflops * 1e3 * compute_eff)   (TFLOPS = 1e3 flop/ns)
///   memory_ns  = bytes / (spec.dram_gbps * dram_eff)          (GB/s = 1 byte/ns)
///   dur_ns     = max(compute_ns, memory_ns) + kSynthKernelOverheadNs
/// each rounded up to whole ns (DurationFromWork).
RooflineCost SynthRoofline(double flops, double bytes, double peak_tflops, double compute_eff,
                           double dram_eff, const GpuSpec& spec);

}  // namespace cotenant::profiler
