// The replay's JSON documents: a ReplayReport as JSON and back (how a
// replay run in a child process, isolate.h, hands its measurements to
// cotenant; `cotenant.replay-report/1`, lossless for every field the report
// has), the kernel-sizing report `replay --sizing-report` writes
// (`cotenant.replay-calibration/1`) and the measured result `replay -o`
// writes (`cotenant.result/1` with the replay's provenance).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tools/replay/replay_measurer.h"
#include "tools/replay/runner.h"

namespace cotenant::replay {

nlohmann::json ReplayReportToJson(const ReplayReport& report);

/// Reads what ReplayReportToJson wrote. `graph_nodes` is the node count of
/// the graph the runs belong to: every run must have that many times.
/// Throws InputError naming `where` and the field on anything else.
ReplayReport ReplayReportFromJson(const nlohmann::json& j, size_t graph_nodes,
                                  const std::string& where);

/// The per-kernel sizing residuals and the run's provenance: the replay
/// report without the per-node times, as `cotenant.replay-calibration/1`
/// (the schema keeps its historical name; docs/formats.md).
nlohmann::json SizingReportToJson(const ReplayReport& report);

/// The measured result of a replayed plan: `cotenant.result/1` of the run
/// of median makespan, with `device`, `driver_version`, `runtime_version`,
/// `timing`, `calibration_error_pct` (kernel sizing: median, p90, max) and
/// every run's makespan (`run_makespans_ns`) added.
nlohmann::json MeasuredResultToJson(const MeasuredPlan& m);

}  // namespace cotenant::replay
