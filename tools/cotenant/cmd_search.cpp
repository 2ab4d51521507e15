// cotenant search: explore the plan space of a workload with the simulator as
// cost model; print the baselines, the best plan and why it helps.
#include <cstdio>
#include <memory>
#include <thread>

#include "search/search.h"
#include "search/space.h"
#include "search/strategy.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/workload_whatif.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/measured_cli.h"
#include "tools/cotenant/progress.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

using search::BaselineResult;
using search::SearchResult;

/// "1,295", or "about 1.2e+15" for large counts, or "more than 1.8e+19".
std::string FormatSize(uint64_t n) {
  if (n == UINT64_MAX) return "more than 1.8e19";
  if (n < 10000000) return FormatCount(static_cast<int64_t>(n));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2g", static_cast<double>(n));
  return buf;
}

std::string Speedup(TimeNs baseline, TimeNs best) {
  if (best <= 0) return "-";
  return FormatFixed(static_cast<double>(baseline) / static_cast<double>(best), 2) + "x";
}

/// A plan's makespan over its own lower bound, as "+12.3%".
std::string Gap(TimeNs makespan, TimeNs bound) {
  if (bound <= 0) return "-";
  const double gap = static_cast<double>(makespan) / static_cast<double>(bound) - 1.0;
  return (gap >= 0 ? "+" : "") + FormatPercent(gap);
}

void PrintTable(const SearchResult& r, const LoadedWorkload& lw) {
  const Workload& w = lw.workload;
  const bool makespan = w.objective == Objective::kMakespan;
  std::vector<Table::Column> cols = {{"plan"}};
  if (!makespan) cols.push_back({search::ObjectiveLabel(w.objective), Align::kRight});
  cols.push_back({"makespan", Align::kRight});
  for (const TenantSpec& t : w.tenants) cols.push_back({t.name + " p99", Align::kRight});
  // llm tenants: end-to-end p99, TTFT and TPOT p99, goodput.
  for (const LlmTenantSpec& t : w.llm_tenants) {
    cols.push_back({t.name + " p99", Align::kRight});
    cols.push_back({t.name + " TTFT p99", Align::kRight});
    cols.push_back({t.name + " TPOT p99", Align::kRight});
    cols.push_back({t.name + " goodput", Align::kRight});
  }
  // Whether result tenant i (trace tenants, then llm tenants) has an SLO.
  const size_t traces = w.tenants.size();
  const auto has_slo = [&](size_t i) {
    if (i < traces) return w.tenants[i].slo_ns > 0;
    const ServingSlo& s = w.llm_tenants[i - traces].slo;
    return s.ttft_ns > 0 || s.tpot_ns > 0;
  };
  bool slo = false;
  for (size_t i = 0; i < traces + w.llm_tenants.size(); ++i) slo = slo || has_slo(i);
  if (slo) cols.push_back({"SLO misses", Align::kRight});
  // How much better the best plan is on the objective (latencies and
  // throughput as ratios; SLO misses as a difference).
  const bool gain = !makespan;
  if (gain) cols.push_back({"best's gain", Align::kRight});
  cols.push_back({"best's speedup", Align::kRight});
  cols.push_back({"gap to bound", Align::kRight});
  Table t(cols);
  auto row = [&](const std::string& name, const SimResult& res, const search::Score& score,
                 bool is_best, bool alone = false) {
    std::vector<std::string> cells = {name};
    if (!makespan) cells.push_back(search::FormatScore(score, w.objective));
    cells.push_back(FormatNs(res.makespan_ns));
    for (size_t i = 0; i < res.tenants.size(); ++i) {
      cells.push_back(FormatNs(res.tenants[i].latency.p99));
      if (i < traces) continue;
      const ServingMetrics& m = res.llm[i - traces].metrics;
      cells.push_back(FormatNs(m.ttft.p99));
      cells.push_back(FormatNs(m.tpot.p99));
      cells.push_back(FormatFixed(m.goodput_rps, 2) + "/s");
    }
    if (slo) {
      int64_t misses = 0, requests = 0;
      for (size_t i = 0; i < res.tenants.size(); ++i) {
        if (!has_slo(i)) continue;
        misses += res.tenants[i].slo_violations;
        requests += res.tenants[i].requests;
      }
      cells.push_back(FormatCount(misses) + "/" + FormatCount(requests));
    }
    if (gain) {
      const double a = score.value, b = r.best_score.value;
      std::string g = "-";
      if (!is_best && w.objective == Objective::kSlo) {
        g = a == b  ? "same misses"
            : a > b ? FormatFixed(a - b, 1) + " fewer misses"
                    : FormatFixed(b - a, 1) + " more misses";
      } else if (!is_best && a != 0.0 && b != 0.0) {
        g = FormatFixed(w.objective == Objective::kThroughput ? b / a : a / b, 2) + "x";
      }
      cells.push_back(g);
    }
    cells.push_back(is_best || alone ? "-" : Speedup(res.makespan_ns, r.best_result.makespan_ns));
    cells.push_back(Gap(res.makespan_ns, res.lower_bound_ns));
    t.AddRow(cells);
  };
  bool alone = false;
  for (const BaselineResult& b : r.baselines) {
    if (b.alone) {
      alone = true;
      continue;  // below the best: a reference, not a plan
    }
    if (!b.plan) {
      std::vector<std::string> cells = {b.name, "n/a (" + b.missing + ")"};
      t.AddRow(cells);
      continue;
    }
    row(b.name + (b.in_space ? "" : " *"), b.result, b.score, false);
  }
  t.AddRule();
  row("best (" + r.found_by + ")", r.best_result, r.best_score, true);
  if (alone) {
    t.AddRule();
    for (const BaselineResult& b : r.baselines)
      if (b.alone) row("each alone (no sharing) †", b.result, b.score, false, true);
  }
  t.Print(stdout);
  // No bound with llm tenants (SimulateWithLlm computes none).
  if (r.lower_bound_ns > 0 || r.best_result.lower_bound_ns > 0)
    std::printf(
        "gap to bound: each plan's makespan over its own lower bound, max(SM-work / SMs, longest\n"
        "critical path); batch splits change the SM-work, offsets, groups and stages the critical\n"
        "path (native plan's bound %s, best plan's %s)\n",
        FormatNs(r.lower_bound_ns).c_str(), FormatNs(r.best_result.lower_bound_ns).c_str());
  for (const BaselineResult& b : r.baselines) {
    if (b.plan && !b.in_space) {
      std::printf("* outside the search space: simulated for comparison only\n");
      break;
    }
  }
  if (alone) {
    std::printf(
        "† not a plan for the shared GPU: each tenant simulated alone on the whole GPU, one at a\n"
        "  time (what it gets without sharing; makespan = the longest)\n");
  }
}

/// The plans the simulator refused, by reason: a table with the knob to
/// change, then the first message of each reason.
void PrintRefusals(const search::RefusalTallies& refused) {
  Table t({{"refused because"}, {"plans", Align::kRight}, {"knob to change"}});
  t.SetIndent(2);
  std::string examples;
  for (int i = 0; i < search::kRefusalReasonCount; ++i) {
    const search::RefusalTally& tally = refused[static_cast<size_t>(i)];
    if (tally.count == 0) continue;
    const auto reason = static_cast<search::RefusalReason>(i);
    t.AddRow({search::RefusalDescription(reason), FormatCount(tally.count),
              search::RefusalKnob(reason)});
    examples += "  first " + std::string(search::RefusalKey(reason)) + ": " + tally.example + "\n";
  }
  t.Print(stdout);
  std::printf("%s", examples.c_str());
}

}  // namespace

RunFn AddSearch(CLI::App* sub) {
  struct Options {
    std::string calibration, workload, gpu, model = "fluid", strategy = "auto", out, json, timeline,
                                            curve, space, knobs, start;
    std::vector<std::string> traces, sets;
    int64_t budget = 0, requests = 0, sm_step = 0;
    double seconds = 0.0;
    int threads = 0;
    uint64_t seed = 1;
    bool show_space = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("traces", o->traces, "Trace files, one tenant each (instead of --workload)");
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  sub->add_option("--calibration", o->calibration,
                  "Calibration from measured tables (cotenant.model-calibration/1, written by "
                  "calibrate --measured): its contention parameters and per-model time scales");
  sub->add_option("-s,--strategy", o->strategy,
                  "auto (default), exhaustive, random, greedy, anneal, genetic, surrogate");
  sub->add_option("-b,--budget", o->budget,
                  "Budget in simulations (default 2000 when --time is not given; 100 with llm "
                  "tenants)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  sub->add_option("-t,--time", o->seconds, "Budget in seconds (wall clock)")
      ->check(CLI::Range(0.001, 1e7));
  sub->add_option("-j,--threads", o->threads,
                  "Simulations in parallel (default: the hardware threads); results are "
                  "reproducible for one seed and thread count")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--seed", o->seed, "Random seed (default 1)");
  sub->add_option("-o,--output", o->out, "Write the best plan (cotenant.plan/1)");
  sub->add_option("--json", o->json,
                  "Write the search report (cotenant.search/1) to this file, - = stdout");
  sub->add_option("--timeline", o->timeline, "Write the best plan's Perfetto/Chrome timeline");
  sub->add_option("--curve", o->curve, "Write the best-so-far curve (CSV)");
  sub->add_option("--space", o->space, "Search space file (cotenant.searchspace/1)");
  sub->add_option("--knobs", o->knobs,
                  "Knobs to range, comma-separated: groups, priority, sm, split, stages, offset, "
                  "connections, budget, chunked, pd (the last three: llm tenants; default all); "
                  "the others stay at the native plan's value");
  sub->add_option("--sm-step", o->sm_step,
                  "SM partition step (a multiple of the GPU's granularity, 8 on Hopper)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--set", o->sets,
                  "Fix or range one knob: TENANT.KNOB=VALUES or KEY=VALUES, VALUES = v | v1,v2 | "
                  "lo:hi[:step] (e.g. bert.sm_count=null,64,96, max_connections=8, "
                  "groups=a+b,c); repeatable")
      ->allow_extra_args(false);
  sub->add_option("--start", o->start, "Plan to start from (must be inside the space)");
  sub->add_option("--requests", o->requests,
                  "Run every tenant with this many requests instead of the workload's")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  sub->add_option("-m,--model", o->model, "Contention model: fluid (default) or block");
  sub->add_flag("--show-space", o->show_space, "Print every ranged knob's values first");
  sub->footer(
      "Examples:\n"
      "  cotenant search --workload configs/workloads/vision3.json --time 10 -o best.json\n"
      "  cotenant search -w W.json --knobs groups,priority,sm --sm-step 32 --strategy "
      "exhaustive\n"
      "  cotenant search -w W.json --set bert.priority=-1 --set max_connections=8 --json r.json");
  return [o]() {
    LoadedWorkload lw = LoadInputs(o->workload, o->traces, o->gpu, "search");
    ApplyCalibrationFile(o->calibration, &lw, "search");
    OverrideRequests(&lw, o->requests);
    // The space: file, then --knobs, --sm-step and --set in that order.
    search::SpaceConfig config;
    if (!o->space.empty()) config = search::ReadSpaceConfig(o->space);
    if (!o->knobs.empty()) config.MergeFrom(search::SpaceConfigFromKnobList(o->knobs));
    if (o->sm_step > 0)
      config.MergeFrom(search::SpaceConfigFromSetting("sm_step=" + std::to_string(o->sm_step)));
    for (const std::string& s : o->sets) config.MergeFrom(search::SpaceConfigFromSetting(s));
    const search::PlanSpace space(lw, config);

    search::SearchOptions so;
    so.strategy = o->strategy;
    so.budget_evaluations = o->budget;
    so.budget_seconds = o->seconds;
    if (so.budget_evaluations <= 0 && so.budget_seconds <= 0.0)
      so.budget_evaluations = search::DefaultBudget(lw);
    so.threads = o->threads > 0
                     ? o->threads
                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    so.seed = o->seed;
    so.model = o->model;
    if (!o->start.empty()) so.start = ReadPlan(o->start);

    const bool quiet = o->json == "-";
    const Workload& w = lw.workload;
    if (!quiet) {
      std::string budget;
      if (so.budget_evaluations > 0) budget = FormatCount(so.budget_evaluations) + " simulations";
      if (so.budget_seconds > 0.0)
        budget += (budget.empty() ? "" : " or ") + FormatFixed(so.budget_seconds, 1) + " s";
      std::printf(
          "search: %zu tenants on %s, objective %s; %s plans (%d ranged knobs); "
          "strategy %s; budget %s; %d thread%s, seed %llu\n",
          w.tenants.size() + w.llm_tenants.size(), lw.gpu.key.c_str(), ObjectiveName(w.objective),
          FormatSize(space.Size()).c_str(), space.RangedDims(), o->strategy.c_str(), budget.c_str(),
          so.threads, so.threads == 1 ? "" : "s", static_cast<unsigned long long>(so.seed));
      if (o->show_space)
        for (const std::string& line : space.Describe()) std::printf("  %s\n", line.c_str());
      std::fflush(stdout);
    }
    ProgressBar bar("search");
    so.on_batch = [&bar, &w](const search::Evaluator& ev) {
      std::string note = FormatCount(ev.evaluations()) + " sims";
      if (ev.has_best()) note += ", best " + search::FormatScore(ev.best_score(), w.objective);
      bar.Update(ev.Progress(), note);
    };
    const SearchResult r = search::RunSearch(space, so);
    bar.Finish();

    if (!o->out.empty()) WriteOutput(o->out, PlanToJson(r.best_plan).dump(2) + "\n");
    if (!o->json.empty()) WriteOutput(o->json, search::SearchResultToJson(r, space).dump(2) + "\n");
    if (!o->curve.empty()) WriteOutput(o->curve, search::CurveCsv(r));
    if (!o->timeline.empty()) {
      SimOptions sim;
      sim.model = o->model;
      sim.record_timeline = true;
      WriteOutput(o->timeline, TimelineToJsonText(Simulate(lw, r.best_plan, sim)));
    }
    if (quiet) return 0;

    std::printf("\n");
    PrintTable(r, lw);
    const int native = search::FindBaseline(r, "native");
    std::printf("\nBest plan, found by %s:\n", r.found_by.c_str());
    for (const std::string& line :
         search::ExplainPlan(r.best_plan, r.best_result, r.baselines[native].result, lw))
      std::printf("  - %s\n", line.c_str());
    const double rate = r.seconds > 0.0 ? static_cast<double>(r.evaluations) / r.seconds : 0.0;
    std::printf(
        "\n%s: %s simulations in %.2f s (%s/s, %s/s per thread), %s cache hits, "
        "%s infeasible, %s refused by the simulator\n",
        r.strategy.c_str(), FormatCount(r.evaluations).c_str(), r.seconds,
        FormatCount(static_cast<int64_t>(rate)).c_str(),
        FormatCount(static_cast<int64_t>(rate / r.threads)).c_str(),
        FormatCount(r.cache_hits).c_str(), FormatCount(r.infeasible).c_str(),
        FormatCount(r.failed).c_str());
    if (r.failed > 0) PrintRefusals(r.refused);
    if (!o->out.empty()) std::printf("plan: %s\n", o->out.c_str());
    if (!o->json.empty()) std::printf("report: %s\n", o->json.c_str());
    if (!o->curve.empty()) std::printf("curve: %s\n", o->curve.c_str());
    if (!o->timeline.empty())
      std::printf("timeline: %s (open in https://ui.perfetto.dev)\n", o->timeline.c_str());
    std::fflush(stdout);
    NoteGpuChoice("search", lw, stderr);
    NoteGpuMismatch(lw, stderr);
    return 0;
  };
}

}  // namespace cotenant::cli
