// What search minimises: a score computed from a simulation result under the
// workload's objective (tenant weights included).
#pragma once

#include <string>

#include "sim/simulate.h"
#include "sim/workload.h"

namespace cotenant::search {

/// Lower is better; compared by `value`, then `tie`. Ties left after both
/// are broken by the candidate order (see Evaluator).
struct Score {
  double value = 0.0;  ///< the objective: ns, or -requests/s for throughput, or weighted misses
  double tie = 0.0;    ///< the tie-break: makespan (ns) for `slo`, else 0

  bool operator<(const Score& o) const { return value != o.value ? value < o.value : tie < o.tie; }
  bool operator==(const Score& o) const { return value == o.value && tie == o.tie; }
};

/// The weight of result tenant `i` (SimResult::tenants order: the trace tenants, then
/// the llm tenants): its TenantSpec's or LlmTenantSpec's weight.
double TenantWeight(const Workload& w, size_t i);

/// The score of a result (its tenants: the trace tenants, then the llm tenants, whose
/// latency is end-to-end and whose SLO misses are requests missing TTFT or TPOT):
/// - makespan: makespan_ns;
/// - throughput: -sum_t weight_t * throughput_rps_t;
/// - mean_latency / p99_latency: sum_t weight_t * latency_t / sum_t weight_t, ns;
/// - slo: sum_t weight_t * slo_violations_t, ties broken by makespan_ns.
Score ScoreOf(const SimResult& r, const Workload& w);

/// The score as people read it: "7.027 ms", "4,120.5 req/s", "1.5 weighted SLO misses".
std::string FormatScore(const Score& s, Objective o);

/// A duration with a unit and 4 significant figures: "850 ns", "12.35 µs", "7.027 ms".
std::string FormatDurationNs(double ns);

/// What the objective measures, for tables: "makespan", "weighted p99 latency", ...
std::string ObjectiveLabel(Objective o);

}  // namespace cotenant::search
