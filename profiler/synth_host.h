// Host cost of framework operators in synthetic traces: what the launching CPU thread
// spends on one PyTorch operator (an aten op, including ops that launch nothing),
// split into Python/module overhead, dispatcher passes, library setup and one
// cudaLaunchKernel per kernel. Profiles are chosen by name (--framework); each figure's
// source is in synth_host.cpp and profiler/README.md ("Host cost").
#pragma once

#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant::profiler {

/// Library setup an operator does on the host before its kernels.
enum class LibrarySetup {
  kNone,
  kCudnnConv,  ///< cuDNN convolution: descriptors, algorithm (cache) lookup, workspace
  kCudnnBn,    ///< cuDNN batch norm: descriptors
  kCublas,     ///< cuBLAS GEMM: handle, workspace, heuristics
};

/// The host work of one framework operator, in units the profile prices.
struct HostWork {
  int modules = 0;       ///< nn.Module.__call__ entered just before this op (0 = functional)
  int python_calls = 1;  ///< torch.* / Tensor.* calls from Python (argument parsing)
  int dispatches = 1;    ///< passes through the ATen dispatcher (the op and its nested ops)
  LibrarySetup setup = LibrarySetup::kNone;
};

/// What one framework costs on the host, ns per unit of HostWork and per launch.
struct HostCostProfile {
  std::string name;          ///< --framework spelling: "pytorch-eager"
  std::string description;   ///< one line: framework version, era, CPU
  TimeNs module_ns = 0;      ///< one nn.Module.__call__ (hook checks, forward lookup)
  TimeNs python_ns = 0;      ///< one Python-to-C++ call of a torch function
  TimeNs dispatch_ns = 0;    ///< one pass through the ATen dispatcher
  TimeNs cudnn_conv_ns = 0;  ///< cuDNN convolution setup per call (no cudnn.benchmark)
  TimeNs cudnn_bn_ns = 0;    ///< cuDNN batch-norm setup per call
  TimeNs cublas_ns = 0;      ///< cuBLAS GEMM setup per call
  TimeNs launch_ns = 0;      ///< CPU time of one cudaLaunchKernel
  TimeNs memcpy_ns = 0;      ///< CPU time of one cudaMemcpyAsync (pageable: staging excluded)
  double jitter = 0.0;       ///< each cost is scaled by a seeded uniform factor in [1-j, 1+j]
  bool matmul_tf32 = false;  ///< FP32 GEMMs run on TF32 tensor cores (Ampere and later)
  bool conv_tf32 = true;     ///< FP32 convolutions run on TF32 tensor cores (Ampere and later)
  std::string source;        ///< where the figures come from, one line
  /// Serving engines (LLM models): the engine's own work per iteration (scheduling,
  /// input preparation, output processing), ns; 0 for PyTorch eager profiles.
  TimeNs step_ns = 0;
  TimeNs graph_launch_ns = 0;      ///< CPU time of one cudaGraphLaunch
  bool decode_cuda_graph = false;  ///< decode steps replay a captured CUDA Graph
  bool serving = false;            ///< a serving-engine profile, for LLM models only
};

/// Names of the bundled profiles, default first: "pytorch-eager", "pytorch-1.8-eager",
/// "vllm" (LLM models' default and only profile).
std::vector<std::string> SynthFrameworks();

/// The profile called `name`. Throws InputError ("framework: expected one of ...,
/// found X; did you mean ...") for another name.
const HostCostProfile& FindFramework(const std::string& name);

/// Host time of `work` under `profile` without jitter, ns (launches not included):
/// modules x module_ns + python_calls x python_ns + dispatches x dispatch_ns + setup.
TimeNs HostWorkNs(const HostCostProfile& profile, const HostWork& work);

}  // namespace cotenant::profiler
