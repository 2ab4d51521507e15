#include "sim/simulate.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/graph.h"
#include "sim/json_util.h"
#include "sim/models/fluid.h"
#include "sim/serving.h"
#include "sim/timeline.h"

namespace cotenant {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// CPU time of the calling thread, seconds (excludes time the VM or OS gave
/// to others, so it is steadier than wall time on a shared machine).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Nearest-rank percentile of sorted values (q in (0,1]).
TimeNs Percentile(const std::vector<TimeNs>& sorted, double q) {
  return NearestRankPercentile(sorted, q);
}

/// Earliest finish of every tenant with no contention at all (isolated
/// durations, no queue sharing, syncs free): a lower bound for any schedule.
/// `ready` is scratch.
TimeNs CriticalPath(const TaskGraph& g, const GpuSpec& spec, std::vector<TimeNs>* scratch) {
  std::vector<TimeNs>& ready = *scratch;
  ready.assign(g.nodes.size(), 0);
  TimeNs longest = 0;
  for (int32_t v : g.topo) {
    const Node& n = g.nodes[v];
    TimeNs start = std::max(ready[v], g.release_ns[v]);
    TimeNs dur = 0;
    if (n.tmpl >= 0 && n.kind != NodeKind::kSync) dur = g.Tmpl(n).dur_ns;
    const TimeNs end = start + dur;
    longest = std::max(longest, end);
    for (auto e : boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(v), g.graph))) {
      const uint32_t w = boost::target(e, g.graph);
      TimeNs delay = 0;
      if (g.graph[e].kind == EdgeKind::kThread) delay = g.Tmpl(g.nodes[w]).gap_ns;
      if (g.graph[e].kind == EdgeKind::kLaunch) delay = spec.model.launch_latency_ns;
      ready[w] = std::max(ready[w], end + delay);
    }
  }
  return longest;
}

}  // namespace

struct SimWorkspace::Buffers {
  TaskGraph graph;
  GraphScratch graph_scratch;
  Engine::Memory engine;
  std::vector<TimeNs> ready;  ///< CriticalPath's
};

SimWorkspace::SimWorkspace() : buffers_(std::make_unique<Buffers>()) {}
SimWorkspace::~SimWorkspace() = default;

namespace {

/// The spec key trace `t` was captured on: device.gpu, else device.name
/// mapped by SpecKeyForDevice. An unknown name throws when `required`, else
/// gives "".
std::string TracedGpuKey(const Trace& t, const std::string& path, bool required) {
  if (!t.device_gpu.empty()) return t.device_gpu;
  if (t.device_name.empty()) return "";
  if (const std::optional<std::string> key = SpecKeyForDevice(t.device_name)) return *key;
  if (required) throw InputError(path + ": device.name: " + UnknownDeviceMessage(t.device_name));
  return "";
}

/// "device NVIDIA A100-PG509-200 = a100-sxm4-40g" or "device.gpu h100-sxm".
std::string DescribeDevice(const Trace& t, const std::string& key) {
  if (!t.device_gpu.empty()) return "device.gpu " + t.device_gpu;
  return "device " + t.device_name + " = " + key;
}

}  // namespace

namespace {

/// Fills lw->traced_gpu for lw->traces (read from `paths`) and picks the GPU
/// key: `given` when not empty (its reason `given_reason`), else the GPU the
/// traces were captured on, else h100-sxm. Throws InputError when nothing is
/// given and the traces name different GPUs, or a device no spec knows.
std::string ChooseGpu(LoadedWorkload* lw, const std::vector<std::string>& paths,
                      const std::string& given, const std::string& given_reason) {
  int first = -1;  // the first trace that names its GPU
  for (size_t i = 0; i < lw->traces.size(); ++i) {
    const Trace& t = lw->traces[i];
    lw->traced_gpu.push_back(TracedGpuKey(t, paths[i], given.empty()));
    if (!given.empty() || lw->traced_gpu[i].empty()) continue;
    if (first < 0) {
      first = static_cast<int>(i);
      continue;
    }
    if (lw->traced_gpu[i] != lw->traced_gpu[first]) {
      const Trace& f = lw->traces[first];
      throw InputError("traces captured on different GPUs: " + paths[first] + " (" +
                       DescribeDevice(f, lw->traced_gpu[first]) + ") and " + paths[i] + " (" +
                       DescribeDevice(t, lw->traced_gpu[i]) +
                       "); give --gpu KEY to simulate them on one GPU");
    }
  }
  if (!given.empty()) {
    lw->gpu_reason = given_reason;
    return given;
  }
  if (first >= 0) {
    const Trace& f = lw->traces[first];
    lw->gpu_reason =
        !f.device_gpu.empty() ? "the traces' device.gpu" : "the traces' device " + f.device_name;
    return lw->traced_gpu[first];
  }
  lw->gpu_reason = "the default (the traces name no device)";
  return "h100-sxm";
}

}  // namespace

LoadedWorkload LoadWorkload(const std::string& path, const std::string& gpu_override,
                            const LlmModelFactory* llm, const std::string& command) {
  LoadedWorkload lw;
  lw.workload = ReadWorkload(path);
  if (!lw.workload.llm_tenants.empty() && llm == nullptr) {
    throw InputError(path + ": " + lw.workload.llm_tenants[0].at + ": " + command +
                     " does not run llm tenants (simulate and search do)");
  }
  std::vector<std::string> paths;
  for (const TenantSpec& t : lw.workload.tenants) {
    lw.traces.push_back(ReadTrace(t.trace_path));
    paths.push_back(t.trace_path);
    lw.by_batch.emplace_back();
    for (const auto& [batch, p] : t.traces_by_batch)
      lw.by_batch.back().emplace(batch, ReadTrace(p));
  }
  const std::string given = !gpu_override.empty() ? gpu_override : lw.workload.gpu;
  lw.workload.gpu = ChooseGpu(&lw, paths, given, gpu_override.empty() ? "the workload" : "--gpu");
  lw.gpu = LoadGpuSpec(lw.workload.gpu);
  for (const LlmTenantSpec& t : lw.workload.llm_tenants) {
    LoadedLlmTenant l;
    l.model = (*llm)(t, lw.workload.file, lw.gpu);
    l.requests = LlmRequests(t, lw.workload.file);
    lw.llm.push_back(std::move(l));
  }
  return lw;
}

LoadedWorkload LoadTraces(const std::vector<std::string>& trace_paths, const std::string& gpu) {
  LoadedWorkload lw;
  for (const std::string& p : trace_paths) lw.traces.push_back(ReadTrace(p));
  const std::string key = ChooseGpu(&lw, trace_paths, gpu, "--gpu");
  lw.workload = WorkloadFromTraces(trace_paths, lw.traces, key);
  lw.gpu = LoadGpuSpec(key);
  lw.by_batch.resize(lw.traces.size());
  return lw;
}

void FillLatencyStats(TenantResult* tr) {
  std::vector<TimeNs> sorted = tr->latencies_ns;
  std::sort(sorted.begin(), sorted.end());
  tr->latency = LatencyStats{};
  if (!sorted.empty()) {
    __int128 sum = 0;
    for (TimeNs x : sorted) sum += x;
    tr->latency.mean = static_cast<TimeNs>((sum + static_cast<__int128>(sorted.size() / 2)) /
                                           static_cast<__int128>(sorted.size()));
    tr->latency.p50 = Percentile(sorted, 0.50);
    tr->latency.p99 = Percentile(sorted, 0.99);
    tr->latency.max = sorted.back();
  }
  tr->throughput_rps = tr->finish_ns > 0 ? static_cast<double>(tr->requests) * 1e9 /
                                               static_cast<double>(tr->finish_ns)
                                         : 0.0;
}

std::vector<TenantResult> TenantResults(const Workload& w, const TaskGraph& g,
                                        const std::function<TimeNs(int32_t)>& end_of) {
  std::vector<TenantResult> out;
  for (size_t ti = 0; ti < w.tenants.size(); ++ti) {
    TenantResult tr;
    tr.name = w.tenants[ti].name;
    tr.requests = w.tenants[ti].requests;
    for (size_t r = 0; r < g.end_gate[ti].size(); ++r) {
      // Closed loop: request 0 arrives at its release, later ones when the
      // previous one completes (a group or stage wait counts as latency).
      const TimeNs arrival = !g.closed[ti] ? g.arrival_ns[ti][r]
                             : r == 0      ? g.release_ns[g.start_gate[ti][0]]
                                           : end_of(g.end_gate[ti][r - 1]);
      const TimeNs done = end_of(g.end_gate[ti][r]);
      tr.latencies_ns.push_back(done - arrival);
      tr.finish_ns = std::max(tr.finish_ns, done);
      if (w.tenants[ti].slo_ns > 0 && done - arrival > w.tenants[ti].slo_ns) ++tr.slo_violations;
    }
    FillLatencyStats(&tr);
    out.push_back(std::move(tr));
  }
  return out;
}

SimResult Simulate(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options) {
  if (!lw.workload.llm_tenants.empty()) return SimulateWithLlm(lw, plan, options);
  return SimulateTraces(lw, plan, options);
}

SimResult SimulateTraces(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options,
                         const GraphObserver& observer) {
  COTENANT_CHECK(lw.workload.llm_tenants.empty());
  SimResult result;
  result.model = options.model;
  const bool timed = !options.score_only;
  const auto t_build = std::chrono::steady_clock::now();
  const double c_build = timed ? ThreadCpuSeconds() : 0.0;
  SimWorkspace::Buffers* ws =
      options.workspace != nullptr ? &options.workspace->buffers() : nullptr;
  TaskGraph own_graph;  // (unused with a workspace)
  TaskGraph& built = ws != nullptr ? ws->graph : own_graph;
  GraphScratch* const scratch = ws != nullptr ? &ws->graph_scratch : nullptr;
  // Scoring runs skip the topological sort: only the lower bound reads it,
  // and a cycle shows as a deadlock, checked for below.
  BuildTaskGraph(lw, plan, options.templates, &built, scratch, !options.score_only);
  const TaskGraph& g = built;
  std::unique_ptr<ContentionModel> model = MakeContentionModel(options.model, lw.gpu, g.partitions);
  result.stats.build_seconds = SecondsSince(t_build);
  result.stats.build_cpu_seconds = timed ? ThreadCpuSeconds() - c_build : 0.0;

  const auto t_run = std::chrono::steady_clock::now();
  const double c_run = timed ? ThreadCpuSeconds() : 0.0;
  Engine engine(g, lw.gpu, model.get(), ws != nullptr ? &ws->engine : nullptr);
  if (options.progress) engine.set_progress(options.progress);
  if (options.score_only) {
    try {
      engine.Run();
    } catch (const InputError&) {
      CheckAcyclic(&built, scratch);  // a cycle: the error the build gives it
      throw;
    }
  } else {
    engine.Run();
  }
  result.stats.run_seconds = SecondsSince(t_run);
  result.stats.run_cpu_seconds = timed ? ThreadCpuSeconds() - c_run : 0.0;

  result.stats.tasks = static_cast<int64_t>(g.nodes.size());
  result.stats.kernels = g.kernel_count;
  result.stats.edges = static_cast<int64_t>(boost::num_edges(g.graph));
  result.stats.events = engine.events();
  const ModelStats ms = model->Stats();
  result.stats.model_recomputes = ms.recomputes;

  if (observer) {
    observer(
        g, [&engine](int32_t v) { return engine.start_ns(v); },
        [&engine](int32_t v) { return engine.end_ns(v); });
  }

  // Per-tenant latencies and the makespan.
  result.tenants = TenantResults(lw.workload, g, [&engine](int32_t v) { return engine.end_ns(v); });
  for (const TenantResult& tr : result.tenants)
    result.makespan_ns = std::max(result.makespan_ns, tr.finish_ns);
  for (size_t v = 0; v < g.nodes.size(); ++v)
    result.makespan_ns = std::max(result.makespan_ns, engine.end_ns(static_cast<int32_t>(v)));

  if (result.makespan_ns > 0) {
    const double span = static_cast<double>(result.makespan_ns);
    result.gpu.sm_busy_fraction = static_cast<double>(ms.busy_ns) / span;
    result.gpu.mean_sm_occupancy = ms.sm_ns / (span * lw.gpu.sm_count);
    result.gpu.dram_busy_fraction = ms.dram_ns / span;
  }

  // Lower bound: max(total SM-work / SMs, longest critical path).
  if (!options.score_only) {
    double sm_work = 0.0;
    for (size_t ti = 0; ti < g.templates.size(); ++ti) {
      const TenantTemplate& t = *g.templates[ti];
      sm_work += t.sm_work * static_cast<double>(lw.workload.tenants[ti].requests * t.batch_split);
    }
    std::vector<TimeNs> own_ready;  // (unused with a workspace)
    result.lower_bound_ns =
        std::max(static_cast<TimeNs>(std::ceil(sm_work / lw.gpu.sm_count)),
                 CriticalPath(g, lw.gpu, ws != nullptr ? &ws->ready : &own_ready));
  }

  if (options.record_timeline) {
    AppendTimeline(
        g, [&engine](int32_t v) { return engine.start_ns(v); },
        [&engine](int32_t v) { return engine.end_ns(v); }, &result);
  }
  return result;
}

nlohmann::json ResultToJson(const SimResult& r) {
  nlohmann::json j;
  j["schema"] = "cotenant.result/1";
  j["model"] = r.model;
  j["makespan_ns"] = r.makespan_ns;
  j["lower_bound_ns"] = r.lower_bound_ns;
  nlohmann::json tenants = nlohmann::json::object();
  for (const TenantResult& t : r.tenants) {
    tenants[t.name] = {
        {"requests", t.requests},
        {"finish_ns", t.finish_ns},
        {"latency_ns",
         {{"mean", t.latency.mean},
          {"p50", t.latency.p50},
          {"p99", t.latency.p99},
          {"max", t.latency.max}}},
        {"slo_violations", t.slo_violations},
        {"throughput_rps", t.throughput_rps},
    };
  }
  for (const LlmTenantResult& l : r.llm) tenants[l.name]["llm"] = LlmTenantResultToJson(l);
  j["tenants"] = tenants;
  j["gpu"] = {{"sm_busy_fraction", r.gpu.sm_busy_fraction},
              {"mean_sm_occupancy", r.gpu.mean_sm_occupancy},
              {"dram_busy_fraction", r.gpu.dram_busy_fraction}};
  return j;
}

std::string TimelineToJsonText(const SimResult& r) {
  std::string out;
  out.reserve(r.timeline.size() * 160 + 1024);
  out += "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"cotenant " COTENANT_VERSION
         "\",\"model\":";
  out += nlohmann::json(r.model).dump();
  out += "},\"traceEvents\":[\n";
  // Tracks: per tenant, host threads first, then streams, numbered from 1.
  const size_t processes =
      r.timeline_tenants.empty() ? r.tenants.size() : r.timeline_tenants.size();
  std::vector<std::map<std::pair<bool, int64_t>, int>> tid(processes);
  for (const TimelineEntry& e : r.timeline) tid[e.tenant][{e.gpu, e.track}] = 0;
  char buf[256];
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (size_t ti = 0; ti < processes; ++ti) {
    sep();
    const std::string& tname =
        r.timeline_tenants.empty() ? r.tenants[ti].name : r.timeline_tenants[ti];
    out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(ti + 1) +
           ",\"args\":{\"name\":" + nlohmann::json("tenant " + tname).dump() + "}}";
    int next = 1;
    for (auto& [key, id] : tid[ti]) {
      id = next++;
      sep();
      std::snprintf(buf, sizeof(buf),
                    "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%zu,\"tid\":%d,\"args\":{"
                    "\"name\":\"%s %" PRId64 "\"}}",
                    ti + 1, id, key.first ? "stream" : "host thread", key.second);
      out += buf;
    }
  }
  for (const TimelineEntry& e : r.timeline) {
    sep();
    const std::string name =
        e.name >= 0 ? r.strings[e.name] : std::string(TaskKindName(static_cast<TaskKind>(e.kind)));
    out += "{\"name\":" + nlohmann::json(name).dump();
    std::snprintf(buf, sizeof(buf),
                  ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,"
                  "\"args\":{\"request\":%d,\"sub_batch\":%d,\"task\":%d",
                  TaskKindName(static_cast<TaskKind>(e.kind)), e.tenant + 1,
                  tid[e.tenant][{e.gpu, e.track}], NsToUs(e.start_ns),
                  NsToUs(e.end_ns - e.start_ns), e.request, e.sub_batch, e.task);
    out += buf;
    if (e.op >= 0) out += ",\"op\":" + nlohmann::json(r.strings[e.op]).dump();
    out += "}}";
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cotenant
