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

#include "profiler/kineto_events.h"
#include "profiler/kineto_resolve.h"
#include "profiler/kineto_values.h"
#include "sim/byte_source.h"
#include "sim/error.h"
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
  const Capture capture = ReadKinetoTrace(path, &kr, options.partial);
  BuildOptions build;
  build.tenant = options.tenant.empty() ? TraceFileStem(path) : options.tenant;
  if (options.step >= 0) {
    build.window = StepWindow(capture, options.step, path);
  } else if (!options.window.empty()) {
    build.window = ParseWindow(options.window, "--window");
  }
  Trace trace;
  try {
    trace = BuildTrace(capture, build, build_report);
  } catch (const InputError& e) {  // a window that selects nothing: name the file
    throw InputError(path + ": " + e.what());
  }
  if (!options.gpu.empty()) trace.device_gpu = options.gpu;

  json k = json::object();
  const size_t slash = path.find_last_of('/');
  k["file"] = slash == std::string::npos ? path : path.substr(slash + 1);
  k["layout"] = kr.layout;
  if (kr.base_time_ns != kAbsent) k["base_time_ns"] = kr.base_time_ns;
  if (options.step >= 0) k["step"] = options.step;
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
