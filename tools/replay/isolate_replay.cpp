// RunReplayInChild, apart from the fork machinery (isolate.cpp) so that the
// host-logic tests, which have no runner, link without it.
#include "tools/replay/isolate.h"
#include "tools/replay/report_json.h"

namespace cotenant::replay {

ReplayReport RunReplayInChild(const LoadedWorkload& lw, const TaskGraph& g,
                              const ReplayProgram& program, const ReplayOptions& options) {
  const nlohmann::json j =
      RunInChild([&]() { return ReplayReportToJson(RunReplay(lw, g, program, options)); });
  return ReplayReportFromJson(j, g.nodes.size(), "the replay process's report");
}

}  // namespace cotenant::replay
