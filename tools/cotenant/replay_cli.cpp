#include "tools/cotenant/replay_cli.h"

#include <algorithm>
#include <utility>

#include "sim/error.h"
#include "tools/cotenant/inject_lib.h"
#include "tools/replay/isolate.h"
#include "tools/replay/measured.h"
#include "tools/replay/program.h"

namespace cotenant::cli {

void AddReplayOptions(CLI::App* sub, ReplayCliOptions* o) {
  sub->add_option("--repeat", o->repeat,
                  "Measured runs of the whole workload; the run of median makespan is used")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--device", o->device, "CUDA device ordinal")->check(CLI::NonNegativeNumber);
  sub->add_option("--calibration-iterations", o->iterations, "Work refinements per distinct kernel")
      ->check(CLI::Range(0, 50))
      ->capture_default_str();
  sub->add_option("--timing", o->timing,
                  "Where GPU times come from: cupti (the project's profiler, "
                  "libcotenant_inject.so), stamps (%globaltimer in the replay kernel), auto "
                  "(cupti when available)")
      ->check(CLI::IsMember({"auto", "cupti", "stamps"}))
      ->capture_default_str();
  sub->add_option("--inject", o->inject,
                  "Path of libcotenant_inject.so for CUPTI timing (default: $COTENANT_INJECT_LIB, "
                  "else next to cotenant)");
}

replay::ReplayOptions MakeReplayOptions(const ReplayCliOptions& o, int32_t max_connections,
                                        std::function<void(const std::string&)> log) {
  replay::ReplayOptions ro;
  ro.device = o.device;
  ro.repeat = o.repeat;
  ro.calibration_iterations = o.iterations;
  ro.max_connections = max_connections;
  ro.log = std::move(log);
  ro.timing = o.timing == "cupti"    ? replay::Timing::kCupti
              : o.timing == "stamps" ? replay::Timing::kStamps
                                     : replay::Timing::kAuto;
  if (ro.timing == replay::Timing::kStamps) return ro;
  if (!kHaveCupti) {
    if (ro.timing == replay::Timing::kCupti)
      throw InputError("--timing cupti: this cotenant was built without CUPTI");
    return ro;
  }
  if (ro.timing == replay::Timing::kCupti || !o.inject.empty()) {
    ro.inject_library = FindInjectLibrary(o.inject);
  } else {
    try {
      ro.inject_library = FindInjectLibrary("");
    } catch (const InputError&) {
      // auto: stamps, and the runner says so
    }
  }
  return ro;
}

MeasuredPlan MeasurePlan(const LoadedWorkload& lw, const TaskGraph& g,
                         const replay::ReplayOptions& options, bool timeline) {
  const replay::ReplayProgram program = replay::BuildReplayProgram(g);
  MeasuredPlan m;
  m.report = replay::RunReplayInChild(lw, g, program, options);
  std::vector<std::pair<TimeNs, size_t>> spans;
  for (size_t i = 0; i < m.report.runs.size(); ++i) {
    m.results.push_back(replay::AssembleResult(lw, g, m.report.runs[i], timeline));
    spans.emplace_back(m.results.back().makespan_ns, i);
  }
  std::sort(spans.begin(), spans.end());
  m.median = spans[spans.size() / 2].second;
  return m;
}

}  // namespace cotenant::cli
