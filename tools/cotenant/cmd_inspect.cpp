// cotenant inspect: print the statistics of one trace (sim/trace_stats.h) as
// tables, or as JSON (cotenant.inspect/1).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "profiler/kernel_memory.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "sim/trace_stats.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

using nlohmann::json;

constexpr const char* kDefaultGpu = "h100-sxm";

TimeNs Ns(const json& j) { return j.get<TimeNs>(); }

void PrintInspect(const json& r, std::FILE* out) {
  const std::string tenant = r["tenant"].get<std::string>();
  std::fprintf(out, "tenant   %s\n", tenant.empty() ? "(unnamed)" : tenant.c_str());
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
  for (TaskKind k : kTaskKinds) {
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
  const json& dram = r["dram"];
  std::fprintf(
      out, "DRAM     %s\n",
      profiler::MemoryCoverageText(dram["counter"].get<int64_t>(), dram["shape"].get<int64_t>(),
                                   dram["name"].get<int64_t>(), dram["none"].get<int64_t>())
          .c_str());

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
    } else if (!trace.device_name.empty()) {
      const std::optional<std::string> key = SpecKeyForDevice(trace.device_name);
      if (!key) {
        note = "the trace's device \"" + trace.device_name +
               "\" matches no GPU spec's device_names; using " + kDefaultGpu +
               " (choose one with --gpu)";
      }
      spec = LoadGpuSpec(key ? *key : std::string(kDefaultGpu));
    } else {
      spec = LoadGpuSpec(kDefaultGpu);
    }
    const json r = TraceStatsToJson(ComputeTraceStats(trace, spec, o->top), note);
    if (o->json) {
      std::printf("%s\n", r.dump(2).c_str());
    } else {
      PrintInspect(r, stdout);
    }
    return 0;
  };
}

}  // namespace cotenant::cli
