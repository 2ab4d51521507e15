#include "search/baselines.h"

#include <algorithm>

#include "search/trace_facts.h"
#include "sim/trace_stats.h"

namespace cotenant::search {

namespace {

/// Every tenant's name: the trace tenants, then the llm tenants.
std::vector<std::string> Names(const Workload& w) {
  std::vector<std::string> names;
  for (const TenantSpec& t : w.tenants) names.push_back(t.name);
  for (const LlmTenantSpec& t : w.llm_tenants) names.push_back(t.name);
  return names;
}

}  // namespace

int CriticalTenant(const LoadedWorkload& lw, std::string* why) {
  const Workload& w = lw.workload;
  const int traces = static_cast<int>(w.tenants.size());
  const int n = traces + static_cast<int>(w.llm_tenants.size());
  const auto slo = [&](int i) {
    return i < traces ? w.tenants[i].slo_ns : w.llm_tenants[i - traces].slo.ttft_ns;
  };
  const auto weight = [&](int i) {
    return i < traces ? w.tenants[i].weight : w.llm_tenants[i - traces].weight;
  };
  const auto span = [&](int i) { return i < traces ? RequestSpanNs(lw.traces[i]) : kNever; };
  int best = 0;
  bool any_slo = false;
  for (int i = 0; i < n; ++i) any_slo = any_slo || slo(i) > 0;
  bool weights_differ = false;
  for (int i = 0; i < n; ++i) weights_differ = weights_differ || weight(i) != weight(0);
  for (int i = 1; i < n; ++i) {
    bool better;
    if (any_slo) {
      const TimeNs sa = slo(i) > 0 ? slo(i) : kNever;
      const TimeNs sb = slo(best) > 0 ? slo(best) : kNever;
      better = sa != sb ? sa < sb : weight(i) > weight(best);
    } else if (weights_differ) {
      better = weight(i) > weight(best);
    } else {
      better = span(i) < span(best);
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
  const std::vector<std::string> names = Names(w);
  const int n = static_cast<int>(names.size());
  const bool llm = !w.llm_tenants.empty();
  std::vector<BaselinePlan> out;

  BaselinePlan seq{"sequential", "one tenant after another, in workload order", Plan{}, ""};
  if (llm) {
    seq.plan.reset();
    seq.missing = "llm tenants serve requests as they arrive and cannot wait for a group";
  } else if (n > 1) {
    for (const std::string& name : names) seq.plan->groups.push_back({name});
  }
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
    for (const std::string& name : names) eq.plan->tenants[name].sm_count = per;
    eq.description = "every tenant capped at its own " + std::to_string(per) + " SMs (MPS-like)";
  }
  out.push_back(eq);

  std::string why;
  const int critical = CriticalTenant(lw, &why);
  BaselinePlan pri{"priority", "", Plan{}, ""};
  pri.plan->tenants[names[critical]].priority = -1;
  pri.description = names[critical] + " (" + why + ") gets stream priority -1, the others 0";
  out.push_back(pri);
  if (!llm) return out;

  BaselinePlan chunked{"chunked-shared", "", Plan{}, ""};
  for (const LlmTenantSpec& t : w.llm_tenants) chunked.plan->tenants[t.name].chunked_prefill = 1;
  chunked.description =
      "chunked prefill on the whole GPU: every tenant shares all SMs, the llm tenants chunk "
      "their prefills";
  out.push_back(chunked);

  BaselinePlan pd{"pd-even", "", std::nullopt, ""};
  const int64_t share =
      static_cast<int64_t>(lw.gpu.sm_count) / static_cast<int64_t>(w.llm_tenants.size());
  const int64_t half = g > 0 ? share / 2 / g * g : 0;
  if (g == 0) {
    pd.missing = lw.gpu.key + " has no SM partitioning";
  } else if (half < lw.gpu.sm_partition_min) {
    pd.missing = "half of " + std::to_string(share) + " SMs is below the " +
                 std::to_string(lw.gpu.sm_partition_min) + "-SM minimum partition";
  } else {
    pd.plan = Plan{};
    for (const LlmTenantSpec& t : w.llm_tenants) {
      TenantPlan& tp = pd.plan->tenants[t.name];
      tp.prefill_sm_count = static_cast<int32_t>(half);
      tp.decode_sm_count = static_cast<int32_t>(half);
    }
    pd.description =
        "prefill/decode multiplexed, even split: each llm tenant's prefill and decode on " +
        std::to_string(half) + " SMs each; the other tenants share every SM";
  }
  out.push_back(pd);

  BaselinePlan alone{"alone", "", std::nullopt, ""};
  alone.alone = true;
  alone.missing = "a reference, not a plan";
  alone.description =
      "no sharing (reference, not a plan for the shared GPU): each tenant alone on the whole "
      "GPU, simulated one at a time";
  out.push_back(alone);
  return out;
}

SimResult SimulateAlone(const LoadedWorkload& lw, const SimOptions& options) {
  const Workload& w = lw.workload;
  const size_t traces = w.tenants.size();
  SimResult out;
  out.model = options.model;
  SimOptions o = options;
  o.templates = nullptr;
  o.workspace = nullptr;
  for (size_t i = 0; i < traces + w.llm_tenants.size(); ++i) {
    LoadedWorkload one;
    one.workload = w;
    one.workload.tenants.clear();
    one.workload.llm_tenants.clear();
    one.gpu = lw.gpu;
    one.gpu_reason = lw.gpu_reason;
    if (i < traces) {
      one.workload.tenants.push_back(w.tenants[i]);
      one.traces.push_back(lw.traces[i]);
      one.by_batch.push_back(lw.by_batch[i]);
      if (i < lw.traced_gpu.size()) one.traced_gpu.push_back(lw.traced_gpu[i]);
    } else {
      one.workload.llm_tenants.push_back(w.llm_tenants[i - traces]);
      one.llm.push_back(lw.llm[i - traces]);
    }
    SimResult r = Simulate(one, Plan{}, o);
    out.makespan_ns = std::max(out.makespan_ns, r.makespan_ns);
    out.tenants.push_back(std::move(r.tenants.at(0)));
    if (!r.llm.empty()) out.llm.push_back(std::move(r.llm[0]));
  }
  return out;
}

}  // namespace cotenant::search
