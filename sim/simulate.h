// Simulating a workload under a plan: the library entry point used by the
// CLI (simulate, whatif) and, later, by search.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/plan.h"
#include "sim/serving_mix.h"
#include "sim/trace.h"
#include "sim/units.h"
#include "sim/workload.h"

namespace cotenant {

class TemplateCache;

/// Memory that runs on one thread reuse (search): the task graph, the graph
/// builder's and the engine's buffers and the lower bound's scratch keep
/// their capacity from one run to the next, so that a run allocates (and
/// faults in) almost nothing. Results do not depend on it. Not thread-safe:
/// one per thread.
class SimWorkspace {
 public:
  SimWorkspace();
  ~SimWorkspace();
  SimWorkspace(const SimWorkspace&) = delete;
  SimWorkspace& operator=(const SimWorkspace&) = delete;

  struct Buffers;  ///< (sim/simulate.cpp)
  Buffers& buffers() { return *buffers_; }

 private:
  std::unique_ptr<Buffers> buffers_;
};

/// A workload with its traces read and its GPU spec resolved.
struct LoadedWorkload {
  Workload workload;
  std::vector<Trace> traces;                       ///< one per tenant, same order
  std::vector<std::map<int64_t, Trace>> by_batch;  ///< per tenant: batch -> trace
  GpuSpec gpu;
  /// Why `gpu` was chosen, for messages: "--gpu", "the workload", "the
  /// traces' device.gpu", "the traces' device NVIDIA A100-PG509-200" or "the
  /// default (the traces name no device)".
  std::string gpu_reason;
  /// Per tenant: the key of the spec its trace was captured on (device.gpu,
  /// else device.name through SpecKeyForDevice); "" when unknown.
  std::vector<std::string> traced_gpu;
  /// Notes on how traces were adapted to `gpu` (rescaled by the CLI), for
  /// messages; empty = none.
  std::vector<std::string> gpu_notes;
  /// One per workload.llm_tenants, same order (LoadWorkload with an `llm` factory).
  std::vector<LoadedLlmTenant> llm;
};

/// Reads a workload file and every trace it names. The GPU is
/// `gpu_override` (a key or a path) when given, else the workload's `gpu`,
/// else the one the traces were captured on as LoadTraces() picks it (and
/// lw.workload.gpu is set to it). LLM tenants get their models from `llm`
/// and their requests drawn; without `llm`, a workload with LLM tenants is
/// refused naming `command` ("replay does not run llm tenants").
LoadedWorkload LoadWorkload(const std::string& path, const std::string& gpu_override = "",
                            const LlmModelFactory* llm = nullptr,
                            const std::string& command = "this command");

/// One tenant per trace file (closed arrivals, 1 request). The GPU is `gpu`
/// when given; else the one the traces were captured on (device.gpu, else
/// device.name mapped by SpecKeyForDevice); else h100-sxm. Throws InputError
/// when `gpu` is empty and the traces name different GPUs, or a device name
/// no bundled spec knows (listing the nearest).
LoadedWorkload LoadTraces(const std::vector<std::string>& trace_paths, const std::string& gpu);

struct SimOptions {
  std::string model = "fluid";   ///< contention model name
  bool record_timeline = false;  ///< keep every task's start/end for a timeline
  /// Compute only what a search score reads (search/objective.h): makespan,
  /// latencies, SLO misses, throughput. Skips the lower bound (a pass over
  /// the whole graph; lower_bound_ns stays 0) and the CPU phase times in
  /// `stats` (system calls; they stay 0). Everything else is the same.
  bool score_only = false;
  /// Called now and then during the run with (tasks done, tasks in all).
  std::function<void(int64_t, int64_t)> progress;
  /// Request templates reused across runs of one workload (search); null =
  /// build them each run. Results are the same either way.
  TemplateCache* templates = nullptr;
  /// Memory reused across runs on this thread (search); null = allocate it
  /// each run. Results are the same either way. The graph it keeps refers to
  /// `templates`' traces: use it with one TemplateCache (or none).
  SimWorkspace* workspace = nullptr;
};

/// Latency statistics of one tenant's requests, ns.
struct LatencyStats {
  TimeNs mean = 0, p50 = 0, p99 = 0, max = 0;
};

struct TenantResult {
  std::string name;
  int64_t requests = 0;
  TimeNs finish_ns = 0;  ///< when its last request completed
  LatencyStats latency;
  int64_t slo_violations = 0;
  double throughput_rps = 0.0;       ///< requests / finish time
  std::vector<TimeNs> latencies_ns;  ///< per request, arrival -> completion
};

struct GpuUsage {
  double sm_busy_fraction = 0.0;    ///< time with >= 1 kernel running / makespan
  double mean_sm_occupancy = 0.0;   ///< time-average of SMs held / SM count
  double dram_busy_fraction = 0.0;  ///< time-average of min(1, DRAM demand / peak)
};

/// One executed task, for timelines.
struct TimelineEntry {
  int32_t tenant = 0;
  int32_t request = 0;
  int32_t sub_batch = 0;
  int32_t task = 0;   ///< index into the tenant's (transformed) trace tasks
  int32_t name = -1;  ///< index into SimResult::strings, -1 = none
  int32_t op = -1;    ///< operator label, index into SimResult::strings
  uint8_t kind = 0;   ///< TaskKind of the task
  int64_t track = 0;  ///< trace stream id (GPU) or thread id (host)
  bool gpu = false;
  TimeNs start_ns = 0, end_ns = 0;
};

/// Counts and phase times, for --stats.
struct SimStats {
  int64_t tasks = 0, kernels = 0, edges = 0, events = 0, model_recomputes = 0;
  double build_seconds = 0.0, run_seconds = 0.0;          ///< wall clock
  double build_cpu_seconds = 0.0, run_cpu_seconds = 0.0;  ///< this thread's CPU time
};

struct SimResult {
  std::string model;
  TimeNs makespan_ns = 0;
  TimeNs lower_bound_ns = 0;  ///< max(total SM-work / SMs, longest tenant critical path)
  std::vector<TenantResult> tenants;
  GpuUsage gpu;
  SimStats stats;
  std::vector<TimelineEntry> timeline;  ///< when SimOptions::record_timeline
  std::vector<std::string> strings;     ///< names and labels the timeline refers to
  /// Process names of the timeline's tenants when they differ from `tenants`
  /// (LLM tenants run as one or two loops: "chat", or "chat prefill" and
  /// "chat decode"); empty = `tenants`' names.
  std::vector<std::string> timeline_tenants;
  /// LLM tenants, in workload order. `tenants` holds the trace tenants, then
  /// one entry per LLM tenant (latency = end-to-end, SLO misses = requests
  /// that miss the TTFT or TPOT SLO).
  std::vector<LlmTenantResult> llm;
};

struct TaskGraph;

/// Fills tr->latency (mean rounded to nearest, nearest-rank p50/p99, max) and
/// tr->throughput_rps (requests / finish) from its latencies_ns, finish_ns
/// and requests.
void FillLatencyStats(TenantResult* tr);

/// Per-tenant results of one run of `g` given each node's end time
/// (`end_of`): latency of every request from its arrival (closed loop: the
/// previous request's completion, so group and stage waits count) to its
/// end gate, SLO misses, finish, mean/p50/p99/max and throughput. Shared by
/// Simulate and the replay harness so both count latency the same way.
std::vector<TenantResult> TenantResults(const Workload& w, const TaskGraph& g,
                                        const std::function<TimeNs(int32_t)>& end_of);

/// Runs the simulation. Throws InputError when the plan does not fit the
/// workload or the workload deadlocks (naming the waiting tasks). LLM
/// tenants run through SimulateWithLlm.
SimResult Simulate(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options);

/// Every node's start and end time after a run, for SimulateTraces.
using GraphObserver =
    std::function<void(const TaskGraph& g, const std::function<TimeNs(int32_t)>& start_of,
                       const std::function<TimeNs(int32_t)>& end_of)>;

/// Simulate for a workload without LLM tenants; calls `observer` (when set)
/// after the run, before the result is assembled.
SimResult SimulateTraces(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options,
                         const GraphObserver& observer = nullptr);

/// Simulate for a workload with LLM tenants: the fixed point of sim/serving_mix.h.
/// Its trace tenants' templates are built per round (options.templates and
/// options.workspace are not used).
SimResult SimulateWithLlm(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options);

/// `cotenant.result/1` JSON of a result.
nlohmann::json ResultToJson(const SimResult& result);

/// Chrome/Perfetto trace-event JSON of a result's timeline: one process per
/// tenant, one track per stream and host thread, µs with displayTimeUnit.
std::string TimelineToJsonText(const SimResult& result);

}  // namespace cotenant
