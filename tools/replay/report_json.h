// A ReplayReport as JSON and back: how a replay run in a child process
// (isolate.h) hands its measurements to cotenant, and what `cotenant replay
// --calibration` writes. Lossless for every field the report has.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tools/replay/runner.h"

namespace cotenant::replay {

nlohmann::json ReplayReportToJson(const ReplayReport& report);

/// Reads what ReplayReportToJson wrote. `graph_nodes` is the node count of
/// the graph the runs belong to: every run must have that many times.
/// Throws InputError naming `where` and the field on anything else.
ReplayReport ReplayReportFromJson(const nlohmann::json& j, size_t graph_nodes,
                                  const std::string& where);

}  // namespace cotenant::replay
