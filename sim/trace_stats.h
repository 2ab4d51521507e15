// Trace statistics: what `cotenant inspect` shows of one trace (task counts,
// streams, host threads, GPU time and busy fraction, the busiest operators,
// an occupancy histogram of its kernels on a GPU spec), computed once, and
// its JSON form, `cotenant.inspect/1`.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

/// Every task kind, in the order inspect lists them.
inline constexpr std::array<TaskKind, 8> kTaskKinds = {
    TaskKind::kLaunch, TaskKind::kKernel,      TaskKind::kMemcpy,     TaskKind::kMemset,
    TaskKind::kCpu,    TaskKind::kEventRecord, TaskKind::kStreamWait, TaskKind::kSync};

/// Isolated span of one request: last task end - first task start, ns; 0 for
/// a trace without tasks.
TimeNs RequestSpanNs(const Trace& trace);

/// Occupancy buckets of the wave histogram, in display order.
enum class WaveBucket : uint8_t {
  kFoot0,        ///< < 1 wave, footprint [0, 25%) of the GPU's block slots
  kFoot25,       ///< < 1 wave, [25%, 50%)
  kFoot50,       ///< < 1 wave, [50%, 75%)
  kFoot75,       ///< < 1 wave, [75%, 100%)
  kOneWave,      ///< exactly one full wave
  kWaves2to4,    ///< 2-4 waves
  kWaves5to16,   ///< 5-16 waves
  kWavesOver16,  ///< more than 16 waves
  kNoShape,      ///< no launch shape: taken to fill the GPU
  kNoFit,        ///< the block does not fit on an SM of this GPU
};
inline constexpr int kWaveBucketCount = 10;

/// Display name of a bucket ("<1 wave, 0-25% of slots", "1 wave", ...).
const char* WaveBucketName(WaveBucket b);

/// A count of kernels and their summed isolated time.
struct KernelTally {
  int64_t kernels = 0;
  TimeNs time_ns = 0;  ///< sum of dur_ns, ns
  void Add(TimeNs dur_ns) {
    ++kernels;
    time_ns += dur_ns;
  }
};

/// One stream's GPU work (sync tasks that name a stream are not counted).
struct StreamStats {
  int64_t id = 0;
  int64_t kernels = 0;
  int64_t gpu_tasks = 0;           ///< kernels, memcpys and memsets
  int64_t markers = 0;             ///< event records and stream waits on the stream
  TimeNs gpu_time_ns = 0;          ///< sum of the GPU tasks' dur_ns, ns
  double gpu_time_fraction = 0.0;  ///< gpu_time_ns / the trace's GPU time; 0 when none
};

/// One host thread's tasks.
struct ThreadStats {
  int64_t id = 0;
  int64_t tasks = 0;
  int64_t launches = 0;
  TimeNs busy_ns = 0;  ///< union of its task intervals, ns
  TimeNs span_ns = 0;  ///< first task start to last task end, ns
};

/// Kernels grouped by operator label, or by kernel name when unlabelled.
struct OperatorStats {
  std::string name;  ///< the op label, else the kernel name; may be ""
  KernelTally tally;
  double kernel_time_fraction = 0.0;  ///< tally.time_ns / all kernel time; 0 when none
};

/// Everything inspect reports of one trace.
struct TraceStats {
  std::string file;
  std::string tenant;  ///< the trace's, else TraceFileStem(file); "" when both are empty
  std::string source;  ///< meta.source when a string, else ""
  std::string device_name, device_gpu;               ///< as in the trace; may be ""
  int64_t tasks = 0;                                 ///< all tasks
  std::array<int64_t, kTaskKinds.size()> by_kind{};  ///< tasks per kind, indexed by TaskKind
  std::vector<StreamStats> streams;                  ///< by id
  std::vector<ThreadStats> threads;                  ///< by id
  TimeNs kernel_time_ns = 0;                         ///< sum of kernel dur_ns, ns
  TimeNs gpu_time_ns = 0;          ///< sum of GPU task (kernel, memcpy, memset) dur_ns, ns
  TimeNs gpu_first_start_ns = 0;   ///< first GPU task start, ns; 0 when none
  TimeNs gpu_last_end_ns = 0;      ///< last GPU task end, ns; 0 when none
  TimeNs gpu_span_ns = 0;          ///< last end - first start, ns
  TimeNs gpu_busy_ns = 0;          ///< union of GPU task intervals, ns
  double gpu_busy_fraction = 0.0;  ///< busy / span; 0 when the span is 0
  int64_t distinct_operators = 0;  ///< operators (labels or kernel names) seen
  std::vector<OperatorStats> top_operators;  ///< the busiest, by kernel time (ties: name order)
  std::string occupancy_gpu;                 ///< key of the GPU spec of the histogram
  int32_t sm_count = 0;                      ///< its SMs
  std::array<KernelTally, kWaveBucketCount> waves{};  ///< indexed by WaveBucket
  /// Kernels with a launch shape by what limits their blocks per SM
  /// (OccupancyLimiterName), in name order.
  std::vector<std::pair<std::string, KernelTally>> limiters;
  /// Kernels by where their DRAM figures came from (DramSourceOf), indexed
  /// by DramSource: none, counter, shape, name.
  std::array<int64_t, 4> dram_sources{};
};

/// Computes the statistics of `trace`, with the occupancy histogram on
/// `spec` and the `top` busiest operators (top >= 0).
TraceStats ComputeTraceStats(const Trace& trace, const GpuSpec& spec, int top);

/// The statistics as `cotenant.inspect/1`; `gpu_note` (may be "") says why
/// the histogram's GPU was chosen.
nlohmann::json TraceStatsToJson(const TraceStats& stats, const std::string& gpu_note);

}  // namespace cotenant
