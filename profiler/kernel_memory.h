// Memory intensity of imported kernels: DRAM bytes and memory-boundness of
// every kernel of a trace, from what the trace source saw — the operator's
// input shapes and dtypes (PyTorch record_shapes, emit_nvtx "sizes = ..."),
// else the class of the kernel's name — recording where each figure came
// from (Task::dram_source). Measured counters always win. The rules and
// their sources are in docs/models.md ("Memory intensity of imported
// kernels"); the figures' sources are also beside each constant in
// kernel_memory.cpp.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "profiler/capture.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"

namespace cotenant::profiler {

/// Bytes per element of a PyTorch dtype as the profiler writes it ("float"
/// 4, "c10::Half" 2, "c10::BFloat16" 2, "double" 8, "long int"/"long" 8,
/// "int" 4, "bool" 1, ...); 0 when `type` is not a tensor element type
/// ("Scalar", "ScalarList", "TensorList", "", unknown).
int64_t DtypeBytes(const std::string& type);

/// Kineto's "Input Dims" (and "Input type" and "Concrete Inputs", each may
/// be null) of a cpu_op as
/// OpInputs; a tensor list ([[2, 3], [2, 3]]) is spread over consecutive
/// positions, each with the list's type. Malformed entries become [] (not a
/// tensor); never throws (shapes are optional information).
OpInputs OpInputsFromJson(const nlohmann::json& dims, const nlohmann::json* types,
                          const nlohmann::json* values = nullptr);

/// Bytes per element assumed when the source gives shapes without dtypes
/// (emit_nvtx ranges): float32, PyTorch's default dtype.
constexpr int64_t kDefaultElementBytes = 4;

/// The input shapes in an emit_nvtx range name ("aten::addmm, seq = 3,
/// sizes = [[768], [8, 768], [768, 768], [], []]"); empty when the name has
/// no well-formed "sizes = [...]". Types are left empty (unknown).
OpInputs ParseNvtxSizes(const std::string& range_name);

/// The inputs of `range`: its own (Kineto "Input Dims"), else the sizes in
/// its name (emit_nvtx).
OpInputs InputsOfRange(const Range& range);

/// Compulsory DRAM traffic of one call of operator `op` ("aten::addmm",
/// with or without the "aten::" prefix and emit_nvtx decorations), bytes:
/// every tensor input read once and the output written once, under the
/// assumptions documented in docs/models.md. nullopt when the operator is
/// not modelled or its inputs do not have the shapes it needs.
std::optional<double> OpBytes(const std::string& op, const OpInputs& inputs);

/// What a kernel's name says it does.
enum class NameClass : uint8_t {
  kUnknown,
  kGemm,         ///< cutlass, cublas, gemm, sm80/sm90 xmma, ampere_*gemm
  kConv,         ///< cudnn, implicit_gemm, conv, winograd
  kElementwise,  ///< elementwise_kernel, vectorized_elementwise, unrolled_elementwise
  kReduction,    ///< reduce_kernel, softmax, layer_norm, norms, cuDNN batch norm (bn_fw, bn_bw)
  kNccl,         ///< nccl collectives
  kCopy,         ///< copy, memcpy, fill kernels
};
inline constexpr size_t kNameClassCount = 7;

/// "gemm", "conv", "elementwise", "reduction", "nccl", "copy", "unknown".
const char* NameClassName(NameClass c);

/// The class of a kernel name (mangled or not, any case); the first
/// matching rule in the order nccl, Triton (triton_poi* elementwise,
/// triton_red* / triton_per* reduction, triton_tem* gemm), elementwise,
/// reduction, conv, gemm, copy wins (PyTorch's elementwise templates name their functors, e.g. a
/// copy; cuDNN's batch norm kernels start with "cudnn::bn_").
NameClass ClassifyKernelName(const std::string& name);

/// The figures a name class stands for.
struct NameClassFigures {
  double mem_bound = 0.0;   ///< share of the kernel's time bound by DRAM, [0, 1]
  double dram_share = 0.0;  ///< share of dram_gbps reached while DRAM-bound, (0, 1]
};
/// The stated default of `c` on `spec` (dram_share from the synth
/// efficiency table of the library generation `spec` ships with);
/// nullopt for kUnknown.
std::optional<NameClassFigures> NameClassDefaults(NameClass c, const GpuSpec& spec);

/// The GPU spec whose bandwidth estimates use when the trace's GPU is
/// unknown: the one the tools fall back to.
inline constexpr const char* kMemoryFallbackGpu = "h100-sxm";

/// Coverage of an estimate: kernels by the source of their figures.
struct MemoryReport {
  std::string gpu;      ///< key of the GPU spec used
  int64_t kernels = 0;  ///< kernel tasks
  int64_t counter = 0;  ///< kept their measured counters
  int64_t shape = 0;    ///< estimated from operator shapes
  int64_t name = 0;     ///< estimated from the kernel name's class
  int64_t none = 0;     ///< no figure
  int64_t clamped = 0;  ///< shape estimates cut to the GPU's peak DRAM bandwidth
};

/// Fills dram_bytes, mem_bound and dram_source of every kernel of `trace`
/// that has no figure yet (a kernel with one keeps it: counters win):
/// - with a range in `kernel_ranges` (task id, index in `ranges`, as
///   BuildReport::kernel_ranges) whose operator OpBytes() models (else the
///   innermost enclosing range on its thread that it models, within 256
///   earlier ranges; ProfilerStep ranges never count), the
///   call's bytes are split over its kernels (the kernels that call takes)
///   in proportion to their durations (evenly when they all
///   last 0 ns); bytes above dram_gbps x dur_ns are cut to it (counted in
///   `clamped`); mem_bound = bytes / (dur_ns x dram_gbps), 0 for a 0 ns
///   kernel; source kShape;
/// - else, when the name has a class: mem_bound = the class default,
///   dram_bytes = mem_bound x dram_share x dram_gbps x dur_ns x min(1,
///   blocks / SMs) (grids smaller than the GPU reach that share of the
///   bandwidth); source kName;
/// - else no figure.
/// Returns the coverage (report.gpu = spec.key).
MemoryReport EstimateMemory(Trace& trace, const GpuSpec& spec, const std::vector<Range>& ranges,
                            const std::vector<std::pair<int64_t, size_t>>& kernel_ranges);

/// EstimateMemory on an imported trace, on the GPU it was taken on: `gpu`
/// (a spec key) when given, else the trace's device.gpu, else the spec its
/// device.name matches, else kMemoryFallbackGpu; records the spec and the
/// coverage in trace.meta["memory"] (gpu, gpu_unknown when the fallback was
/// used, counter, shape, name, none, clamped). Every importer calls this.
MemoryReport EstimateImportedMemory(Trace& trace, const std::string& gpu,
                                    const std::vector<Range>& ranges,
                                    const std::vector<std::pair<int64_t, size_t>>& kernel_ranges);

/// The line import and inspect print: "12 counter, 340 shape estimate, 51
/// name class, 3 none (of 406 kernels)".
std::string MemoryCoverageText(int64_t counter, int64_t shape, int64_t name, int64_t none);

}  // namespace cotenant::profiler
