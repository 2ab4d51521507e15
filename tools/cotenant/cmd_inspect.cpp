// cotenant inspect: summarise one trace: task counts, streams, host threads,
// GPU time and busy fraction, the busiest operators, and an occupancy
// histogram of its kernels on a GPU spec.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/occupancy.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

using nlohmann::json;

constexpr const char* kDefaultGpu = "h100-sxm";

constexpr TaskKind kKinds[] = {TaskKind::kLaunch,     TaskKind::kKernel, TaskKind::kMemcpy,
                               TaskKind::kMemset,     TaskKind::kCpu,    TaskKind::kEventRecord,
                               TaskKind::kStreamWait, TaskKind::kSync};

/// Total length of the union of [start, end) intervals.
TimeNs UnionLength(std::vector<std::pair<TimeNs, TimeNs>> iv) {
  std::sort(iv.begin(), iv.end());
  TimeNs total = 0, cur_start = 0, cur_end = 0;
  bool open = false;
  for (const auto& [s, e] : iv) {
    if (!open || s > cur_end) {
      if (open) total += cur_end - cur_start;
      cur_start = s;
      cur_end = e;
      open = true;
    } else {
      cur_end = std::max(cur_end, e);
    }
  }
  if (open) total += cur_end - cur_start;
  return total;
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

/// Occupancy buckets, in display order.
enum Bucket {
  kFoot0,  // < 1 wave, footprint [0, 25%) of the GPU's block slots
  kFoot25,
  kFoot50,
  kFoot75,
  kOneWave,  // exactly one full wave
  kWaves2to4,
  kWaves5to16,
  kWavesOver16,
  kNoShape,  // no launch shape: taken to fill the GPU
  kNoFit,    // the block does not fit on an SM of this GPU
  kBucketCount
};

const char* const kBucketNames[kBucketCount] = {"<1 wave, 0-25% of slots",
                                                "<1 wave, 25-50% of slots",
                                                "<1 wave, 50-75% of slots",
                                                "<1 wave, 75-100% of slots",
                                                "1 wave",
                                                "2-4 waves",
                                                "5-16 waves",
                                                ">16 waves",
                                                "no launch shape",
                                                "does not fit"};

struct Tally {
  int64_t count = 0;
  TimeNs time_ns = 0;
  void Add(TimeNs t) {
    ++count;
    time_ns += t;
  }
};

struct StreamStats {
  int64_t kernels = 0, gpu_tasks = 0, markers = 0;
  TimeNs gpu_time_ns = 0;
};

struct ThreadStats {
  int64_t tasks = 0, launches = 0;
  TimeNs busy_ns = 0;
  std::vector<std::pair<TimeNs, TimeNs>> intervals;
};

/// Everything inspect reports, computed once and printed as text or JSON.
json Inspect(const Trace& trace, const GpuSpec& spec, const std::string& gpu_note, int top) {
  json out;
  out["schema"] = "cotenant.inspect/1";
  out["file"] = trace.file;
  out["tenant"] = trace.tenant;
  std::string source;
  if (trace.meta.is_object() && trace.meta.contains("source") && trace.meta["source"].is_string()) {
    source = trace.meta["source"].get<std::string>();
  }
  out["source"] = source;
  out["device"] = {{"name", trace.device_name}, {"gpu", trace.device_gpu}};

  std::map<TaskKind, int64_t> by_kind;
  std::map<int64_t, StreamStats> streams;
  std::map<int64_t, ThreadStats> threads;
  std::map<std::string, Tally> ops;
  std::vector<std::pair<TimeNs, TimeNs>> gpu_intervals;
  TimeNs kernel_time = 0, gpu_time = 0;
  TimeNs gpu_first = kNever, gpu_last = 0;
  Tally buckets[kBucketCount];
  std::map<std::string, Tally> limiters;

  for (const Task& t : trace.tasks) {
    ++by_kind[t.kind];
    if (t.stream != kAbsent && t.kind != TaskKind::kSync) {
      StreamStats& s = streams[t.stream];
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
      ++th.tasks;
      th.launches += t.kind == TaskKind::kLaunch;
      th.intervals.push_back({t.start_ns, t.end_ns()});
    }
    if (IsGpuWork(t.kind)) {
      gpu_time += t.dur_ns;
      gpu_intervals.push_back({t.start_ns, t.end_ns()});
      gpu_first = std::min(gpu_first, t.start_ns);
      gpu_last = std::max(gpu_last, t.end_ns());
    }
    if (t.kind != TaskKind::kKernel) continue;
    kernel_time += t.dur_ns;
    const std::string& op = trace.Op(t);
    ops[op.empty() ? trace.Name(t) : op].Add(t.dur_ns);
    if (!t.HasShape()) {
      buckets[kNoShape].Add(t.dur_ns);
      continue;
    }
    const Occupancy occ = ComputeOccupancy(spec, t.ThreadsPerBlock(), t.regs, t.smem);
    limiters[OccupancyLimiterName(occ.limiter)].Add(t.dur_ns);
    if (occ.blocks_per_sm <= 0) {
      buckets[kNoFit].Add(t.dur_ns);
      continue;
    }
    const int64_t slots = int64_t{occ.blocks_per_sm} * spec.sm_count;
    const int64_t blocks = t.Blocks();
    if (blocks < slots) {
      const double footprint = static_cast<double>(blocks) / static_cast<double>(slots);
      buckets[kFoot0 + std::min(3, static_cast<int>(footprint * 4.0))].Add(t.dur_ns);
    } else {
      const int64_t waves = (blocks + slots - 1) / slots;
      const Bucket b = waves == 1    ? kOneWave
                       : waves <= 4  ? kWaves2to4
                       : waves <= 16 ? kWaves5to16
                                     : kWavesOver16;
      buckets[b].Add(t.dur_ns);
    }
  }

  json kinds = json::object();
  for (TaskKind k : kKinds) kinds[TaskKindName(k)] = by_kind[k];
  out["tasks"] = {{"total", trace.tasks.size()}, {"by_kind", kinds}};

  json js = json::array();
  for (const auto& [id, s] : streams) {
    js.push_back({{"id", id},
                  {"kernels", s.kernels},
                  {"gpu_tasks", s.gpu_tasks},
                  {"markers", s.markers},
                  {"gpu_time_ns", s.gpu_time_ns},
                  {"gpu_time_fraction", Ratio(s.gpu_time_ns, gpu_time)}});
  }
  out["streams"] = js;

  json jt = json::array();
  for (auto& [id, th] : threads) {
    TimeNs first = kNever, last = 0;
    for (const auto& [s, e] : th.intervals) {
      first = std::min(first, s);
      last = std::max(last, e);
    }
    jt.push_back({{"id", id},
                  {"tasks", th.tasks},
                  {"launches", th.launches},
                  {"busy_ns", UnionLength(th.intervals)},
                  {"span_ns", th.intervals.empty() ? 0 : last - first}});
  }
  out["threads"] = jt;

  const TimeNs span = gpu_first == kNever ? 0 : gpu_last - gpu_first;
  const TimeNs busy = UnionLength(gpu_intervals);
  out["gpu"] = {{"kernel_time_ns", kernel_time},
                {"gpu_time_ns", gpu_time},
                {"first_start_ns", gpu_first == kNever ? 0 : gpu_first},
                {"last_end_ns", gpu_last},
                {"span_ns", span},
                {"busy_ns", busy},
                {"busy_fraction", Ratio(busy, span)}};

  std::vector<std::pair<std::string, Tally>> sorted(ops.begin(), ops.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.time_ns > b.second.time_ns;
  });
  json jo = json::array();
  for (size_t i = 0; i < sorted.size() && static_cast<int>(i) < top; ++i) {
    jo.push_back({{"operator", sorted[i].first},
                  {"kernels", sorted[i].second.count},
                  {"time_ns", sorted[i].second.time_ns},
                  {"kernel_time_fraction", Ratio(sorted[i].second.time_ns, kernel_time)}});
  }
  out["operators"] = {{"distinct", ops.size()}, {"top", jo}};

  json jb = json::array();
  for (int b = 0; b < kBucketCount; ++b) {
    jb.push_back({{"bucket", kBucketNames[b]},
                  {"kernels", buckets[b].count},
                  {"time_ns", buckets[b].time_ns},
                  {"kernel_time_fraction", Ratio(buckets[b].time_ns, kernel_time)}});
  }
  json jl = json::array();
  for (const auto& [name, tally] : limiters) {
    jl.push_back({{"limiter", name}, {"kernels", tally.count}, {"time_ns", tally.time_ns}});
  }
  out["occupancy"] = {{"gpu", spec.key},
                      {"sm_count", spec.sm_count},
                      {"note", gpu_note},
                      {"waves", jb},
                      {"limiters", jl}};
  return out;
}

TimeNs Ns(const json& j) { return j.get<TimeNs>(); }

void PrintInspect(const json& r, std::FILE* out) {
  std::fprintf(out, "tenant   %s\n", r["tenant"].get<std::string>().c_str());
  std::string source = r["file"].get<std::string>();
  if (!r["source"].get<std::string>().empty())
    source += " (" + r["source"].get<std::string>() + ")";
  std::fprintf(out, "source   %s\n", source.c_str());
  const json& dev = r["device"];
  std::string device = dev["name"].get<std::string>();
  if (!dev["gpu"].get<std::string>().empty()) {
    device += (device.empty() ? "" : " ") + std::string("[") + dev["gpu"].get<std::string>() + "]";
  }
  if (!device.empty()) std::fprintf(out, "device   %s\n", device.c_str());
  std::string kinds;
  for (TaskKind k : kKinds) {
    const int64_t n = r["tasks"]["by_kind"][TaskKindName(k)].get<int64_t>();
    if (n == 0) continue;
    kinds += (kinds.empty() ? "" : ", ") + FormatCount(n) + " " + TaskKindName(k);
  }
  std::fprintf(out, "tasks    %s (%s)\n", FormatCount(r["tasks"]["total"].get<int64_t>()).c_str(),
               kinds.empty() ? "none" : kinds.c_str());
  const json& g = r["gpu"];
  std::fprintf(out,
               "GPU      %s in kernels, %s of GPU work; span %s (first GPU start -> last GPU "
               "end), busy %s of it\n",
               FormatNs(Ns(g["kernel_time_ns"])).c_str(), FormatNs(Ns(g["gpu_time_ns"])).c_str(),
               FormatNs(Ns(g["span_ns"])).c_str(),
               FormatPercent(g["busy_fraction"].get<double>()).c_str());

  std::fprintf(out, "\nStreams\n");
  Table ts({{"stream", Align::kRight},
            {"kernels", Align::kRight},
            {"GPU tasks", Align::kRight},
            {"markers", Align::kRight},
            {"GPU time", Align::kRight},
            {"share", Align::kRight}});
  for (const json& s : r["streams"]) {
    ts.AddRow({std::to_string(s["id"].get<int64_t>()), FormatCount(s["kernels"].get<int64_t>()),
               FormatCount(s["gpu_tasks"].get<int64_t>()), FormatCount(s["markers"].get<int64_t>()),
               FormatNs(Ns(s["gpu_time_ns"])),
               FormatPercent(s["gpu_time_fraction"].get<double>())});
  }
  ts.Print(out);

  if (!r["threads"].empty()) {
    std::fprintf(out, "\nHost threads\n");
    Table tt({{"thread", Align::kRight},
              {"tasks", Align::kRight},
              {"launches", Align::kRight},
              {"busy", Align::kRight},
              {"span", Align::kRight}});
    for (const json& t : r["threads"]) {
      tt.AddRow({std::to_string(t["id"].get<int64_t>()), FormatCount(t["tasks"].get<int64_t>()),
                 FormatCount(t["launches"].get<int64_t>()), FormatNs(Ns(t["busy_ns"])),
                 FormatNs(Ns(t["span_ns"]))});
    }
    tt.Print(out);
  }

  const json& ops = r["operators"];
  std::fprintf(out, "\nBusiest operators (%zu of %s, by kernel time; op label, else kernel name)\n",
               ops["top"].size(), FormatCount(ops["distinct"].get<int64_t>()).c_str());
  Table to({{"operator"},
            {"kernels", Align::kRight},
            {"time", Align::kRight},
            {"share", Align::kRight}});
  for (const json& o : ops["top"]) {
    std::string name = o["operator"].get<std::string>();
    if (DisplayWidth(name) > 60) name = name.substr(0, 57) + "...";
    to.AddRow({name.empty() ? "(unnamed)" : name, FormatCount(o["kernels"].get<int64_t>()),
               FormatNs(Ns(o["time_ns"])), FormatPercent(o["kernel_time_fraction"].get<double>())});
  }
  to.Print(out);

  const json& occ = r["occupancy"];
  std::fprintf(out, "\nOccupancy on %s (%d SMs): waves = ceil(blocks / (blocks per SM x SMs))\n",
               occ["gpu"].get<std::string>().c_str(), occ["sm_count"].get<int>());
  if (!occ["note"].get<std::string>().empty()) {
    std::fprintf(out, "note: %s\n", occ["note"].get<std::string>().c_str());
  }
  Table tw(
      {{"waves"}, {"kernels", Align::kRight}, {"time", Align::kRight}, {"share", Align::kRight}});
  for (const json& b : occ["waves"]) {
    tw.AddRow({b["bucket"].get<std::string>(), FormatCount(b["kernels"].get<int64_t>()),
               FormatNs(Ns(b["time_ns"])), FormatPercent(b["kernel_time_fraction"].get<double>())});
  }
  tw.Print(out);
  if (!occ["limiters"].empty()) {
    std::fprintf(out, "\nOccupancy limiters (kernels with a launch shape)\n");
    Table tl({{"limiter"}, {"kernels", Align::kRight}, {"time", Align::kRight}});
    for (const json& l : occ["limiters"]) {
      tl.AddRow({l["limiter"].get<std::string>(), FormatCount(l["kernels"].get<int64_t>()),
                 FormatNs(Ns(l["time_ns"]))});
    }
    tl.Print(out);
  }
}

}  // namespace

RunFn AddInspect(CLI::App* sub) {
  struct Options {
    std::string trace, gpu;
    int top = 10;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("trace", o->trace, "Trace file (cotenant.trace/1, .json or .json.gz)")
      ->required();
  sub->add_option("-g,--gpu", o->gpu,
                  "GPU spec key or file for the occupancy histogram; default: the trace's "
                  "device.gpu, else h100-sxm");
  sub->add_option("-n,--top", o->top, "How many of the busiest operators to list (default 10)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--json", o->json, "Print the summary as JSON (cotenant.inspect/1) to stdout");
  sub->footer(
      "Examples:\n"
      "  cotenant inspect traces/synthetic/resnet50_b8.json --top 5\n"
      "  cotenant inspect measured.json --gpu a100-sxm4-80g --json");
  return [o]() {
    const Trace trace = ReadTrace(o->trace);
    std::string note;
    GpuSpec spec;
    if (!o->gpu.empty()) {
      spec = LoadGpuSpec(o->gpu);
    } else if (!trace.device_gpu.empty()) {
      try {
        spec = LoadGpuSpec(trace.device_gpu);
      } catch (const InputError&) {
        note = "the trace's device.gpu \"" + trace.device_gpu +
               "\" is not a known GPU spec; using " + kDefaultGpu + " (choose one with --gpu)";
        spec = LoadGpuSpec(kDefaultGpu);
      }
    } else {
      spec = LoadGpuSpec(kDefaultGpu);
    }
    const json r = Inspect(trace, spec, note, o->top);
    if (o->json) {
      std::printf("%s\n", r.dump(2).c_str());
    } else {
      PrintInspect(r, stdout);
    }
    return 0;
  };
}

}  // namespace cotenant::cli
