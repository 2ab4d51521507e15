#include "sim/trace_scale.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "sim/error.h"

namespace cotenant {
namespace {

bool IsHost(TaskKind k) {
  return k == TaskKind::kLaunch || k == TaskKind::kCpu || k == TaskKind::kEventRecord ||
         k == TaskKind::kStreamWait || k == TaskKind::kSync;
}

/// ceil(x * s) for x >= 0, as an integer time; throws when it overflows.
TimeNs ScaleUp(TimeNs x, double s, const Trace& t) {
  if (s == 1.0) return x;
  const double v = std::ceil(static_cast<double>(x) * s);
  if (!(v < 9.0e18)) {
    throw InputError((t.file.empty() ? std::string("trace") : t.file) +
                     ": scaled times overflow 64-bit nanoseconds");
  }
  return static_cast<TimeNs>(v);
}

void CheckFactor(double s, const char* what, const Trace& t) {
  if (!(s > 0.0) || !(s <= kMaxTraceScale)) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), ": expected a factor in (0, %g], found %g", kMaxTraceScale, s);
    throw InputError((t.file.empty() ? std::string("trace") : t.file) + ": " + what + buf);
  }
}

}  // namespace

void ScaleTrace(Trace* trace, double host_scale, double gpu_scale) {
  CheckFactor(host_scale, "host time scale", *trace);
  CheckFactor(gpu_scale, "GPU time scale", *trace);
  if (trace->tasks.empty()) return;
  TimeNs t0 = std::numeric_limits<TimeNs>::max();
  for (const Task& task : trace->tasks) t0 = std::min(t0, task.start_ns);
  for (Task& task : trace->tasks) {
    task.start_ns = t0 + ScaleUp(task.start_ns - t0, host_scale, *trace);
    if (IsHost(task.kind)) {
      task.dur_ns = ScaleUp(task.dur_ns, host_scale, *trace);
    } else if (task.kind == TaskKind::kKernel) {
      task.dur_ns = ScaleUp(task.dur_ns, gpu_scale, *trace);
    }
  }
}

}  // namespace cotenant
