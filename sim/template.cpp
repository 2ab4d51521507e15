#include "sim/template.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/models/fluid.h"
#include "sim/occupancy.h"

namespace cotenant {
namespace {

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
  FailAt(trace.file, "tasks",
         "dependency cycle: " + cycle +
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

  const TimeNs t0 =
      trace.tasks.empty()
          ? 0
          : std::min_element(trace.tasks.begin(), trace.tasks.end(),
                             [](const Task& a, const Task& b) { return a.start_ns < b.start_ns; })
                ->start_ns;
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
          k.blocks_per_sm =
              ComputeOccupancy(spec, k.threads_per_block, k.regs, k.smem).blocks_per_sm;
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
      n.release_ns = task.release_ns;
      t.has_release = t.has_release || task.release_ns > 0;
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
          FailAt(trace.file, IndexPath(IndexPath("tasks", i) + ".after", d),
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
           "no cut point is possible: the trace has " + std::to_string(t.operators) + " operator" +
               (t.operators == 1 ? "" : "s"));
  }
  for (size_t c = 0; c < cuts.size(); ++c) {
    if (cuts[c] < 1 || cuts[c] >= t.operators) {
      FailAt(where, IndexPath("stages." + name, c),
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

  // The host side of the stages. A host call belongs to the latest stage of
  // the GPU work issued so far on its thread (stages never go back along a
  // thread). The first call of stage s+1 on a thread waits until every
  // tenant has issued all of its stage-s work, as the replay harness does
  // with host-side flags: otherwise stage-(s+1) work could sit in a shared
  // hardware queue ahead of another tenant's stage-s work that it waits for.
  t.host_stage_last.assign(std::max(0, t.stages - 1),
                           std::vector<int32_t>(t.thread_ids.size(), -1));
  t.host_stage_first = t.host_stage_last;
  if (t.stages > 1) {
    std::vector<int32_t> issues_stage(t.nodes.size(), 0);
    for (const TemplateEdge& e : t.edges) {
      if (e.kind == EdgeKind::kLaunch) {
        issues_stage[e.from] = std::max(issues_stage[e.from], t.nodes[e.to].stage);
      }
    }
    std::vector<int32_t> current(t.thread_ids.size(), 0);
    for (int32_t i : order) {
      const int32_t v = host_of[i];
      if (v < 0) continue;
      const int32_t th = t.nodes[v].thread;
      current[th] = std::max(current[th], issues_stage[v]);
      for (int32_t b = 0; b < t.stages - 1; ++b) {
        if (current[th] <= b) t.host_stage_last[b][th] = v;
        if (current[th] == b + 1 && t.host_stage_first[b][th] < 0) t.host_stage_first[b][th] = v;
      }
    }
  }
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
  for (const KernelLaunch& k : t.kernels) t.sm_work += KernelSmWork(spec, k);
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

}  // namespace cotenant
