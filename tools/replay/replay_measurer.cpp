#include "tools/replay/replay_measurer.h"

#include <algorithm>
#include <utility>

#include "tools/replay/isolate.h"
#include "tools/replay/measured.h"
#include "tools/replay/program.h"

namespace cotenant::replay {

MeasuredPlan MeasurePlan(Runner& runner, const LoadedWorkload& lw, const TaskGraph& g,
                         const ReplayOptions& options, bool timeline) {
  const ReplayProgram program = BuildReplayProgram(g);
  MeasuredPlan m;
  m.report = RunReplayInChild(runner, lw, g, program, options);
  std::vector<std::pair<TimeNs, size_t>> spans;
  for (size_t i = 0; i < m.report.runs.size(); ++i) {
    m.results.push_back(AssembleResult(lw, g, m.report.runs[i], timeline));
    spans.emplace_back(m.results.back().makespan_ns, i);
  }
  std::sort(spans.begin(), spans.end());
  m.median = spans[spans.size() / 2].second;
  return m;
}

ReplayMeasurer::ReplayMeasurer(Runner& runner, ReplayOptions options, Log log)
    : runner_(runner), options_(std::move(options)), log_(std::move(log)) {}

validation::Measurement ReplayMeasurer::Measure(const LoadedWorkload& lw, const Plan& plan,
                                                const std::string& label) {
  const TaskGraph g = BuildTaskGraph(lw, plan);
  ReplayOptions o = options_;
  o.max_connections = plan.max_connections;
  o.log = nullptr;
  if (log_) o.log = [this, label](const std::string& line) { log_(label, line); };
  MeasuredPlan m = MeasurePlan(runner_, lw, g, o, false);
  validation::Measurement out;
  out.result = std::move(m.results[m.median]);
  out.device = m.report.device_name;
  out.driver_version = m.report.driver_version;
  out.timing = m.report.timing;
  out.notes = m.report.notes;
  return out;
}

}  // namespace cotenant::replay
