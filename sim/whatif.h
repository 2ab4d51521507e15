// What-if primitives (Daydream's, on one tenant's task graph): select tasks,
// scale, remove, insert, move to another stream/priority/partition, split a
// kernel into pieces (decomposition), swap the GPU.
//
// Every primitive edits a Trace in place: the tasks and the edges they imply
// (docs: DESIGN.md, "Edge rules"). A primitive never rewrites the start_ns of
// tasks it does not touch: the simulator recomputes all timing, and start_ns
// only orders the tasks of one thread or one stream. The simulator orders
// each thread's and each stream's tasks by (start_ns, index in
// Trace::tasks), so the primitives keep Trace::tasks in file order and put
// the tasks they create at the index and start_ns that give them the
// intended place in both orders. Ids of tasks that are not removed never
// change; created tasks get ids above the largest id in the trace.
//
// Each primitive returns a short human-readable description of what it did
// ("scaled 53 kernels by 0.5") and throws InputError on bad arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

/// Which tasks a what-if change applies to. Every set field must match.
struct Selector {
  std::string tenant;              ///< exact tenant name; "" = every tenant
  std::string name_text;           ///< source of `name`, for messages; "" = any
  std::optional<std::regex> name;  ///< regex_search over the task's name (ECMAScript)
  std::string op_text;             ///< source of `op`, for messages; "" = any
  std::optional<std::regex> op;    ///< regex_search over the operator label
  std::optional<TaskKind> kind;    ///< task kind; nullopt = any

  /// True when `tenant` is selected (always when the selector names none).
  bool MatchesTenant(const std::string& tenant_name) const;
  /// True when `task` of `trace` matches name, op and kind (not tenant).
  bool MatchesTask(const Trace& trace, const Task& task) const;
  /// The selector written back as text ("kind=kernel,name=gemm"); "all" when empty.
  std::string ToString() const;
};

/// Parses `key=value[,key=value...]` with keys tenant, name, op, kind
/// (e.g. "kind=kernel,name=gemm,op=aten::linear"). A comma starts a new key
/// only when a `word=` follows it, so regexes may hold commas ("x{1,3}").
/// An empty text selects everything. Throws InputError (prefixed by `what`,
/// e.g. "--select") for an unknown key or kind (with a "did you mean" hint),
/// a repeated key, an empty value or a bad regex.
Selector ParseSelector(const std::string& text, const std::string& what = "--select");

/// Parses a task kind as written in trace files ("kernel", "event_record").
/// Throws InputError prefixed by `what` with a "did you mean" hint.
TaskKind ParseTaskKind(const std::string& text, const std::string& what);

/// Indices into trace.tasks of the tasks `sel` selects, in file order. The
/// tenant field is compared with `tenant_name`, or with trace.tenant when
/// `tenant_name` is empty.
std::vector<int32_t> Select(const Trace& trace, const Selector& sel,
                            const std::string& tenant_name = "");

/// Index into trace.tasks of the task with id `id`, or -1.
int32_t FindTaskById(const Trace& trace, int64_t id);

/// Multiplies the duration of the selected tasks by `factor` (> 0), rounding
/// to the nearest ns. dram_bytes is kept (the bandwidth changes instead).
std::string ScaleTasks(Trace& trace, const std::vector<int32_t>& indices, double factor);

struct RemoveOptions {
  /// Keep the CPU cost of the launches of removed GPU tasks: such a launch
  /// stays as a `cpu` task of the same duration (its correlation cleared)
  /// instead of being removed.
  bool keep_launch = false;
};

/// Removes the selected tasks. Also removes, and reports:
/// - the launch of a removed GPU task when it enqueued no other remaining
///   GPU task (unless keep_launch);
/// - the GPU tasks of a removed launch (they cannot be issued without it);
/// - the stream_waits and event syncs bound to a removed event_record, i.e.
///   those of the same event whose latest earlier record (by start_ns, file
///   order) is the removed one.
/// Ids of the remaining tasks are unchanged.
std::string RemoveTasks(Trace& trace, const std::vector<int32_t>& indices,
                        const RemoveOptions& options = {});

/// Where and what InsertKernel inserts.
struct InsertSpec {
  int64_t after_id = 0;      ///< the new kernel follows this task in stream order
  int64_t stream = kAbsent;  ///< kAbsent = the stream of `after_id`
};

/// Inserts a kernel (a copy of `kernel`, whose kind, id, stream, correlation
/// and start_ns are replaced) right after task `spec.after_id` in stream
/// order, on that task's stream or on `spec.stream` (then after the last
/// task of that stream ordered at or before `after_id`). When `after_id`
/// has a launch (or is a host call with a thread, e.g. event_record), a new
/// launch (a copy of that launch, or a 0-length cudaLaunchKernel) is put on
/// the same thread right after it, with a new correlation, so the graph has
/// the edges of a real launch. `after_id` must have a stream. New ids are
/// max id + 1 (kernel) and + 2 (launch). start_ns is the end of the
/// predecessor clamped to the start of the successor; the index in
/// Trace::tasks is chosen so that ordering by (start_ns, index) puts the
/// task exactly there.
std::string InsertKernel(Trace& trace, const InsertSpec& spec, const Task& kernel);

/// New placement of tasks. Unset fields are unchanged.
struct MoveTo {
  std::optional<int64_t> stream;    ///< stream id (>= 0); a new id makes a new stream
  std::optional<int32_t> priority;  ///< sets Task::priority (lower = higher, as CUDA)
  std::optional<int32_t> sm_count;  ///< sets Task::sm_count (SM cap, >= 1)
};

/// Changes the stream, priority or SM cap of the selected tasks. Every
/// selected task must have a stream. Moved tasks keep their start_ns, so on
/// the new stream they are ordered by it.
std::string MoveTasks(Trace& trace, const std::vector<int32_t>& indices, const MoveTo& to);

/// Splits each selected kernel into `k` pieces (D3-style decomposition).
/// Blocks: the grid is cut along x if grid.x >= k, else along y, else z,
/// else flattened to grid.x = total blocks; piece i gets
/// floor(n*(i+1)/k) - floor(n*i/k) of the n slices (10 split 3 -> 3,3,4), so
/// the total is preserved. Durations and dram_bytes use the same boundaries:
/// piece i gets floor(d*(i+1)/k) - floor(d*i/k) (1000 split 3 -> 333,333,334),
/// which sums to the original exactly. NOTE: this per-piece isolated
/// duration is a first-order estimate (work proportional to pieces); a real
/// piece may run longer (fewer waves, lower efficiency). Kernels without a
/// launch shape stay shapeless (each piece fills the GPU).
/// Pieces keep op, regs, smem, mem_bound, priority and sm_count, and are
/// named "NAME [i/k]" (i from 1). Each piece has its own launch, a copy of
/// the original's (the launch CPU cost is paid k times), with a new
/// correlation; the copies take the original launch's place on its thread
/// (same start_ns, consecutive indices; a launch that also enqueued other,
/// unsplit GPU work stays and the copies follow it).
///
/// Without `parallel_streams` the pieces run back to back in the kernel's
/// place on its stream. With it, piece i of every kernel split on stream S
/// goes to side stream i of S (k new stream ids per stream, above every id
/// in the trace), forked and joined by 0-length event markers: an
/// event_record on S that each side stream waits for, then an event_record
/// on each side stream that S waits for. The markers are 0-length host calls
/// on the launching thread, in real program order (fork record and waits,
/// launch copies, join records and waits), so streams that share a hardware
/// queue never deadlock; a kernel without a launch gets GPU-side markers (no
/// thread). The fork starts at the launch's start_ns and the join at its end,
/// each clamped to the kernel's neighbours on S so the stream order stays
/// exact: when the host ran ahead of the GPU, the markers are issued at the
/// start of the kernel's stream predecessor instead, which may delay them
/// (and add up to one host call of CPU time) relative to a real program.
/// Requires k >= 2 and, for shaped kernels, at least k blocks.
std::string SplitKernels(Trace& trace, const std::vector<int32_t>& indices, int32_t k,
                         bool parallel_streams);

/// Roofline factor by which a kernel's isolated duration changes from
/// `from` to `to`: (1 - mb) * c + mb * b with b = from.dram_gbps /
/// to.dram_gbps, c = the tensor-peak ratio for GEMM/conv-like names
/// (IsTensorKernelName) and the FP32-peak ratio otherwise, and mb = the
/// kernel's mem_bound if present, else (dram_bytes / dur_ns) /
/// from.dram_gbps clamped to [0,1] if dram_bytes is present, else 0.5 (no
/// information: half compute, half memory).
double SwapGpuKernelFactor(const Trace& trace, const Task& kernel, const GpuSpec& from,
                           const GpuSpec& to);

/// True for GEMM/convolution-like kernel names (case-insensitive
/// gemm|conv|xmma|cutlass|cudnn|wgmma|hmma|mma), which run on tensor cores.
bool IsTensorKernelName(const std::string& name);

/// Rescales every GPU task's duration from GPU `from` to GPU `to`: kernels by
/// SwapGpuKernelFactor; h2d/d2h memcpys by the PCIe bandwidth ratio; d2d
/// memcpys and memsets by the DRAM bandwidth ratio; h2h and p2p memcpys and
/// host tasks unchanged. Sets trace.device_gpu = to.key and device_name =
/// to.name. Throws InputError naming the task when a kernel's block does not
/// fit on an SM of `to`.
std::string SwapGpu(Trace& trace, const GpuSpec& from, const GpuSpec& to);

}  // namespace cotenant
