#include "search/baselines.h"

#include <algorithm>

#include "search/trace_facts.h"
#include "sim/trace_stats.h"

namespace cotenant::search {

int CriticalTenant(const LoadedWorkload& lw, std::string* why) {
  const std::vector<TenantSpec>& ts = lw.workload.tenants;
  int best = 0;
  bool any_slo = false;
  for (const TenantSpec& t : ts) any_slo = any_slo || t.slo_ns > 0;
  bool weights_differ = false;
  for (const TenantSpec& t : ts) weights_differ = weights_differ || t.weight != ts[0].weight;
  for (int i = 1; i < static_cast<int>(ts.size()); ++i) {
    const TenantSpec& a = ts[i];
    const TenantSpec& b = ts[best];
    bool better;
    if (any_slo) {
      const TimeNs sa = a.slo_ns > 0 ? a.slo_ns : kNever;
      const TimeNs sb = b.slo_ns > 0 ? b.slo_ns : kNever;
      better = sa != sb ? sa < sb : a.weight > b.weight;
    } else if (weights_differ) {
      better = a.weight > b.weight;
    } else {
      better = RequestSpanNs(lw.traces[i]) < RequestSpanNs(lw.traces[best]);
    }
    if (better) best = i;
  }
  if (why != nullptr) {
    *why = any_slo          ? "the tightest SLO"
           : weights_differ ? "the largest weight"
                            : "the shortest request";
  }
  return best;
}

std::vector<BaselinePlan> BaselinePlans(const LoadedWorkload& lw) {
  const Workload& w = lw.workload;
  const int n = static_cast<int>(w.tenants.size());
  std::vector<BaselinePlan> out;

  BaselinePlan seq{"sequential", "one tenant after another, in workload order", Plan{}, ""};
  if (n > 1)
    for (const TenantSpec& t : w.tenants) seq.plan->groups.push_back({t.name});
  out.push_back(seq);

  out.push_back({"native", "native multi-stream: one stream per tenant, all at once", Plan{}, ""});

  BaselinePlan eq{"equal-partition", "", std::nullopt, ""};
  const int32_t g = lw.gpu.sm_partition_granularity;
  const int32_t per = g > 0 ? lw.gpu.sm_count / n / g * g : 0;
  if (g == 0) {
    eq.missing = lw.gpu.key + " has no SM partitioning";
  } else if (per < lw.gpu.sm_partition_min) {
    eq.missing = "an equal share of " + std::to_string(lw.gpu.sm_count) + " SMs is below the " +
                 std::to_string(lw.gpu.sm_partition_min) + "-SM minimum partition";
  } else {
    eq.plan = Plan{};
    for (const TenantSpec& t : w.tenants) eq.plan->tenants[t.name].sm_count = per;
    eq.description = "every tenant capped at its own " + std::to_string(per) + " SMs (MPS-like)";
  }
  out.push_back(eq);

  std::string why;
  const int critical = CriticalTenant(lw, &why);
  BaselinePlan pri{"priority", "", Plan{}, ""};
  pri.plan->tenants[w.tenants[critical].name].priority = -1;
  pri.description =
      w.tenants[critical].name + " (" + why + ") gets stream priority -1, the others 0";
  out.push_back(pri);
  return out;
}

}  // namespace cotenant::search
