// cotenant import nsys: an Nsight Systems SQLite export to one trace per
// profiled process (profiler/nsys.h does the reading and building).
#include "tools/cotenant/cmd_import_nsys.h"

#include <cstdio>
#include <string>
#include <vector>

#include "profiler/nsys.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

void PrintTrace(const std::string& output, const Trace& trace, const profiler::BuildReport& b,
                const profiler::MemoryReport& memory, bool several, int64_t pid) {
  if (several)
    std::printf("  pid %lld -> %s (tenant %s)\n", static_cast<long long>(pid), output.c_str(),
                trace.tenant.c_str());
  PrintBuildCounts(b);
  PrintBuildFigures(b, memory);
  for (const std::string& p : b.problems) std::printf("  note: %s\n", p.c_str());
}

}  // namespace

std::string NsysOutputForPid(const std::string& output, int64_t pid) {
  const size_t slash = output.find_last_of('/');
  const size_t name_at = slash == std::string::npos ? 0 : slash + 1;
  size_t ext = std::string::npos;
  for (const char* e : {".json.gz", ".json"}) {
    const std::string suffix = e;
    if (output.size() > name_at + suffix.size() &&
        output.compare(output.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ext = output.size() - suffix.size();
      break;
    }
  }
  if (ext == std::string::npos) {
    const size_t dot = output.find_last_of('.');
    ext = dot == std::string::npos || dot <= name_at ? output.size() : dot;
  }
  return output.substr(0, ext) + ".pid" + std::to_string(pid) + output.substr(ext);
}

void AddImportNsysFlags(CLI::App* sub, ImportNsysFlags* flags) {
  sub->add_option("--pid", flags->pid, "nsys: keep one process (default: one trace per process)");
}

void RefuseImportNsysFlags(const CLI::App* sub, const std::string& format) {
  for (const char* flag : {"--pid"}) {
    if (sub->count(flag) > 0) {
      throw InputError(std::string(flag) + ": only for `import nsys`, not `import " + format + "`");
    }
  }
}

int RunImportNsys(const CLI::App* sub, const ImportCommonFlags& common,
                  const ImportNsysFlags& flags) {
  if (sub->count("--step") > 0) {
    throw InputError(
        "--step: not for `import nsys` (PyTorch ProfilerStep ranges are Kineto's); "
        "use --window range:NAME");
  }
  profiler::NsysImportOptions options;
  options.tenant = common.tenant;
  options.window = common.window;
  if (!common.gpu.empty()) options.gpu = LoadGpuSpec(common.gpu).key;
  if (!common.window.empty())
    profiler::ParseWindow(common.window, "--window");  // fail before reading
  if (sub->count("--device") > 0) {
    if (common.device < 0) {
      throw InputError("--device: expected a non-negative device id, found " +
                       std::to_string(common.device));
    }
    options.select.device = common.device;
  }
  if (sub->count("--pid") > 0) {
    if (flags.pid < 0) {
      throw InputError("--pid: expected a non-negative process id, found " +
                       std::to_string(flags.pid));
    }
    options.select.pid = flags.pid;
  }

  profiler::NsysReport report;
  const std::vector<profiler::NsysTrace> traces =
      profiler::ImportNsys(common.input, options, &report);
  const bool several = traces.size() > 1;
  std::vector<std::string> outputs;
  for (const profiler::NsysTrace& t : traces) {
    outputs.push_back(several ? NsysOutputForPid(common.output, t.pid) : common.output);
    WriteTrace(t.trace, outputs.back());
  }

  const Trace& first = traces.front().trace;
  std::printf(
      "import nsys: %s -> %s\n", common.input.c_str(),
      several ? (std::to_string(traces.size()) + " traces").c_str() : common.output.c_str());
  ImportLine("selection", common.window.empty() ? "all" : common.window);
  std::string device = "cuda " + std::to_string(report.device);
  if (!first.device_name.empty()) device += " " + first.device_name;
  if (!first.device_gpu.empty()) device += " (gpu spec " + first.device_gpu + ")";
  ImportLine("device", device);
  std::string pids;
  for (int64_t p : report.pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  ImportLine(report.pids.size() > 1 ? "processes" : "process", pids);
  ImportLine("rows read", FormatCount(report.kernels) + " kernels, " + FormatCount(report.memcpys) +
                              " memcpys, " + FormatCount(report.memsets) + " memsets, " +
                              FormatCount(report.runtime_calls) + " runtime and " +
                              FormatCount(report.driver_calls) + " driver calls, " +
                              FormatCount(report.syncs) + " syncs, " +
                              FormatCount(report.event_records) + " event records, " +
                              FormatCount(report.nvtx_ranges) + " NVTX ranges");
  if (report.unused_rows > 0) {
    ImportLine("unused rows",
               FormatCount(report.unused_rows) + " (NVTX marks, unknown sync types)");
  }
  if (!report.missing_optional.empty()) {
    std::string cols;
    for (const std::string& c : report.missing_optional) cols += (cols.empty() ? "" : ", ") + c;
    ImportLine("missing columns", cols);
  }
  if (report.other_device > 0)
    ImportLine("other devices", FormatCount(report.other_device) + " rows");
  if (report.other_process > 0) {
    ImportLine("other processes", FormatCount(report.other_process) + " rows");
  }
  for (const std::string& p : report.problems) std::printf("  note: %s\n", p.c_str());
  for (size_t i = 0; i < traces.size(); ++i) {
    PrintTrace(outputs[i], traces[i].trace, traces[i].build, traces[i].memory, several,
               traces[i].pid);
  }
  return 0;
}

}  // namespace cotenant::cli
