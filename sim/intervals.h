// Time intervals: the union of busy intervals (GPU busy time of a trace, a
// host thread's busy time, SM busy time of a run), computed in one place.
#pragma once

#include <utility>
#include <vector>

#include "sim/units.h"

namespace cotenant {

/// A half-open time interval [first, second), ns; second >= first.
using Interval = std::pair<TimeNs, TimeNs>;

/// Total length of the union of `intervals`, ns: overlapping and touching
/// intervals count once, empty ones not at all; 0 for none. Takes the
/// vector by value because it sorts it.
TimeNs UnionLengthNs(std::vector<Interval> intervals);

}  // namespace cotenant
