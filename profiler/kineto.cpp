// The Kineto (PyTorch profiler) Chrome-trace importer: the document is
// streamed through the project's JSON reader (sim/json_stream.h) into an
// EventReader (profiler/kineto_events.h) that turns one event at a time into
// capture records; once all are read, Resolve (profiler/kineto_resolve.h)
// joins them. Categories: profiler/kineto_categories.h; field values:
// profiler/kineto_values.h; steps: profiler/kineto_steps.h.
#include "profiler/kineto.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "profiler/kernel_memory.h"
#include "profiler/kineto_events.h"
#include "profiler/kineto_resolve.h"
#include "profiler/kineto_values.h"
#include "sim/byte_source.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_stream.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

/// Reads a Kineto trace from `source` (`file` names it in messages).
Capture ParseKinetoSource(ByteSource& source, const std::string& file, KinetoReport* report) {
  KinetoReport local;
  KinetoReport& r = report != nullptr ? *report : local;
  r = KinetoReport{};
  Capture capture;
  capture.source = "kineto";
  {
    kineto::Pending pending;
    kineto::EventReader events(file, capture, r, pending);
    JsonReader reader(source, file);
    reader.Read(events);
    if (!pending.saw_events) {
      FailAt(file, "traceEvents", "missing required field (is this a Chrome trace?)");
    }
    if (!pending.base_time.is_null()) {
      const std::optional<int64_t> base = JsonToInt(pending.base_time);
      if (!base || *base < 0) {
        FailAt(file, "baseTimeNanoseconds",
               "expected a non-negative integer, found " + kineto::Found(pending.base_time));
      }
      r.base_time_ns = *base;
    }
    kineto::Resolve(pending, capture, r);
  }
  return capture;
}

}  // namespace

std::optional<TimeNs> UsTextToNs(const std::string& text) {
  TimeNs ns = 0;
  if (kineto::ParseUs(text, &ns) != kineto::UsParse::kOk) return std::nullopt;
  return ns;
}

Capture ParseKinetoTrace(const std::string& text, const std::string& file, KinetoReport* report) {
  TextSource source(text);
  return ParseKinetoSource(source, file, report);
}

Capture ReadKinetoTrace(const std::string& path, KinetoReport* report) {
  FileSource source(path);
  return ParseKinetoSource(source, path, report);
}

Trace ImportKineto(const std::string& path, const KinetoImportOptions& options,
                   KinetoReport* kineto_report, BuildReport* build_report) {
  KinetoReport local;
  KinetoReport& kr = kineto_report != nullptr ? *kineto_report : local;
  if (options.step >= 0 && !options.window.empty()) {
    throw InputError("--step, --window: give one of them, not both");
  }
  const Capture capture = ReadKinetoTrace(path, &kr);
  BuildOptions build;
  build.tenant = options.tenant.empty() ? TraceFileStem(path) : options.tenant;
  if (options.step >= 0) {
    build.window = StepWindow(capture, options.step, path);
  } else if (!options.window.empty()) {
    build.window = ParseWindow(options.window, "--window");
  }
  BuildReport local_build;
  BuildReport& br = build_report != nullptr ? *build_report : local_build;
  Trace trace;
  try {
    trace = BuildTrace(capture, build, &br);
  } catch (const InputError& e) {  // a window that selects nothing: name the file
    throw InputError(path + ": " + e.what());
  }
  if (!options.gpu.empty()) trace.device_gpu = options.gpu;

  // DRAM figures: on the trace's GPU when known, else the spec the tools
  // fall back to (recorded in meta.memory.gpu).
  std::string spec_key = options.gpu;
  if (spec_key.empty()) spec_key = SpecKeyForDevice(trace.device_name).value_or("");
  const bool guessed = spec_key.empty();
  if (guessed) spec_key = kMemoryFallbackGpu;
  kr.memory = EstimateMemory(trace, LoadGpuSpec(spec_key), capture.ranges, br.kernel_ranges);
  json m = json::object();
  m["gpu"] = kr.memory.gpu;
  if (guessed) m["gpu_unknown"] = true;
  m["counter"] = kr.memory.counter;
  m["shape"] = kr.memory.shape;
  m["name"] = kr.memory.name;
  m["none"] = kr.memory.none;
  m["clamped"] = kr.memory.clamped;
  trace.meta["memory"] = std::move(m);

  json k = json::object();
  const size_t slash = path.find_last_of('/');
  k["file"] = slash == std::string::npos ? path : path.substr(slash + 1);
  k["layout"] = kr.layout;
  if (kr.base_time_ns != kAbsent) k["base_time_ns"] = kr.base_time_ns;
  if (options.step >= 0) k["step"] = options.step;
  if (!kr.unknown_categories.empty()) k["unknown_categories"] = kr.unknown_categories;
  trace.meta["kineto"] = std::move(k);
  return trace;
}

}  // namespace cotenant::profiler
