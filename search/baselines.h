// The standard ways to share a GPU that every search result is compared with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::search {

struct BaselinePlan {
  std::string name;          ///< "sequential", "native", "equal-partition", "priority", ...
  std::string description;   ///< one line: what the plan does
  std::optional<Plan> plan;  ///< nullopt when the GPU cannot express it (or `alone`)
  std::string missing;       ///< why there is no plan
  /// A reference, not a plan for the shared GPU: every tenant simulated alone on
  /// the whole GPU, one at a time (SimulateAlone). `plan` is nullopt.
  bool alone = false;
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
/// With llm tenants, sequential has no plan (an llm tenant cannot wait for a
/// group), equal-partition covers the llm tenants too, and these follow:
/// - chunked-shared: every tenant shares all SMs, every llm tenant with
///   chunked_prefill on;
/// - pd-even: prefill/decode multiplexed, even split: the SMs split evenly
///   among the llm tenants, each one's prefill and decode on half of its share
///   (rounded down to the granularity); trace tenants share every SM;
/// - alone: no sharing, a reference row: every tenant alone on the whole GPU
///   (SimulateAlone), not a plan for the shared GPU.
std::vector<BaselinePlan> BaselinePlans(const LoadedWorkload& lw);

/// Every tenant of `lw` alone on the whole GPU under the native plan, one
/// simulation per tenant; the result holds each tenant's own result (trace
/// tenants, then llm tenants, as Simulate's), makespan = the longest, and
/// no GPU usage or lower bound.
SimResult SimulateAlone(const LoadedWorkload& lw, const SimOptions& options);

/// The most latency-critical tenant (an index into the trace tenants, then the
/// llm tenants): the tightest SLO (an llm tenant's TTFT SLO); without SLOs the
/// largest weight; with equal weights the shortest isolated request (llm
/// tenants last). Ties go to the earlier tenant. `why` (optional) says which
/// rule decided.
int CriticalTenant(const LoadedWorkload& lw, std::string* why = nullptr);

}  // namespace cotenant::search
