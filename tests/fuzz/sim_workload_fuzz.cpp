// libFuzzer target, structure-aware: the bytes are decoded into 1-3 small
// traces (every task kind, threads, streams, correlations, events, syncs,
// `after` dependencies, launch shapes, DRAM use) and a plan (groups,
// priorities, SM partitions, stages, batch split, offsets,
// max_connections). Traces go through the reader (so only valid ones are
// simulated); then fluid and block must finish without crashing, hanging or
// failing an internal check; a plan or workload that cannot run must be an
// InputError.
// Run: tests/fuzz/run.sh SECONDS sim_workload (docs/FUZZING.md).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace cotenant;

/// Reads bytes one at a time; zeros once they run out.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  int Range(int n) { return n <= 0 ? 0 : Next() % n; }
  bool Empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

const GpuSpec& Spec() {
  static const GpuSpec spec = [] {
    GpuSpec s = LoadGpuSpec("h100-sxm");
    s.sm_count = 16;  // small, so that block stays fast and kernels contend
    s.sm_partition_granularity = 4;
    s.sm_partition_min = 4;
    return s;
  }();
  return spec;
}

Trace MakeTrace(Bytes& in, const std::string& name) {
  Trace t;
  t.tenant = name;
  t.meta["batch"] = 4;
  const int n = 1 + in.Range(24);
  TimeNs clock = 0;
  int64_t next_corr = 1;
  int recorded = 0;  // bit e: event e has a record
  for (int i = 0; i < n; ++i) {
    Task task;
    task.id = i + 1;
    task.start_ns = clock;
    clock += in.Range(5) * 500;
    task.dur_ns = in.Range(8) * 250;
    const int kind = in.Range(10);
    auto gpu = [&](TaskKind k) {
      task.kind = k;
      task.stream = 7 + 2 * in.Range(3);
      if (in.Range(2) == 0 && i > 0) task.correlation = next_corr - 1 - in.Range(2);
    };
    switch (kind) {
      case 0:
      case 1:
        task.kind = TaskKind::kLaunch;
        task.thread = 1 + in.Range(2);
        task.correlation = next_corr++;
        break;
      case 2:
      case 3:
      case 4:
        gpu(TaskKind::kKernel);
        if (in.Range(4) != 0) {
          task.grid = {1 + in.Range(64), 1 + in.Range(2), 1};
          task.block = {32 * (1 + in.Range(32)), 1, 1};
          task.regs = 16 + in.Range(200);
          task.smem = in.Range(4) * 32768;
        }
        if (in.Range(2)) task.mem_bound = in.Range(11) / 10.0;
        if (in.Range(3) == 0) task.dram_bytes = task.dur_ns * in.Range(4000);
        break;
      case 5:
        gpu(TaskKind::kMemcpy);
        task.dir = static_cast<CopyDir>(1 + in.Range(5));
        task.bytes = in.Range(100) * 1000;
        break;
      case 6:
        gpu(TaskKind::kMemset);
        task.bytes = in.Range(100) * 1000;
        break;
      case 7:  // (a wait only on an event already recorded, else the reader rejects it)
        task.event = 1 + in.Range(3);
        task.kind = in.Range(2) && (recorded >> task.event & 1) ? TaskKind::kStreamWait
                                                                : TaskKind::kEventRecord;
        if (task.kind == TaskKind::kEventRecord) recorded |= 1 << task.event;
        task.stream = 7 + 2 * in.Range(3);
        if (in.Range(3) != 0) task.thread = 1 + in.Range(2);
        break;
      case 8:
        task.kind = TaskKind::kSync;
        task.thread = 1 + in.Range(2);
        task.scope = static_cast<SyncScope>(1 + in.Range(3));
        if (task.scope == SyncScope::kStream) task.stream = 7 + 2 * in.Range(3);
        if (task.scope == SyncScope::kEvent) {
          task.event = 1 + in.Range(3);
          if (!(recorded >> task.event & 1)) task.scope = SyncScope::kDevice;
        }
        break;
      default:
        task.kind = TaskKind::kCpu;
        task.thread = 1 + in.Range(2);
        break;
    }
    if (in.Range(12) == 0 && i > 0) task.after = {1 + in.Range(i)};  // an earlier task
    t.tasks.push_back(task);
  }
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  LoadedWorkload lw;
  lw.gpu = Spec();
  const int tenants = 1 + in.Range(3);
  Plan plan;
  for (int ti = 0; ti < tenants; ++ti) {
    const std::string name = "t" + std::to_string(ti);
    Trace raw = MakeTrace(in, name);
    try {  // only what the reader accepts reaches the simulator
      lw.traces.push_back(ParseTrace(TraceToJsonText(raw), name + ".json"));
    } catch (const InputError&) {
      return 0;
    }
    TenantSpec ts;
    ts.name = name;
    ts.requests = 1 + in.Range(3);
    if (in.Range(3) == 0) {
      ts.arrival.kind = ArrivalKind::kPeriodic;
      ts.arrival.period_ns = 1 + in.Range(8) * 1000;
    }
    lw.workload.tenants.push_back(ts);
    lw.by_batch.emplace_back();
    TenantPlan& tp = plan.tenants[name];
    tp.priority = -in.Range(2);
    if (in.Range(4) == 0) tp.sm_count = 4 * (1 + in.Range(2));
    if (in.Range(4) == 0) tp.batch_split = 1 + in.Range(3);
    tp.offset_ns = in.Range(3) * 700;
    if (in.Range(6) == 0) plan.stages[name] = {1};
  }
  plan.max_connections = 1 + in.Range(4);
  if (tenants > 1 && in.Range(3) == 0) {
    plan.groups = {{"t0"}, {}};
    for (int ti = 1; ti < tenants; ++ti) plan.groups[1].push_back("t" + std::to_string(ti));
  }
  for (const char* model : {"fluid", "block"}) {
    fuzz::SimulateAndWrite(lw, plan, model);
  }
  return 0;
}
