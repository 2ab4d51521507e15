#include "search/search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "search/baselines.h"
#include "search/strategy.h"
#include "sim/error.h"
#include "sim/rng.h"

namespace cotenant::search {
namespace {

using nlohmann::json;

constexpr int kProbe = 16;  ///< random plans timed to size a time budget for `auto`

double Ratio(TimeNs a, TimeNs b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
}

/// The objective in its natural unit: ns, req/s or weighted misses.
double Natural(const Score& s, Objective o) {
  return o == Objective::kThroughput ? -s.value : s.value;
}

std::string Percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f%%", 100.0 * f);
  return buf;
}

std::string Times(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fx", x);
  return buf;
}

/// "a", "a and b", "a, b and c".
std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) s += i + 1 == names.size() ? " and " : ", ";
    s += names[i];
  }
  return s;
}

}  // namespace

int64_t DefaultBudget(const LoadedWorkload& lw) {
  return lw.workload.llm_tenants.empty() ? 2000 : 100;
}

SearchResult RunSearch(const PlanSpace& space, const SearchOptions& o) {
  const LoadedWorkload& lw = space.workload();
  SearchResult out;
  out.requested = o.strategy;
  out.objective = lw.workload.objective;
  out.space_size = space.Size();
  out.raw_space_size = space.RawSize();
  out.ranged_dims = space.RangedDims();
  out.threads = std::max(1, o.threads);
  out.seed = o.seed;
  out.budget_evaluations = o.budget_evaluations;
  out.budget_seconds = o.budget_seconds;
  if (o.strategy != "auto") MakeStrategy(o.strategy);  // an unknown name fails before any work

  // Baselines first (not counted in the budget); those inside the space
  // seed the cache and the best-so-far.
  const Clock& clock = o.clock != nullptr ? *o.clock : SteadyClock();
  const double t0 = clock.Seconds();
  EvalOptions eo;
  eo.threads = out.threads;
  eo.max_evaluations = o.budget_evaluations;
  eo.max_seconds = 0.0;
  eo.model = o.model;
  eo.clock = &clock;
  eo.target_value = o.target_value;
  int simulated = 0;
  {
    EvalOptions one;
    one.model = o.model;
    Evaluator scratch(space, one);
    for (const BaselinePlan& b : BaselinePlans(lw)) {
      if (!o.baselines.empty() && b.name != "native" &&
          std::find(o.baselines.begin(), o.baselines.end(), b.name) == o.baselines.end())
        continue;
      BaselineResult br;
      br.name = b.name;
      br.description = b.description;
      br.plan = b.plan;
      br.missing = b.missing;
      br.alone = b.alone;
      if (b.alone) {
        SimOptions so;
        so.model = o.model;
        so.score_only = true;
        br.result = SimulateAlone(lw, so);
        br.score = ScoreOf(br.result, lw.workload);
      } else if (b.plan) {
        br.result = scratch.Run(*b.plan);
        br.score = ScoreOf(br.result, lw.workload);
        ++simulated;
        try {
          space.FromPlan(*b.plan);
          br.in_space = true;
        } catch (const InputError&) {
          br.in_space = false;
        }
      }
      out.baselines.push_back(std::move(br));
    }
  }
  const double per_sim = (clock.Seconds() - t0) / std::max(1, simulated);
  const int native = FindBaseline(out, "native");
  COTENANT_CHECK(native >= 0);
  out.lower_bound_ns = out.baselines[native].result.lower_bound_ns;

  // The strategy, within the budget.
  eo.max_seconds = o.budget_seconds;
  Evaluator ev(space, eo);
  for (const BaselineResult& br : out.baselines)
    if (br.in_space) ev.Seed(space.FromPlan(*br.plan), br.score);
  StrategyContext ctx;
  ctx.width = out.threads;
  if (o.start) {
    ctx.start = space.FromPlan(*o.start);
  } else if (ev.has_best()) {
    ctx.start = ev.best();
  }
  if (o.on_batch) ev.set_on_batch([&] { o.on_batch(ev); });
  Rng rng(o.seed);
  int64_t affordable = o.budget_evaluations;
  if (o.strategy == "auto" && o.budget_seconds > 0.0) {
    // How many plans fit in the time: timed on a few random plans of the
    // space (plans differ in cost: a batch split multiplies the work).
    double per_plan = per_sim;
    if (space.Size() > 4 * kProbe) {
      ev.set_strategy("probe");
      std::vector<Candidate> probe;
      for (int i = 0; i < kProbe; ++i) probe.push_back(RandomCandidate(space, rng));
      const double t = ev.Seconds();
      const int64_t before = ev.evaluations();
      ev.Evaluate(probe);
      const int64_t ran = ev.evaluations() - before;
      if (ran > 0) per_plan = (ev.Seconds() - t) * out.threads / static_cast<double>(ran);
    }
    const int64_t by_time = static_cast<int64_t>(0.5 * (o.budget_seconds - ev.Seconds()) /
                                                 std::max(per_plan, 1e-7) * out.threads);
    affordable = affordable > 0 ? std::min(affordable, by_time) : by_time;
  }
  out.strategy = o.strategy == "auto" ? ResolveAuto(space, affordable) : o.strategy;
  std::unique_ptr<Strategy> strategy = MakeStrategy(out.strategy);
  ev.set_strategy(out.strategy);
  strategy->Run(ev, rng, ctx);
  out.seconds = ev.Seconds();
  out.stopped = ev.Stop();
  out.evaluations = ev.evaluations();
  out.cache_hits = ev.cache_hits();
  out.infeasible = ev.infeasible();
  out.failed = ev.failed();
  out.refused = ev.refused();
  out.curve = ev.curve();
  if (!ev.has_best()) {
    throw InputError("no plan of the search space could be simulated" +
                     (ev.first_error().empty()
                          ? std::string()
                          : " (the first failed with: " + ev.first_error() + ")"));
  }
  out.best_candidate = ev.best();
  out.best_score = ev.best_score();
  out.best_plan = *space.ToPlan(out.best_candidate);
  out.best_result = ev.Run(out.best_plan);
  out.found_by = ev.best_found_by();
  if (out.found_by == "baseline") {
    for (const BaselineResult& br : out.baselines)
      if (br.in_space && space.FromPlan(*br.plan) == out.best_candidate)
        out.found_by = "baseline " + br.name;
  }
  return out;
}

json LlmSummaryJson(const SimResult& r) {
  json out = json::array();
  for (const LlmTenantResult& l : r.llm) {
    out.push_back({{"tenant", l.name},
                   {"ttft_p99_ns", l.metrics.ttft.p99},
                   {"tpot_p99_ns", l.metrics.tpot.p99},
                   {"goodput_rps", l.metrics.goodput_rps},
                   {"good_share", l.metrics.good_share},
                   {"multiplexed", l.multiplexed}});
  }
  return out;
}

int FindBaseline(const SearchResult& r, const std::string& name) {
  for (size_t i = 0; i < r.baselines.size(); ++i)
    if (r.baselines[i].name == name) return static_cast<int>(i);
  return -1;
}

json SearchResultToJson(const SearchResult& r, const PlanSpace& space) {
  const LoadedWorkload& lw = space.workload();
  json j;
  j["schema"] = "cotenant.search/1";
  j["workload"] = lw.workload.file;
  j["gpu"] = lw.gpu.key;
  j["model"] = r.best_result.model;
  j["objective"] = ObjectiveName(r.objective);
  j["strategy"] = r.strategy;
  j["requested_strategy"] = r.requested;
  j["seed"] = r.seed;
  j["threads"] = r.threads;
  j["budget"] = {
      {"evaluations", r.budget_evaluations > 0 ? json(r.budget_evaluations) : json(nullptr)},
      {"seconds", r.budget_seconds > 0.0 ? json(r.budget_seconds) : json(nullptr)}};
  j["space"] = {{"size", r.space_size},
                {"raw_size", r.raw_space_size},
                {"ranged_dimensions", r.ranged_dims},
                {"definition", space.ToJson()}};
  j["evaluations"] = r.evaluations;
  j["cache_hits"] = r.cache_hits;
  j["infeasible"] = r.infeasible;
  j["failed"] = r.failed;
  json refused = json::object(), examples = json::object();
  for (int i = 0; i < kRefusalReasonCount; ++i) {
    const RefusalTally& t = r.refused[static_cast<size_t>(i)];
    if (t.count == 0) continue;
    const char* key = RefusalKey(static_cast<RefusalReason>(i));
    refused[key] = t.count;
    examples[key] = t.example;
  }
  j["refused"] = refused;
  j["refused_examples"] = examples;
  j["seconds"] = r.seconds;
  j["evaluations_per_second"] = r.seconds > 0.0 ? r.evaluations / r.seconds : 0.0;
  j["best"] = {{"plan", PlanToJson(r.best_plan)},
               {"result", ResultToJson(r.best_result)},
               {"objective", Natural(r.best_score, r.objective)},
               {"tie", r.best_score.tie},
               {"found_by", r.found_by}};
  if (!r.best_result.llm.empty()) j["best"]["llm"] = LlmSummaryJson(r.best_result);
  json baselines = json::array();
  for (const BaselineResult& b : r.baselines) {
    json e = {{"name", b.name}};
    if (b.alone) {
      e["alone"] = true;
      e["description"] = b.description;
      e["result"] = ResultToJson(b.result);
      e["objective"] = Natural(b.score, r.objective);
      e["in_space"] = false;
      if (!b.result.llm.empty()) e["llm"] = LlmSummaryJson(b.result);
      baselines.push_back(e);
      continue;
    }
    if (!b.plan) {
      e["missing"] = b.missing;
      baselines.push_back(e);
      continue;
    }
    e["description"] = b.description;
    e["plan"] = PlanToJson(*b.plan);
    e["result"] = ResultToJson(b.result);
    e["objective"] = Natural(b.score, r.objective);
    e["in_space"] = b.in_space;
    e["speedup"] = Ratio(b.result.makespan_ns, r.best_result.makespan_ns);
    if (!b.result.llm.empty()) e["llm"] = LlmSummaryJson(b.result);
    baselines.push_back(e);
  }
  j["baselines"] = baselines;
  j["lower_bound_ns"] = r.lower_bound_ns;
  j["best_lower_bound_ns"] = r.best_result.lower_bound_ns;
  j["gap_to_lower_bound"] =
      r.best_result.lower_bound_ns > 0
          ? Ratio(r.best_result.makespan_ns, r.best_result.lower_bound_ns) - 1.0
          : 0.0;
  json curve = json::array();
  for (const CurvePoint& p : r.curve) {
    curve.push_back({{"strategy", p.strategy},
                     {"evaluation", p.evaluation},
                     {"seconds", p.seconds},
                     {"objective", Natural(p.best, r.objective)},
                     {"tie", p.best.tie}});
  }
  j["curve"] = curve;
  return j;
}

std::string CurveCsv(const SearchResult& r) {
  std::string s = "strategy,evaluation,seconds,objective,tie\n";
  char buf[256];
  for (const CurvePoint& p : r.curve) {
    std::snprintf(buf, sizeof(buf), "%s,%lld,%.6f,%.17g,%.17g\n", p.strategy.c_str(),
                  static_cast<long long>(p.evaluation), p.seconds, Natural(p.best, r.objective),
                  p.best.tie);
    s += buf;
  }
  if (!r.curve.empty() && r.curve.back().evaluation < r.evaluations) {
    std::snprintf(buf, sizeof(buf), "end,%lld,%.6f,%.17g,%.17g\n",
                  static_cast<long long>(r.evaluations), r.seconds,
                  Natural(r.best_score, r.objective), r.best_score.tie);
    s += buf;
  }
  return s;
}

std::vector<std::string> ExplainPlan(const Plan& plan, const SimResult& result,
                                     const SimResult& native, const LoadedWorkload& lw) {
  const Workload& w = lw.workload;
  const int n = static_cast<int>(w.tenants.size());
  std::vector<std::string> names;  // trace tenants, then llm tenants
  for (const TenantSpec& t : w.tenants) names.push_back(t.name);
  for (const LlmTenantSpec& t : w.llm_tenants) names.push_back(t.name);
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> groups = plan.groups;
  if (groups.empty()) {
    groups.emplace_back();
    for (const std::string& name : names) groups.back().push_back(name);
  }
  bool changed = false;

  // Groups.
  if (groups.size() > 1) {
    changed = true;
    std::string s = "Runs in " + std::to_string(groups.size()) + " phases, each starting when " +
                    "every request of the one before has completed: ";
    for (size_t g = 0; g < groups.size(); ++g) {
      s += (g == 0                   ? "first "
            : g + 1 == groups.size() ? ", then finally "
                                     : ", then ") +
           JoinNames(groups[g]) + (groups[g].size() > 1 ? " together" : " alone");
    }
    lines.push_back(s + "; tenants in different phases never compete for SMs or DRAM.");
  }
  // Priorities, per group: who goes first.
  for (const std::vector<std::string>& group : groups) {
    if (group.size() < 2) continue;
    std::map<int32_t, std::vector<std::string>> by_priority;
    for (const std::string& name : group) by_priority[plan.For(name).priority].push_back(name);
    if (by_priority.size() < 2) continue;
    changed = true;
    const auto& top = *by_priority.begin();
    std::vector<std::string> rest;
    for (const std::string& name : group)
      if (plan.For(name).priority != top.first) rest.push_back(name);
    lines.push_back(JoinNames(top.second) + (top.second.size() > 1 ? " get" : " gets") +
                    " stream priority " + std::to_string(top.first) + " (higher than " +
                    JoinNames(rest) + "), so " + (top.second.size() > 1 ? "their" : "its") +
                    " kernels take freed SM slots first (running blocks are never preempted).");
    if (by_priority.size() > 2) {
      std::string s = "Priority order within the group:";
      for (const auto& [p, names] : by_priority)
        s += " " + JoinNames(names) + " (" + std::to_string(p) + ")";
      lines.push_back(s + ".");
    }
  }
  // SM partitions.
  int32_t partitioned = 0;
  std::vector<std::string> capped, sharing;
  for (const std::string& name : names) {
    const TenantPlan tp = plan.For(name);
    if (tp.Multiplexed()) {
      partitioned += tp.prefill_sm_count + tp.decode_sm_count;
      capped.push_back(name + " prefill " + std::to_string(tp.prefill_sm_count) + " + decode " +
                       std::to_string(tp.decode_sm_count));
    } else if (tp.sm_count >= 0) {
      partitioned += tp.sm_count;
      capped.push_back(name + " " + std::to_string(tp.sm_count));
    } else {
      sharing.push_back(name);
    }
  }
  if (!capped.empty()) {
    changed = true;
    std::string s = "SM partitions (green contexts, in SMs of " + std::to_string(lw.gpu.sm_count) +
                    "): " + JoinNames(capped) + "; each runs only on its own SMs";
    if (!sharing.empty()) {
      s += "; " + JoinNames(sharing) + (sharing.size() > 1 ? " share" : " has") + " the other " +
           std::to_string(lw.gpu.sm_count - partitioned) + " SMs and any partitioned SM left idle";
    } else if (partitioned < lw.gpu.sm_count) {
      s += " (" + std::to_string(lw.gpu.sm_count - partitioned) + " SMs stay idle)";
    }
    lines.push_back(s +
                    "; a capped tenant cannot crowd out the others, at the cost of its own speed.");
  }
  // Batch splits.
  for (int ti = 0; ti < n; ++ti) {
    const TenantPlan tp = plan.For(w.tenants[ti].name);
    if (tp.batch_split <= 1) continue;
    changed = true;
    const Trace& trace = lw.traces[ti];
    int64_t batch = -1;
    if (trace.meta.is_object() && trace.meta.contains("batch") &&
        trace.meta["batch"].is_number_integer())
      batch = trace.meta["batch"].get<int64_t>();
    const bool measured = batch > 0 && batch % tp.batch_split == 0 &&
                          lw.by_batch[ti].count(batch / tp.batch_split) > 0;
    std::string s = w.tenants[ti].name + " runs each request as " + std::to_string(tp.batch_split) +
                    " sub-batches";
    if (batch > 0 && batch % tp.batch_split == 0)
      s += " of " + std::to_string(batch / tp.batch_split);
    s += measured ? " (measured trace)" : " (what-if split of the trace)";
    lines.push_back(s + ": smaller kernels leave gaps the other tenants can fill.");
  }
  // Stages.
  std::vector<std::string> staged;
  for (const auto& [name, cuts] : plan.stages) {
    std::string s = name + " at operator";
    s += cuts.size() > 1 ? "s " : " ";
    for (size_t i = 0; i < cuts.size(); ++i) s += (i ? ", " : "") + std::to_string(cuts[i]);
    staged.push_back(s);
  }
  if (!staged.empty()) {
    changed = true;
    lines.push_back("Stage cuts: " + JoinNames(staged) +
                    "; stage i of every tenant in a group ends before stage i+1 of any starts, "
                    "which lines up the tenants' phases instead of letting them drift.");
  }
  // Offsets.
  for (const TenantSpec& t : w.tenants) {
    const TimeNs off = plan.For(t.name).offset_ns;
    if (off <= 0) continue;
    changed = true;
    lines.push_back(t.name + " starts " + FormatDurationNs(static_cast<double>(off)) +
                    " late, so its first kernels do not collide with the others' start.");
  }
  // llm serving knobs.
  for (const LlmTenantSpec& t : w.llm_tenants) {
    const TenantPlan tp = plan.For(t.name);
    if (tp.Multiplexed()) {
      changed = true;
      lines.push_back(t.name + " runs prefill and decode as two loops at once on their own SMs " +
                      "(prefill/decode multiplexing): long prefills no longer stall decodes.");
    }
    if (tp.max_num_batched_tokens > 0 &&
        tp.max_num_batched_tokens != t.serving.max_num_batched_tokens) {
      changed = true;
      lines.push_back(
          t.name + " iterations hold at most " + std::to_string(tp.max_num_batched_tokens) +
          " tokens (max_num_batched_tokens; " + "workload " +
          std::to_string(t.serving.max_num_batched_tokens) +
          "): shorter iterations, so decodes and other tenants wait less behind a " + "prefill.");
    }
    if (tp.chunked_prefill >= 0 && (tp.chunked_prefill == 1) != t.serving.chunked_prefill) {
      changed = true;
      lines.push_back(t.name + std::string(" with chunked prefill ") +
                      (tp.chunked_prefill == 1 ? "on" : "off") +
                      " (workload: " + (t.serving.chunked_prefill ? "on" : "off") + ").");
    }
  }
  if (plan.max_connections != 8) {
    changed = true;
    lines.push_back("max_connections " + std::to_string(plan.max_connections) +
                    " (CUDA_DEVICE_MAX_CONNECTIONS; default 8): streams beyond it share hardware "
                    "queues and serialise.");
  }
  if (!changed) lines.push_back("The native multi-stream plan: every tenant at once, no knob set.");

  // What it changes, against native multi-stream.
  std::string s = "Against native multi-stream: makespan " +
                  FormatDurationNs(static_cast<double>(native.makespan_ns)) + " -> " +
                  FormatDurationNs(static_cast<double>(result.makespan_ns)) + " (" +
                  Times(Ratio(native.makespan_ns, result.makespan_ns)) + ")";
  s += ", mean SM occupancy " + Percent(native.gpu.mean_sm_occupancy) + " -> " +
       Percent(result.gpu.mean_sm_occupancy);
  s += ", DRAM busy " + Percent(native.gpu.dram_busy_fraction) + " -> " +
       Percent(result.gpu.dram_busy_fraction);
  // The tenant whose p99 changed most.
  int most = -1;
  double change = 0.0;
  const int all = static_cast<int>(std::min(native.tenants.size(), result.tenants.size()));
  for (int ti = 0; ti < all; ++ti) {
    const double a = static_cast<double>(native.tenants[ti].latency.p99);
    const double b = static_cast<double>(result.tenants[ti].latency.p99);
    if (a > 0 && std::fabs(b / a - 1.0) > std::fabs(change)) {
      change = b / a - 1.0;
      most = ti;
    }
  }
  if (most >= 0 && std::fabs(change) >= 0.01) {
    s += "; " + names[most] + " p99 " +
         FormatDurationNs(static_cast<double>(native.tenants[most].latency.p99)) + " -> " +
         FormatDurationNs(static_cast<double>(result.tenants[most].latency.p99));
  }
  int64_t misses_before = 0, misses_after = 0;
  for (int ti = 0; ti < all; ++ti) {
    misses_before += native.tenants[ti].slo_violations;
    misses_after += result.tenants[ti].slo_violations;
  }
  for (size_t i = 0; i < native.llm.size() && i < result.llm.size(); ++i) {
    const ServingMetrics& a = native.llm[i].metrics;
    const ServingMetrics& b = result.llm[i].metrics;
    s += "; " + native.llm[i].name + " TTFT p99 " +
         FormatDurationNs(static_cast<double>(a.ttft.p99)) + " -> " +
         FormatDurationNs(static_cast<double>(b.ttft.p99)) + ", TPOT p99 " +
         FormatDurationNs(static_cast<double>(a.tpot.p99)) + " -> " +
         FormatDurationNs(static_cast<double>(b.tpot.p99));
  }
  if (misses_before != misses_after) {
    s += "; SLO misses " + std::to_string(misses_before) + " -> " + std::to_string(misses_after);
  }
  lines.push_back(s + ".");
  return lines;
}

}  // namespace cotenant::search
