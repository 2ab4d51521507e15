#include "sim/trace_stats.h"

#include <algorithm>
#include <map>
#include <utility>

#include "sim/intervals.h"
#include "sim/occupancy.h"

namespace cotenant {
namespace {

using nlohmann::json;

double Ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

const char* const kWaveBucketNames[kWaveBucketCount] = {"<1 wave, 0-25% of slots",
                                                        "<1 wave, 25-50% of slots",
                                                        "<1 wave, 50-75% of slots",
                                                        "<1 wave, 75-100% of slots",
                                                        "1 wave",
                                                        "2-4 waves",
                                                        "5-16 waves",
                                                        ">16 waves",
                                                        "no launch shape",
                                                        "does not fit"};

/// The wave bucket of one kernel with a launch shape that fits on an SM.
WaveBucket BucketOf(int64_t blocks, int64_t slots) {
  if (blocks < slots) {
    const double footprint = static_cast<double>(blocks) / static_cast<double>(slots);
    return static_cast<WaveBucket>(std::min(3, static_cast<int>(footprint * 4.0)));
  }
  const int64_t waves = (blocks + slots - 1) / slots;
  return waves == 1    ? WaveBucket::kOneWave
         : waves <= 4  ? WaveBucket::kWaves2to4
         : waves <= 16 ? WaveBucket::kWaves5to16
                       : WaveBucket::kWavesOver16;
}

}  // namespace

TimeNs RequestSpanNs(const Trace& trace) {
  if (trace.tasks.empty()) return 0;
  TimeNs lo = kNever, hi = 0;
  for (const Task& task : trace.tasks) {
    lo = std::min(lo, task.start_ns);
    hi = std::max(hi, task.end_ns());
  }
  return hi - lo;
}

const char* WaveBucketName(WaveBucket b) { return kWaveBucketNames[static_cast<int>(b)]; }

TraceStats ComputeTraceStats(const Trace& trace, const GpuSpec& spec, int top) {
  TraceStats st;
  st.file = trace.file;
  st.tenant = !trace.tenant.empty() ? trace.tenant : TraceFileStem(trace.file);
  if (trace.meta.is_object() && trace.meta.contains("source") && trace.meta["source"].is_string()) {
    st.source = trace.meta["source"].get<std::string>();
  }
  st.device_name = trace.device_name;
  st.device_gpu = trace.device_gpu;
  st.tasks = static_cast<int64_t>(trace.tasks.size());
  st.occupancy_gpu = spec.key;
  st.sm_count = spec.sm_count;

  std::map<int64_t, StreamStats> streams;
  std::map<int64_t, std::vector<Interval>> thread_intervals;
  std::map<int64_t, ThreadStats> threads;
  std::map<std::string, KernelTally> ops;
  std::map<std::string, KernelTally> limiters;
  std::vector<Interval> gpu_intervals;
  TimeNs gpu_first = kNever, gpu_last = 0;

  for (const Task& t : trace.tasks) {
    ++st.by_kind[static_cast<size_t>(t.kind)];
    if (t.kind == TaskKind::kKernel) ++st.dram_sources[static_cast<size_t>(DramSourceOf(t))];
    if (t.stream != kAbsent && t.kind != TaskKind::kSync) {
      StreamStats& s = streams[t.stream];
      s.id = t.stream;
      if (IsGpuWork(t.kind)) {
        ++s.gpu_tasks;
        s.gpu_time_ns += t.dur_ns;
        s.kernels += t.kind == TaskKind::kKernel;
      } else {
        ++s.markers;
      }
    }
    if (t.thread != kAbsent) {
      ThreadStats& th = threads[t.thread];
      th.id = t.thread;
      ++th.tasks;
      th.launches += t.kind == TaskKind::kLaunch;
      thread_intervals[t.thread].push_back({t.start_ns, t.end_ns()});
    }
    if (IsGpuWork(t.kind)) {
      st.gpu_time_ns += t.dur_ns;
      gpu_intervals.push_back({t.start_ns, t.end_ns()});
      gpu_first = std::min(gpu_first, t.start_ns);
      gpu_last = std::max(gpu_last, t.end_ns());
    }
    if (t.kind != TaskKind::kKernel) continue;
    st.kernel_time_ns += t.dur_ns;
    const std::string& op = trace.Op(t);
    ops[op.empty() ? trace.Name(t) : op].Add(t.dur_ns);
    auto& waves = st.waves;
    if (!t.HasShape()) {
      waves[static_cast<int>(WaveBucket::kNoShape)].Add(t.dur_ns);
      continue;
    }
    const Occupancy occ = ComputeOccupancy(spec, t.ThreadsPerBlock(), t.regs, t.smem);
    limiters[OccupancyLimiterName(occ.limiter)].Add(t.dur_ns);
    if (occ.blocks_per_sm <= 0) {
      waves[static_cast<int>(WaveBucket::kNoFit)].Add(t.dur_ns);
      continue;
    }
    const int64_t slots = int64_t{occ.blocks_per_sm} * spec.sm_count;
    waves[static_cast<int>(BucketOf(t.Blocks(), slots))].Add(t.dur_ns);
  }

  for (auto& [id, s] : streams) {
    s.gpu_time_fraction = Ratio(s.gpu_time_ns, st.gpu_time_ns);
    st.streams.push_back(s);
  }
  for (auto& [id, th] : threads) {
    const std::vector<Interval>& iv = thread_intervals[id];
    TimeNs first = kNever, last = 0;
    for (const auto& [s, e] : iv) {
      first = std::min(first, s);
      last = std::max(last, e);
    }
    th.busy_ns = UnionLengthNs(iv);
    th.span_ns = iv.empty() ? 0 : last - first;
    st.threads.push_back(th);
  }

  st.gpu_first_start_ns = gpu_first == kNever ? 0 : gpu_first;
  st.gpu_last_end_ns = gpu_last;
  st.gpu_span_ns = gpu_first == kNever ? 0 : gpu_last - gpu_first;
  st.gpu_busy_ns = UnionLengthNs(std::move(gpu_intervals));
  st.gpu_busy_fraction = Ratio(st.gpu_busy_ns, st.gpu_span_ns);

  std::vector<std::pair<std::string, KernelTally>> sorted(ops.begin(), ops.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.time_ns > b.second.time_ns;
  });
  st.distinct_operators = static_cast<int64_t>(ops.size());
  for (size_t i = 0; i < sorted.size() && static_cast<int>(i) < top; ++i) {
    st.top_operators.push_back(
        {sorted[i].first, sorted[i].second, Ratio(sorted[i].second.time_ns, st.kernel_time_ns)});
  }
  st.limiters.assign(limiters.begin(), limiters.end());
  return st;
}

json TraceStatsToJson(const TraceStats& st, const std::string& gpu_note) {
  json out;
  out["schema"] = "cotenant.inspect/1";
  out["file"] = st.file;
  out["tenant"] = st.tenant;
  out["source"] = st.source;
  out["device"] = {{"name", st.device_name}, {"gpu", st.device_gpu}};

  json kinds = json::object();
  for (TaskKind k : kTaskKinds) kinds[TaskKindName(k)] = st.by_kind[static_cast<size_t>(k)];
  out["tasks"] = {{"total", st.tasks}, {"by_kind", kinds}};

  json js = json::array();
  for (const StreamStats& s : st.streams) {
    js.push_back({{"id", s.id},
                  {"kernels", s.kernels},
                  {"gpu_tasks", s.gpu_tasks},
                  {"markers", s.markers},
                  {"gpu_time_ns", s.gpu_time_ns},
                  {"gpu_time_fraction", s.gpu_time_fraction}});
  }
  out["streams"] = js;

  json jt = json::array();
  for (const ThreadStats& th : st.threads) {
    jt.push_back({{"id", th.id},
                  {"tasks", th.tasks},
                  {"launches", th.launches},
                  {"busy_ns", th.busy_ns},
                  {"span_ns", th.span_ns}});
  }
  out["threads"] = jt;

  out["gpu"] = {{"kernel_time_ns", st.kernel_time_ns},
                {"gpu_time_ns", st.gpu_time_ns},
                {"first_start_ns", st.gpu_first_start_ns},
                {"last_end_ns", st.gpu_last_end_ns},
                {"span_ns", st.gpu_span_ns},
                {"busy_ns", st.gpu_busy_ns},
                {"busy_fraction", st.gpu_busy_fraction}};

  json jo = json::array();
  for (const OperatorStats& o : st.top_operators) {
    jo.push_back({{"operator", o.name},
                  {"kernels", o.tally.kernels},
                  {"time_ns", o.tally.time_ns},
                  {"kernel_time_fraction", o.kernel_time_fraction}});
  }
  out["operators"] = {{"distinct", st.distinct_operators}, {"top", jo}};

  json jb = json::array();
  for (int b = 0; b < kWaveBucketCount; ++b) {
    jb.push_back({{"bucket", WaveBucketName(static_cast<WaveBucket>(b))},
                  {"kernels", st.waves[b].kernels},
                  {"time_ns", st.waves[b].time_ns},
                  {"kernel_time_fraction", Ratio(st.waves[b].time_ns, st.kernel_time_ns)}});
  }
  json jl = json::array();
  for (const auto& [name, tally] : st.limiters) {
    jl.push_back({{"limiter", name}, {"kernels", tally.kernels}, {"time_ns", tally.time_ns}});
  }
  out["dram"] = {{"counter", st.dram_sources[static_cast<size_t>(DramSource::kCounter)]},
                 {"shape", st.dram_sources[static_cast<size_t>(DramSource::kShape)]},
                 {"name", st.dram_sources[static_cast<size_t>(DramSource::kName)]},
                 {"none", st.dram_sources[static_cast<size_t>(DramSource::kNone)]}};
  out["occupancy"] = {{"gpu", st.occupancy_gpu},
                      {"sm_count", st.sm_count},
                      {"note", gpu_note},
                      {"waves", jb},
                      {"limiters", jl}};
  return out;
}

}  // namespace cotenant
