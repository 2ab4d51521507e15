// Calibration of the contention model: a built-in set of co-location
// micro-benchmarks (pairs and triples of synthetic kernels), measured through
// a Measurer (replay on a GPU), and a least-squares fit (Levenberg-Marquardt
// over Simulate(), Eigen) of the GPU spec's model parameters to the measured
// co-run times. The measurements are an input, so the fit is tested on the
// CPU against times simulated with known parameters. (Not to be confused
// with kernel sizing, which fits replay kernels to traced durations:
// tools/replay/kernel_sizing.h.)
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/plan.h"
#include "sim/simulate.h"
#include "tools/validation/measurer.h"

namespace cotenant::validation {

/// One synthetic kernel of a micro-benchmark; it is one tenant of the
/// benchmark's workload: a launch call of kMicroLaunchNs, then the kernel.
struct MicroKernel {
  int64_t blocks = 1;      ///< grid size (1-D)
  int32_t threads = 256;   ///< threads per block (32 registers, no shared memory)
  TimeNs dur_ns = 100000;  ///< isolated duration on the whole GPU
  double mem_bound = 0.0;  ///< share of its isolated time bound by DRAM, 0..1
  int64_t dram_bytes = 0;  ///< DRAM bytes it moves (mem_bound * dur * the set's traffic rate)
  int32_t priority = 0;    ///< stream priority (lower = higher)
  int32_t sm_count = -1;   ///< green-context partition, SMs; -1 = share all
  TimeNs offset_ns = 0;    ///< start delay (plan offset)
};

/// Duration of each micro-benchmark kernel's launch call, ns.
inline constexpr TimeNs kMicroLaunchNs = 5000;

struct MicroBenchmark {
  std::string name;  ///< "pair-f0.50x1.00-m0.9x0.9-partition"
  std::vector<MicroKernel> kernels;
  bool held_out = false;  ///< in the held-out part (not fitted)
};

/// Options of the built-in set.
struct MicroSetOptions {
  TimeNs wave_ns = 100000;  ///< isolated time of one whole-GPU wave of the first kernel
  /// DRAM traffic of a kernel while DRAM-bound, as a share of the spec's
  /// peak `dram_gbps` (a kernel alone must not overload DRAM, so below the
  /// smallest efficiency the fit may find).
  double dram_share = 0.6;
  int32_t held_out_every = 4;  ///< every n-th benchmark (n-1, 2n-1, ...) is held out
  /// Keep only benchmarks 0, k, 2k, ... of the whole set (1 = all), for a
  /// run that must fit a time budget; held out is then counted over the kept.
  int32_t keep_every = 1;
};

/// The built-in set for `spec`: pairs and triples sweeping footprint (a
/// quarter, half, all of the SM slots, 2.5 waves), DRAM intensity
/// (mem_bound 0, 0.5, 0.9), priority (the later kernel higher) and SM
/// partition (equal green-context shares, when the GPU has them).
/// Deterministic; every `held_out_every`-th benchmark is held out. With
/// `keep_every` k > 1, the subset 0, k, 2k, ... of that set.
std::vector<MicroBenchmark> BuildMicroBenchmarks(const GpuSpec& spec,
                                                 const MicroSetOptions& options = {});

/// The benchmark as a workload on `spec` (tenants k0, k1, ...; one closed
/// request each) and its plan.
LoadedWorkload MicroWorkload(const GpuSpec& spec, const MicroBenchmark& b);
Plan MicroPlan(const MicroBenchmark& b);

/// Co-run times: per benchmark, per kernel, when its tenant finished, ns.
using CoRunTimes = std::vector<std::vector<double>>;

/// Called after benchmark `b`, number `index` of `count`, was measured
/// (progress lines).
using OnBenchmark =
    std::function<void(const MicroBenchmark& b, size_t index, size_t count, const Measurement& m)>;

/// Measures every benchmark through `measurer` (labelled with the
/// benchmark's name) and collects the tenants' finish times.
CoRunTimes MeasureCoRun(const GpuSpec& spec, const std::vector<MicroBenchmark>& set,
                        Measurer& measurer, const OnBenchmark& on_measured = nullptr);

/// What Simulate() (fluid) predicts for the set with `spec`'s parameters.
CoRunTimes PredictCoRun(const GpuSpec& spec, const std::vector<MicroBenchmark>& set);

/// |relative error| statistics of predictions against measurements, percent.
struct FitError {
  int64_t count = 0;
  double mean_abs_pct = 0.0, max_abs_pct = 0.0, rms_pct = 0.0;
};

/// Which parameters the fit moves, and how.
struct FitOptions {
  bool fit_dram_efficiency = true;
  bool fit_corun_slowdown = true;
  bool fit_launch_latency = true;
  int32_t max_iterations = 40;
  double tolerance = 1e-12;  ///< stop when the cost falls by less than this (relative)
};

struct FitReport {
  ModelParams before, after;
  int32_t iterations = 0;
  bool converged = false;
  int64_t benchmarks = 0, fitted = 0, held_out = 0;  ///< benchmark counts
  FitError train_before, train_after;                ///< on the fitted part
  FitError held_out_before, held_out_after;          ///< on the held-out part
  std::vector<std::string> parameters;               ///< names of the fitted parameters
};

/// Fits the model parameters to `measured` (one entry per benchmark of
/// `set`, as MeasureCoRun returns) on the benchmarks not held out, minimising
/// the sum of squared relative errors of the kernels' co-run times, with
/// parameters kept in range (dram_efficiency in [0.05, 1], corun_slowdown
/// >= 0, launch latency >= 0). Starts from `spec.model`. Throws InputError
/// when `measured` does not match the set.
FitReport FitModel(const GpuSpec& spec, const std::vector<MicroBenchmark>& set,
                   const CoRunTimes& measured, const FitOptions& options = {});

/// Where a calibration ran.
struct CalibrationProvenance {
  std::string date;    ///< YYYY-MM-DD
  std::string device;  ///< the GPU's name as the driver reports it
  std::string driver;  ///< driver version ("" = not known)
};

/// `spec` with the fitted parameters, `model.calibrated` = true, a one-line
/// `model.source` and `sources.model`, and the details in `sources.calibration`
/// (an object; see docs/formats.md).
GpuSpec ApplyCalibration(const GpuSpec& spec, const FitReport& report,
                         const CalibrationProvenance& provenance);

/// A calibration run from start to end.
struct Calibration {
  std::vector<MicroBenchmark> set;  ///< the built-in set it measured
  FitReport fit;
  CalibrationProvenance provenance;  ///< device and driver of the last measurement
  GpuSpec spec;                      ///< the calibrated spec (ApplyCalibration)
};

/// Builds the built-in set for `spec` (`set_options`), measures it through
/// `measurer`, fits the model (`fit_options`) and applies the fit, recording
/// `date` (YYYY-MM-DD) as where it ran.
Calibration Calibrate(const GpuSpec& spec, Measurer& measurer, const std::string& date,
                      const FitOptions& fit_options = {}, const MicroSetOptions& set_options = {},
                      const OnBenchmark& on_measured = nullptr);

/// The `cotenant.calibration/1` report (docs/formats.md).
nlohmann::json CalibrationReportToJson(const FitReport& report,
                                       const CalibrationProvenance& provenance,
                                       const std::string& gpu_key);

}  // namespace cotenant::validation
