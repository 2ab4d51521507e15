// Test fixtures shared by every test binary: the data folder, error capture,
// temporary folders, GPUs built in code, and small hand-made workloads whose
// timelines can be worked out on paper.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"

namespace cotenant::testing {

/// The fixture folder (tests/data).
inline const std::string kData = COTENANT_TEST_DATA;

/// The InputError message `f` throws, or "<no error>".
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

/// A fresh empty folder under the system temp folder, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "cotenant_test") {
    path = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// H100 SXM5 as in configs/gpus/h100-sxm.json, built in code so that tests
/// do not depend on the spec reader. Per SM (CC 9.0): 2048 threads, 32
/// blocks, 64 warps, 64K registers (unit 256), 228 KB shared memory, 227 KB
/// per block, 1 KB reserved per block, 128-byte smem units.
inline GpuSpec H100Sxm() {
  GpuSpec s;
  s.key = "h100-sxm";
  s.name = "NVIDIA H100 SXM5 80GB";
  s.compute_capability = 90;
  s.sm_count = 132;
  s.sm.max_threads = 2048;
  s.sm.max_blocks = 32;
  s.sm.max_warps = 64;
  s.sm.registers = 65536;
  s.sm.max_regs_per_thread = 255;
  s.sm.reg_alloc_unit = 256;
  s.sm.smem_bytes = 233472;
  s.sm.max_smem_per_block = 232448;
  s.sm.smem_alloc_unit = 128;
  s.sm.smem_reserved_per_block = 1024;
  s.sm.warp_size = 32;
  s.tensor_tflops = 989.4;
  s.fp32_tflops = 66.9;
  s.dram_gbps = 3350;
  s.pcie_gbps = 55;
  return s;
}

/// 4 SMs; a 1024-thread, 32-register block fits twice per SM (B = 2: 64
/// warps / 32 warps per block), so 8 such blocks fill the GPU in one wave.
/// DRAM 1000 bytes/ns at full efficiency, no co-run slowdown, 2 us launch and
/// 1 us sync latency, SM partitions of any size, 32 hardware queues.
inline GpuSpec TinyGpu() {
  GpuSpec s;
  s.key = "tiny";
  s.name = "tiny test GPU";
  s.sm_count = 4;
  s.dram_gbps = 1000.0;  // 1000 bytes/ns
  s.model.dram_efficiency = 1.0;
  s.model.corun_slowdown = 0.0;
  s.model.launch_latency_ns = 2000;
  s.model.sync_latency_ns = 1000;
  s.sm_partition_granularity = 1;
  s.sm_partition_min = 1;
  s.hw_queues = 32;
  return s;
}

/// An H100-like GPU (the GpuSpec defaults: 132 SMs, 8-SM partitions) with
/// the contention-model parameters the calibration fits start from.
inline GpuSpec FitGpu() {
  GpuSpec s;
  s.key = "test-h100";
  s.name = "test GPU";
  s.model.dram_efficiency = 0.9;
  s.model.corun_slowdown = 0.0;
  s.model.launch_latency_ns = 3000;
  return s;
}

/// A GPU-only kernel of `blocks` 1024-thread blocks on `stream`.
inline Task Kernel(int64_t id, int64_t stream, TimeNs start, TimeNs dur, int32_t blocks) {
  Task t;
  t.id = id;
  t.kind = TaskKind::kKernel;
  t.stream = stream;
  t.start_ns = start;
  t.dur_ns = dur;
  t.grid = {blocks, 1, 1};
  t.block = {1024, 1, 1};
  return t;
}

/// A host task of `kind` on thread 1; `corr` links a launch to its GPU task.
inline Task Host(int64_t id, TaskKind kind, TimeNs start, TimeNs dur, int64_t corr = kAbsent) {
  Task t;
  t.id = id;
  t.kind = kind;
  t.thread = 1;
  t.start_ns = start;
  t.dur_ns = dur;
  t.correlation = corr;
  return t;
}

inline Trace MakeTrace(const std::string& tenant, std::vector<Task> tasks) {
  Trace t;
  t.tenant = tenant;
  t.tasks = std::move(tasks);
  return t;
}

/// One tenant of Make(): its trace, request count and arrivals.
struct TenantIn {
  TenantIn(Trace t, int64_t r = 1, Arrival a = Arrival{})
      : trace(std::move(t)), requests(r), arrival(std::move(a)) {}
  Trace trace;
  int64_t requests = 1;
  Arrival arrival;
};

/// A workload of `tenants` on `spec` (no batch variants).
inline LoadedWorkload Make(std::vector<TenantIn> tenants, GpuSpec spec = TinyGpu()) {
  LoadedWorkload lw;
  lw.gpu = spec;
  lw.workload.gpu = spec.key;
  for (TenantIn& t : tenants) {
    TenantSpec ts;
    ts.name = t.trace.tenant;
    ts.requests = t.requests;
    ts.arrival = t.arrival;
    lw.workload.tenants.push_back(ts);
    lw.traces.push_back(std::move(t.trace));
    lw.by_batch.emplace_back();
  }
  return lw;
}

/// A tenant of TinyWorkload(): kernels (dur_ns, blocks) back to back on one
/// stream, each its own operator ("<name>_op<i>").
struct TinyTenant {
  std::string name;
  std::vector<std::pair<TimeNs, int32_t>> kernels;  ///< (dur_ns, blocks)
  TimeNs slo_ns = 0;
  double weight = 1.0;
};

/// Simulates `lw` under `plan` with contention model `model`, keeping the timeline.
inline SimResult Run(const LoadedWorkload& lw, const Plan& plan = Plan{},
                     const std::string& model = "fluid") {
  SimOptions o;
  o.model = model;
  o.record_timeline = true;
  return Simulate(lw, plan, o);
}

/// A closed-loop, one-request workload of `tenants` on TinyGpu(), GPU tasks
/// only (stream 7), for the search tests.
inline LoadedWorkload TinyWorkload(const std::vector<TinyTenant>& tenants,
                                   Objective objective = Objective::kMakespan) {
  std::vector<TenantIn> in;
  for (const TinyTenant& t : tenants) {
    Trace trace;
    trace.tenant = t.name;
    TimeNs at = 0;
    for (size_t i = 0; i < t.kernels.size(); ++i) {
      Task k = Kernel(static_cast<int64_t>(i + 1), 7, at, t.kernels[i].first, t.kernels[i].second);
      k.op = trace.Intern(t.name + "_op" + std::to_string(i));
      trace.tasks.push_back(k);
      at += t.kernels[i].first;
    }
    in.emplace_back(std::move(trace));
  }
  LoadedWorkload lw = Make(std::move(in));
  lw.workload.file = "tiny";
  lw.workload.objective = objective;
  for (size_t i = 0; i < tenants.size(); ++i) {
    lw.workload.tenants[i].slo_ns = tenants[i].slo_ns;
    lw.workload.tenants[i].weight = tenants[i].weight;
  }
  return lw;
}

/// Every iteration of FakeLlmModel alone: 1 ms.
constexpr TimeNs kFakeLlmIterNs = 1000000;

/// An LLM iteration model whose every iteration costs kFakeLlmIterNs alone and runs as
/// one kernel of 8 blocks of 1024 threads (TinyGpu: 2 per SM, so it fills the 4 SMs in
/// one wave); no host work.
class FakeLlmIterations : public LlmIterationModel {
 public:
  TimeNs Price(const IterationShape&, IterationWork* out) override {
    if (out == nullptr) return kFakeLlmIterNs;
    out->host_before_ns = 0;
    out->host_launch_ns = 0;
    IterationKernel k;
    k.name = "layer";
    k.dur_ns = kFakeLlmIterNs;
    k.grid = {8, 1, 1};
    k.block = {1024, 1, 1};
    out->kernels = {k};
    return kFakeLlmIterNs;
  }
};

/// An LLM tenant model of FakeLlmIterations with room for 100000 KV tokens; prompts
/// over 1000 tokens are refused.
class FakeLlmModel : public LlmTenantModel {
 public:
  std::string ModelName() const override { return "fake"; }
  std::string DtypeName() const override { return "bf16"; }
  std::unique_ptr<LlmIterationModel> NewRun() const override {
    return std::make_unique<FakeLlmIterations>();
  }
  LlmKvBudget KvBudget(int64_t usable, int64_t, int64_t) const override {
    LlmKvBudget b;
    b.usable_bytes = usable;
    b.kv_bytes_per_token = 1;
    b.capacity_tokens = 100000;
    return b;
  }
  void CheckRequests(const std::vector<LlmRequest>& requests, const LlmKvBudget&,
                     int64_t) const override {
    for (const LlmRequest& q : requests)
      if (q.prompt_tokens > 1000) throw InputError("w.json: tenants[0].prompt_tokens: too long");
  }
};

/// Adds LLM tenant `name` on FakeLlmModel to `lw`: `requests` requests of 10 prompt and
/// 3 output tokens, one every second from `first_ns`; SLOs TTFT 1.5 ms, TPOT 1.5 ms.
inline LlmTenantSpec& AddFakeLlm(LoadedWorkload* lw, const std::string& name = "chat",
                                 TimeNs first_ns = 0, int64_t requests = 3) {
  LlmTenantSpec t;
  t.name = name;
  t.at = "tenants[" +
         std::to_string(lw->workload.tenants.size() + lw->workload.llm_tenants.size()) + "]";
  t.model = "fake";
  t.requests = requests;
  t.slo.ttft_ns = 1500000;
  t.slo.tpot_ns = 1500000;
  lw->workload.llm_tenants.push_back(t);
  LoadedLlmTenant l;
  l.model = std::make_shared<FakeLlmModel>();
  for (int64_t i = 0; i < requests; ++i)
    l.requests.push_back({i, first_ns + i * 1000000000, 10, 3});
  lw->llm.push_back(std::move(l));
  lw->gpu.dram_bytes = int64_t{1} << 30;
  if (lw->workload.file.empty()) lw->workload.file = "w.json";
  return lw->workload.llm_tenants.back();
}

}  // namespace cotenant::testing
