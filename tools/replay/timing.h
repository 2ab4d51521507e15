// Measured GPU times from the project's profiler (CUPTI, replay mode): each
// GPU operation the runner enqueues is tagged with an external id naming its
// graph node, and the activities CUPTI reports back are mapped onto the
// measured run here. Host logic only, so it is tested without a GPU.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/graph.h"
#include "tools/replay/measured.h"
#include "tools/replay/runner.h"

namespace cotenant::replay {

/// One GPU activity CUPTI reported: the external id pushed when it was
/// enqueued and its start and end on CUPTI's clock.
struct TimingSample {
  uint64_t id = 0;
  uint64_t start_ns = 0, end_ns = 0;
};

/// The external id of graph node `v` (never 0, which CUPTI uses for "none").
inline uint64_t TimingId(int32_t v) { return static_cast<uint64_t>(v) + 1; }

/// True when node `v` of `g` enqueues GPU work CUPTI reports (a kernel, or a
/// copy or memset of more than 0 bytes), so the runner tags it and a sample
/// is expected back.
bool ExpectsSample(const TaskGraph& g, int32_t v);

/// What ApplyTimings did.
struct TimingApplied {
  int64_t matched = 0;         ///< nodes given a measured start and end
  int64_t unknown = 0;         ///< samples whose id names no node that expects one
  int64_t missing = 0;         ///< nodes that expect a sample and got none
  int32_t first_missing = -1;  ///< the first such node, for the error message
};

/// Writes each sample's interval into `run` (node = id - 1) relative to
/// `origin_ns` on the same clock (the replay clock's zero); several samples
/// of one node span from the earliest start to the latest end. Samples that
/// start before the origin are clamped to 0.
TimingApplied ApplyTimings(const TaskGraph& g, const std::vector<TimingSample>& samples,
                           uint64_t origin_ns, MeasuredRun* run);

/// "CUPTI reported no time for 3 of 120 GPU operations (first: kernel 'gemm'
/// of tenant resnet50, request 0)" — empty when nothing is missing.
std::string DescribeMissing(const TaskGraph& g, const TimingApplied& applied, int64_t expected);

/// The traced API time of a host thread's calls already includes what the
/// real CUDA calls cost, so the replay spins only for the rest: the real
/// time of each enqueue (launch, copy, event record, stream wait) is owed,
/// and paid from the spun API time of the thread's next host calls.
class ApiTimeLedger {
 public:
  /// A real CUDA call took `ns` on this thread.
  void Owe(TimeNs ns) {
    if (ns > 0) debt_ += ns;
  }
  /// How long to spin for a host call traced at `traced_ns`.
  TimeNs Spin(TimeNs traced_ns) {
    const TimeNs paid = std::min(debt_, std::max<TimeNs>(traced_ns, 0));
    debt_ -= paid;
    return std::max<TimeNs>(traced_ns, 0) - paid;
  }
  /// Real call time no traced API time absorbed (so far): the replay's host
  /// side is that much slower than the trace's.
  TimeNs debt() const { return debt_; }

 private:
  TimeNs debt_ = 0;
};

}  // namespace cotenant::replay
