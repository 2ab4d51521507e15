// The dependency graph of a multi-tenant workload under a plan: every
// request of every tenant instantiated from its trace, with Daydream-style
// edges, plus gates for arrivals, groups and stage barriers.
#pragma once

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/range/iterator_range.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/models/contention_model.h"
#include "sim/plan.h"
#include "sim/template.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

struct LoadedWorkload;

/// One node of the composed workload graph.
struct Node {
  NodeKind kind = NodeKind::kHost;
  uint8_t pad = 0;
  int16_t sub_batch = 0;
  int32_t tenant = -1;
  int32_t request = -1;
  int32_t tmpl = -1;    ///< index into the tenant template's nodes, -1 for gates/barriers
  int32_t stream = -1;  ///< global stream index (GPU nodes, stream syncs)
  int32_t thread = -1;  ///< global host thread index (host nodes)
};

struct EdgeProps {
  EdgeKind kind = EdgeKind::kGate;
};

using CsrGraph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, EdgeProps,
                                                    boost::no_property, uint32_t, uint32_t>;

/// A global stream: which tenant it belongs to and the hardware queue it uses.
struct StreamInfo {
  int32_t tenant = -1;
  int64_t trace_stream = 0;
  int32_t queue = 0;
};

/// The composed graph. Owns everything the engine reads.
struct TaskGraph {
  std::deque<Trace> derived_traces;           ///< traces made here (batch split what-if)
  std::deque<TenantTemplate> own_templates;  ///< templates made here (no TemplateCache)
  /// One per tenant: its request template, in the TemplateCache or in
  /// own_templates (shared, not copied: search builds thousands of graphs).
  std::vector<const TenantTemplate*> templates;
  /// Per tenant: the template's kernels with this plan's priorities, SM
  /// partitions and model keys (the only template data a plan changes).
  std::vector<std::vector<KernelLaunch>> kernels;
  std::vector<Node> nodes;
  CsrGraph graph;
  std::vector<TimeNs> release_ns;  ///< per node: earliest start (start gates), else 0
  /// Per global stream: its nodes in stream order (requests, sub-batches, trace order).
  std::vector<std::vector<int32_t>> stream_nodes;
  std::vector<StreamInfo> streams;
  std::vector<int32_t> tenant_first_stream, tenant_stream_count;
  int32_t thread_count = 0;
  int32_t queue_count = 1;  ///< hardware queues in use
  std::vector<int32_t> tenant_priority;
  std::vector<int32_t> tenant_partition;  ///< -1 = shared
  SmPartitions partitions;
  /// Per tenant, per request: start gate and end gate node; arrival time
  /// (open arrivals; closed requests arrive when their gate opens).
  std::vector<std::vector<int32_t>> start_gate, end_gate;
  std::vector<std::vector<TimeNs>> arrival_ns;
  std::vector<bool> closed;  ///< per tenant: closed-loop arrivals
  int64_t kernel_count = 0;
  std::vector<int32_t> topo;  ///< nodes in a topological order (all edge kinds)

  const TemplateNode& Tmpl(const Node& n) const { return templates[n.tenant]->nodes[n.tmpl]; }
  /// "tenant/request r/task id name" for messages.
  std::string Describe(int32_t node) const;
};

/// Request templates kept across graph builds of one workload: a template
/// depends only on the tenant, its batch split and its stage cuts, so search,
/// which builds thousands of plans of one workload, makes each one once. The
/// cache owns the what-if sub-batch traces its templates run. Bound to the
/// first workload it is used with; not thread-safe (one per thread).
class TemplateCache {
 public:
  /// The cached template of tenant `tenant` with `split` and `cuts`, or null.
  const TenantTemplate* Find(const LoadedWorkload& lw, int32_t tenant, int32_t split,
                             const std::vector<int64_t>& cuts) const;
  /// Stores a template; `derived` (may be null) is the what-if trace it runs,
  /// moved into the cache. Returns the stored template.
  const TenantTemplate& Add(const LoadedWorkload& lw, int32_t tenant, int32_t split,
                            const std::vector<int64_t>& cuts, TenantTemplate t,
                            std::unique_ptr<Trace> derived);
  size_t size() const { return templates_.size(); }

 private:
  using Key = std::tuple<int32_t, int32_t, std::vector<int64_t>>;
  const LoadedWorkload* lw_ = nullptr;
  std::deque<Trace> derived_;
  std::map<Key, TenantTemplate> templates_;
};

/// Builds the graph of `lw` under `plan` (checked against the workload and
/// GPU first). Throws InputError for plans that do not fit, stage cut points
/// out of range, or a dependency cycle (naming tasks on it). With a `cache`,
/// request templates come from it (and are added to it); the graph then
/// refers to traces the cache owns, so the cache must outlive the graph.
TaskGraph BuildTaskGraph(const LoadedWorkload& lw, const Plan& plan,
                         TemplateCache* cache = nullptr);

/// Buffers a graph build uses and drops (the edge list before it becomes the
/// CSR graph, the topological sort's counters), kept across builds on one
/// thread so that they keep their capacity. Holds nothing between builds.
struct GraphScratch {
  std::vector<std::pair<uint32_t, uint32_t>> edges;  ///< (from, to), in the order added
  std::vector<EdgeProps> props;                      ///< per edge of `edges`
  std::vector<uint32_t> indegree;                    ///< per node
};

/// The same build, into `*graph`: what it held is replaced, and its vectors
/// (and `*scratch`'s, when not null) keep their memory, so that search, which
/// builds thousands of graphs on one thread, allocates and faults in almost
/// nothing per build. Leaves `*graph` unspecified when it throws. `order`
/// false skips the topological sort: graph->topo stays empty and a cycle
/// is not looked for (the engine then reports it as a deadlock; see
/// CheckAcyclic).
void BuildTaskGraph(const LoadedWorkload& lw, const Plan& plan, TemplateCache* cache,
                    TaskGraph* graph, GraphScratch* scratch, bool order = true);

/// Sorts a graph built with `order` false: fills graph->topo, or throws
/// the InputError BuildTaskGraph would have thrown for a dependency cycle.
void CheckAcyclic(TaskGraph* graph, GraphScratch* scratch);

}  // namespace cotenant
