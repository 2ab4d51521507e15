// Training iterations in Kineto traces: the "ProfilerStep#N" ranges
// (internal to the Kineto importer; StepWindow() is in profiler/kineto.h).
#pragma once

#include <cstdint>
#include <string>

namespace cotenant::profiler::kineto {

/// N of "ProfilerStep#N", or -1.
int64_t StepNumber(const std::string& name);

}  // namespace cotenant::profiler::kineto
