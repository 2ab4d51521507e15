// The resolution step of the Kineto importer: once every event is read,
// the records are joined (correlations from flows, waits to their event
// records, operator labels through External id, the device's name) and the
// report is completed. Internal to the Kineto importer.
#pragma once

#include "profiler/capture.h"
#include "profiler/kineto.h"
#include "profiler/kineto_events.h"

namespace cotenant::profiler::kineto {

/// Applies every rule below in order, then fills the report's layout,
/// steps and problems (also appended to `capture.problems`).
void Resolve(Pending& pending, Capture& capture, KinetoReport& report);

}  // namespace cotenant::profiler::kineto
