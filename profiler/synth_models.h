// The network builders of synthetic model traces: each known model as the sequence
// of framework operators PyTorch eager runs for one inference, each operator with its
// host work and the kernels it launches (flops, bytes, launch shape). Placement in time
// is synth.cpp's job. Internal to profiler/ (synth.h is the public interface).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "profiler/synth_host.h"
#include "profiler/synth_kernels.h"
#include "sim/gpu_spec.h"

namespace cotenant::profiler {

/// One kernel of an operator, before it is placed on the timeline.
struct SynthKernelDesc {
  std::string name;  ///< kernel name as a profiler would show it
  KernelClass cls = KernelClass::kElementwise;
  double flops = 0.0;                     ///< floating-point operations (2 per MAC)
  double bytes = 0.0;                     ///< DRAM bytes: each input, weight, output once
  int64_t tiles = 0;                      ///< tensor classes: output tiles (blocks), else 0
  std::array<int32_t, 3> grid{1, 1, 1};   ///< launch grid
  std::array<int32_t, 3> block{1, 1, 1};  ///< threads per block
  int32_t regs = 32;                      ///< registers per thread
  int32_t smem = 0;                       ///< shared memory per block, bytes
  /// Tensor classes: share of the computed tile rows that hold data (M / M padded up to
  /// the tile's M; a decode GEMM with M = 1 in 64-row tiles: 1/64). Multiplies the
  /// compute share like the wave efficiency does. 1 = no padding.
  double tile_efficiency = 1.0;
  bool fp8 = false;  ///< runs on FP8 tensor cores (e4m3 inputs), else in the model dtype
};

/// One framework operator: its label, host work and kernels (possibly none).
struct SynthOp {
  std::string op;                        ///< "aten::conv2d"
  HostWork host;                         ///< Python, module, dispatcher and library work
  std::vector<SynthKernelDesc> kernels;  ///< in launch order
  /// Captured in a decode step's CUDA Graph (LLM models): replayed by one
  /// cudaGraphLaunch, without host work of its own, where the framework uses graphs.
  bool graph = false;
};

/// What a model is built for.
struct ModelShape {
  int64_t batch = 1;  ///< images or sequences
  int64_t seq = 0;    ///< tokens per sequence (BERT models), 0 for vision models
};

/// A known model.
struct ModelInfo {
  const char* name;  ///< --model spelling
  bool vision;       ///< image input (true) or BERT hidden states / token ids (false)
  bool bert_full;    ///< BERT with embeddings and pooler (bert-base-full)
  int64_t image;     ///< input height = width, pixels (vision), 0 otherwise
};

/// Models in help order: resnet50, resnet101, resnet152, mobilenetv2, vgg16, vgg19,
/// inception_v3, bert-base (encoder only), bert-base-full.
const std::vector<ModelInfo>& SynthModels();

/// Default and largest BERT sequence length, tokens.
constexpr int64_t kBertDefaultSeq = 128;
constexpr int64_t kBertMaxSeq = 512;
/// BERT-base sizes: hidden width, heads, FFN width, layers.
constexpr int64_t kBertHidden = 768, kBertHeads = 12, kBertFfn = 3072;
constexpr int kBertLayers = 12;

/// The operators of one inference of `model` (from SynthModels()) at `shape`, with
/// kernels for `dtype` on `spec`. `tf32_conv` / `tf32_matmul`: FP32 convolutions /
/// GEMMs run on TF32 tensor cores (compute capability >= 8.0), which also decides the
/// convolutions' layout transposes. Kernel names carry `spec`'s compute capability;
/// efficiencies and durations are the caller's (synth.cpp).
std::vector<SynthOp> BuildModelOps(const ModelInfo& model, const ModelShape& shape,
                                   const DtypeInfo& dtype, bool tf32_conv, bool tf32_matmul,
                                   const GpuSpec& spec);

}  // namespace cotenant::profiler
