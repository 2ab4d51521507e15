// The CUDA runner's factory (runner.cpp). No CUDA types, so that the
// replay library's factory can name it.
#pragma once

#include <memory>

#include "tools/replay/runner.h"

namespace cotenant::replay {

/// A runner that executes replay programs on the CUDA device
/// `ReplayOptions::device`.
std::unique_ptr<Runner> NewCudaRunner();

}  // namespace cotenant::replay
