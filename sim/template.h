// One tenant's request as a reusable template: the nodes and edges that one
// trace gives (Daydream-style edge rules), instantiated per request and
// sub-batch by the graph builder (sim/graph.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/models/contention_model.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

/// What a graph node does when it runs.
enum class NodeKind : uint8_t {
  kHost,       ///< occupies a host thread for dur_ns (launch, cpu, record/wait call)
  kSync,       ///< host: blocks until GPU work issued earlier ends (runtime dependency)
  kKernel,     ///< GPU: shares SMs through the contention model
  kCopy,       ///< GPU: host<->device copy on the copy engine of its direction
  kFixed,      ///< GPU: memset / device copy, takes dur_ns
  kMarker,     ///< GPU: event record or stream wait point on a stream, zero time
  kStartGate,  ///< a request's arrival: released at its arrival time
  kEndGate,    ///< a request's completion: all its sinks done
  kBarrier,    ///< a stage barrier or group boundary, zero time
};

/// True for nodes that run on a stream (and so in a hardware queue).
inline bool IsGpuNode(NodeKind k) {
  return k == NodeKind::kKernel || k == NodeKind::kCopy || k == NodeKind::kFixed ||
         k == NodeKind::kMarker;
}

/// Why an edge exists; decides its delay and what it unblocks.
enum class EdgeKind : uint8_t {
  kThread,  ///< host order on one thread; successor starts its gap_ns after
  kLaunch,  ///< host call -> the GPU task it enqueues; GPU ready launch latency after
  kIssue,   ///< gate -> GPU task without a launch (issued at the request's start)
  kWait,    ///< GPU-side dependency (event record -> wait, stage barriers)
  kStream,  ///< stream order (the engine enforces it through queues; kept for ordering checks)
  kGate,    ///< arrival/completion/group/thread-continuity ordering, no delay
};

/// A node of one tenant's request template (one trace task, or its GPU part).
struct TemplateNode {
  NodeKind kind = NodeKind::kHost;
  uint8_t sync_scope = 0;  ///< SyncScope for kSync
  uint8_t copy_dir = 0;    ///< CopyDir for kCopy
  int32_t task = -1;       ///< index into the trace's tasks
  int32_t thread = -1;     ///< tenant-local host thread index, -1 for GPU nodes
  int32_t stream = -1;     ///< tenant-local stream index, -1 for host nodes (but sync)
  int32_t kernel = -1;     ///< index into TenantTemplate::kernels for kKernel
  int32_t target = -1;     ///< kSync(event): template index of the record marker
  int32_t stage = 0;       ///< stage index from the plan's cut points
  TimeNs dur_ns = 0;       ///< host cost, or isolated GPU duration
  TimeNs gap_ns = 0;       ///< CPU time after the previous task on the thread
  TimeNs release_ns = 0;   ///< host nodes: earliest start in the simulation (Task::release_ns)
};

struct TemplateEdge {
  int32_t from, to;
  EdgeKind kind;
};

/// One tenant's request, ready to be instantiated per request and sub-batch.
struct TenantTemplate {
  std::string name;
  const Trace* trace = nullptr;  ///< the trace that runs (sub-batch trace when split)
  int32_t batch_split = 1;
  std::vector<TemplateNode> nodes;
  std::vector<TemplateEdge> edges;
  std::vector<KernelLaunch> kernels;               ///< task field = template node index
  std::vector<int64_t> thread_ids;                 ///< trace thread id of each local thread
  std::vector<int64_t> stream_ids;                 ///< trace stream id of each local stream
  std::vector<int32_t> thread_head, thread_tail;   ///< first/last host node per thread
  std::vector<std::vector<int32_t>> stream_order;  ///< GPU nodes per stream, in issue order
  std::vector<int32_t> stream_first, stream_last;  ///< first/last GPU node per stream, -1 = none
  std::vector<int32_t> unlaunched;                 ///< GPU nodes with no host call issuing them
  std::vector<int32_t> sinks;                      ///< nodes without successors
  int32_t stages = 1;                              ///< number of stages
  /// Per stage s and local stream: last node with stage <= s (pred of barrier s)
  /// and first node with stage == s+1 (succ of barrier s); -1 = none.
  std::vector<std::vector<int32_t>> stage_last, stage_first;
  /// The same per stage s and local thread, for host calls: last host node
  /// issuing work of stage <= s, first host node issuing work of stage s+1.
  std::vector<std::vector<int32_t>> host_stage_last, host_stage_first;
  int32_t operators = 0;  ///< operator count (for stage cut validation)
  /// SM-time one instance's kernels need alone on the whole GPU, SM*ns: the
  /// sum of KernelSmWork over `kernels` in order (for lower bounds; the
  /// plan's priorities and partitions do not change it).
  double sm_work = 0.0;
  bool has_release = false;  ///< some node has a release_ns
};

/// Builds the request template of one trace (exposed for tests).
/// `cuts`: the plan's stage cut points for this tenant.
TenantTemplate BuildTemplate(const Trace& trace, const GpuSpec& spec,
                             const std::vector<int64_t>& cuts, const std::string& name,
                             const std::string& where);

/// The trace of one sub-batch when a request of `trace` runs as k pieces and
/// no measured trace of that batch exists: kernels keep their launch cost,
/// get ceil(blocks/k) blocks and 1/k of the duration and DRAM bytes;
/// copies and memsets move 1/k of the bytes in 1/k of the time.
Trace SplitBatchTrace(const Trace& trace, int32_t k);

}  // namespace cotenant
