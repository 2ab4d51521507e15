// Time units: integer nanoseconds everywhere; conversions happen only here.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace cotenant {

/// A point in simulated time or a duration, in nanoseconds.
using TimeNs = int64_t;

/// "Never": the time of an event that will not happen.
constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

/// Nanoseconds to microseconds (Chrome trace-event `ts`/`dur`).
inline double NsToUs(TimeNs ns) { return static_cast<double>(ns) / 1000.0; }

/// The duration needed to do `work` at `rate` work units per ns, rounded up
/// to a whole nanosecond. Returns kNever when rate <= 0 and work > 0, and 0
/// when work <= 0. The only place where work and rate become time.
inline TimeNs DurationFromWork(double work, double rate) {
  if (work <= 0.0) return 0;
  if (rate <= 0.0) return kNever;
  const double t = rate == 1.0 ? work : work / rate;  // (x / 1 is x: one division less)
  if (t >= 9.0e18) return kNever;
  // Tolerate floating-point dust just above an integer: 1000.0000000001 -> 1000.
  const double r = static_cast<double>(static_cast<int64_t>(t + 0.5));  // round, t >= 0
  if (std::fabs(t - r) <= 1e-9 * std::max(1.0, r)) return static_cast<TimeNs>(r);
  return static_cast<TimeNs>(std::ceil(t));
}

}  // namespace cotenant
