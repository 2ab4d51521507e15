// cotenant import: convert a trace written by another profiler into a
// `cotenant.trace/1`. One format so far: PyTorch profiler (Kineto) Chrome
// traces, current and legacy layouts.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "profiler/kineto.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

const std::vector<std::string> kFormats = {"kineto"};

void Line(const char* what, const std::string& value) {
  std::printf("  %-19s %s\n", what, value.c_str());
}

void PrintSummary(const std::string& input, const std::string& output, const std::string& selection,
                  const Trace& trace, const profiler::KinetoReport& k,
                  const profiler::BuildReport& b) {
  std::printf("import kineto: %s (%s layout) -> %s\n", input.c_str(), k.layout.c_str(),
              output.c_str());
  Line("selection", selection);
  if (!trace.device_name.empty() || !trace.device_gpu.empty()) {
    std::string device = trace.device_name;
    if (!trace.device_gpu.empty()) {
      device += (device.empty() ? "" : " ") + std::string("(gpu spec ") + trace.device_gpu + ")";
    }
    Line("device", device);
  }
  Line("kernels", FormatCount(b.kernels));
  Line("memcpys", FormatCount(b.memcpys));
  Line("memsets", FormatCount(b.memsets));
  Line("launches", FormatCount(b.launches));
  Line("syncs", FormatCount(b.syncs));
  Line("streams", FormatCount(b.streams));
  Line("host threads", FormatCount(b.threads));
  Line("GPU busy", FormatNs(b.gpu_busy_ns) + " of " + FormatNs(b.span_ns) + " (" +
                       FormatPercent(b.span_ns > 0 ? static_cast<double>(b.gpu_busy_ns) /
                                                         static_cast<double>(b.span_ns)
                                                   : 0.0) +
                       ")");
  Line("unlabelled kernels", FormatCount(b.unlabelled_kernels));
  const profiler::MemoryReport& m = k.memory;
  std::string dram =
      profiler::MemoryCoverageText(m.counter, m.shape, m.name, m.none) + " on " + m.gpu;
  if (m.clamped > 0) dram += "; " + FormatCount(m.clamped) + " cut to peak bandwidth";
  Line("DRAM figures", dram);
  Line("outside selection", FormatCount(b.outside_window));
  if (b.orphan_gpu > 0) Line("GPU without launch", FormatCount(b.orphan_gpu));
  std::string unknown;
  int64_t unknown_total = 0;
  for (const auto& [cat, n] : k.unknown_categories) {
    unknown += (unknown.empty() ? "" : ", ") + cat + " " + FormatCount(n);
    unknown_total += n;
  }
  Line("unknown categories",
       unknown.empty() ? "none" : FormatCount(unknown_total) + " events (" + unknown + ")");
  for (const std::string& p : b.problems) std::printf("  note: %s\n", p.c_str());
}

}  // namespace

RunFn AddImport(CLI::App* sub) {
  struct Options {
    std::string format, input, output, tenant, window, gpu;
    int64_t step = -1;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("format", o->format, "Input format: kineto (PyTorch profiler Chrome trace)")
      ->required();
  sub->add_option("input", o->input, "Trace to convert (.json or .json.gz)")->required();
  sub->add_option("-o,--output", o->output, "Trace file to write (.json or .json.gz)")->required();
  sub->add_option("--tenant", o->tenant,
                  "Tenant name stored in the trace (default: the input file's stem)");
  sub->add_option("--step", o->step, "Keep one iteration: the work launched in ProfilerStep#N");
  sub->add_option("--window", o->window,
                  "Keep part of the run: all, range:NAME[:N] (N-th range NAME), or "
                  "time:FROM_NS:TO_NS (from the first activity)");
  sub->add_option("--gpu", o->gpu, "GPU spec key of the device the trace was taken on");
  sub->footer(
      "Reads the current Kineto layout (cat kernel, cuda_runtime, cuda_driver, gpu_memcpy,\n"
      "gpu_memset, cuda_sync, cuda_event, cpu_op, user_annotation, ac2g flows) and the legacy one\n"
      "(Kernel, Runtime, Memcpy, Memset, Operator). Kernels are labelled with their cpu_op "
      "through\n"
      "External id. Other categories are counted and reported, not imported.\n"
      "Examples:\n"
      "  cotenant import kineto resnet50.pt.trace.json.gz --step 3 -o resnet50.json\n"
      "  cotenant import kineto bert.json --window range:forward --tenant bert -o bert.json\n");
  return [o, sub]() {
    if (IndexOf(nlohmann::json(o->format), kFormats) < 0) {
      throw InputError("import FORMAT: " + ExpectedOneOf(nlohmann::json(o->format), kFormats));
    }
    const bool step_given = sub->count("--step") > 0;
    if (step_given && o->step < 0) {
      throw InputError("--step: expected a non-negative step number, found " +
                       std::to_string(o->step));
    }
    if (step_given && !o->window.empty()) {
      throw InputError("--step, --window: give one of them, not both");
    }
    profiler::KinetoImportOptions options;
    options.tenant = o->tenant;
    options.step = step_given ? o->step : -1;
    options.window = o->window;
    if (!o->gpu.empty()) options.gpu = LoadGpuSpec(o->gpu).key;
    if (!o->window.empty()) profiler::ParseWindow(o->window, "--window");  // fail before reading

    profiler::KinetoReport k;
    profiler::BuildReport b;
    const Trace trace = profiler::ImportKineto(o->input, options, &k, &b);
    WriteTrace(trace, o->output);
    const std::string selection = step_given ? "ProfilerStep#" + std::to_string(o->step)
                                             : (o->window.empty() ? "all" : o->window);
    PrintSummary(o->input, o->output, selection, trace, k, b);
    return 0;
  };
}

}  // namespace cotenant::cli
