#include "profiler/cupti/trace_session.h"

#include <exception>

#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/cupti_version.h"
#include "sim/error.h"

namespace cotenant::profiler::cupti {
namespace {

/// A trace with no tasks and the meta BuildTrace would write.
Trace EmptyTrace(const Capture& capture, const BuildOptions& options) {
  Trace t;
  t.tenant = options.tenant;
  t.device_name = capture.device_name;
  t.meta["source"] = capture.source;
  if (capture.pid != 0) t.meta["pid"] = capture.pid;
  t.meta["window"] = WindowSpec(options.window);
  t.meta["dropped_records"] = capture.dropped_records;
  t.meta["complete"] = false;
  t.meta["problems"] = capture.problems;
  return t;
}

}  // namespace

std::string ProfilerSource() { return std::string("cotenant-profiler ") + COTENANT_VERSION; }

TraceSession::TraceSession(InjectSettings settings, int64_t pid)
    : settings_(std::move(settings)), normaliser_(&capture_) {
  capture_.pid = pid;
  capture_.source = ProfilerSource();
}

void TraceSession::HandleBuffer(const uint8_t* buffer, size_t valid_size) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    normaliser_.HandleBuffer(buffer, valid_size);
  } catch (const std::exception& e) {
    Problems().Add(std::string("handling an activity buffer failed: ") + e.what());
  } catch (...) {
    Problems().Add("handling an activity buffer failed");
  }
}

void TraceSession::AddDropped(int64_t records) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  capture_.dropped_records += records;
}

void TraceSession::SetDeviceName(const std::string& name) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    capture_.device_name = name;
  } catch (...) {
  }
}

int64_t TraceSession::FirstDevice() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return capture_.gpu.empty() ? 0 : capture_.gpu.front().device;
}

void TraceSession::SetLoadedCuptiVersion(uint32_t version) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  loaded_version_ = version;
}

std::vector<TaggedTiming> TraceSession::TakeTagged(int external_kind) noexcept {
  std::vector<TaggedTiming> out;
  try {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& ext = normaliser_.external_ids();
    for (const GpuActivity& a : capture_.gpu) {
      const auto it = ext.find(a.correlation);
      if (it == ext.end() || it->second.first != external_kind) continue;
      out.push_back({it->second.second, a.start_ns, a.end_ns});
    }
    capture_.api.clear();
    capture_.gpu.clear();
    capture_.syncs.clear();
    capture_.ranges.clear();
    normaliser_.ForgetExternalIds();
  } catch (const std::exception& e) {
    Problems().Add(std::string("collecting replay timings failed: ") + e.what());
    out.clear();
  }
  return out;
}

bool TraceSession::Finish() noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return false;
    finished_ = true;
    if (settings_.replay) return true;  // replay collects in-process; no file
    normaliser_.Finish();
    const RecordStats& stats = normaliser_.stats();
    if (stats.open_ranges > 0) {
      // Not a capture problem: a program may exit inside a range.
      capture_.problems.push_back(std::to_string(stats.open_ranges) +
                                  " NVTX range(s) were still open at exit and end there");
    }
    if (stats.unmatched_marker_ends > 0) {
      capture_.problems.push_back(std::to_string(stats.unmatched_marker_ends) +
                                  " NVTX range end(s) without a start were ignored");
    }
    for (const std::string& p : settings_.problems) {
      capture_.problems.push_back(p);
      capture_.complete = false;
    }
    for (const std::string& p : Problems().Lines()) {
      capture_.problems.push_back(p);
      capture_.complete = false;
    }

    BuildOptions options;
    options.tenant = settings_.tenant;
    options.window = settings_.window;
    BuildReport report;
    if (capture_.api.empty() && capture_.gpu.empty()) {
      // Nothing to build from (CUPTI failed, or the program did no CUDA
      // work): an empty trace that says so.
      capture_.problems.push_back("no API call or GPU activity was captured");
      capture_.complete = false;
      trace_ = EmptyTrace(capture_, options);
    } else {
      try {
        trace_ = BuildTrace(capture_, options, &report);
      } catch (const InputError& e) {
        if (options.window.kind == Window::Kind::kAll) throw;
        // The window selected nothing: keep the whole run rather than nothing.
        capture_.problems.push_back(std::string(e.what()) + "; the whole run was written");
        capture_.complete = false;
        options.window = Window{};
        trace_ = BuildTrace(capture_, options, &report);
      }
    }

    nlohmann::json cupti = {{"header_version", kHeaderVersion},
                            {"kernel_record", kKernelRecordName},
                            {"records", StatsToJson(stats)}};
    if (loaded_version_ != 0) cupti["version"] = loaded_version_;
    trace_.meta["cupti"] = std::move(cupti);
    trace_.meta["nvtx"] = settings_.nvtx;
    WriteTrace(trace_, settings_.trace_out);

    Warn("wrote " + settings_.trace_out + ": " + std::to_string(report.kernels) + " kernels, " +
         std::to_string(report.memcpys) + " copies, " + std::to_string(report.memsets) +
         " memsets, " + std::to_string(report.launches) + " launches, " +
         std::to_string(report.syncs) + " syncs on " + std::to_string(report.streams) +
         " stream(s), " + std::to_string(capture_.dropped_records) + " dropped records" +
         (trace_.meta.value("complete", true) ? "" : " (incomplete)"));
    return true;
  } catch (const std::exception& e) {
    Warn(std::string("no trace written to ") + settings_.trace_out + ": " + e.what());
  } catch (...) {
    Warn("no trace written to " + settings_.trace_out);
  }
  return false;
}

}  // namespace cotenant::profiler::cupti
