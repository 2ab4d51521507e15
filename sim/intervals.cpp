#include "sim/intervals.h"

#include <algorithm>

namespace cotenant {

TimeNs UnionLengthNs(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end());
  TimeNs total = 0;
  bool open = false;
  TimeNs cur_start = 0, cur_end = 0;
  for (const auto& [s, e] : intervals) {
    if (!open || s > cur_end) {
      if (open) total += cur_end - cur_start;
      cur_start = s;
      cur_end = e;
      open = true;
    } else {
      cur_end = std::max(cur_end, e);
    }
  }
  if (open) total += cur_end - cur_start;
  return total;
}

}  // namespace cotenant
