// Kernel sizing: how much synthetic work a replay kernel needs so that,
// alone on the GPU, it takes the traced kernel's isolated duration. Pure
// functions over measured times, so they are tested with fake timings.
// (Not to be confused with calibration, which fits the contention model:
// tools/validation/calibration.h.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant::replay {

/// One timed probe: the kernel ran alone with `work` units and took `time_ns`.
struct Probe {
  double work = 0.0;
  double time_ns = 0.0;
};

/// T(work) = a + b * work (a: fixed cost in ns, b: ns per work unit).
struct LinearFit {
  double a = 0.0, b = 0.0;
  bool ok = false;  ///< false when the probes do not determine a rising line
};

/// Least-squares line through the probes. With one probe (or probes of one
/// work value), a line through the origin. Not ok when the slope is not positive.
LinearFit FitLinear(const std::vector<Probe>& probes);

/// The work for which the fit predicts `target_ns`, clamped to
/// [min_work, max_work].
double SolveWork(const LinearFit& fit, double target_ns, double min_work, double max_work);

/// Signed error of a measured time against its target, in percent.
double ErrorPercent(double measured_ns, double target_ns);

/// Result of sizing one kernel.
struct KernelSizing {
  double work = 0.0;         ///< the work chosen
  double measured_ns = 0.0;  ///< the isolated time measured with it
  double target_ns = 0.0;
  double error_pct = 0.0;  ///< ErrorPercent(measured_ns, target_ns)
  std::vector<Probe> probes;
};

/// Options of SizeKernel.
struct SizingOptions {
  int32_t iterations = 4;      ///< refinements after the two initial probes
  double min_work = 0.0;       ///< smallest work the kernel accepts
  double max_work = 1e12;      ///< largest
  double tolerance_pct = 1.0;  ///< stop early when |error| is at most this
};

/// Sizes one kernel: probes `initial_work` and twice it, fits
/// T = a + b * work over every probe so far, solves for `target_ns`, times
/// that, and repeats a fixed number of times; returns the probe closest to
/// the target. `time_ns(work)` runs the kernel alone and returns its time.
KernelSizing SizeKernel(double target_ns, double initial_work,
                        const std::function<double(double)>& time_ns,
                        const SizingOptions& options = {});

/// Median, 90th percentile and maximum of absolute errors, in percent.
struct ErrorSummary {
  int64_t count = 0;
  double median_pct = 0.0, p90_pct = 0.0, max_pct = 0.0;
};
ErrorSummary SummarizeErrors(const std::vector<double>& errors_pct);

/// The replay kernel's two knobs for `work` units: compute spin iterations
/// per thread and DRAM bytes streamed per block, split by `mem_bound`
/// (0..1, the share of the traced time bound by DRAM). One unit is one spin
/// iteration or `bytes_per_unit` bytes per block.
struct KernelWork {
  int64_t spin_iters = 0;
  int64_t bytes_per_block = 0;
};
KernelWork SplitWork(double work, double mem_bound, double bytes_per_unit);

/// A first guess of the work that takes `dur_ns` for a kernel of `waves`
/// waves on a GPU at `clock_mhz`, assuming a spin iteration of
/// `cycles_per_iter` cycles; at least 1.
double InitialWork(TimeNs dur_ns, double waves, double clock_mhz, double cycles_per_iter);

}  // namespace cotenant::replay
