#include "sim/graph.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/occupancy.h"
#include "sim/simulate.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

bool IsGpuNode(NodeKind k) {
  return k == NodeKind::kKernel || k == NodeKind::kCopy || k == NodeKind::kFixed ||
         k == NodeKind::kMarker;
}

/// Task indices sorted by (start_ns, file index): the order of a thread or stream.
std::vector<int32_t> TimeOrder(const Trace& trace) {
  std::vector<int32_t> order(trace.tasks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return trace.tasks[a].start_ns < trace.tasks[b].start_ns;
  });
  return order;
}

int32_t LocalIndex(std::vector<int64_t>& ids, int64_t id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return static_cast<int32_t>(it - ids.begin());
}

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
    for (auto e : boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(order[i]), g.graph))) {
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
  throw InputError("dependency cycle: " + cycle + "...; " +
                   std::to_string(n - order.size()) + " tasks can never run");
}

/// Throws InputError naming the trace's tasks on a cycle of the template's
/// edges (possible only when `after` lists contradict thread/stream order).
void CheckAcyclic(const TenantTemplate& t, const Trace& trace) {
  const size_t n = t.nodes.size();
  std::vector<int32_t> first(n + 1, 0), targets(t.edges.size()), indegree(n, 0);
  for (const TemplateEdge& e : t.edges) {
    ++first[e.from + 1];
    ++indegree[e.to];
  }
  for (size_t v = 0; v < n; ++v) first[v + 1] += first[v];
  {
    std::vector<int32_t> fill(first.begin(), first.end() - 1);
    for (const TemplateEdge& e : t.edges) targets[fill[e.from]++] = e.to;
  }
  auto out = [&](int32_t v) {
    return std::make_pair(targets.begin() + first[v], targets.begin() + first[v + 1]);
  };
  std::vector<int32_t> ready;
  for (size_t v = 0; v < n; ++v)
    if (indegree[v] == 0) ready.push_back(static_cast<int32_t>(v));
  size_t seen = 0;
  while (!ready.empty()) {
    const int32_t v = ready.back();
    ready.pop_back();
    ++seen;
    for (auto [it, end] = out(v); it != end; ++it)
      if (--indegree[*it] == 0) ready.push_back(*it);
  }
  if (seen == n) return;
  int32_t v = 0;
  while (indegree[v] == 0) ++v;
  std::vector<int32_t> pos(n, -1), path;
  while (pos[v] < 0) {
    pos[v] = static_cast<int32_t>(path.size());
    path.push_back(v);
    for (auto [it, end] = out(v); it != end; ++it) {
      if (indegree[*it] > 0) {
        v = *it;
        break;
      }
    }
  }
  std::string cycle;
  int64_t last_id = -1;
  for (size_t i = static_cast<size_t>(pos[v]); i < path.size(); ++i) {
    const int64_t id = trace.tasks[t.nodes[path[i]].task].id;
    if (id == last_id) continue;  // host call and its marker are one task
    cycle += "task " + std::to_string(id) + " -> ";
    last_id = id;
  }
  cycle += "task " + std::to_string(trace.tasks[t.nodes[v].task].id);
  FailAt(trace.file, "tasks", "dependency cycle: " + cycle +
                                  " (explicit `after` dependencies contradict thread or stream "
                                  "order)");
}

}  // namespace

TenantTemplate BuildTemplate(const Trace& trace, const GpuSpec& spec,
                             const std::vector<int64_t>& cuts, const std::string& name,
                             const std::string& where) {
  TenantTemplate t;
  t.name = name;
  t.trace = &trace;
  const std::vector<int32_t> order = TimeOrder(trace);

  bool has_after = false;
  for (const Task& task : trace.tasks) {  // (skip runs of one id: few distinct ids)
    if (task.thread != kAbsent && (t.thread_ids.empty() || t.thread_ids.back() != task.thread))
      t.thread_ids.push_back(task.thread);
    if (task.stream != kAbsent && (t.stream_ids.empty() || t.stream_ids.back() != task.stream))
      t.stream_ids.push_back(task.stream);
    has_after = has_after || !task.after.empty();
  }
  for (auto* ids : {&t.thread_ids, &t.stream_ids}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }

  const TimeNs t0 = trace.tasks.empty()
                        ? 0
                        : std::min_element(trace.tasks.begin(), trace.tasks.end(),
                                           [](const Task& a, const Task& b) {
                                             return a.start_ns < b.start_ns;
                                           })->start_ns;
  const double peak = spec.EffectiveDramBytesPerNs();

  // Nodes, in time order. host_of/gpu_of map a task to its host and GPU node.
  std::vector<int32_t> host_of(trace.tasks.size(), -1), gpu_of(trace.tasks.size(), -1);
  auto add = [&](NodeKind kind, int32_t task) {
    TemplateNode n;
    n.kind = kind;
    n.task = task;
    t.nodes.push_back(n);
    return static_cast<int32_t>(t.nodes.size() - 1);
  };
  for (int32_t i : order) {
    const Task& task = trace.tasks[i];
    const bool has_thread = task.thread != kAbsent;
    switch (task.kind) {
      case TaskKind::kLaunch:
      case TaskKind::kCpu:
        host_of[i] = add(NodeKind::kHost, i);
        break;
      case TaskKind::kSync:
        host_of[i] = add(NodeKind::kSync, i);
        t.nodes[host_of[i]].sync_scope = static_cast<uint8_t>(task.scope);
        break;
      case TaskKind::kKernel: {
        gpu_of[i] = add(NodeKind::kKernel, i);
        KernelLaunch k;
        k.task = gpu_of[i];
        k.blocks = task.HasShape() ? task.Blocks() : 0;
        k.threads_per_block = task.HasShape() ? task.ThreadsPerBlock() : 0;
        k.regs = task.regs;
        k.smem = task.smem;
        k.dur_ns = task.dur_ns;
        if (k.blocks > 0)
          k.blocks_per_sm = ComputeOccupancy(spec, k.threads_per_block, k.regs, k.smem).blocks_per_sm;
        const double bytes_per_ns =
            task.dram_bytes >= 0 && task.dur_ns > 0
                ? static_cast<double>(task.dram_bytes) / static_cast<double>(task.dur_ns)
                : -1.0;
        if (task.mem_bound >= 0.0) {
          k.mem_bound = task.mem_bound;
        } else if (bytes_per_ns >= 0.0) {
          k.mem_bound = std::min(1.0, bytes_per_ns / peak);
        }
        k.dram_bytes_per_ns = bytes_per_ns >= 0.0 ? bytes_per_ns : k.mem_bound * peak;
        t.nodes[gpu_of[i]].kernel = static_cast<int32_t>(t.kernels.size());
        t.kernels.push_back(k);
        break;
      }
      case TaskKind::kMemcpy:
        gpu_of[i] = add(task.dir == CopyDir::kH2D || task.dir == CopyDir::kD2H ? NodeKind::kCopy
                                                                              : NodeKind::kFixed,
                        i);
        t.nodes[gpu_of[i]].copy_dir = static_cast<uint8_t>(task.dir);
        break;
      case TaskKind::kMemset:
        gpu_of[i] = add(NodeKind::kFixed, i);
        break;
      case TaskKind::kEventRecord:
      case TaskKind::kStreamWait:
        if (has_thread) host_of[i] = add(NodeKind::kHost, i);
        gpu_of[i] = add(NodeKind::kMarker, i);
        break;
    }
  }
  for (int32_t i = 0; i < static_cast<int32_t>(trace.tasks.size()); ++i) {
    const Task& task = trace.tasks[i];
    if (host_of[i] >= 0) {
      TemplateNode& n = t.nodes[host_of[i]];
      n.thread = LocalIndex(t.thread_ids, task.thread);
      n.dur_ns = task.dur_ns;
      if (n.kind == NodeKind::kSync && task.stream != kAbsent)
        n.stream = LocalIndex(t.stream_ids, task.stream);
    }
    if (gpu_of[i] >= 0) {
      TemplateNode& n = t.nodes[gpu_of[i]];
      n.stream = LocalIndex(t.stream_ids, task.stream);
      n.dur_ns = n.kind == NodeKind::kMarker ? 0 : task.dur_ns;
    }
  }

  // Thread order, with the CPU gap between consecutive host tasks kept.
  t.thread_head.assign(t.thread_ids.size(), -1);
  t.thread_tail.assign(t.thread_ids.size(), -1);
  std::vector<TimeNs> tail_end(t.thread_ids.size(), 0);
  for (int32_t i : order) {
    const int32_t v = host_of[i];
    if (v < 0) continue;
    TemplateNode& n = t.nodes[v];
    const Task& task = trace.tasks[i];
    const int32_t th = n.thread;
    if (t.thread_tail[th] < 0) {
      t.thread_head[th] = v;
      n.gap_ns = task.start_ns - t0;  // CPU time before the first call of the request
    } else {
      n.gap_ns = std::max<TimeNs>(0, task.start_ns - tail_end[th]);
      t.edges.push_back({t.thread_tail[th], v, EdgeKind::kThread});
    }
    t.thread_tail[th] = v;
    tail_end[th] = task.end_ns();
  }

  // Launch -> GPU task by correlation; host part -> marker of record/wait.
  std::unordered_map<int64_t, int32_t> launch_by_corr;
  launch_by_corr.reserve(trace.tasks.size() / 2 + 1);
  for (int32_t i = 0; i < static_cast<int32_t>(trace.tasks.size()); ++i) {
    const Task& task = trace.tasks[i];
    if (task.kind == TaskKind::kLaunch && task.correlation != kAbsent)
      launch_by_corr.emplace(task.correlation, host_of[i]);
  }
  std::vector<bool> issued(t.nodes.size(), false);
  for (int32_t i = 0; i < static_cast<int32_t>(trace.tasks.size()); ++i) {
    const Task& task = trace.tasks[i];
    if (gpu_of[i] < 0) continue;
    int32_t from = -1;
    if (host_of[i] >= 0) {
      from = host_of[i];
    } else if (task.correlation != kAbsent) {
      auto it = launch_by_corr.find(task.correlation);
      if (it != launch_by_corr.end()) from = it->second;
    }
    if (from >= 0) {
      t.edges.push_back({from, gpu_of[i], EdgeKind::kLaunch});
      issued[gpu_of[i]] = true;
    }
  }

  // Events: a wait (or event sync) depends on the latest record of its event
  // that starts before it.
  std::unordered_map<int64_t, int32_t> last_record;  // event -> task index
  for (int32_t i : order) {
    const Task& task = trace.tasks[i];
    if (task.kind == TaskKind::kEventRecord) {
      last_record[task.event] = i;
    } else if (task.kind == TaskKind::kStreamWait ||
               (task.kind == TaskKind::kSync && task.scope == SyncScope::kEvent)) {
      auto it = last_record.find(task.event);
      if (it == last_record.end()) {
        FailAt(where, "tasks[" + std::to_string(i) + "].event",
               "dangling event " + std::to_string(task.event) +
                   ": no event_record of it starts before this task");
      }
      const int32_t rec = it->second;
      if (task.kind == TaskKind::kStreamWait) {
        t.edges.push_back({gpu_of[rec], gpu_of[i], EdgeKind::kWait});
        if (host_of[rec] >= 0 && host_of[i] >= 0 &&
            t.nodes[host_of[rec]].thread != t.nodes[host_of[i]].thread) {
          t.edges.push_back({host_of[rec], host_of[i], EdgeKind::kGate});
        }
      } else {
        t.nodes[host_of[i]].target = gpu_of[rec];
      }
    }
  }

  // Issue order: a GPU task is issued when its host call starts (launch, or
  // the record/wait call itself); GPU-only tasks when they start.
  std::vector<TimeNs> issue_time(t.nodes.size(), -1);
  for (const TemplateEdge& e : t.edges) {
    if (e.kind == EdgeKind::kLaunch) issue_time[e.to] = trace.tasks[t.nodes[e.from].task].start_ns;
  }
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (issue_time[v] < 0) issue_time[v] = trace.tasks[t.nodes[v].task].start_ns;
  }
  auto issued_before = [&](int32_t a, int32_t b) {
    if (issue_time[a] != issue_time[b]) return issue_time[a] < issue_time[b];
    return a < b;  // template order = (start_ns, file index)
  };

  // Explicit dependencies (`after`): the task waits for the listed tasks to end.
  if (has_after) {
    std::unordered_map<int64_t, int32_t> index_of_id;
    for (int32_t i = 0; i < static_cast<int32_t>(trace.tasks.size()); ++i)
      index_of_id.emplace(trace.tasks[i].id, i);
    for (int32_t i = 0; i < static_cast<int32_t>(trace.tasks.size()); ++i) {
      for (size_t d = 0; d < trace.tasks[i].after.size(); ++d) {
        auto it = index_of_id.find(trace.tasks[i].after[d]);
        if (it == index_of_id.end()) {
          FailAt(trace.file, "tasks[" + std::to_string(i) + "].after[" + std::to_string(d) + "]",
                 "dangling task id " + std::to_string(trace.tasks[i].after[d]));
        }
        const int32_t j = it->second;
        const int32_t from = gpu_of[j] >= 0 ? gpu_of[j] : host_of[j];
        if (host_of[i] >= 0) {
          t.edges.push_back({from, host_of[i], EdgeKind::kGate});
        } else {
          t.edges.push_back({from, gpu_of[i], EdgeKind::kWait});
        }
      }
    }
  }

  // Operators (consecutive kernels with one label, in issue order) and stages.
  std::vector<int32_t> kernels_in_issue_order;
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (t.nodes[v].kind == NodeKind::kKernel) kernels_in_issue_order.push_back(v);
  }
  std::sort(kernels_in_issue_order.begin(), kernels_in_issue_order.end(), issued_before);
  int32_t op_index = -1;
  int32_t prev_label = -2;
  size_t cut = 0;
  int32_t stage = 0;
  for (int32_t v : kernels_in_issue_order) {
    const int32_t label = trace.tasks[t.nodes[v].task].op;
    if (label < 0 || label != prev_label) ++op_index;
    prev_label = label;
    while (cut < cuts.size() && cuts[cut] <= op_index) {
      ++cut;
      ++stage;
    }
    t.nodes[v].stage = stage;
  }
  t.operators = op_index + 1;
  if (!cuts.empty() && t.operators < 2) {
    FailAt(where, "stages." + name,
           "no cut point is possible: the trace has " + std::to_string(t.operators) +
               " operator" + (t.operators == 1 ? "" : "s"));
  }
  for (size_t c = 0; c < cuts.size(); ++c) {
    if (cuts[c] < 1 || cuts[c] >= t.operators) {
      FailAt(where, "stages." + name + "[" + std::to_string(c) + "]",
             "expected a cut point in 1.." + std::to_string(t.operators - 1) + " (" +
                 std::to_string(t.operators) + " operators), found " + std::to_string(cuts[c]));
    }
  }
  t.stages = static_cast<int32_t>(cuts.size()) + 1;

  // Stream order = issue order; non-kernel GPU tasks take the stage of the
  // kernel before them.
  std::vector<std::vector<int32_t>> per_stream(t.stream_ids.size());
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (IsGpuNode(t.nodes[v].kind)) per_stream[t.nodes[v].stream].push_back(v);
  }
  for (auto& nodes : per_stream) std::sort(nodes.begin(), nodes.end(), issued_before);
  t.stage_last.assign(std::max(0, t.stages - 1), std::vector<int32_t>(t.stream_ids.size(), -1));
  t.stage_first = t.stage_last;
  t.stream_first.assign(t.stream_ids.size(), -1);
  t.stream_last.assign(t.stream_ids.size(), -1);
  for (size_t s = 0; s < per_stream.size(); ++s) {
    if (!per_stream[s].empty()) {
      t.stream_first[s] = per_stream[s].front();
      t.stream_last[s] = per_stream[s].back();
    }
    int32_t current = 0;
    for (size_t j = 0; j < per_stream[s].size(); ++j) {
      const int32_t v = per_stream[s][j];
      if (j > 0) t.edges.push_back({per_stream[s][j - 1], v, EdgeKind::kStream});
      TemplateNode& n = t.nodes[v];
      if (n.kind == NodeKind::kKernel) current = std::max(current, n.stage);
      n.stage = current;
      for (int32_t b = 0; b < t.stages - 1; ++b) {
        if (n.stage <= b) t.stage_last[b][s] = v;
        if (n.stage == b + 1 && t.stage_first[b][s] < 0) t.stage_first[b][s] = v;
      }
    }
  }

  t.stream_order = std::move(per_stream);
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (IsGpuNode(t.nodes[v].kind) && !issued[v]) t.unlaunched.push_back(v);
  }
  // Without `after`, every edge goes forward in issue time: no cycle is possible.
  if (has_after) CheckAcyclic(t, trace);
  std::vector<bool> has_out(t.nodes.size(), false);
  for (const TemplateEdge& e : t.edges) has_out[e.from] = true;
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (!has_out[v]) t.sinks.push_back(v);
  }
  return t;
}

Trace SplitBatchTrace(const Trace& trace, int32_t k) {
  COTENANT_CHECK(k >= 1);
  Trace out = trace;
  auto part = [k](int64_t x) { return (x + k - 1) / k; };
  for (Task& task : out.tasks) {
    switch (task.kind) {
      case TaskKind::kKernel:
        if (task.HasShape()) {
          // Divide the grid by k along x, then what is left of k along y, then z.
          int64_t left = k;
          for (int d = 0; d < 3 && left > 1; ++d) {
            const int64_t g = task.grid[d];
            if (g >= left) {
              task.grid[d] = static_cast<int32_t>((g + left - 1) / left);
              left = 1;
            } else {
              task.grid[d] = 1;
              left = (left + g - 1) / g;
            }
          }
        }
        task.dur_ns = part(task.dur_ns);
        if (task.dram_bytes >= 0) task.dram_bytes = part(task.dram_bytes);
        break;
      case TaskKind::kMemcpy:
      case TaskKind::kMemset:
        task.dur_ns = part(task.dur_ns);
        if (task.bytes >= 0) task.bytes = part(task.bytes);
        break;
      default:
        break;
    }
  }
  if (out.meta.is_object() && out.meta.contains("batch") && out.meta["batch"].is_number_integer())
    out.meta["batch"] = part(out.meta["batch"].get<int64_t>());
  out.meta["batch_split_whatif"] = k;
  return out;
}

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
      throw InputError(plan_where + ": tenants." + ts.name +
                       ".sm_count: SM partitions need " + std::to_string(partitioned_sms) +
                       " SMs, the GPU has " + std::to_string(spec.sm_count));
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
                if (t.stage_last[s][st] >= 0) edge(b + t.stage_last[s][st], barrier, EdgeKind::kWait);
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
