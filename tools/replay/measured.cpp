#include "tools/replay/measured.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/error.h"
#include "sim/intervals.h"
#include "sim/timeline.h"

namespace cotenant::replay {
namespace {

/// End time of every node: measured for real nodes, derived for the rest.
std::vector<TimeNs> CompletionTimes(const TaskGraph& g, const MeasuredRun& run) {
  std::vector<TimeNs> end(g.nodes.size(), 0);
  for (int32_t v : g.topo) {
    if (run.end_ns[v] >= 0) {
      end[v] = run.end_ns[v];
      continue;
    }
    TimeNs t = g.nodes[v].kind == NodeKind::kStartGate ? g.release_ns[v] : 0;
    end[v] = t;
  }
  // Unmeasured nodes complete when their predecessors have (a forward pass:
  // every predecessor comes earlier in topological order).
  for (int32_t v : g.topo) {
    for (auto e : boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(v), g.graph))) {
      const int32_t w = static_cast<int32_t>(boost::target(e, g.graph));
      if (run.end_ns[w] < 0) end[w] = std::max(end[w], end[v]);
    }
  }
  return end;
}

}  // namespace

MeasuredRun EmptyRun(const TaskGraph& g) {
  MeasuredRun r;
  r.start_ns.assign(g.nodes.size(), -1);
  r.end_ns.assign(g.nodes.size(), -1);
  return r;
}

SimResult AssembleResult(const LoadedWorkload& lw, const TaskGraph& g, const MeasuredRun& run,
                         bool timeline) {
  COTENANT_CHECK(run.end_ns.size() == g.nodes.size() && run.start_ns.size() == g.nodes.size());
  SimResult result;
  result.model = "measured";
  const std::vector<TimeNs> end = CompletionTimes(g, run);
  result.tenants = TenantResults(lw.workload, g, [&end](int32_t v) { return end[v]; });
  for (const TenantResult& tr : result.tenants)
    result.makespan_ns = std::max(result.makespan_ns, tr.finish_ns);
  for (TimeNs t : end) result.makespan_ns = std::max(result.makespan_ns, t);

  // SMs busy: the union of kernel intervals.
  std::vector<Interval> kernels;
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    if (g.nodes[v].kind == NodeKind::kKernel && run.start_ns[v] >= 0 && run.end_ns[v] >= 0)
      kernels.emplace_back(run.start_ns[v], run.end_ns[v]);
  }
  const TimeNs busy = UnionLengthNs(std::move(kernels));
  if (result.makespan_ns > 0)
    result.gpu.sm_busy_fraction =
        static_cast<double>(busy) / static_cast<double>(result.makespan_ns);
  result.stats.tasks = static_cast<int64_t>(g.nodes.size());
  result.stats.kernels = g.kernel_count;

  if (timeline) {
    AppendTimeline(
        g, [&run](int32_t v) { return run.start_ns[v]; },
        [&run](int32_t v) { return run.end_ns[v]; }, &result);
  }
  return result;
}

std::vector<Trace> MeasuredTraces(const LoadedWorkload& lw, const TaskGraph& g,
                                  const MeasuredRun& run) {
  std::vector<Trace> traces(g.templates.size());
  // (tenant, request, sub-batch, correlation) -> new correlation
  std::map<std::tuple<int32_t, int32_t, int32_t, int64_t>, int64_t> corr;
  std::vector<int64_t> next_corr(g.templates.size(), 1);
  for (size_t ti = 0; ti < g.templates.size(); ++ti) {
    Trace& out = traces[ti];
    const Trace& in = *g.templates[ti]->trace;
    out.tenant = g.templates[ti]->name;
    out.device_gpu = lw.gpu.key;
    out.strings = in.strings;
    out.meta = nlohmann::json::object();
    out.meta["source"] = "cotenant replay";
    out.meta["requests"] = lw.workload.tenants[ti].requests;
    out.meta["batch_split"] = g.templates[ti]->batch_split;
  }
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.tmpl < 0 || run.start_ns[v] < 0 || run.end_ns[v] < 0) continue;
    const TenantTemplate& t = *g.templates[n.tenant];
    const Task& in = t.trace->tasks[t.nodes[n.tmpl].task];
    const bool keep = in.kind == TaskKind::kKernel || in.kind == TaskKind::kMemcpy ||
                      in.kind == TaskKind::kMemset || in.kind == TaskKind::kLaunch ||
                      in.kind == TaskKind::kCpu;
    if (!keep) continue;
    Task task = in;
    task.after.clear();
    task.start_ns = run.start_ns[v];
    task.dur_ns = std::max<TimeNs>(0, run.end_ns[v] - run.start_ns[v]);
    if (task.correlation != kAbsent) {
      auto [it, fresh] = corr.emplace(
          std::make_tuple(n.tenant, n.request, static_cast<int32_t>(n.sub_batch), in.correlation),
          next_corr[n.tenant]);
      if (fresh) ++next_corr[n.tenant];
      task.correlation = it->second;
    }
    traces[n.tenant].tasks.push_back(std::move(task));
  }
  for (Trace& t : traces) {
    std::stable_sort(t.tasks.begin(), t.tasks.end(),
                     [](const Task& a, const Task& b) { return a.start_ns < b.start_ns; });
    // Launches whose GPU task was not kept (or the reverse) lose their link.
    std::map<int64_t, int> launches, gpu;
    for (const Task& task : t.tasks) {
      if (task.correlation == kAbsent) continue;
      (task.kind == TaskKind::kLaunch ? launches : gpu)[task.correlation]++;
    }
    for (size_t i = 0; i < t.tasks.size(); ++i) {
      Task& task = t.tasks[i];
      task.id = static_cast<int64_t>(i + 1);
      if (task.correlation == kAbsent) continue;
      const bool linked = launches.count(task.correlation) && gpu.count(task.correlation);
      if (!linked) task.correlation = kAbsent;
    }
  }
  return traces;
}

}  // namespace cotenant::replay
