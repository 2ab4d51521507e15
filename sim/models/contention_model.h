// How running kernels share the GPU: the interface every contention model
// implements (SimGrid style: "time of my next event" / "advance to").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/units.h"

namespace cotenant {

/// What a contention model knows of one kernel. Filled by the engine.
struct KernelLaunch {
  // (Ordered so that the struct is 64 bytes: one cache line.)
  int64_t blocks = 0;      ///< thread blocks in the grid; 0 = no launch shape (fills the GPU)
  TimeNs dur_ns = 0;       ///< isolated duration on the whole GPU
  double mem_bound = 0.0;  ///< share of isolated time bound by DRAM, 0..1
  double dram_bytes_per_ns = 0.0;  ///< isolated DRAM traffic rate while running alone
  int32_t task = -1;               ///< the engine's task index, returned when it ends
  int32_t threads_per_block = 0;
  int32_t regs = 32;          ///< registers per thread
  int32_t smem = 0;           ///< shared memory per block, bytes
  int32_t blocks_per_sm = 0;  ///< occupancy on this GPU if known (> 0), else computed
  int32_t priority = 0;       ///< lower is dispatched first (CUDA convention)
  int32_t partition = -1;     ///< index into the model's partitions; -1 = all SMs
  int32_t key = -1;           ///< same key = same kernel (shape, partition): models may
                              ///< cache per key; -1 = no key
};
static_assert(sizeof(KernelLaunch) == 64, "KernelLaunch should fill one cache line");

/// Disjoint SM partitions (green contexts); partition i holds sm_counts[i] SMs.
struct SmPartitions {
  std::vector<int32_t> sm_counts;
};

/// Time integrals a model accumulates, for the result's "gpu" section.
struct ModelStats {
  TimeNs busy_ns = 0;      ///< time with at least one kernel holding SMs
  double sm_ns = 0.0;      ///< integral of SMs held, SM*ns
  double dram_ns = 0.0;    ///< integral of min(1, DRAM demand / peak), ns
  int64_t kernels = 0;     ///< kernels finished
  int64_t recomputes = 0;  ///< share recomputations (fluid) or dispatch rounds (block)
};

/// Receives the time a kernel first gets SMs.
class DispatchListener {
 public:
  virtual ~DispatchListener() = default;
  virtual void OnDispatch(int32_t task, TimeNs now) = 0;
};

class ContentionModel {
 public:
  virtual ~ContentionModel() = default;
  virtual const char* Name() const = 0;
  /// A kernel becomes ready at `now`; the model has been advanced to `now`.
  /// Kernels started at the same `now` are dispatched in call order after
  /// priority (the engine calls in a deterministic order).
  virtual void Start(const KernelLaunch& k, TimeNs now) = 0;
  /// Absolute time of the next change inside the model (a kernel ends, a
  /// wave boundary that frees slots), or kNever when nothing runs.
  virtual TimeNs NextEventTime() = 0;
  /// Advances to `now` (never past NextEventTime()) and appends the task
  /// index of every kernel that ends at `now` to `done`, in a deterministic order.
  virtual void AdvanceTo(TimeNs now, std::vector<int32_t>* done) = 0;
  virtual ModelStats Stats() const = 0;
  /// Number of kernels started and not yet finished.
  virtual int64_t Running() const = 0;

  /// Told the time each kernel first gets SMs (its real start, after
  /// waiting for slots). Optional; null = nobody listens.
  void set_dispatch_listener(DispatchListener* listener) { listener_ = listener; }

 protected:
  /// Records that kernel `task` first got SMs at `now`.
  void LogDispatch(int32_t task, TimeNs now) {
    if (listener_ != nullptr) listener_->OnDispatch(task, now);
  }

 private:
  DispatchListener* listener_ = nullptr;
};

/// Names of the models, the default first ("fluid", "block").
std::vector<std::string> ContentionModelNames();

/// Makes the model called `name`; throws InputError for an unknown name.
std::unique_ptr<ContentionModel> MakeContentionModel(const std::string& name, const GpuSpec& spec,
                                                     const SmPartitions& partitions);

}  // namespace cotenant
