#include "sim/graph.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

/// Kahn's algorithm over every edge kind, into g->topo. `indegree` holds
/// every node's in-degree and is used up. On a cycle, throws InputError
/// naming the tasks on one cycle.
void TopologicalOrder(TaskGraph* graph, std::vector<uint32_t>& indegree) {
  const TaskGraph& g = *graph;
  const uint32_t n = static_cast<uint32_t>(g.nodes.size());
  std::vector<int32_t>& order = graph->topo;
  order.resize(n);  // order[0, tail): the queue, then the order
  size_t tail = 0;
  for (uint32_t v = 0; v < n; ++v)
    if (indegree[v] == 0) order[tail++] = static_cast<int32_t>(v);
  for (size_t i = 0; i < tail; ++i) {
    for (auto e :
         boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(order[i]), g.graph))) {
      const uint32_t w = boost::target(e, g.graph);
      if (--indegree[w] == 0) order[tail++] = static_cast<int32_t>(w);
    }
  }
  order.resize(tail);
  if (order.size() == n) return;
  // Walk forward through nodes left over until one repeats: that is a cycle.
  uint32_t v = 0;
  while (indegree[v] == 0) ++v;
  std::vector<int32_t> seen(n, -1), path;
  while (seen[v] < 0) {
    seen[v] = static_cast<int32_t>(path.size());
    path.push_back(static_cast<int32_t>(v));
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g.graph))) {
      const uint32_t w = boost::target(e, g.graph);
      if (indegree[w] > 0) {
        v = w;
        break;
      }
    }
  }
  std::string cycle;
  for (size_t i = static_cast<size_t>(seen[v]); i < path.size() && i < seen[v] + 4u; ++i)
    cycle += g.Describe(path[i]) + " -> ";
  throw InputError("dependency cycle: " + cycle + "...; " + std::to_string(n - order.size()) +
                   " tasks can never run");
}

}  // namespace

std::string TaskGraph::Describe(int32_t v) const {
  const Node& n = nodes[v];
  std::string s = templates[n.tenant]->name + " request " + std::to_string(n.request);
  switch (n.kind) {
    case NodeKind::kStartGate:
      return s + " (arrival)";
    case NodeKind::kEndGate:
      return s + " (completion)";
    case NodeKind::kBarrier:
      return s + " (stage/group barrier)";
    default:
      break;
  }
  const TenantTemplate& t = *templates[n.tenant];
  const Task& task = t.trace->tasks[t.nodes[n.tmpl].task];
  if (t.batch_split > 1) s += " sub-batch " + std::to_string(n.sub_batch);
  s += " task " + std::to_string(task.id) + " (" + TaskKindName(task.kind);
  const std::string& name = t.trace->Name(task);
  if (!name.empty()) s += " " + name.substr(0, 60);
  return s + ")";
}

namespace {

/// Builds a TaskGraph in steps, into a graph whose memory it reuses; owns
/// the edge list (or borrows it from a GraphScratch) until the CSR graph is made.
class GraphBuilder {
 public:
  GraphBuilder(const LoadedWorkload& lw, const Plan& plan, TemplateCache* cache, TaskGraph* graph,
               GraphScratch* scratch, bool order)
      : lw_(lw),
        w_(lw.workload),
        plan_(plan),
        where_(plan.file.empty() ? std::string("plan") : plan.file),
        tenants_(static_cast<int32_t>(lw.workload.tenants.size())),
        cache_(cache),
        g_(*graph),
        scratch_(scratch != nullptr ? *scratch : own_scratch_),
        edges_(scratch_.edges),
        props_(scratch_.props),
        order_(order) {}

  void Build() {
    ResetGraph();
    CheckPlanAgainst(plan_, w_, lw_.gpu);
    MakeTemplates();
    AssignStreamsAndThreads();
    InstantiateRequests();
    AddGroupBarriers();
    AddStageBarriers();
    g_.graph = CsrGraph(boost::edges_are_unsorted_multi_pass, edges_.begin(), edges_.end(),
                        props_.begin(), static_cast<uint32_t>(g_.nodes.size()));
    // In-degrees for the topological sort, from the edge list (one pass over
    // an array, cheaper than walking the graph node by node).
    std::vector<uint32_t>& indegree = scratch_.indegree;
    if (order_) {
      indegree.assign(g_.nodes.size(), 0);
      for (const std::pair<uint32_t, uint32_t>& e : edges_) ++indegree[e.second];
    }
    if (&scratch_ == &own_scratch_) {  // a one-off build: give the edge list back now
      edges_ = {};
      props_ = {};
    } else {  // kept for the next build
      edges_.clear();
      props_.clear();
    }
    if (order_) TopologicalOrder(&g_, indegree);
  }

 private:
  void Edge(int32_t a, int32_t b, EdgeKind k) {
    edges_.emplace_back(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    props_.push_back(EdgeProps{k});
  }

  int32_t AddNode(NodeKind kind, int32_t tenant, int32_t request) {
    Node n;
    n.kind = kind;
    n.tenant = tenant;
    n.request = request;
    g_.nodes.push_back(n);
    return static_cast<int32_t>(g_.nodes.size() - 1);
  }

  /// The trace a request of tenant `ti` runs: a measured sub-batch trace
  /// when the workload has one for batch/k, else the what-if split (made
  /// into `*derived`).
  const Trace* RequestTrace(int32_t ti, int32_t split, std::unique_ptr<Trace>* derived) {
    const Trace* trace = &lw_.traces[ti];
    if (split <= 1) return trace;
    const nlohmann::json& meta = trace->meta;
    if (meta.is_object() && meta.contains("batch") && meta["batch"].is_number_integer()) {
      const int64_t batch = meta["batch"].get<int64_t>();
      auto it = lw_.by_batch[ti].find(batch / split);
      if (batch % split == 0 && it != lw_.by_batch[ti].end()) return &it->second;
    }
    *derived = std::make_unique<Trace>(SplitBatchTrace(*trace, split));
    return derived->get();
  }

  /// Empties g_ for a new build. Vectors keep their capacity, inner vectors
  /// too (cleared, not destroyed; kernels are assigned over in MakeTemplates).
  void ResetGraph() {
    g_.derived_traces.clear();
    g_.own_templates.clear();
    g_.templates.clear();
    g_.nodes.clear();
    g_.release_ns.clear();
    for (std::vector<int32_t>& order : g_.stream_nodes) order.clear();
    g_.streams.clear();
    g_.tenant_first_stream.clear();
    g_.tenant_stream_count.clear();
    g_.thread_count = 0;
    g_.queue_count = 1;
    g_.tenant_priority.clear();
    g_.tenant_partition.clear();
    g_.partitions.sm_counts.clear();
    for (std::vector<int32_t>& gates : g_.start_gate) gates.clear();
    for (std::vector<int32_t>& gates : g_.end_gate) gates.clear();
    for (std::vector<TimeNs>& times : g_.arrival_ns) times.clear();
    g_.closed.clear();
    g_.kernel_count = 0;
    g_.topo.clear();
  }

  /// Tenant `ti`'s request template with `split` and `cuts`: from the cache
  /// when there is one (built and added when missing), else built into the graph.
  const TenantTemplate* MakeTemplate(int32_t ti, int32_t split, const std::vector<int64_t>& cuts) {
    const std::string& name = w_.tenants[ti].name;
    if (cache_ != nullptr) {
      if (const TenantTemplate* t = cache_->Find(lw_, ti, split, cuts)) return t;
    }
    std::unique_ptr<Trace> derived;
    const Trace* trace = RequestTrace(ti, split, &derived);
    TenantTemplate t = BuildTemplate(*trace, lw_.gpu, cuts, name, where_);
    t.batch_split = split;
    if (cache_ != nullptr)
      return &cache_->Add(lw_, ti, split, cuts, std::move(t), std::move(derived));
    if (derived != nullptr) {
      g_.derived_traces.push_back(std::move(*derived));
      t.trace = &g_.derived_traces.back();
    }
    g_.own_templates.push_back(std::move(t));
    return &g_.own_templates.back();
  }

  /// One template per tenant, with the plan's priorities and SM partitions
  /// (tenant partitions first, then per-task what-if caps) on its kernels.
  void MakeTemplates() {
    g_.templates.resize(tenants_);
    g_.kernels.resize(tenants_);  // (kept from an earlier build: assigned over below)
    g_.tenant_priority.resize(tenants_);
    g_.tenant_partition.assign(tenants_, -1);
    int32_t partitioned_sms = 0;
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      const TenantPlan tp = plan_.For(w_.tenants[ti].name);
      g_.tenant_priority[ti] = tp.priority;
      if (tp.sm_count > 0) {
        g_.tenant_partition[ti] = static_cast<int32_t>(g_.partitions.sm_counts.size());
        g_.partitions.sm_counts.push_back(tp.sm_count);
        partitioned_sms += tp.sm_count;
      }
    }
    int32_t next_key = 0;
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      const std::string& name = w_.tenants[ti].name;
      const TenantPlan tp = plan_.For(name);
      auto cuts_it = plan_.stages.find(name);
      static const std::vector<int64_t> kNoCuts;
      const std::vector<int64_t>& cuts = cuts_it == plan_.stages.end() ? kNoCuts : cuts_it->second;
      g_.templates[ti] = MakeTemplate(ti, tp.batch_split, cuts);
      const TenantTemplate& t = *g_.templates[ti];
      std::vector<KernelLaunch>& kernels = g_.kernels[ti];
      kernels = t.kernels;
      std::map<int32_t, int32_t> task_partition;  // what-if SM cap -> partition
      for (KernelLaunch& k : kernels) {
        k.key = next_key++;
        const Task& task = t.trace->tasks[t.nodes[k.task].task];
        k.priority = task.priority != INT32_MIN ? task.priority : tp.priority;
        k.partition = g_.tenant_partition[ti];
        if (task.sm_count > 0) {
          auto [it, fresh] = task_partition.emplace(
              task.sm_count, static_cast<int32_t>(g_.partitions.sm_counts.size()));
          if (fresh) {
            g_.partitions.sm_counts.push_back(task.sm_count);
            partitioned_sms += task.sm_count;
          }
          k.partition = it->second;
        }
      }
      if (partitioned_sms > lw_.gpu.sm_count) {
        throw InputError(where_ + ": tenants." + name + ".sm_count: SM partitions need " +
                         std::to_string(partitioned_sms) + " SMs, the GPU has " +
                         std::to_string(lw_.gpu.sm_count));
      }
    }
  }

  /// Global streams and threads; hardware queue = global stream index mod max_connections.
  void AssignStreamsAndThreads() {
    g_.tenant_first_stream.resize(tenants_);
    g_.tenant_stream_count.resize(tenants_);
    first_thread_.resize(tenants_);
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      const TenantTemplate& t = *g_.templates[ti];
      g_.tenant_first_stream[ti] = static_cast<int32_t>(g_.streams.size());
      g_.tenant_stream_count[ti] = static_cast<int32_t>(t.stream_ids.size());
      for (int64_t id : t.stream_ids) {
        StreamInfo s;
        s.tenant = ti;
        s.trace_stream = id;
        s.queue = static_cast<int32_t>(g_.streams.size()) % plan_.max_connections;
        g_.streams.push_back(s);
      }
      first_thread_[ti] = g_.thread_count;
      g_.thread_count += static_cast<int32_t>(t.thread_ids.size());
    }
    g_.queue_count = std::max<int32_t>(
        1, std::min<int32_t>(plan_.max_connections, static_cast<int32_t>(g_.streams.size())));
    g_.stream_nodes.resize(g_.streams.size());
  }

  /// Every request of every tenant: a start gate (arrival), the template once
  /// per sub-batch, an end gate; host threads and streams carry over from one
  /// instance to the next; closed loops chain end gate -> next start gate.
  void InstantiateRequests() {
    size_t total_nodes = 0, total_edges = 0;
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      const TenantTemplate& t = *g_.templates[ti];
      const size_t copies = static_cast<size_t>(w_.tenants[ti].requests) * t.batch_split;
      total_nodes += copies * t.nodes.size() + 2 * w_.tenants[ti].requests;
      total_edges += copies * (t.edges.size() + t.thread_ids.size() * 2 + t.unlaunched.size() +
                               t.sinks.size() + t.stream_ids.size());
    }
    CheckSize(total_nodes, total_edges);
    g_.nodes.reserve(total_nodes + 16);
    edges_.reserve(total_edges + 16);
    props_.reserve(total_edges + 16);
    g_.start_gate.resize(tenants_);
    g_.end_gate.resize(tenants_);
    g_.arrival_ns.resize(tenants_);
    g_.closed.resize(tenants_);
    base_.resize(tenants_);
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      const TenantSpec& ts = w_.tenants[ti];
      const TenantTemplate& t = *g_.templates[ti];
      g_.closed[ti] = ts.arrival.kind == ArrivalKind::kClosed;
      g_.arrival_ns[ti] = ArrivalTimes(ts.arrival, ts.requests);
      for (TimeNs& a : g_.arrival_ns[ti]) a += plan_.For(ts.name).offset_ns;
      std::vector<int32_t> last_host(t.thread_ids.size(), -1);  // previous instance's tails
      std::vector<int32_t> last_gpu(t.stream_ids.size(), -1);
      for (int32_t r = 0; r < ts.requests; ++r) {
        const int32_t start = AddNode(NodeKind::kStartGate, ti, r);
        g_.start_gate[ti].push_back(start);
        if (g_.closed[ti] && r > 0) Edge(g_.end_gate[ti][r - 1], start, EdgeKind::kGate);
        std::vector<int32_t> sinks;
        for (int32_t j = 0; j < t.batch_split; ++j) {
          const int32_t b = Instantiate(ti, r, j);
          for (size_t th = 0; th < t.thread_ids.size(); ++th) {
            if (t.thread_head[th] < 0) continue;
            // The thread's previous work (earlier sub-batch or request) comes first.
            if (last_host[th] >= 0) Edge(last_host[th], b + t.thread_head[th], EdgeKind::kThread);
            Edge(start, b + t.thread_head[th], EdgeKind::kThread);
            last_host[th] = b + t.thread_tail[th];
          }
          for (int32_t v : t.unlaunched) Edge(start, b + v, EdgeKind::kIssue);
          for (size_t s = 0; s < t.stream_ids.size(); ++s) {
            // Stream order across instances (kept for ordering checks and bounds).
            if (t.stream_first[s] < 0) continue;
            if (last_gpu[s] >= 0) Edge(last_gpu[s], b + t.stream_first[s], EdgeKind::kStream);
            last_gpu[s] = b + t.stream_last[s];
          }
          for (int32_t v : t.sinks) sinks.push_back(b + v);
        }
        const int32_t end = AddNode(NodeKind::kEndGate, ti, r);
        g_.end_gate[ti].push_back(end);
        for (int32_t v : sinks) Edge(v, end, EdgeKind::kGate);
        if (sinks.empty()) Edge(start, end, EdgeKind::kGate);
      }
    }
    // Release times: open arrivals at their arrival; closed loops at the
    // tenant's offset for the first request, then when the previous ends.
    g_.release_ns.assign(g_.nodes.size(), 0);
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      for (size_t r = 0; r < g_.start_gate[ti].size(); ++r) {
        g_.release_ns[g_.start_gate[ti][r]] =
            g_.closed[ti] ? (r == 0 ? g_.arrival_ns[ti][0] : 0) : g_.arrival_ns[ti][r];
      }
    }
    // Host tasks with a release time of their own (serving chains).
    bool releases = false;
    for (int32_t ti = 0; ti < tenants_; ++ti) releases = releases || g_.templates[ti]->has_release;
    if (releases) {
      for (size_t v = 0; v < g_.nodes.size(); ++v) {
        const Node& n = g_.nodes[v];
        if (n.tmpl >= 0 && !IsGpuNode(n.kind)) g_.release_ns[v] = g_.Tmpl(n).release_ns;
      }
    }
  }

  /// Refuses workloads whose graph cannot be indexed in 32 bits or would
  /// not fit in this machine's memory, before allocating anything.
  void CheckSize(size_t nodes, size_t edges) const {
    constexpr double kBytesPerNode = 300.0;  // graph + engine state, measured ~130-150
    const std::string where = w_.file.empty() ? std::string("workload") : w_.file;
    if (nodes >= static_cast<size_t>(INT32_MAX) || edges >= static_cast<size_t>(UINT32_MAX)) {
      throw InputError(where + ": tenants: the workload has " + std::to_string(nodes) +
                       " tasks and " + std::to_string(edges) +
                       " dependencies, over the 2^31 this simulator indexes; use fewer requests");
    }
    // (Asked once: _SC_PHYS_PAGES is a system call, and search builds thousands of graphs.)
    static const double pages = static_cast<double>(sysconf(_SC_PHYS_PAGES));
    static const double page = static_cast<double>(sysconf(_SC_PAGE_SIZE));
    const double need = kBytesPerNode * static_cast<double>(nodes);
    if (pages > 0 && page > 0 && need > pages * page) {
      throw InputError(
          where + ": tenants: simulating " + std::to_string(nodes) + " tasks needs about " +
          std::to_string(static_cast<int64_t>(need / 1e9)) + " GB, more than this machine's " +
          std::to_string(static_cast<int64_t>(pages * page / 1e9)) + " GB; use fewer requests");
    }
  }

  /// Copies tenant `ti`'s template for request r, sub-batch j; returns the
  /// index of its first node.
  int32_t Instantiate(int32_t ti, int32_t r, int32_t j) {
    const TenantTemplate& t = *g_.templates[ti];
    const int32_t b = static_cast<int32_t>(g_.nodes.size());
    base_[ti].push_back(b);
    const int32_t first_stream = g_.tenant_first_stream[ti];
    const int32_t first_thread = first_thread_[ti];
    // The copies below size their vectors once and fill them through a
    // pointer: a push_back per element reloads and stores the vector's end
    // each time, a chain that made this loop one of the slowest of a build.
    const int32_t count = static_cast<int32_t>(t.nodes.size());
    g_.nodes.resize(g_.nodes.size() + count);
    Node* out = g_.nodes.data() + b;
    for (int32_t v = 0; v < count; ++v) {
      const TemplateNode& tn = t.nodes[v];
      Node& n = out[v];
      n.kind = tn.kind;
      n.tenant = ti;
      n.request = r;
      n.sub_batch = static_cast<int16_t>(j);
      n.tmpl = v;
      n.stream = tn.stream >= 0 ? first_stream + tn.stream : -1;  // (selects, not branches)
      n.thread = tn.thread >= 0 ? first_thread + tn.thread : -1;
    }
    g_.kernel_count += static_cast<int64_t>(t.kernels.size());  // one per kKernel node
    for (size_t st = 0; st < t.stream_order.size(); ++st) {
      std::vector<int32_t>& order = g_.stream_nodes[first_stream + st];
      const std::vector<int32_t>& local = t.stream_order[st];
      const size_t at = order.size();
      order.resize(at + local.size());
      for (size_t i = 0; i < local.size(); ++i) order[at + i] = b + local[i];
    }
    const size_t at = edges_.size();
    edges_.resize(at + t.edges.size());
    props_.resize(at + t.edges.size());
    std::pair<uint32_t, uint32_t>* edge = edges_.data() + at;
    EdgeProps* props = props_.data() + at;
    for (size_t i = 0; i < t.edges.size(); ++i) {
      const TemplateEdge& e = t.edges[i];
      edge[i] = {static_cast<uint32_t>(b + e.from), static_cast<uint32_t>(b + e.to)};
      props[i] = EdgeProps{e.kind};
    }
    return b;
  }

  /// Concurrency groups as tenant indices (one group of all when the plan has none).
  std::vector<std::vector<int32_t>> Groups() const {
    std::vector<std::vector<int32_t>> groups;
    if (plan_.groups.empty()) {
      groups.emplace_back(tenants_);
      std::iota(groups[0].begin(), groups[0].end(), 0);
      return groups;
    }
    for (const auto& names : plan_.groups) {
      groups.emplace_back();
      for (const std::string& n : names) groups.back().push_back(w_.FindTenant(n));
    }
    return groups;
  }

  /// The tenants of group i+1 start after every request of group i ends.
  void AddGroupBarriers() {
    const std::vector<std::vector<int32_t>> groups = Groups();
    for (size_t gi = 1; gi < groups.size(); ++gi) {
      const int32_t barrier = AddNode(NodeKind::kBarrier, groups[gi][0], 0);
      for (int32_t ti : groups[gi - 1])
        for (int32_t end : g_.end_gate[ti]) Edge(end, barrier, EdgeKind::kGate);
      for (int32_t ti : groups[gi])
        for (int32_t start : g_.start_gate[ti]) Edge(barrier, start, EdgeKind::kGate);
    }
  }

  /// Per group, request and sub-batch: stage s of every tenant (its last GPU
  /// task of stage <= s on each stream) ends before stage s+1 of any starts.
  /// A second, host-side barrier holds each thread's first call of stage
  /// s+1 (and GPU work issued without a call) until every tenant has issued
  /// its stage-s work, as replay does: stage-(s+1) work then never enters a
  /// shared hardware queue ahead of stage-s work it waits for.
  void AddStageBarriers() {
    for (const std::vector<int32_t>& group : Groups()) {
      int32_t max_stages = 1, max_requests = 0, max_split = 1;
      for (int32_t ti : group) {
        max_stages = std::max(max_stages, g_.templates[ti]->stages);
        max_requests = std::max<int32_t>(max_requests, w_.tenants[ti].requests);
        max_split = std::max(max_split, g_.templates[ti]->batch_split);
      }
      if (max_stages <= 1) continue;
      for (int32_t r = 0; r < max_requests; ++r) {
        for (int32_t j = 0; j < max_split; ++j) {
          int32_t previous = -1, previous_host = -1;
          for (int32_t s = 0; s + 1 < max_stages; ++s) {
            const int32_t barrier = AddNode(NodeKind::kBarrier, group[0], r);
            if (previous >= 0) Edge(previous, barrier, EdgeKind::kWait);
            previous = barrier;
            const int32_t host_barrier = AddNode(NodeKind::kBarrier, group[0], r);
            if (previous_host >= 0) Edge(previous_host, host_barrier, EdgeKind::kGate);
            previous_host = host_barrier;
            for (int32_t ti : group) {
              const TenantTemplate& t = *g_.templates[ti];
              if (s >= t.stages - 1 || r >= w_.tenants[ti].requests || j >= t.batch_split) continue;
              const int32_t b = base_[ti][static_cast<size_t>(r) * t.batch_split + j];
              for (size_t st = 0; st < t.stream_ids.size(); ++st) {
                if (t.stage_last[s][st] >= 0)
                  Edge(b + t.stage_last[s][st], barrier, EdgeKind::kWait);
                const int32_t first = t.stage_first[s][st];
                if (first < 0) continue;
                Edge(barrier, b + first, EdgeKind::kWait);
                if (std::binary_search(t.unlaunched.begin(), t.unlaunched.end(), first))
                  Edge(host_barrier, b + first, EdgeKind::kGate);
              }
              // GPU work without a launching call is issued at the request's start.
              if (!t.unlaunched.empty()) Edge(g_.start_gate[ti][r], host_barrier, EdgeKind::kGate);
              for (size_t th = 0; th < t.thread_ids.size(); ++th) {
                if (t.host_stage_last[s][th] >= 0)
                  Edge(b + t.host_stage_last[s][th], host_barrier, EdgeKind::kGate);
                if (t.host_stage_first[s][th] >= 0)
                  Edge(host_barrier, b + t.host_stage_first[s][th], EdgeKind::kGate);
              }
            }
          }
        }
      }
    }
    // Gates and barriers added after the release times were set are released at 0.
    g_.release_ns.resize(g_.nodes.size(), 0);
  }

  const LoadedWorkload& lw_;
  const Workload& w_;
  const Plan& plan_;
  const std::string where_;
  const int32_t tenants_;
  TemplateCache* cache_;
  TaskGraph& g_;
  GraphScratch own_scratch_;  ///< used when the caller lends none
  GraphScratch& scratch_;
  std::vector<std::pair<uint32_t, uint32_t>>& edges_;
  std::vector<EdgeProps>& props_;
  const bool order_;  ///< sort topologically (and refuse cycles)
  std::vector<int32_t> first_thread_;
  /// Per tenant, per request and sub-batch: index of the first instantiated node.
  std::vector<std::vector<int32_t>> base_;
};

}  // namespace

const TenantTemplate* TemplateCache::Find(const LoadedWorkload& lw, int32_t tenant, int32_t split,
                                          const std::vector<int64_t>& cuts) const {
  COTENANT_CHECK_MSG(lw_ == nullptr || lw_ == &lw, "TemplateCache used with two workloads");
  const auto it = templates_.find(Key(tenant, split, cuts));
  return it == templates_.end() ? nullptr : &it->second;
}

const TenantTemplate& TemplateCache::Add(const LoadedWorkload& lw, int32_t tenant, int32_t split,
                                         const std::vector<int64_t>& cuts, TenantTemplate t,
                                         std::unique_ptr<Trace> derived) {
  COTENANT_CHECK_MSG(lw_ == nullptr || lw_ == &lw, "TemplateCache used with two workloads");
  lw_ = &lw;
  if (derived != nullptr) {
    derived_.push_back(std::move(*derived));
    t.trace = &derived_.back();
  }
  return templates_.insert_or_assign(Key(tenant, split, cuts), std::move(t)).first->second;
}

TaskGraph BuildTaskGraph(const LoadedWorkload& lw, const Plan& plan, TemplateCache* cache) {
  TaskGraph g;
  GraphBuilder(lw, plan, cache, &g, nullptr, true).Build();
  return g;
}

void BuildTaskGraph(const LoadedWorkload& lw, const Plan& plan, TemplateCache* cache,
                    TaskGraph* graph, GraphScratch* scratch, bool order) {
  GraphBuilder(lw, plan, cache, graph, scratch, order).Build();
}

void CheckAcyclic(TaskGraph* graph, GraphScratch* scratch) {
  GraphScratch own;
  std::vector<uint32_t>& indegree = (scratch != nullptr ? scratch : &own)->indegree;
  indegree.assign(graph->nodes.size(), 0);
  for (uint32_t v = 0; v < graph->nodes.size(); ++v)
    for (auto e : boost::make_iterator_range(boost::out_edges(v, graph->graph)))
      ++indegree[boost::target(e, graph->graph)];
  TopologicalOrder(graph, indegree);
}

}  // namespace cotenant
