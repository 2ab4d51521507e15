// One tenant's work for one request: the `cotenant.trace/1` format in memory.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/units.h"

namespace cotenant {

/// What a trace task is. Host tasks occupy a thread; GPU tasks a stream.
enum class TaskKind : uint8_t {
  kLaunch,       ///< host: an API call that enqueues GPU work (correlation links it)
  kKernel,       ///< GPU: a kernel on a stream
  kMemcpy,       ///< GPU: a copy on a stream (copy engine)
  kMemset,       ///< GPU: a memset on a stream
  kCpu,          ///< host: CPU work that is not an API call
  kEventRecord,  ///< host call + stream marker: cudaEventRecord
  kStreamWait,   ///< host call + stream marker: cudaStreamWaitEvent
  kSync,         ///< host: cudaStreamSynchronize / cudaDeviceSynchronize / cudaEventSynchronize
};

/// Name of a kind as written in the file ("launch", "kernel", ...).
const char* TaskKindName(TaskKind kind);

/// True for kinds that run on a stream (kernel, memcpy, memset).
inline bool IsGpuWork(TaskKind k) {
  return k == TaskKind::kKernel || k == TaskKind::kMemcpy || k == TaskKind::kMemset;
}

enum class SyncScope : uint8_t { kNone, kStream, kDevice, kEvent };
const char* SyncScopeName(SyncScope s);

/// Direction of a memcpy.
enum class CopyDir : uint8_t { kNone, kH2D, kD2H, kD2D, kH2H, kP2P };
const char* CopyDirName(CopyDir d);

/// Where a kernel's DRAM figures (`dram_bytes`, `mem_bound`) came from.
enum class DramSource : uint8_t {
  kNone,     ///< no figure
  kCounter,  ///< a hardware counter (`profile --counters`); a figure without a source
  kShape,    ///< estimated from the operator's input shapes and dtypes (profiler/kernel_memory.h)
  kName,     ///< estimated from the class of the kernel's name (profiler/kernel_memory.h)
};
/// Name of a source as written in the file ("counter", "shape", "name"; "none" for kNone).
const char* DramSourceName(DramSource s);

/// "Absent" for optional integer fields.
constexpr int64_t kAbsent = -1;

/// One task of a trace. Field meanings follow docs/formats.md.
struct Task {
  int64_t id = 0;  ///< unique within the trace, >= 0
  TaskKind kind = TaskKind::kCpu;
  TimeNs start_ns = 0;            ///< traced start, >= 0
  TimeNs dur_ns = 0;              ///< traced duration (isolated for kernels), >= 0
  int64_t thread = kAbsent;       ///< host thread id, kAbsent for pure GPU tasks
  int64_t stream = kAbsent;       ///< stream id, kAbsent for host-only tasks
  int64_t correlation = kAbsent;  ///< links a launch with the GPU task(s) it enqueued
  int64_t event = kAbsent;        ///< event id of event_record / stream_wait / sync(event)
  SyncScope scope = SyncScope::kNone;
  CopyDir dir = CopyDir::kNone;          ///< memcpy direction
  int64_t bytes = kAbsent;               ///< memcpy/memset size
  std::array<int32_t, 3> grid{0, 0, 0};  ///< {0,0,0} = no launch shape (fills the GPU)
  std::array<int32_t, 3> block{0, 0, 0};
  int32_t regs = 32;             ///< registers per thread (default 32)
  int32_t smem = 0;              ///< shared memory per block, bytes (static + dynamic)
  int32_t name = -1;             ///< index into Trace::strings, -1 = none
  int32_t op = -1;               ///< operator label, index into Trace::strings, -1 = none
  int64_t dram_bytes = kAbsent;  ///< optional counter
  double mem_bound = -1.0;       ///< optional, 0..1; < 0 = absent
  /// Where dram_bytes / mem_bound came from: kNone exactly when both are
  /// absent; kCounter when the file gives a figure without `dram_source`.
  DramSource dram_source = DramSource::kNone;
  // Extensions used by what-if (optional in the file):
  int32_t priority = INT32_MIN;  ///< per-task stream priority override; INT32_MIN = tenant's
  int32_t sm_count = -1;         ///< per-task SM cap override; -1 = tenant's partition
  /// Explicit dependencies (optional in the file): ids of tasks of the same
  /// trace that must finish before this one may start, on top of the edge
  /// rules. Every id must exist in the trace.
  std::vector<int64_t> after;
  /// In memory only (not in the file): a host task may not start before this
  /// time of the simulation, ns; 0 = no such bound. LLM serving chains
  /// (sim/serving_mix) use it for an engine that idles until a request arrives.
  TimeNs release_ns = 0;

  bool HasShape() const { return grid[0] > 0 && block[0] > 0; }
  int64_t Blocks() const { return int64_t{grid[0]} * grid[1] * grid[2]; }
  int32_t ThreadsPerBlock() const { return block[0] * block[1] * block[2]; }
  TimeNs end_ns() const { return start_ns + dur_ns; }
};

/// Where `t`'s DRAM figures came from: kNone when it has none; a figure
/// whose source was not set counts as kCounter (as in the file).
inline DramSource DramSourceOf(const Task& t) {
  if (t.dram_bytes == kAbsent && t.mem_bound < 0.0) return DramSource::kNone;
  return t.dram_source == DramSource::kNone ? DramSource::kCounter : t.dram_source;
}

/// CUDA's limit on the threads of one block.
inline constexpr int kMaxThreadsPerBlock = 1024;

/// Whether a block of `block` threads (each dimension >= 1, up to 2^31 - 1)
/// has at most kMaxThreadsPerBlock threads; computed without overflow.
bool BlockWithinThreadLimit(const std::array<int32_t, 3>& block);

/// The thread count of `block` (each dimension >= 1) for messages: the
/// number, or "x x y x z" when it does not fit in int64.
std::string BlockThreadsText(const std::array<int32_t, 3>& block);

/// One tenant's tasks for one request/iteration, as read from a trace file.
struct Trace {
  std::string file;         ///< where it came from (for messages); may be empty
  std::string tenant;       ///< default tenant name
  std::string device_name;  ///< optional "device.name"
  std::string device_gpu;   ///< optional "device.gpu" key
  nlohmann::json meta = nlohmann::json::object();  ///< free-form "meta"
  std::vector<Task> tasks;                         ///< in file order
  std::vector<std::string> strings;                ///< interned names and operator labels

  /// Interns `s` and returns its index in `strings` (strings appended to
  /// `strings` directly are found too).
  int32_t Intern(const std::string& s);
  const std::string& Name(const Task& t) const;  ///< "" when none
  const std::string& Op(const Task& t) const;    ///< "" when none

  /// Lookup cache of Intern(): string -> index, covering strings[0, intern_indexed_).
  std::unordered_map<std::string, int32_t> intern_index_;
  size_t intern_indexed_ = 0;  ///< how many of `strings` intern_index_ covers
};

/// Reads a trace (`.json` or `.json.gz`). Validates every field, reference
/// (correlation, event, after) and ordering rule, and rejects cycles through
/// `after`; throws InputError on bad input.
Trace ReadTrace(const std::string& path);

/// Parses trace text already in memory; `file` names it in messages.
Trace ParseTrace(const std::string& text, const std::string& file);

/// Validates and converts an already-parsed JSON document.
Trace TraceFromJson(const nlohmann::json& j, const std::string& file);

/// Serialises a trace as `cotenant.trace/1` JSON text.
std::string TraceToJsonText(const Trace& trace);

/// Writes a trace atomically (temporary file, then rename).
void WriteTrace(const Trace& trace, const std::string& path);

/// The name a trace file gives its tenant when the trace names none: the
/// file name without `.gz`, then `.json`, then `.pt.trace` or `.trace`; after
/// `.pt.trace`, also without the millisecond timestamp PyTorch's
/// `tensorboard_trace_handler` adds (`host_42.1700000000123.pt.trace.json`
/// -> `host_42`, its worker name). "" when nothing is left.
std::string TraceFileStem(const std::string& path);

}  // namespace cotenant
