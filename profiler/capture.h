// What a profiler saw, normalised: the CUPTI injection library
// (profiler/cupti/) and the Kineto importer (profiler/kineto.h) both turn
// their raw records into a Capture, and BuildTrace() turns a Capture into
// one `cotenant.trace/1`. Nothing here includes <cupti.h>.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// An operator's inputs as the profiler recorded them (PyTorch
/// record_shapes: Kineto args "Input Dims" / "Input type"; emit_nvtx range
/// names carry "sizes = [...]" without types). Position i of `dims` is the
/// i-th input ([] for a scalar, None or 0-d tensor); a tensor list is
/// spread over consecutive positions.
struct OpInputs {
  std::vector<std::vector<int64_t>> dims;
  std::vector<std::string> types;  ///< same length as dims, or empty when unknown
  /// Kineto "Concrete Inputs": each non-tensor input's value as text ("[2,
  /// 2]", "1", "same"; "" for tensors); same length as dims, or empty when
  /// unknown (or when a tensor list was spread).
  std::vector<std::string> values;
  bool empty() const { return dims.empty(); }
};

/// A CUDA runtime or driver API call on a host thread.
struct ApiCall {
  std::string name;                 ///< "cudaLaunchKernel", "cuLaunchKernel", ...
  bool driver = false;              ///< driver API (cu*) rather than runtime (cuda*)
  int64_t thread = 0;               ///< OS thread id as the profiler reported it
  TimeNs start_ns = 0, end_ns = 0;  ///< profiler clock; end >= start
  int64_t correlation = kAbsent;    ///< links the call with the GPU work it enqueued
  /// For cudaEventRecord / cudaStreamWaitEvent / *Synchronize when the
  /// profiler knows them from the call itself (Kineto args); otherwise the
  /// builder takes them from a GpuSync with the same correlation.
  int64_t stream = kAbsent;
  int64_t event = kAbsent;
};

/// A kernel, memcpy or memset as it ran on the GPU.
struct GpuActivity {
  TaskKind kind = TaskKind::kKernel;  ///< kKernel, kMemcpy or kMemset
  std::string name;                   ///< kernel name (mangled or not), copy/memset name; may be ""
  int64_t device = 0;
  int64_t stream = 0;
  TimeNs start_ns = 0, end_ns = 0;  ///< profiler clock; end >= start
  int64_t correlation = kAbsent;
  std::array<int32_t, 3> grid{0, 0, 0};  ///< {0,0,0} = unknown
  std::array<int32_t, 3> block{0, 0, 0};
  int32_t regs = 0;              ///< registers per thread; 0 = unknown
  int32_t smem = 0;              ///< static + dynamic shared memory per block, bytes
  CopyDir dir = CopyDir::kNone;  ///< memcpy
  int64_t bytes = kAbsent;       ///< memcpy / memset
  int64_t dram_bytes = kAbsent;  ///< counter (profile --counters)
  double mem_bound = -1.0;       ///< counter-derived, 0..1; < 0 = unknown
  /// A label the source already knows (Kineto: the cpu_op via External id);
  /// when empty the builder labels the kernel from the NVTX ranges.
  std::string op;
  /// A label from a range on the GPU's side (Kineto gpu_user_annotation)
  /// covering the activity: used when neither `op` nor a host range labels it.
  std::string gpu_range;
  /// The range (index in Capture::ranges) that gave `op`, or kAbsent.
  int64_t op_range = kAbsent;
};

/// What a synchronization or event record did, as the driver reported it
/// (CUPTI synchronization / CUDA event records, Kineto `cuda_sync`). Joined
/// to its ApiCall through `correlation`.
enum class SyncType : uint8_t {
  kEventRecord,      ///< cudaEventRecord(event, stream)
  kStreamWaitEvent,  ///< cudaStreamWaitEvent(stream, event)
  kStreamSync,       ///< cudaStreamSynchronize(stream)
  kEventSync,        ///< cudaEventSynchronize(event)
  kDeviceSync,       ///< cudaDeviceSynchronize / cuCtxSynchronize
};

struct GpuSync {
  SyncType type = SyncType::kDeviceSync;
  int64_t correlation = kAbsent;
  int64_t stream = kAbsent;
  int64_t event = kAbsent;
  TimeNs start_ns = 0, end_ns = 0;
};

/// An annotated host range: an NVTX push/pop or start/end range, or a
/// Kineto cpu_op. Ranges on one thread nest; the innermost one open when a
/// kernel is launched labels it (PyTorch's "ProfilerStep#N" ranges mark
/// iterations and never label kernels).
struct Range {
  std::string name;  ///< e.g. "aten::addmm, seq = 12, sizes = [[8, 768]]"
  int64_t thread = 0;
  TimeNs start_ns = 0, end_ns = 0;
  OpInputs inputs;  ///< Kineto "Input Dims"/"Input type" when recorded; else empty
};

/// Everything one process reported.
struct Capture {
  std::string device_name;  ///< as the driver reports it; may be empty
  std::string source;       ///< "cotenant-profiler 0.1", "kineto import", ...
  int64_t pid = 0;
  std::vector<ApiCall> api;
  std::vector<GpuActivity> gpu;
  std::vector<GpuSync> syncs;
  std::vector<Range> ranges;
  int64_t dropped_records = 0;        ///< records the profiler lost (buffer full)
  bool complete = true;               ///< false when an error cut the capture short
  std::vector<std::string> problems;  ///< one line each, reported in meta
};

/// Which part of the run becomes the trace.
struct Window {
  enum class Kind : uint8_t {
    kAll,       ///< everything captured
    kTime,      ///< [from_ns, to_ns) on the capture's clock
    kProfiler,  ///< between cudaProfilerStart and cudaProfilerStop
    kRange,     ///< the `occurrence`-th (1-based) range called `range_name`
  };
  Kind kind = Kind::kAll;
  TimeNs from_ns = 0, to_ns = 0;
  /// kTime: false = from/to are on the capture's clock; true = they count
  /// from the capture's first API call or GPU activity (what ParseWindow gives).
  bool time_relative = false;
  std::string range_name;
  int64_t occurrence = 1;
};

/// Parses a window: "all", "profiler", "range:NAME" (first occurrence),
/// "range:NAME:N" (N-th, 1-based) or "time:FROM_NS:TO_NS". NAME matches a
/// range's full name or its ShortOpName. Throws InputError naming `what`
/// (a flag or variable, e.g. "--window").
Window ParseWindow(const std::string& spec, const std::string& what);

/// The spec ParseWindow() reads back into `w`.
std::string WindowSpec(const Window& w);

struct BuildOptions {
  std::string tenant;  ///< the trace's tenant name
  Window window;
  /// Strip PyTorch's emit_nvtx decorations (", seq = 12, op_id = 3, sizes =
  /// ...") from operator labels, keeping "aten::addmm".
  bool short_op_names = true;
};

/// Counts of what the builder kept, dropped and why, for the CLI summary and
/// the trace's meta.
struct BuildReport {
  int64_t kernels = 0, memcpys = 0, memsets = 0, launches = 0, syncs = 0;
  int64_t streams = 0, threads = 0;
  TimeNs gpu_busy_ns = 0;          ///< union of GPU task intervals
  TimeNs span_ns = 0;              ///< first task start to last task end
  int64_t outside_window = 0;      ///< records dropped by the window
  int64_t unlabelled_kernels = 0;  ///< kernels without an operator label
  int64_t orphan_gpu = 0;          ///< GPU tasks whose launch was not captured
  int64_t dropped_records = 0;
  std::vector<std::string> problems;
  /// (task id, index in Capture::ranges) of every kernel whose label came
  /// from a range, by task id: the operator call that launched it, for
  /// EstimateMemory (profiler/kernel_memory.h).
  std::vector<std::pair<int64_t, size_t>> kernel_ranges;
};

/// Turns a capture into a trace:
/// - API calls become `launch` tasks (kernel/copy/memset launches, graph
///   launches and every other call that enqueues GPU work), `event_record`,
///   `stream_wait` and `sync` tasks; calls that do neither are dropped (their
///   time stays as CPU gaps). A driver call nested inside a runtime call on
///   the same thread is folded into the outer call.
/// - GPU activities become `kernel`, `memcpy`, `memset` tasks with their
///   shape; `op` is the activity's own label or the innermost Range open on
///   the launching thread when the launch started.
/// - Times are rebased so the first kept task starts at 0 (meta.origin_ns
///   keeps the capture-clock time of that 0); thread ids are
///   renumbered 1, 2, ... in order of first activity; stream and event ids
///   are kept.
/// - meta records the source, pid, dropped records, completeness and
///   problems; `device.name` the device.
/// Throws InputError when the window selects nothing (naming the window).
Trace BuildTrace(const Capture& capture, const BuildOptions& options, BuildReport* report);

/// Merges the traces of several processes of one program into one trace:
/// ids, threads, correlations and events are renumbered so they cannot
/// collide; streams of process k are offset by k * 1000000 when two
/// processes use the same stream id.
Trace MergeTraces(const std::vector<Trace>& traces, const std::string& tenant);

/// What an API call does, from its name ("cudaLaunchKernel", "cuMemcpyHtoDAsync_v2", ...).
enum class ApiRole : uint8_t {
  kOther,   ///< does not enqueue GPU work (cudaMalloc, cudaGetDevice, ...)
  kLaunch,  ///< enqueues a kernel, copy, memset or graph
  kEventRecord,
  kStreamWait,
  kStreamSync,
  kEventSync,
  kDeviceSync,
  kProfilerStart,
  kProfilerStop,
  /// cudaEventQuery / cudaStreamQuery (cu* too): a poll. Host time, unless
  /// the call names its event or stream (the Kineto importer folds a run of
  /// polls into one such call): then a `sync` of scope event or stream.
  kPoll,
};
ApiRole RoleOfApi(const std::string& name);

/// "aten::addmm, seq = 12, op_id = 3" -> "aten::addmm" (text before the
/// first ", "); other labels are kept whole.
std::string ShortOpName(const std::string& label);

}  // namespace cotenant::profiler
