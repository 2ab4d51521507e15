// The standard ways to share a GPU that every search result is compared with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::search {

struct BaselinePlan {
  std::string name;          ///< "sequential", "native", "equal-partition", "priority"
  std::string description;   ///< one line: what the plan does
  std::optional<Plan> plan;  ///< nullopt when the GPU cannot express it
  std::string missing;       ///< why there is no plan
};

/// The baselines, in this order:
/// - sequential: one tenant after another, in workload order (one
///   concurrency group per tenant: each tenant starts when every request of
///   the one before has completed; the plan IR gives each tenant its own
///   streams, so "one stream" becomes "one tenant at a time");
/// - native: the empty plan, one stream per tenant, all at once;
/// - equal-partition: every tenant gets the same SM partition, the largest
///   multiple of the GPU's granularity that fits (MPS-like isolation);
/// - priority: the most latency-critical tenant (CriticalTenant) gets stream
///   priority -1, the others 0.
std::vector<BaselinePlan> BaselinePlans(const LoadedWorkload& lw);

/// The most latency-critical tenant: the tightest SLO; without SLOs the
/// largest weight; with equal weights the shortest isolated request. Ties go
/// to the earlier tenant. `why` (optional) says which rule decided.
int CriticalTenant(const LoadedWorkload& lw, std::string* why = nullptr);

}  // namespace cotenant::search
