#include "profiler/kineto_steps.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "profiler/kineto.h"
#include "profiler/kineto_values.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace kineto {

int64_t StepNumber(const std::string& name) {
  static const std::string kPrefix = "ProfilerStep#";
  if (name.rfind(kPrefix, 0) != 0) return -1;
  const std::optional<int64_t> n = IntFromText(name.substr(kPrefix.size()));
  return n && *n >= 0 ? *n : -1;
}

}  // namespace kineto

Window StepWindow(const Capture& capture, int64_t step, const std::string& file) {
  const std::string name = "ProfilerStep#" + std::to_string(step);
  const Range* found = nullptr;
  std::vector<int64_t> steps;
  for (const Range& r : capture.ranges) {
    const int64_t n = kineto::StepNumber(r.name);
    if (n >= 0) steps.push_back(n);
    if (r.name == name && (found == nullptr || r.start_ns < found->start_ns)) found = &r;
  }
  if (found == nullptr) {
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    std::string have;
    for (int64_t s : steps) have += (have.empty() ? "" : ", ") + std::to_string(s);
    FailAt(file, "--step " + std::to_string(step),
           "no " + name + " range in the trace" +
               (steps.empty() ? std::string(" (it has no ProfilerStep ranges: profile with "
                                            "torch.profiler.schedule and call prof.step())")
                              : " (its steps: " + have + ")"));
  }
  Window w;
  w.kind = Window::Kind::kTime;
  w.time_relative = false;
  w.from_ns = found->start_ns;
  w.to_ns = found->end_ns;
  return w;
}

}  // namespace cotenant::profiler
