// The replay runner's interface: what executes a replay program and says
// what happened. Two implementations: the CUDA runner (tools/replay/cuda/,
// built when the CUDA toolkit is present; MakeCudaRunner) and the fake GPU
// built on the simulator (fake_runner.h), which stands in for it in tests.
// No CUDA types here, so the CLI includes it in every build.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/replay/kernel_sizing.h"
#include "tools/replay/measured.h"
#include "tools/replay/occupancy_match.h"
#include "tools/replay/program.h"

namespace cotenant::replay {

/// Where measured kernel and copy times come from.
enum class Timing : uint8_t {
  kAuto,    ///< CUPTI when the injection library is given and the driver loads it, else stamps
  kCupti,   ///< the project's profiler (libcotenant_inject.so in replay mode); an error if unusable
  kStamps,  ///< %globaltimer stamps written by the replay kernel (kernels only)
};

struct ReplayOptions {
  int32_t device = 0;                 ///< CUDA device ordinal
  int32_t repeat = 1;                 ///< measured runs of the whole workload
  int32_t sizing_iterations = 4;      ///< kernel sizing: refinements per distinct kernel
  double sizing_tolerance_pct = 1.0;  ///< kernel sizing: stop at this |error|, percent
  int32_t max_connections =
      8;  ///< CUDA_DEVICE_MAX_CONNECTIONS (the plan's), set before CUDA starts
  Timing timing = Timing::kAuto;
  /// libcotenant_inject.so for CUPTI timing ("" = none: stamps). The runner
  /// points CUDA_INJECTION64_PATH at it before CUDA starts.
  std::string inject_library;
  /// Progress and notes, one line each (may be empty).
  std::function<void(const std::string&)> log;
};

/// Sizing of one distinct kernel (same name, shape and duration).
struct KernelReport {
  std::string name;
  int64_t launches = 0;  ///< replay launches of it in one run
  TimeNs target_ns = 0;  ///< traced isolated duration
  KernelSizing sizing;   ///< the work chosen and the residual
  OccupancyMatch occupancy;
  int64_t replay_dram_bytes = 0;        ///< DRAM bytes one replay launch reads and writes
  int64_t traced_dram_bytes = kAbsent;  ///< the trace's dram_bytes (counters), if known
};

struct ReplayReport {
  std::string device_name;
  int32_t driver_version = 0;   ///< cudaDriverGetVersion, e.g. 13000
  int32_t runtime_version = 0;  ///< cudaRuntimeGetVersion
  std::string timing;           ///< "cupti", "stamps" or "fake": where the measured times came from
  int32_t max_connections = 0;  ///< CUDA_DEVICE_MAX_CONNECTIONS of the replay process
  std::vector<MeasuredRun> runs;  ///< one per repeat, replay clock from each run's start
  std::vector<KernelReport> kernels;
  ErrorSummary sizing;             ///< over kernels, |sizing residual %|
  std::vector<std::string> notes;  ///< leftover SMs, clamped priorities, occupancy mismatches
};

/// Executes replay programs.
class Runner {
 public:
  virtual ~Runner() = default;

  /// Runs the replay program of `g` in this process: sizes every distinct
  /// kernel alone, then runs the workload `options.repeat` times. Throws
  /// InputError with a one-line reason when it cannot run (no usable
  /// device; the CUDA runner names the failing CUDA/driver call). The CUDA
  /// runner reads CUDA_DEVICE_MAX_CONNECTIONS and CUDA_INJECTION64_PATH once
  /// per process: run it through RunIsolated (isolate.h).
  virtual ReplayReport Run(const LoadedWorkload& lw, const TaskGraph& g,
                           const ReplayProgram& program, const ReplayOptions& options) = 0;
};

/// True when this build has the CUDA runner.
bool CudaRunnerBuilt();

/// The CUDA runner. In a build without it, throws InputError "`command`
/// needs a CUDA GPU: this cotenant was built without the CUDA toolkit
/// (nvcc)".
std::unique_ptr<Runner> MakeCudaRunner(const std::string& command);

}  // namespace cotenant::replay
