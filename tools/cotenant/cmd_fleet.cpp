// cotenant fleet: place a fleet's models on its GPUs (which models share which
// GPU, under which plan) beside one model per GPU and interference-blind bin
// packing; over MPI ranks when started with mpirun.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "fleet/placement.h"
#include "fleet/pool.h"
#include "fleet/synth_sources.h"
#include "sim/error.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/progress.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

using fleet::FleetModel;
using fleet::GpuAssignment;
using fleet::LoadedFleet;
using fleet::Placement;

std::string GpuCounts(const LoadedFleet& f) {
  std::string s;
  for (const fleet::FleetGpu& g : f.spec.gpus)
    s += (s.empty() ? "" : " + ") + std::to_string(g.count) + " " + g.spec.key;
  return s;
}

/// The lowest attainment of any placed replica (1 when none is placed).
double WorstAttainment(const Placement& p) {
  double worst = 1.0;
  for (const GpuAssignment& g : p.gpus)
    for (const fleet::ReplicaOutcome& o : g.verdict.outcomes) worst = std::min(worst, o.attainment);
  return worst;
}

/// Models all of whose replicas are placed and meet the SLO.
int64_t ModelsMet(const LoadedFleet& f, const Placement& p) {
  std::vector<bool> ok(f.spec.models.size(), true);
  for (const fleet::Replica& r : p.unplaced) ok[static_cast<size_t>(r.model)] = false;
  for (const GpuAssignment& g : p.gpus)
    for (const fleet::ReplicaOutcome& o : g.verdict.outcomes)
      if (!fleet::MeetsAttainment(o.requests, o.misses, f.spec.attainment))
        ok[static_cast<size_t>(o.replica.model)] = false;
  return std::count(ok.begin(), ok.end(), true);
}

void PrintPlacements(const LoadedFleet& f, const fleet::FleetResult& r) {
  std::vector<Table::Column> cols = {{"placement"}, {"GPUs", Align::kRight}};
  for (const fleet::FleetGpu& g : f.spec.gpus) cols.push_back({g.spec.key, Align::kRight});
  cols.push_back({"free", Align::kRight});
  cols.push_back({"models meeting SLO", Align::kRight});
  cols.push_back({"worst attainment", Align::kRight});
  Table t(cols);
  for (const Placement& p : r.placements) {
    std::string name = p.name;
    if (p.util_cap > 0) name += " (cap " + FormatPercent(p.util_cap, 0) + ")";
    if (!p.exists) {
      t.AddRow({name, "n/a (" + p.missing + ")"});
      continue;
    }
    std::vector<std::string> cells = {name, std::to_string(p.gpus.size())};
    for (size_t k = 0; k < f.spec.gpus.size(); ++k)
      cells.push_back(std::to_string(p.Used(static_cast<int32_t>(k))));
    cells.push_back(std::to_string(f.spec.TotalGpus() - static_cast<int32_t>(p.gpus.size())));
    cells.push_back(
        FormatCount(ModelsMet(f, p)) + "/" + FormatCount(f.spec.models.size()) +
        (p.unplaced.empty() ? "" : " (" + std::to_string(p.unplaced.size()) + " unplaced)"));
    cells.push_back(FormatPercent(WorstAttainment(p)));
    t.AddRow(cells);
  }
  t.Print(stdout);
}

std::string PlanWords(const GpuAssignment& g) {
  if (g.verdict.plan.is_null()) return "-";
  const std::string& s = g.verdict.plan_source;
  return s.empty() ? "native" : s;
}

void PrintGpus(const LoadedFleet& f, const Placement& p) {
  Table t({{"GPU", Align::kRight},
           {"kind"},
           {"models"},
           {"util alone", Align::kRight},
           {"busy shared", Align::kRight},
           {"worst attainment", Align::kRight},
           {"plan"}});
  for (size_t i = 0; i < p.gpus.size(); ++i) {
    const GpuAssignment& g = p.gpus[i];
    std::string models;
    for (const fleet::Replica& r : g.replicas)
      models += (models.empty() ? "" : ", ") + fleet::ReplicaName(f, r);
    double worst = 1.0;
    for (const fleet::ReplicaOutcome& o : g.verdict.outcomes) worst = std::min(worst, o.attainment);
    t.AddRow({std::to_string(i), f.spec.gpus[static_cast<size_t>(g.kind)].spec.key, models,
              FormatPercent(g.util), FormatPercent(g.verdict.sm_busy),
              FormatPercent(worst) + (g.verdict.feasible ? "" : " MISS"), PlanWords(g)});
  }
  t.SetIndent(2);
  t.Print(stdout);
}

void PrintModels(const LoadedFleet& f, const fleet::FleetResult& r) {
  const Placement& p = r.placements.front();
  // Per model: its worst replica's p99 and attainment in cotenant's placement.
  std::vector<double> att(f.spec.models.size(), 2.0);
  std::vector<TimeNs> p99(f.spec.models.size(), 0);
  for (const GpuAssignment& g : p.gpus) {
    for (const fleet::ReplicaOutcome& o : g.verdict.outcomes) {
      const size_t m = static_cast<size_t>(o.replica.model);
      att[m] = std::min(att[m], o.attainment);
      p99[m] = std::max(p99[m], o.p99_ns);
    }
  }
  Table t({{"model"},
           {"kind"},
           {"rate", Align::kRight},
           {"replicas", Align::kRight},
           {"SLO"},
           {"p99", Align::kRight},
           {"attainment", Align::kRight}});
  for (size_t m = 0; m < f.spec.models.size(); ++m) {
    const FleetModel& fm = f.spec.models[m];
    std::string slo;
    if (fm.kind == fleet::ModelKind::kLlm) {
      if (fm.llm.slo.ttft_ns > 0) slo = "TTFT " + FormatNs(fm.llm.slo.ttft_ns);
      if (fm.llm.slo.tpot_ns > 0)
        slo += (slo.empty() ? "" : ", ") + std::string("TPOT ") + FormatNs(fm.llm.slo.tpot_ns);
    } else {
      slo = FormatNs(fm.slo_ns);
    }
    t.AddRow({fm.name, fleet::ModelKindName(fm.kind), FormatFixed(fm.rate_hz, 1) + "/s",
              std::to_string(r.models[m].replicas), slo, att[m] > 1.0 ? "-" : FormatNs(p99[m]),
              att[m] > 1.0 ? "unplaced" : FormatPercent(att[m])});
  }
  t.SetIndent(2);
  t.Print(stdout);
}

}  // namespace

RunFn AddFleet(CLI::App* sub) {
  struct Options {
    std::string fleet, json;
    int threads = 0;
    int64_t seed = -1;
    bool quiet_models = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("fleet", o->fleet, "Fleet file (cotenant.fleet/1)")->required();
  sub->add_option("--json", o->json,
                  "Write the placements (cotenant.fleet-result/1) to this file, - = stdout");
  sub->add_option("-j,--threads", o->threads,
                  "Evaluations in parallel per process (default: the hardware threads, or 1 "
                  "per rank under mpirun); the answer does not depend on it")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--seed", o->seed, "Seed (default: the fleet file's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 62));
  sub->add_flag("--no-models", o->quiet_models, "Leave out the per-model table");
  sub->footer(
      "Examples:\n"
      "  cotenant fleet configs/fleets/mixed16.json --json fleet.json\n"
      "  mpirun -np 2 cotenant fleet configs/fleets/mixed64.json --json fleet.json\n"
      "  tools/plot.py fleet.json -o plots      (plots/fleet.png)");
  return [o]() {
    const bool mpi = fleet::UnderMpi();
    const int threads = o->threads > 0 ? o->threads
                        : mpi          ? 1
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    std::unique_ptr<fleet::Pool> pool = fleet::MakePool(threads);
    const bool lead = pool->Rank() == 0;
    try {
      fleet::FleetSpec spec = fleet::ReadFleet(o->fleet);
      if (o->seed >= 0) spec.seed = static_cast<uint64_t>(o->seed);
      const LoadedFleet f = fleet::LoadFleet(std::move(spec), fleet::SynthSources());
      const bool quiet = o->json == "-" || !lead;
      if (!quiet) {
        std::printf(
            "fleet: %zu models on %s (%d GPUs); SLO attainment %s over %s s windows; %s, "
            "seed %llu\n",
            f.spec.models.size(), GpuCounts(f).c_str(), f.spec.TotalGpus(),
            FormatPercent(f.spec.attainment).c_str(), FormatFixed(f.spec.window_s, 1).c_str(),
            pool->Describe().c_str(), static_cast<unsigned long long>(f.spec.seed));
        for (size_t m = 0; m < f.notes.size(); ++m)
          if (!f.notes[m].empty())
            std::printf("note: %s %s\n", f.spec.models[m].name.c_str(), f.notes[m].c_str());
        std::fflush(stdout);
      }
      std::unique_ptr<ProgressBar> bar;
      if (lead) bar = std::make_unique<ProgressBar>("fleet");
      fleet::PlaceOptions po;
      po.on_progress = [&bar](const std::string& phase, int64_t done, int64_t total) {
        if (!bar) return;
        const double share = total > 0 ? static_cast<double>(done) / total : 0.0;
        const double base = phase == "alone" ? 0.0 : phase == "placing" ? 0.2 : 0.9;
        const double span = phase == "alone" ? 0.2 : phase == "placing" ? 0.7 : 0.1;
        bar->Update(base + span * share,
                    phase + " " + FormatCount(done) + "/" + FormatCount(total));
      };
      const fleet::FleetResult r = fleet::PlaceFleet(f, *pool, po);
      if (bar) bar->Finish();
      if (!lead) return 0;
      if (!o->json.empty()) WriteOutput(o->json, fleet::FleetResultToJson(r, f).dump(2) + "\n");
      if (quiet) return 0;
      std::printf("\n");
      PrintPlacements(f, r);
      std::printf("\ncotenant's placement:\n");
      PrintGpus(f, r.placements.front());
      if (!o->quiet_models) {
        std::printf("\nmodels (cotenant's placement; worst replica):\n");
        PrintModels(f, r);
      }
      std::printf(
          "\nutil alone: the GPU's models' utilisations alone added up (time with a kernel "
          "running,\nas nvidia-smi reports it), what bin packing counts; busy shared: "
          "simulated together\n");
      std::printf("fleet: %s group evaluations (%s simulations) in %.1f s, %s\n",
                  FormatCount(r.evaluations).c_str(), FormatCount(r.simulations).c_str(), r.seconds,
                  r.pool.c_str());
      if (!o->json.empty() && o->json != "-") std::printf("report: %s\n", o->json.c_str());
      return 0;
    } catch (const InputError&) {
      if (lead) throw;  // every rank fails alike; one says why
      return 1;
    }
  };
}

}  // namespace cotenant::cli
