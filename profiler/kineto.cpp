// The Kineto (PyTorch profiler) Chrome-trace importer: the document is
// streamed through the project's JSON reader (sim/json_stream.h) into an
// EventReader (profiler/kineto_events.h) that turns one event at a time into
// capture records; once all are read, Resolve (profiler/kineto_resolve.h)
// joins them. Categories: profiler/kineto_categories.h; field values:
// profiler/kineto_values.h; steps: profiler/kineto_steps.h.
#include "profiler/kineto.h"

#include <algorithm>
#include <map>
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

/// True when `e` says the document ended too soon: the JSON stops inside a
/// value, or a gzip stream stops inside a block.
bool CutShort(const InputError& e) {
  const std::string what = e.what();
  return what.find("unexpected end of input") != std::string::npos ||
         what.find("unexpected end of compressed data") != std::string::npos;
}

/// Reads a Kineto trace from `source` (`file` names it in messages). A
/// document cut short is refused, naming the byte where it ends, unless
/// `partial`: then the events complete before it are imported, with a
/// problem line saying so.
Capture ParseKinetoSource(ByteSource& source, const std::string& file, KinetoReport* report,
                          bool partial) {
  KinetoReport local;
  KinetoReport& r = report != nullptr ? *report : local;
  r = KinetoReport{};
  Capture capture;
  capture.source = "kineto";
  {
    kineto::Pending pending;
    kineto::EventReader events(file, capture, r, pending);
    JsonReader reader(source, file);
    try {
      reader.Read(events);
    } catch (const InputError& e) {
      if (!CutShort(e)) throw;
      const std::string at =
          "the trace is cut short at byte " + std::to_string(reader.offset()) +
          (file.size() > 3 && file.compare(file.size() - 3, 3, ".gz") == 0 ? " of its inflated text"
                                                                           : "") +
          ", after " + std::to_string(r.events) + " complete events";
      if (!partial || !pending.saw_events) {
        throw InputError(file + ": " + at + (pending.saw_events ? "; --partial imports them" : ""));
      }
      r.truncated_at_byte = reader.offset();
      capture.complete = false;
      pending.Problem(at + ": those were imported");
    }
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

/// Keeps the GPU work of one device: `device`, else the only one with GPU
/// work. Launch calls whose GPU work all ran on other devices are dropped
/// too (their time stays a CPU gap); the other calls and syncs are kept.
/// Throws InputError listing the devices (id, name, kernels) when `device`
/// is -1 and several have GPU work, or when `device` has none.
void KeepDevice(Capture& capture, const KinetoReport& report, int64_t device,
                const std::string& file) {
  std::map<int64_t, std::pair<int64_t, int64_t>> work;  // device -> (kernels, GPU tasks)
  for (const GpuActivity& g : capture.gpu) {
    auto& w = work[g.device];
    if (g.kind == TaskKind::kKernel) ++w.first;
    ++w.second;
  }
  auto list = [&] {
    std::string s;
    for (const auto& [id, w] : work) {
      const auto name = report.device_names.find(id);
      s += (s.empty() ? "" : ", ") + std::to_string(id) + " (" +
           (name == report.device_names.end() ? std::string("unnamed") : name->second) + ", " +
           std::to_string(w.first) + " kernel" + (w.first == 1 ? "" : "s") + ")";
    }
    return s;
  };
  if (device < 0) {
    if (work.size() <= 1) return;
    throw InputError(file + ": GPU work on " + std::to_string(work.size()) +
                     " devices; pick one with --device: " + list());
  }
  if (work.count(device) == 0) {
    throw InputError(file + ": --device " + std::to_string(device) + ": no GPU work on it (" +
                     (work.empty() ? std::string("the trace has none") : "devices: " + list()) +
                     ")");
  }
  std::vector<int64_t> kept_corr, other_corr;
  std::vector<GpuActivity> kept;
  for (GpuActivity& g : capture.gpu) {
    auto& corrs = g.device == device ? kept_corr : other_corr;
    if (g.correlation != kAbsent) corrs.push_back(g.correlation);
    if (g.device == device) kept.push_back(std::move(g));
  }
  capture.gpu = std::move(kept);
  std::sort(kept_corr.begin(), kept_corr.end());
  std::sort(other_corr.begin(), other_corr.end());
  auto has = [](const std::vector<int64_t>& v, int64_t c) {
    return std::binary_search(v.begin(), v.end(), c);
  };
  std::vector<ApiCall> calls;
  calls.reserve(capture.api.size());
  for (ApiCall& a : capture.api) {
    const bool elsewhere = a.correlation != kAbsent && has(other_corr, a.correlation) &&
                           !has(kept_corr, a.correlation);
    if (!elsewhere) calls.push_back(std::move(a));
  }
  capture.api = std::move(calls);
  const auto name = report.device_names.find(device);
  if (name != report.device_names.end()) capture.device_name = name->second;
}

}  // namespace

std::optional<TimeNs> UsTextToNs(const std::string& text) {
  TimeNs ns = 0;
  if (kineto::ParseUs(text, &ns) != kineto::UsParse::kOk) return std::nullopt;
  return ns;
}

Capture ParseKinetoTrace(const std::string& text, const std::string& file, KinetoReport* report,
                         bool partial) {
  TextSource source(text);
  return ParseKinetoSource(source, file, report, partial);
}

Capture ReadKinetoTrace(const std::string& path, KinetoReport* report, bool partial) {
  FileSource source(path);
  return ParseKinetoSource(source, path, report, partial);
}

Trace ImportKineto(const std::string& path, const KinetoImportOptions& options,
                   KinetoReport* kineto_report, BuildReport* build_report) {
  KinetoReport local;
  KinetoReport& kr = kineto_report != nullptr ? *kineto_report : local;
  if (options.step >= 0 && !options.window.empty()) {
    throw InputError("--step, --window: give one of them, not both");
  }
  Capture capture = ReadKinetoTrace(path, &kr, options.partial);
  KeepDevice(capture, kr, options.device, path);
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

  kr.memory = EstimateImportedMemory(trace, options.gpu, capture.ranges, br.kernel_ranges);

  json k = json::object();
  const size_t slash = path.find_last_of('/');
  k["file"] = slash == std::string::npos ? path : path.substr(slash + 1);
  k["layout"] = kr.layout;
  if (kr.base_time_ns != kAbsent) k["base_time_ns"] = kr.base_time_ns;
  if (options.step >= 0) k["step"] = options.step;
  if (options.device >= 0) k["device"] = options.device;
  if (kr.gpu_clock_shift_ns != 0) k["gpu_clock_shift_ns"] = kr.gpu_clock_shift_ns;
  if (kr.truncated_at_byte != kAbsent) k["truncated_at_byte"] = kr.truncated_at_byte;
  if (kr.polls > 0) {
    k["polls"] = kr.polls;
    k["poll_waits"] = kr.poll_waits;
    k["polls_folded"] = kr.polls_folded;
  }
  if (kr.waits_linked_by_stream > 0) k["waits_linked_by_stream"] = kr.waits_linked_by_stream;
  if (!kr.unknown_categories.empty()) k["unknown_categories"] = kr.unknown_categories;
  trace.meta["kineto"] = std::move(k);
  return trace;
}

}  // namespace cotenant::profiler
