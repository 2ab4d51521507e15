// Replay programs: the simulator's task graph of a workload under a plan
// (sim/graph.h), turned into one ordered list of operations per host thread
// for the replay harness to execute on a real GPU. The plan's semantics
// (groups, stages, batch splits, offsets, arrivals) come from BuildTaskGraph
// only, so replay and simulation cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/graph.h"
#include "sim/units.h"

namespace cotenant::replay {

/// What one operation of a host thread does.
enum class OpKind : uint8_t {
  kHost,  ///< a host node: spin gap_ns of CPU time, then the call (dur_ns) on the thread
  kGpu,   ///< enqueue a GPU node (kernel, copy, memset, event marker) on its stream
  kSync,  ///< a host sync node: block until the GPU work of its scope ends
};

/// One operation, in the order its host thread executes it. Before it runs,
/// the thread waits until every dependency below is met and the replay clock
/// has reached `release_ns`.
struct Op {
  OpKind kind = OpKind::kHost;
  int32_t node = -1;      ///< the graph node
  TimeNs release_ns = 0;  ///< earliest start on the replay clock (arrivals, offsets); 0 = none
  /// Host nodes on other threads that must have finished (a host-side flag each).
  std::vector<int32_t> host_waits;
  /// GPU nodes on other streams that must have finished: kGpu ops enqueue a
  /// stream wait on each one's completion event; kHost/kSync ops block on it.
  /// A GPU node's event exists once its owner thread enqueued it (a
  /// host-side flag the waiting thread checks first).
  std::vector<int32_t> gpu_waits;
};

/// The operations of one host thread of the replay.
struct ThreadProgram {
  int32_t tenant = -1;
  int32_t graph_thread = -1;  ///< the graph's global host thread, -1 = the tenant's issuer
  std::vector<Op> ops;
};

/// A side stream for kernels whose what-if priority or SM cap (a per-task
/// override in the trace) differs from their tenant's: CUDA priorities and
/// green contexts belong to streams, so such a kernel is launched on a side
/// stream with its own priority and partition, fenced by events so that it
/// still runs in its stream's order (after what precedes it, before what
/// follows).
struct SideStream {
  int32_t stream = -1;     ///< the graph stream whose kernels it carries
  int32_t priority = 0;    ///< CUDA stream priority (lower = higher)
  int32_t partition = -1;  ///< index into the graph's SM partitions; -1 = all SMs
};

/// Everything the runner needs besides the graph itself.
struct ReplayProgram {
  std::vector<ThreadProgram> threads;
  /// Per graph node: the host thread (index into `threads`) that runs or
  /// enqueues it, -1 for gates and barriers.
  std::vector<int32_t> owner;
  /// Per graph node: its position in its owner's `ops`, -1 for gates and barriers.
  std::vector<int32_t> position;
  /// Per graph node: true when another op waits for it (a GPU node then
  /// needs a completion event, a host node a finished flag).
  std::vector<uint8_t> signalled;
  int64_t host_waits = 0, gpu_waits = 0;  ///< totals, for reports and tests
  /// Side streams, one per (stream, priority, partition) that some kernel
  /// needs, in order of first use.
  std::vector<SideStream> side_streams;
  /// Per graph node: the index into `side_streams` it is launched on, -1 =
  /// its own stream.
  std::vector<int32_t> side_stream_of;
};

/// Builds the replay program of a task graph. One thread per host thread of
/// the graph; GPU nodes go to the thread of the host call that launches them,
/// right after it; GPU nodes no host call launches (GPU-only traces) go to a
/// per-tenant issuer thread in topological order. Gates and barriers become
/// the dependencies and release times of the ops after them; for each
/// stream and thread only the latest dependency is kept. Throws InputError
/// when an op would have to wait for a later op of its own thread (a GPU
/// dependency the real hardware cannot express as a stream wait).
ReplayProgram BuildReplayProgram(const TaskGraph& g);

/// What one host thread of a replay program does (`replay --dry-run`).
struct ThreadSummary {
  std::string tenant;
  bool issuer = false;  ///< the tenant's issuer thread (GPU-only traces)
  int64_t host_calls = 0, gpu_tasks = 0, syncs = 0;
  int64_t waits = 0;          ///< dependencies on other threads' host calls or GPU work
  int64_t side_launches = 0;  ///< kernels launched on side streams
};
std::vector<ThreadSummary> SummarizeProgram(const TaskGraph& g, const ReplayProgram& p);

}  // namespace cotenant::replay
