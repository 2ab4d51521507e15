// The counter pass (COTENANT_COUNTERS): per-kernel DRAM bytes and DRAM/SM
// throughput through the CUPTI range profiler (cupti_range_profiler.h) in
// auto-range, kernel-replay mode. Every kernel launch becomes one range and
// is replayed as often as the metrics need, so the program runs much slower
// than usual; no activity tracing happens in this pass. Unverified on a GPU.
#pragma once

#include <cupti.h>
#include <cupti_profiler_host.h>
#include <cupti_range_profiler.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "profiler/counters.h"

namespace cotenant::profiler::cupti {

/// The metrics collected, in this order: DRAM bytes, DRAM throughput (% of
/// peak), SM throughput (% of peak).
constexpr const char* kCounterMetrics[] = {
    "dram__bytes.sum",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed",
};
constexpr size_t kNumCounterMetrics = sizeof(kCounterMetrics) / sizeof(kCounterMetrics[0]);

/// Ranges (kernel launches) one counter data image holds; when full, the
/// image is decoded and reused.
constexpr size_t kRangesPerImage = 512;

/// Profiles the kernels of the first CUDA context that launches one. Kernels
/// of other contexts are listed without values. Thread-safe; lives until the
/// process exits.
class CounterPass {
 public:
  /// `out_path` receives the `cotenant.counters/1` file; `problems` are the
  /// settings' problems (they make the output incomplete).
  CounterPass(std::string out_path, int64_t pid, std::vector<std::string> problems);

  /// Subscribes to kernel launch and context callbacks. Returns false (the
  /// problem recorded) when CUPTI refuses.
  bool Begin() noexcept;

  /// Collects the ranges still in the image, disables the profiler and
  /// writes the counters file. Call once at exit. Never throws.
  bool Finish() noexcept;

  /// Callback entry points (the CUPTI callback function forwards here).
  void OnLaunchEnter(CUcontext ctx, const char* symbol_name) noexcept;
  void OnGraphLaunch() noexcept;
  void OnContextDestroyStarting(CUcontext ctx) noexcept;

 private:
  bool Enable(CUcontext ctx);
  bool ConfigureAndStart();
  /// Stops, decodes and evaluates the image; restarts when `restart`.
  void Collect(bool restart);
  void Disable();

  std::recursive_mutex mu_;
  std::string out_path_;
  std::vector<std::string> setting_problems_;
  CounterSet result_;
  CUpti_SubscriberHandle subscriber_ = nullptr;
  CUcontext ctx_ = nullptr;  ///< the profiled context
  bool tried_ = false;       ///< Enable() was attempted
  bool running_ = false;     ///< between Start and Stop
  bool finished_ = false;
  std::string chip_;
  CUpti_Profiler_Host_Object* host_ = nullptr;
  CUpti_RangeProfiler_Object* profiler_ = nullptr;
  std::vector<uint8_t> config_;   ///< config image (metrics)
  std::vector<uint8_t> image_;    ///< counter data image
  std::vector<size_t> in_image_;  ///< kernel indices profiled into the image, in order
  int64_t ranges_dropped_ = 0;
  int64_t other_context_kernels_ = 0;
  int64_t graph_launches_ = 0;
  size_t passes_ = 0;  ///< replay passes the metrics need
};

}  // namespace cotenant::profiler::cupti
