// Small in-memory workloads for the replay host-logic tests.
#pragma once

#include <string>
#include <vector>

#include "sim/simulate.h"
#include "sim/trace.h"

namespace cotenant::replay::testing {

/// 4 SMs, partitions of any size, as the engine tests' tiny GPU.
inline GpuSpec TinyGpu() {
  GpuSpec s;
  s.key = "tiny";
  s.sm_count = 4;
  s.sm_partition_granularity = 1;
  s.sm_partition_min = 1;
  return s;
}

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

struct TenantIn {
  TenantIn(Trace t, int64_t r = 1, Arrival a = Arrival{})
      : trace(std::move(t)), requests(r), arrival(std::move(a)) {}
  Trace trace;
  int64_t requests;
  Arrival arrival;
};

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

}  // namespace cotenant::replay::testing
