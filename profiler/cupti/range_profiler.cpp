#include "profiler/cupti/range_profiler.h"

#include <cupti_profiler_target.h>
#include <cupti_target.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <iterator>

#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/driver_api.h"
#include "profiler/cupti/trace_session.h"

namespace cotenant::profiler::cupti {
namespace {

/// A CUPTI profiler parameter struct: zeroed, with its structSize set.
template <typename P>
P Params(size_t struct_size) {
  P p{};
  p.structSize = struct_size;
  return p;
}

/// `auto p = COTENANT_PARAMS(CUpti_X_Params);`: zeroed, structSize set.
#define COTENANT_PARAMS(type) Params<type>(type##_STRUCT_SIZE)

/// The driver calls that launch one kernel.
constexpr CUpti_CallbackId kKernelLaunches[] = {
    CUPTI_DRIVER_TRACE_CBID_cuLaunch,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchGrid,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchGridAsync,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
};

bool IsKernelLaunch(CUpti_CallbackId cbid) {
  for (CUpti_CallbackId k : kKernelLaunches) {
    if (k == cbid) return true;
  }
  return false;
}

constexpr CUpti_CallbackId kGraphLaunches[] = {CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch,
                                               CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch_ptsz};

void CUPTIAPI CounterCallback(void* userdata, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                              const void* cbdata) {
  auto* pass = static_cast<CounterPass*>(userdata);
  if (pass == nullptr || cbdata == nullptr) return;
  if (domain == CUPTI_CB_DOMAIN_DRIVER_API) {
    const auto* d = static_cast<const CUpti_CallbackData*>(cbdata);
    if (d->callbackSite != CUPTI_API_ENTER) return;
    if (IsKernelLaunch(cbid)) {
      pass->OnLaunchEnter(d->context, d->symbolName);
    } else {
      pass->OnGraphLaunch();
    }
  } else if (domain == CUPTI_CB_DOMAIN_RESOURCE &&
             cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING) {
    pass->OnContextDestroyStarting(static_cast<const CUpti_ResourceData*>(cbdata)->context);
  }
}

/// Makes `ctx` current on this thread for the life of the object.
class ScopedContext {
 public:
  explicit ScopedContext(CUcontext ctx) {
    const DriverApi& d = Driver();
    if (ctx != nullptr && d.ctx_push_current != nullptr && d.ctx_pop_current != nullptr) {
      pushed_ = d.ctx_push_current(ctx) == CUDA_SUCCESS;
    }
  }
  ~ScopedContext() {
    if (!pushed_) return;
    CUcontext popped = nullptr;
    Driver().ctx_pop_current(&popped);
  }
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace

CounterPass::CounterPass(std::string out_path, int64_t pid, std::vector<std::string> problems)
    : out_path_(std::move(out_path)), setting_problems_(std::move(problems)) {
  result_.meta["pid"] = pid;
}

bool CounterPass::Begin() noexcept {
  try {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (COTENANT_CUPTI_CALL(cuptiSubscribe(
            &subscriber_, reinterpret_cast<CUpti_CallbackFunc>(CounterCallback), this)) !=
        CUPTI_SUCCESS) {
      return false;
    }
    bool ok = true;
    std::vector<CUpti_CallbackId> cbids(std::begin(kKernelLaunches), std::end(kKernelLaunches));
    cbids.insert(cbids.end(), std::begin(kGraphLaunches), std::end(kGraphLaunches));
    for (CUpti_CallbackId cbid : cbids) {
      ok = COTENANT_CUPTI_CALL(cuptiEnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_DRIVER_API,
                                                   cbid)) == CUPTI_SUCCESS &&
           ok;
    }
    ok = COTENANT_CUPTI_CALL(cuptiEnableCallback(1, subscriber_, CUPTI_CB_DOMAIN_RESOURCE,
                                                 CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING)) ==
             CUPTI_SUCCESS &&
         ok;
    return ok;
  } catch (const std::exception& e) {
    Problems().Add(std::string("counter pass: ") + e.what());
  }
  return false;
}

bool CounterPass::Enable(CUcontext ctx) {
  tried_ = true;
  ctx_ = ctx;
  auto init = COTENANT_PARAMS(CUpti_Profiler_Initialize_Params);
  if (COTENANT_CUPTI_CALL(cuptiProfilerInitialize(&init)) != CUPTI_SUCCESS) return false;

  CUdevice device = 0;
  const DriverApi& drv = Driver();
  if (drv.ctx_get_device == nullptr || drv.ctx_get_device(&device) != CUDA_SUCCESS) {
    Problems().Add("counter pass: the device of the launching context is unknown");
    return false;
  }
  auto chip = COTENANT_PARAMS(CUpti_Device_GetChipName_Params);
  chip.deviceIndex = static_cast<size_t>(device);
  if (COTENANT_CUPTI_CALL(cuptiDeviceGetChipName(&chip)) != CUPTI_SUCCESS) return false;
  chip_ = chip.pChipName != nullptr ? chip.pChipName : "";

  // Which counters this device offers (must be read before profiling starts).
  auto avail = COTENANT_PARAMS(CUpti_Profiler_GetCounterAvailability_Params);
  avail.ctx = ctx;
  if (COTENANT_CUPTI_CALL(cuptiProfilerGetCounterAvailability(&avail)) != CUPTI_SUCCESS) {
    return false;
  }
  std::vector<uint8_t> availability(avail.counterAvailabilityImageSize);
  avail.pCounterAvailabilityImage = availability.data();
  if (COTENANT_CUPTI_CALL(cuptiProfilerGetCounterAvailability(&avail)) != CUPTI_SUCCESS) {
    return false;
  }

  // Host side: the metrics -> a config image.
  auto host = COTENANT_PARAMS(CUpti_Profiler_Host_Initialize_Params);
  host.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
  host.pChipName = chip_.c_str();
  host.pCounterAvailabilityImage = availability.data();
  if (COTENANT_CUPTI_CALL(cuptiProfilerHostInitialize(&host)) != CUPTI_SUCCESS) return false;
  host_ = host.pHostObject;

  std::vector<const char*> metrics(kCounterMetrics, kCounterMetrics + kNumCounterMetrics);
  auto add = COTENANT_PARAMS(CUpti_Profiler_Host_ConfigAddMetrics_Params);
  add.pHostObject = host_;
  add.ppMetricNames = metrics.data();
  add.numMetrics = metrics.size();
  if (COTENANT_CUPTI_CALL(cuptiProfilerHostConfigAddMetrics(&add)) != CUPTI_SUCCESS) return false;

  auto size = COTENANT_PARAMS(CUpti_Profiler_Host_GetConfigImageSize_Params);
  size.pHostObject = host_;
  if (COTENANT_CUPTI_CALL(cuptiProfilerHostGetConfigImageSize(&size)) != CUPTI_SUCCESS) {
    return false;
  }
  config_.assign(size.configImageSize, 0);
  auto image = COTENANT_PARAMS(CUpti_Profiler_Host_GetConfigImage_Params);
  image.pHostObject = host_;
  image.configImageSize = config_.size();
  image.pConfigImage = config_.data();
  if (COTENANT_CUPTI_CALL(cuptiProfilerHostGetConfigImage(&image)) != CUPTI_SUCCESS) return false;

  auto passes = COTENANT_PARAMS(CUpti_Profiler_Host_GetNumOfPasses_Params);
  passes.configImageSize = config_.size();
  passes.pConfigImage = config_.data();
  if (COTENANT_CUPTI_CALL(cuptiProfilerHostGetNumOfPasses(&passes)) == CUPTI_SUCCESS) {
    passes_ = passes.numOfPasses;
  }

  // Target side: the range profiler on the context, and its counter data image.
  auto enable = COTENANT_PARAMS(CUpti_RangeProfiler_Enable_Params);
  enable.ctx = ctx;
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerEnable(&enable)) != CUPTI_SUCCESS) return false;
  profiler_ = enable.pRangeProfilerObject;

  auto data = COTENANT_PARAMS(CUpti_RangeProfiler_GetCounterDataSize_Params);
  data.pRangeProfilerObject = profiler_;
  data.pMetricNames = metrics.data();
  data.numMetrics = metrics.size();
  data.maxNumOfRanges = kRangesPerImage;
  data.maxNumRangeTreeNodes = static_cast<uint32_t>(kRangesPerImage);
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerGetCounterDataSize(&data)) != CUPTI_SUCCESS) {
    return false;
  }
  image_.assign(data.counterDataSize, 0);
  return ConfigureAndStart();
}

bool CounterPass::ConfigureAndStart() {
  auto init = COTENANT_PARAMS(CUpti_RangeProfiler_CounterDataImage_Initialize_Params);
  init.pRangeProfilerObject = profiler_;
  init.counterDataSize = image_.size();
  init.pCounterData = image_.data();
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerCounterDataImageInitialize(&init)) != CUPTI_SUCCESS) {
    return false;
  }
  auto config = COTENANT_PARAMS(CUpti_RangeProfiler_SetConfig_Params);
  config.pRangeProfilerObject = profiler_;
  config.configSize = config_.size();
  config.pConfig = config_.data();
  config.counterDataImageSize = image_.size();
  config.pCounterDataImage = image_.data();
  config.range = CUPTI_AutoRange;          // one range per kernel launch
  config.replayMode = CUPTI_KernelReplay;  // each kernel replayed for all passes
  config.maxRangesPerPass = kRangesPerImage;
  config.numNestingLevels = 1;  // auto range: 1
  config.minNestingLevel = 1;
  config.passIndex = 0;
  config.targetNestingLevel = 1;
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerSetConfig(&config)) != CUPTI_SUCCESS) return false;
  auto start = COTENANT_PARAMS(CUpti_RangeProfiler_Start_Params);
  start.pRangeProfilerObject = profiler_;
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerStart(&start)) != CUPTI_SUCCESS) return false;
  running_ = true;
  return true;
}

void CounterPass::Collect(bool restart) {
  if (!running_ || profiler_ == nullptr) return;
  running_ = false;
  auto stop = COTENANT_PARAMS(CUpti_RangeProfiler_Stop_Params);
  stop.pRangeProfilerObject = profiler_;
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerStop(&stop)) != CUPTI_SUCCESS) return;
  if (!stop.isAllPassSubmitted) {
    Problems().Add("counter pass: the range profiler did not submit all replay passes");
  }
  auto decode = COTENANT_PARAMS(CUpti_RangeProfiler_DecodeData_Params);
  decode.pRangeProfilerObject = profiler_;
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerDecodeData(&decode)) != CUPTI_SUCCESS) return;
  ranges_dropped_ += static_cast<int64_t>(decode.numOfRangeDropped);

  auto info = COTENANT_PARAMS(CUpti_RangeProfiler_GetCounterDataInfo_Params);
  info.pCounterDataImage = image_.data();
  info.counterDataImageSize = image_.size();
  if (COTENANT_CUPTI_CALL(cuptiRangeProfilerGetCounterDataInfo(&info)) != CUPTI_SUCCESS) return;
  if (info.numTotalRanges != in_image_.size()) {
    Problems().Add("counter pass: " + std::to_string(in_image_.size()) +
                   " kernel launches filled a counter image that holds " +
                   std::to_string(info.numTotalRanges) +
                   " ranges; counters may belong to other kernels");
  }
  std::vector<const char*> metrics(kCounterMetrics, kCounterMetrics + kNumCounterMetrics);
  const size_t n = std::min<size_t>(info.numTotalRanges, in_image_.size());
  for (size_t i = 0; i < n; ++i) {
    double values[kNumCounterMetrics] = {-1.0, -1.0, -1.0};
    auto eval = COTENANT_PARAMS(CUpti_Profiler_Host_EvaluateToGpuValues_Params);
    eval.pHostObject = host_;
    eval.pCounterDataImage = image_.data();
    eval.counterDataImageSize = image_.size();
    eval.rangeIndex = i;  // auto ranges are numbered in launch order from 0
    eval.ppMetricNames = metrics.data();
    eval.numMetrics = metrics.size();
    eval.pMetricValues = values;
    if (COTENANT_CUPTI_CALL(cuptiProfilerHostEvaluateToGpuValues(&eval)) != CUPTI_SUCCESS) {
      continue;
    }
    KernelCounters& k = result_.kernels[in_image_[i]];
    if (std::isfinite(values[0]) && values[0] >= 0) k.dram_bytes = std::llround(values[0]);
    if (std::isfinite(values[1]) && values[1] >= 0) k.dram_pct = values[1];
    if (std::isfinite(values[2]) && values[2] >= 0) k.sm_pct = values[2];
  }
  in_image_.clear();
  if (restart) ConfigureAndStart();
}

void CounterPass::Disable() {
  if (profiler_ != nullptr) {
    auto disable = COTENANT_PARAMS(CUpti_RangeProfiler_Disable_Params);
    disable.pRangeProfilerObject = profiler_;
    COTENANT_CUPTI_CALL(cuptiRangeProfilerDisable(&disable));
    profiler_ = nullptr;
  }
  if (host_ != nullptr) {
    auto deinit = COTENANT_PARAMS(CUpti_Profiler_Host_Deinitialize_Params);
    deinit.pHostObject = host_;
    COTENANT_CUPTI_CALL(cuptiProfilerHostDeinitialize(&deinit));
    host_ = nullptr;
  }
  running_ = false;
}

void CounterPass::OnLaunchEnter(CUcontext ctx, const char* symbol_name) noexcept {
  try {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (finished_) return;
    KernelCounters k;
    k.index = static_cast<int64_t>(result_.kernels.size());
    k.name = symbol_name != nullptr ? symbol_name : "";
    result_.kernels.push_back(std::move(k));
    if (!tried_ && !Enable(ctx)) Disable();
    if (!running_) return;
    if (ctx != ctx_) {
      ++other_context_kernels_;
      return;
    }
    if (in_image_.size() >= kRangesPerImage) Collect(/*restart=*/true);
    if (running_) in_image_.push_back(result_.kernels.size() - 1);
  } catch (const std::exception& e) {
    Problems().Add(std::string("counter pass: ") + e.what());
  } catch (...) {
    Problems().Add("counter pass: unknown error in a launch callback");
  }
}

void CounterPass::OnGraphLaunch() noexcept {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ++graph_launches_;
}

void CounterPass::OnContextDestroyStarting(CUcontext ctx) noexcept {
  try {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (finished_ || ctx != ctx_ || profiler_ == nullptr) return;
    Collect(/*restart=*/false);
    Disable();
  } catch (...) {
    Problems().Add("counter pass: collecting counters at context destruction failed");
  }
}

bool CounterPass::Finish() noexcept {
  try {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (finished_) return false;
    finished_ = true;
    if (subscriber_ != nullptr) COTENANT_CUPTI_CALL(cuptiUnsubscribe(subscriber_));
    if (profiler_ != nullptr) {
      ScopedContext current(ctx_);
      SynchronizeCurrentContext();
      Collect(/*restart=*/false);
      Disable();
    }
    if (tried_) {
      auto deinit = COTENANT_PARAMS(CUpti_Profiler_DeInitialize_Params);
      COTENANT_CUPTI_CALL(cuptiProfilerDeInitialize(&deinit));
    }
    if (graph_launches_ > 0) {
      Problems().Add("counter pass: " + std::to_string(graph_launches_) +
                     " CUDA graph launch(es); kernels inside graphs are not listed");
    }
    if (other_context_kernels_ > 0) {
      Problems().Add("counter pass: " + std::to_string(other_context_kernels_) +
                     " kernel(s) ran in another CUDA context and have no counters");
    }
    if (ranges_dropped_ > 0) {
      Problems().Add("counter pass: the range profiler dropped " + std::to_string(ranges_dropped_) +
                     " range(s)");
    }
    std::vector<std::string> problems = setting_problems_;
    for (const std::string& p : Problems().Lines()) problems.push_back(p);
    int64_t with_values = 0;
    for (const KernelCounters& k : result_.kernels) with_values += k.dram_pct >= 0 ? 1 : 0;

    nlohmann::json& meta = result_.meta;
    meta["source"] = ProfilerSource();
    meta["metrics"] =
        std::vector<std::string>(kCounterMetrics, kCounterMetrics + kNumCounterMetrics);
    meta["range"] = "auto";
    meta["replay"] = "kernel";
    if (!chip_.empty()) meta["chip"] = chip_;
    if (passes_ > 0) meta["passes"] = passes_;
    meta["ranges_dropped"] = ranges_dropped_;
    meta["kernels_with_counters"] = with_values;
    meta["complete"] = problems.empty();
    if (!problems.empty()) meta["problems"] = problems;
    WriteCounters(result_, out_path_);
    Warn("counter pass wrote " + out_path_ + ": " + std::to_string(result_.kernels.size()) +
         " kernels, " + std::to_string(with_values) + " with counters" +
         (problems.empty() ? "" : " (incomplete)"));
    return true;
  } catch (const std::exception& e) {
    Warn("no counters written to " + out_path_ + ": " + e.what());
  } catch (...) {
    Warn("no counters written to " + out_path_);
  }
  return false;
}

#undef COTENANT_PARAMS

}  // namespace cotenant::profiler::cupti
