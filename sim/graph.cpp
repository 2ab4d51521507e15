#include "sim/graph.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

/// Kahn's algorithm over every edge kind. On a cycle, throws InputError
/// naming the tasks on one cycle.
std::vector<int32_t> TopologicalOrder(const TaskGraph& g) {
  const uint32_t n = static_cast<uint32_t>(g.nodes.size());
  std::vector<uint32_t> indegree(n, 0);
  for (uint32_t v = 0; v < n; ++v)
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g.graph)))
      ++indegree[boost::target(e, g.graph)];
  std::vector<int32_t> order;
  order.reserve(n);
  for (uint32_t v = 0; v < n; ++v)
    if (indegree[v] == 0) order.push_back(static_cast<int32_t>(v));
  for (size_t i = 0; i < order.size(); ++i) {
    for (auto e :
         boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(order[i]), g.graph))) {
      const uint32_t w = boost::target(e, g.graph);
      if (--indegree[w] == 0) order.push_back(static_cast<int32_t>(w));
    }
  }
  if (order.size() == n) return order;
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
  std::string s = templates[n.tenant].name + " request " + std::to_string(n.request);
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
  const TenantTemplate& t = templates[n.tenant];
  const Task& task = t.trace->tasks[t.nodes[n.tmpl].task];
  if (t.batch_split > 1) s += " sub-batch " + std::to_string(n.sub_batch);
  s += " task " + std::to_string(task.id) + " (" + TaskKindName(task.kind);
  const std::string& name = t.trace->Name(task);
  if (!name.empty()) s += " " + name.substr(0, 60);
  return s + ")";
}

TaskGraph BuildTaskGraph(const LoadedWorkload& lw, const Plan& plan) {
  const Workload& w = lw.workload;
  const GpuSpec& spec = lw.gpu;
  CheckPlanAgainst(plan, w, spec);
  const std::string plan_where = plan.file.empty() ? std::string("plan") : plan.file;
  const int32_t tenants = static_cast<int32_t>(w.tenants.size());

  TaskGraph g;
  g.templates.reserve(tenants);
  g.tenant_priority.resize(tenants);
  g.tenant_partition.assign(tenants, -1);
  int32_t partitioned_sms = 0;
  for (int32_t ti = 0; ti < tenants; ++ti) {
    const TenantSpec& ts = w.tenants[ti];
    const TenantPlan tp = plan.For(ts.name);
    g.tenant_priority[ti] = tp.priority;
    if (tp.sm_count > 0) {
      g.tenant_partition[ti] = static_cast<int32_t>(g.partitions.sm_counts.size());
      g.partitions.sm_counts.push_back(tp.sm_count);
      partitioned_sms += tp.sm_count;
    }
  }

  int32_t next_key = 0;
  for (int32_t ti = 0; ti < tenants; ++ti) {
    const TenantSpec& ts = w.tenants[ti];
    const TenantPlan tp = plan.For(ts.name);
    auto cuts_it = plan.stages.find(ts.name);
    static const std::vector<int64_t> kNoCuts;
    const std::vector<int64_t>& cuts = cuts_it == plan.stages.end() ? kNoCuts : cuts_it->second;
    // The trace that runs: a measured sub-batch trace when the workload has
    // one for batch/k, else the what-if split of the request's trace.
    const Trace* chosen = &lw.traces[ti];
    if (tp.batch_split > 1) {
      const nlohmann::json& meta = chosen->meta;
      const Trace* measured = nullptr;
      if (meta.is_object() && meta.contains("batch") && meta["batch"].is_number_integer()) {
        const int64_t batch = meta["batch"].get<int64_t>();
        auto it = lw.by_batch[ti].find(batch / tp.batch_split);
        if (batch % tp.batch_split == 0 && it != lw.by_batch[ti].end()) measured = &it->second;
      }
      if (measured == nullptr) {
        g.derived_traces.push_back(SplitBatchTrace(*chosen, tp.batch_split));
        measured = &g.derived_traces.back();
      }
      chosen = measured;
    }
    g.templates.push_back(BuildTemplate(*chosen, spec, cuts, ts.name, plan_where));
    TenantTemplate& t = g.templates.back();
    t.batch_split = tp.batch_split;

    // Per-task SM caps (what-if) become green contexts of their own.
    std::map<int32_t, int32_t> task_partition;
    for (KernelLaunch& k : t.kernels) {
      k.key = next_key++;
      const Task& task = t.trace->tasks[t.nodes[k.task].task];
      k.priority = task.priority != INT32_MIN ? task.priority : tp.priority;
      k.partition = g.tenant_partition[ti];
      if (task.sm_count > 0) {
        auto [it, fresh] = task_partition.emplace(
            task.sm_count, static_cast<int32_t>(g.partitions.sm_counts.size()));
        if (fresh) {
          g.partitions.sm_counts.push_back(task.sm_count);
          partitioned_sms += task.sm_count;
        }
        k.partition = it->second;
      }
    }
    if (partitioned_sms > spec.sm_count) {
      throw InputError(plan_where + ": tenants." + ts.name + ".sm_count: SM partitions need " +
                       std::to_string(partitioned_sms) + " SMs, the GPU has " +
                       std::to_string(spec.sm_count));
    }
  }

  // Global streams and threads; hardware queue = global stream index mod max_connections.
  g.tenant_first_stream.resize(tenants);
  g.tenant_stream_count.resize(tenants);
  std::vector<int32_t> first_thread(tenants);
  for (int32_t ti = 0; ti < tenants; ++ti) {
    const TenantTemplate& t = g.templates[ti];
    g.tenant_first_stream[ti] = static_cast<int32_t>(g.streams.size());
    g.tenant_stream_count[ti] = static_cast<int32_t>(t.stream_ids.size());
    for (int64_t id : t.stream_ids) {
      StreamInfo s;
      s.tenant = ti;
      s.trace_stream = id;
      s.queue = static_cast<int32_t>(g.streams.size()) % plan.max_connections;
      g.streams.push_back(s);
    }
    first_thread[ti] = g.thread_count;
    g.thread_count += static_cast<int32_t>(t.thread_ids.size());
  }
  g.queue_count = std::max<int32_t>(
      1, std::min<int32_t>(plan.max_connections, static_cast<int32_t>(g.streams.size())));
  g.stream_nodes.resize(g.streams.size());

  // Groups: tenants of group i+1 start after every request of group i ends.
  std::vector<std::vector<int32_t>> groups;
  if (plan.groups.empty()) {
    groups.emplace_back(tenants);
    std::iota(groups[0].begin(), groups[0].end(), 0);
  } else {
    for (const auto& names : plan.groups) {
      groups.emplace_back();
      for (const std::string& n : names) groups.back().push_back(w.FindTenant(n));
    }
  }

  // Size estimate, then instantiate every request of every tenant.
  size_t total_nodes = 0, total_edges = 0;
  for (int32_t ti = 0; ti < tenants; ++ti) {
    const TenantTemplate& t = g.templates[ti];
    const size_t copies = static_cast<size_t>(w.tenants[ti].requests) * t.batch_split;
    total_nodes += copies * t.nodes.size() + 2 * w.tenants[ti].requests;
    total_edges += copies * (t.edges.size() + t.thread_ids.size() * 2 + t.unlaunched.size() +
                             t.sinks.size() + t.stream_ids.size());
  }
  g.nodes.reserve(total_nodes + 16);
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  std::vector<EdgeProps> props;
  edges.reserve(total_edges + 16);
  props.reserve(total_edges + 16);
  auto edge = [&](int32_t a, int32_t b, EdgeKind k) {
    edges.emplace_back(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    props.push_back(EdgeProps{k});
  };
  auto add_node = [&](NodeKind kind, int32_t tenant, int32_t request) {
    Node n;
    n.kind = kind;
    n.tenant = tenant;
    n.request = request;
    g.nodes.push_back(n);
    return static_cast<int32_t>(g.nodes.size() - 1);
  };

  g.start_gate.resize(tenants);
  g.end_gate.resize(tenants);
  g.arrival_ns.resize(tenants);
  g.closed.resize(tenants);
  // Per tenant, per request, per sub-batch: index of the first instantiated node.
  std::vector<std::vector<int32_t>> base(tenants);
  for (int32_t ti = 0; ti < tenants; ++ti) {
    const TenantSpec& ts = w.tenants[ti];
    const TenantTemplate& t = g.templates[ti];
    const TenantPlan tp = plan.For(ts.name);
    g.closed[ti] = ts.arrival.kind == ArrivalKind::kClosed;
    std::vector<TimeNs> arrivals = ArrivalTimes(ts.arrival, ts.requests);
    for (TimeNs& a : arrivals) a += tp.offset_ns;
    g.arrival_ns[ti] = arrivals;
    std::vector<int32_t> last_host(t.thread_ids.size(), -1);  // previous instance's tails
    std::vector<int32_t> last_gpu(t.stream_ids.size(), -1);
    for (int32_t r = 0; r < ts.requests; ++r) {
      const int32_t start = add_node(NodeKind::kStartGate, ti, r);
      g.start_gate[ti].push_back(start);
      if (g.closed[ti] && r > 0) edge(g.end_gate[ti][r - 1], start, EdgeKind::kGate);
      std::vector<int32_t> sinks;
      for (int32_t j = 0; j < t.batch_split; ++j) {
        const int32_t b = static_cast<int32_t>(g.nodes.size());
        base[ti].push_back(b);
        for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
          const TemplateNode& tn = t.nodes[v];
          Node n;
          n.kind = tn.kind;
          n.tenant = ti;
          n.request = r;
          n.sub_batch = static_cast<int16_t>(j);
          n.tmpl = v;
          if (tn.stream >= 0) n.stream = g.tenant_first_stream[ti] + tn.stream;
          if (tn.thread >= 0) n.thread = first_thread[ti] + tn.thread;
          if (n.kind == NodeKind::kKernel) ++g.kernel_count;
          g.nodes.push_back(n);
        }
        for (size_t st = 0; st < t.stream_order.size(); ++st) {
          std::vector<int32_t>& order = g.stream_nodes[g.tenant_first_stream[ti] + st];
          for (int32_t v : t.stream_order[st]) order.push_back(b + v);
        }
        for (const TemplateEdge& e : t.edges) edge(b + e.from, b + e.to, e.kind);
        for (size_t th = 0; th < t.thread_ids.size(); ++th) {
          if (t.thread_head[th] < 0) continue;
          // The thread's previous work (earlier sub-batch or request) comes first.
          if (last_host[th] >= 0) edge(last_host[th], b + t.thread_head[th], EdgeKind::kThread);
          edge(start, b + t.thread_head[th], EdgeKind::kThread);
          last_host[th] = b + t.thread_tail[th];
        }
        for (int32_t v : t.unlaunched) edge(start, b + v, EdgeKind::kIssue);
        for (size_t s = 0; s < t.stream_ids.size(); ++s) {
          // Stream order across instances (kept for ordering checks and bounds).
          if (t.stream_first[s] < 0) continue;
          if (last_gpu[s] >= 0) edge(last_gpu[s], b + t.stream_first[s], EdgeKind::kStream);
          last_gpu[s] = b + t.stream_last[s];
        }
        for (int32_t v : t.sinks) sinks.push_back(b + v);
      }
      const int32_t end = add_node(NodeKind::kEndGate, ti, r);
      g.end_gate[ti].push_back(end);
      for (int32_t v : sinks) edge(v, end, EdgeKind::kGate);
      if (sinks.empty()) edge(start, end, EdgeKind::kGate);
    }
  }

  // Group boundaries.
  for (size_t gi = 1; gi < groups.size(); ++gi) {
    const int32_t barrier = add_node(NodeKind::kBarrier, groups[gi][0], 0);
    for (int32_t ti : groups[gi - 1])
      for (int32_t end : g.end_gate[ti]) edge(end, barrier, EdgeKind::kGate);
    for (int32_t ti : groups[gi])
      for (int32_t start : g.start_gate[ti]) edge(barrier, start, EdgeKind::kGate);
  }

  // Stage barriers: per group, request, sub-batch and boundary.
  for (const std::vector<int32_t>& group : groups) {
    int32_t max_stages = 1, max_requests = 0, max_split = 1;
    for (int32_t ti : group) {
      max_stages = std::max(max_stages, g.templates[ti].stages);
      max_requests = std::max<int32_t>(max_requests, w.tenants[ti].requests);
      max_split = std::max(max_split, g.templates[ti].batch_split);
    }
    if (max_stages <= 1) continue;
    for (int32_t r = 0; r < max_requests; ++r) {
      for (int32_t j = 0; j < max_split; ++j) {
        int32_t previous = -1;
        for (int32_t s = 0; s + 1 < max_stages; ++s) {
          const int32_t barrier = add_node(NodeKind::kBarrier, group[0], r);
          if (previous >= 0) edge(previous, barrier, EdgeKind::kWait);
          previous = barrier;
          for (int32_t ti : group) {
            const TenantTemplate& t = g.templates[ti];
            if (t.stages <= 1 || r >= w.tenants[ti].requests || j >= t.batch_split) continue;
            const int32_t b = base[ti][static_cast<size_t>(r) * t.batch_split + j];
            if (s < t.stages - 1) {
              for (size_t st = 0; st < t.stream_ids.size(); ++st) {
                if (t.stage_last[s][st] >= 0)
                  edge(b + t.stage_last[s][st], barrier, EdgeKind::kWait);
                if (t.stage_first[s][st] >= 0)
                  edge(barrier, b + t.stage_first[s][st], EdgeKind::kWait);
              }
            }
          }
        }
      }
    }
  }

  // Release times of the start gates.
  g.release_ns.assign(g.nodes.size(), 0);
  for (int32_t ti = 0; ti < tenants; ++ti) {
    for (size_t r = 0; r < g.start_gate[ti].size(); ++r) {
      g.release_ns[g.start_gate[ti][r]] =
          g.closed[ti] ? (r == 0 ? g.arrival_ns[ti][0] : 0) : g.arrival_ns[ti][r];
    }
  }

  g.graph = CsrGraph(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(),
                     props.begin(), static_cast<uint32_t>(g.nodes.size()));
  edges = {};
  props = {};
  g.topo = TopologicalOrder(g);
  return g;
}

}  // namespace cotenant
