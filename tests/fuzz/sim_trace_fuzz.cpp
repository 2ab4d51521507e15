// libFuzzer target: any bytes as a trace must give a trace or an InputError,
// and any trace that reads must simulate (fluid and, when small, block)
// without crashing, hanging or breaking an internal check.
// Run: tests/fuzz/run.sh SECONDS sim_trace (docs/FUZZING.md).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const cotenant::GpuSpec& Spec() {
  static const cotenant::GpuSpec spec = cotenant::LoadGpuSpec("h100-sxm");
  return spec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cotenant;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Trace trace;
  try {
    trace = ParseTrace(text, "fuzz.json");
  } catch (const InputError&) {
    return 0;
  }
  if (trace.tasks.size() > 300) return 0;
  LoadedWorkload lw;
  lw.gpu = Spec();
  for (int t = 0; t < 2; ++t) {
    TenantSpec ts;
    ts.name = "t" + std::to_string(t);
    ts.requests = 2;
    lw.workload.tenants.push_back(ts);
    lw.traces.push_back(trace);
    lw.by_batch.emplace_back();
  }
  Plan plan;
  plan.max_connections = 1 + static_cast<int32_t>(size % 3);
  plan.tenants["t1"].priority = -1;
  for (const char* model : {"fluid", "block"}) {
    int64_t blocks = 0;
    for (const Task& task : trace.tasks) blocks += task.HasShape() ? task.Blocks() : 132;
    if (std::string(model) == "block" && blocks > 20000) continue;
    fuzz::SimulateAndWrite(lw, plan, model);
  }
  return 0;
}
