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
#include "tools/cotenant/cmd_import_nsys.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

const std::vector<std::string> kFormats = {"kineto", "nsys"};

void PrintSummary(const std::string& input, const std::string& output, const std::string& selection,
                  const Trace& trace, const profiler::KinetoReport& k,
                  const profiler::BuildReport& b) {
  std::printf("import kineto: %s (%s layout) -> %s\n", input.c_str(), k.layout.c_str(),
              output.c_str());
  ImportLine("selection", selection);
  if (!trace.device_name.empty() || !trace.device_gpu.empty()) {
    std::string device = trace.device_name;
    if (!trace.device_gpu.empty()) {
      device += (device.empty() ? "" : " ") + std::string("(gpu spec ") + trace.device_gpu + ")";
    }
    ImportLine("device", device);
  }
  PrintBuildCounts(b);
  if (k.polls > 0) {
    ImportLine("polls", FormatCount(k.polls) + " (" + FormatCount(k.polls_folded) +
                            " folded into " + FormatCount(k.poll_waits) + " waits)");
  }
  PrintBuildFigures(b, k.memory);
  std::string unknown;
  int64_t unknown_total = 0;
  for (const auto& [cat, n] : k.unknown_categories) {
    unknown += (unknown.empty() ? "" : ", ") + cat + " " + FormatCount(n);
    unknown_total += n;
  }
  ImportLine("unknown categories",
             unknown.empty() ? "none" : FormatCount(unknown_total) + " events (" + unknown + ")");
  for (const std::string& p : b.problems) std::printf("  note: %s\n", p.c_str());
}

}  // namespace

RunFn AddImport(CLI::App* sub) {
  struct Options {
    std::string format, input, output, tenant, window, gpu;
    int64_t step = -1;
    bool partial = false;
    int64_t device = -1;
  };
  auto o = std::make_shared<Options>();
  auto nsys = std::make_shared<ImportNsysFlags>();
  sub->add_option("format", o->format,
                  "Input format: kineto (PyTorch profiler Chrome trace) or nsys (Nsight Systems "
                  "SQLite export)")
      ->required();
  sub->add_option("input", o->input, "Trace to convert (kineto: .json or .json.gz; nsys: .sqlite)")
      ->required();
  sub->add_option("-o,--output", o->output, "Trace file to write (.json or .json.gz)")->required();
  sub->add_option("--tenant", o->tenant,
                  "Tenant name stored in the trace (default: the input file's stem)");
  sub->add_option("--step", o->step, "Keep one iteration: the work launched in ProfilerStep#N");
  sub->add_option("--window", o->window,
                  "Keep part of the run: all, range:NAME[:N] (N-th range NAME), or "
                  "time:FROM_NS:TO_NS (from the first activity)");
  sub->add_option("--gpu", o->gpu, "GPU spec key of the device the trace was taken on");
  sub->add_option("--device", o->device,
                  "Keep the GPU work of this device id (needed when the trace has several)");
  sub->add_flag("--partial", o->partial,
                "kineto: import the complete events of a trace cut short (default: refuse it)");
  AddImportNsysFlags(sub, nsys.get());
  sub->footer(
      "Reads the current Kineto layout (cat kernel, cuda_runtime, cuda_driver, gpu_memcpy,\n"
      "gpu_memset, cuda_sync, cuda_event, cpu_op, user_annotation, gpu_user_annotation, ac2g\n"
      "flows) and the legacy one (Kernel, Runtime, Memcpy, Memset, Operator). Kernels are\n"
      "labelled with their cpu_op through External id, else a host range, else a\n"
      "gpu_user_annotation. Runs of cudaEventQuery/cudaStreamQuery polls become one wait each.\n"
      "Other categories are counted and reported, not imported. One trace per rank of a job.\n"
      "Examples:\n"
      "  cotenant import kineto resnet50.pt.trace.json.gz --step 3 -o resnet50.json\n"
      "  cotenant import kineto bert.json --window range:forward --tenant bert -o bert.json\n"
      "  cotenant import nsys run.sqlite --device 0 -o run.json  (one trace per process)\n");
  return [o, nsys, sub]() {
    if (IndexOf(nlohmann::json(o->format), kFormats) < 0) {
      throw InputError("import FORMAT: " + ExpectedOneOf(nlohmann::json(o->format), kFormats));
    }
    if (o->format == "nsys") {
      if (o->partial) throw InputError("--partial: only for `import kineto`, not `import nsys`");
      return RunImportNsys(sub, {o->input, o->output, o->tenant, o->window, o->gpu, o->device},
                           *nsys);
    }
    RefuseImportNsysFlags(sub, o->format);
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
    options.partial = o->partial;
    options.device = o->device;
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
