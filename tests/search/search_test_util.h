// Tiny hand-made workloads for the search tests, with answers that can be
// worked out on paper (see each test's comments).
#pragma once

#include <string>
#include <vector>

#include "sim/simulate.h"

namespace cotenant::testing {

/// A 4-SM GPU (as in the engine tests): a 1024-thread, 32-register block fits
/// twice per SM, so 8 blocks fill it in one wave. SM partitions in steps of
/// 1 SM, no DRAM limit in the cases below (no kernel moves bytes), 32
/// hardware queues. Small enough that every timeline is easy to compute.
inline GpuSpec TinyGpu() {
  GpuSpec s;
  s.key = "tiny";
  s.name = "tiny test GPU";
  s.sm_count = 4;
  s.dram_gbps = 1000.0;
  s.model.dram_efficiency = 1.0;
  s.model.corun_slowdown = 0.0;
  s.model.launch_latency_ns = 2000;
  s.model.sync_latency_ns = 1000;
  s.sm_partition_granularity = 1;
  s.sm_partition_min = 1;
  s.hw_queues = 32;
  return s;
}

/// A GPU-only kernel task (issued at the request's start, in start order).
inline Task Kernel(int64_t id, TimeNs start, TimeNs dur, int32_t blocks, const std::string& op = "",
                   Trace* trace = nullptr) {
  Task t;
  t.id = id;
  t.kind = TaskKind::kKernel;
  t.stream = 7;
  t.start_ns = start;
  t.dur_ns = dur;
  t.grid = {blocks, 1, 1};
  t.block = {1024, 1, 1};
  if (!op.empty() && trace != nullptr) t.op = trace->Intern(op);
  return t;
}

/// A tenant: one trace of kernels (dur_ns, blocks) back to back on one
/// stream, each its own operator.
struct TinyTenant {
  std::string name;
  std::vector<std::pair<TimeNs, int32_t>> kernels;  ///< (dur_ns, blocks)
  TimeNs slo_ns = 0;
  double weight = 1.0;
};

/// A closed-loop, one-request workload of `tenants` on TinyGpu().
inline LoadedWorkload TinyWorkload(const std::vector<TinyTenant>& tenants,
                                   Objective objective = Objective::kMakespan) {
  LoadedWorkload lw;
  lw.gpu = TinyGpu();
  lw.workload.gpu = lw.gpu.key;
  lw.workload.file = "tiny";
  lw.workload.objective = objective;
  for (const TinyTenant& t : tenants) {
    Trace trace;
    trace.tenant = t.name;
    TimeNs at = 0;
    for (size_t i = 0; i < t.kernels.size(); ++i) {
      trace.tasks.push_back(Kernel(static_cast<int64_t>(i + 1), at, t.kernels[i].first,
                                   t.kernels[i].second, t.name + "_op" + std::to_string(i),
                                   &trace));
      at += t.kernels[i].first;
    }
    TenantSpec ts;
    ts.name = t.name;
    ts.slo_ns = t.slo_ns;
    ts.weight = t.weight;
    lw.workload.tenants.push_back(ts);
    lw.traces.push_back(std::move(trace));
    lw.by_batch.emplace_back();
  }
  return lw;
}

}  // namespace cotenant::testing
