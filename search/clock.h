// Where a search reads the time for its budget in seconds: the steady wall
// clock, or a fake in tests, so that keeping a deadline can be checked
// without timing anything.
#pragma once

namespace cotenant::search {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Seconds since a fixed, arbitrary epoch; never decreases.
  virtual double Seconds() const = 0;
};

/// The steady (monotonic) wall clock; one instance, safe from any thread.
const Clock& SteadyClock();

}  // namespace cotenant::search
