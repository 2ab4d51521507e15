#include "profiler/synth_kernels.h"

#include <algorithm>
#include <array>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

const std::vector<DtypeInfo>& Dtypes() {
  static const std::vector<DtypeInfo> dtypes = {
      {SynthDtype::kFp16, "fp16", 2, "c10::Half", "__half", "f16f16_f16f32_f32", ""},
      {SynthDtype::kBf16, "bf16", 2, "c10::BFloat16", "__nv_bfloat16", "bf16bf16_bf16f32_f32", ""},
      {SynthDtype::kFp32, "fp32", 4, "float", "float", "f32f32_f32f32_f32", "tf32f32_tf32f32_f32"},
      {SynthDtype::kFp8, "fp8", 1, "c10::Float8_e4m3fn", "__nv_fp8_e4m3", "e4m3e4m3_bf16f32_f32",
       ""},
  };
  return dtypes;
}

constexpr size_t kClasses = 12;

/// One library generation: the share of peak each KernelClass reaches, in enum order.
struct LibraryTable {
  const char* name;
  std::array<KernelEfficiency, kClasses> eff;
};

// Efficiency table. EVERY FIGURE HERE IS AN ASSUMPTION: no public source found in this
// work gives per-class shares of peak for cuDNN/cuBLAS eager inference kernels. They are
// round figures chosen before looking at any measured co-location table, with these
// reasons (profiler/README.md repeats them):
//  - large tensor-core GEMMs get closest to peak (0.75 Ampere); the share a GEMM really
//    reaches is further cut by wave quantisation (WaveEfficiency, after NVIDIA's
//    "Matrix Multiplication Background User's Guide", section "Wave Quantization");
//  - implicit-GEMM convolutions lose some of that to im2col address arithmetic (0.65),
//    1x1 convolutions are plain GEMMs over pixels with short K (0.60), the first layer's
//    3 input channels are padded to the tensor-core K granularity (0.20);
//  - eager attention's bmm works on 64-wide heads (K = 64 or N = 64): small tiles (0.50);
//  - depthwise convolutions run on CUDA cores with little reuse (0.30 of fp32 peak);
//  - DRAM-bound kernels: vectorized elementwise 0.80 of dram_gbps, reductions and
//    normalisation 0.70, layout transposes and strided copies 0.60;
//  - Hopper (cudnn9-cublas12): eager FP16 NCHW kernels are taken to reach a smaller
//    share of H100's much larger tensor peak (0.05-0.10 less for tensor classes);
//  - CUDA-core compute of elementwise and reduction kernels: 0.60 of fp32_tflops;
//  - LLM kernels (synth_llm.cpp). Fused prefill attention: the FlashAttention-2 paper
//    (T. Dao, 2023) reports its forward pass at 50-73% of A100's peak, FlashAttention-3
//    (J. Shah et al., 2024) up to 75% of H100's FP16 peak at long sequences; inference
//    shapes (causal, head dim 64-128, short prompts) sit lower: 0.55 on both
//    generations. Paged decode attention streams the KV cache in 16-token blocks
//    through a block table: 0.70 of dram_gbps, like reductions. MoE grouped GEMMs
//    (vLLM's Triton fused_moe) reach less than cuBLAS on dense GEMMs: 0.10 below gemm.
//    All three are assumptions guided by those figures, not measurements.
const std::vector<LibraryTable>& Libraries() {
  //                     compute, dram
  static const std::vector<LibraryTable> libs = {
      {"cudnn8-cublas11",
       {{{0.65, 0.80},     // kConv
         {0.60, 0.80},     // kConv1x1
         {0.20, 0.80},     // kConvFirst
         {0.30, 0.70},     // kDepthwise
         {0.75, 0.80},     // kGemm
         {0.50, 0.80},     // kBmm
         {0.60, 0.80},     // kElementwise
         {0.60, 0.70},     // kReduction
         {0.60, 0.60},     // kTranspose
         {0.55, 0.80},     // kFlashAttention
         {0.60, 0.70},     // kPagedAttention
         {0.65, 0.80}}}},  // kGroupedGemm
      {"cudnn9-cublas12",
       {{{0.55, 0.80},
         {0.50, 0.80},
         {0.15, 0.80},
         {0.30, 0.70},
         {0.65, 0.80},
         {0.40, 0.80},
         {0.60, 0.80},
         {0.60, 0.70},
         {0.60, 0.60},
         {0.55, 0.80},
         {0.60, 0.70},
         {0.55, 0.80}}}},
  };
  return libs;
}

std::vector<std::string> DtypeNames() {
  std::vector<std::string> names;
  for (const DtypeInfo& d : Dtypes()) names.push_back(d.name);
  return names;
}

}  // namespace

std::vector<std::string> SynthDtypes() { return DtypeNames(); }

DtypeInfo FindDtype(const std::string& name) {
  for (const DtypeInfo& d : Dtypes())
    if (d.name == name) return d;
  const std::vector<std::string> names = DtypeNames();
  throw InputError("dtype: expected one of " + QuotedList(names) + ", found \"" + name + "\"" +
                   DidYouMean(name, names));
}

const char* KernelClassName(KernelClass cls) {
  switch (cls) {
    case KernelClass::kConv:
      return "conv";
    case KernelClass::kConv1x1:
      return "conv1x1";
    case KernelClass::kConvFirst:
      return "conv_first";
    case KernelClass::kDepthwise:
      return "depthwise";
    case KernelClass::kGemm:
      return "gemm";
    case KernelClass::kBmm:
      return "bmm";
    case KernelClass::kElementwise:
      return "elementwise";
    case KernelClass::kReduction:
      return "reduction";
    case KernelClass::kTranspose:
      return "transpose";
    case KernelClass::kFlashAttention:
      return "flash_attention";
    case KernelClass::kPagedAttention:
      return "paged_attention";
    case KernelClass::kGroupedGemm:
      return "grouped_gemm";
  }
  return "?";
}

bool IsTensorClass(KernelClass cls) {
  return cls == KernelClass::kConv || cls == KernelClass::kConv1x1 ||
         cls == KernelClass::kConvFirst || cls == KernelClass::kGemm || cls == KernelClass::kBmm ||
         cls == KernelClass::kFlashAttention || cls == KernelClass::kGroupedGemm;
}

std::vector<std::string> SynthLibraries() {
  std::vector<std::string> names;
  for (const LibraryTable& l : Libraries()) names.push_back(l.name);
  return names;
}

std::string DefaultLibrary(const GpuSpec& spec) {
  // PyTorch 2.x wheels for Hopper ship cuDNN 9 / cuBLAS 12; cuDNN 8 / cuBLAS 11 is the
  // generation of PyTorch 1.8-1.13 and of the Ampere era.
  return spec.compute_capability >= 90 ? "cudnn9-cublas12" : "cudnn8-cublas11";
}

void CheckLibrary(const std::string& library) {
  const std::vector<std::string> names = SynthLibraries();
  if (std::find(names.begin(), names.end(), library) != names.end()) return;
  throw InputError("library: expected one of " + QuotedList(names) + ", found \"" + library + "\"" +
                   DidYouMean(library, names));
}

KernelEfficiency SynthEfficiency(const std::string& library, KernelClass cls) {
  for (const LibraryTable& l : Libraries())
    if (library == l.name) return l.eff[static_cast<size_t>(cls)];
  CheckLibrary(library);  // throws
  return {};
}

double WaveEfficiency(int64_t tiles, int64_t slots) {
  if (slots <= 0 || tiles <= 0) return 1.0;
  const int64_t waves = (tiles + slots - 1) / slots;
  return static_cast<double>(tiles) / static_cast<double>(waves * slots);
}

double PeakTflops(KernelClass cls, SynthDtype dtype, bool tf32, const GpuSpec& spec) {
  if (!IsTensorClass(cls)) return spec.fp32_tflops;
  // FP8: twice the dense FP16 tensor rate where the GPU has FP8 (H100 SXM datasheet:
  // FP8 3,958 vs BF16 1,979 TFLOPS, both with sparsity; L4 and L40S datasheets likewise).
  if (dtype == SynthDtype::kFp8) return 2.0 * spec.tensor_tflops;
  if (dtype != SynthDtype::kFp32) return spec.tensor_tflops;
  // Dense TF32 is half the dense FP16 tensor rate: A100 datasheet 156 vs 312 TFLOPS,
  // H100 whitepaper (SXM5) 494.7 vs 989.4, L4 datasheet 60 vs 121.
  if (tf32 && spec.compute_capability >= 80) return spec.tensor_tflops / 2.0;
  return spec.fp32_tflops;
}

RooflineCost SynthRoofline(double flops, double bytes, double peak_tflops, double compute_eff,
                           double dram_eff, const GpuSpec& spec) {
  RooflineCost c;
  c.compute_ns = DurationFromWork(flops, peak_tflops * 1e3 * compute_eff);
  c.memory_ns = DurationFromWork(bytes, spec.dram_gbps * dram_eff);
  c.dur_ns = std::max(c.compute_ns, c.memory_ns) + kSynthKernelOverheadNs;
  c.mem_bound = static_cast<double>(c.memory_ns) / static_cast<double>(c.dur_ns);
  return c;
}

}  // namespace cotenant::profiler
