#include "fleet/group.h"

#include <algorithm>
#include <cmath>

#include "search/search.h"
#include "search/space.h"
#include "search/space_file.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/plan.h"
#include "sim/whatif.h"
#include "sim/workload.h"

namespace cotenant::fleet {

using nlohmann::json;

namespace {

/// The GPU a trace was captured on: device.gpu, else the spec its device.name
/// maps to; "" when neither.
std::string TracedGpu(const Trace& t) {
  if (!t.device_gpu.empty()) return t.device_gpu;
  if (t.device_name.empty()) return "";
  return SpecKeyForDevice(t.device_name).value_or("");
}

/// The arrival of a replica: Poisson (or gamma) at its rate, with a seed that
/// depends on the fleet's seed, the model and its replica count only: the same
/// requests whatever group it is evaluated in, and the same for every copy (copies
/// never share a GPU), so that one copy alone stands for all.
Arrival ReplicaArrival(const LoadedFleet& f, const Replica& r) {
  const FleetModel& m = f.spec.models[static_cast<size_t>(r.model)];
  Arrival a;
  a.kind = m.burstiness == 1.0 ? ArrivalKind::kPoisson : ArrivalKind::kGamma;
  a.rate_hz = ReplicaRate(f, r);
  a.burstiness = m.burstiness;
  SplitMix64 mix(f.spec.seed);
  uint64_t s = mix.Next();
  s ^= static_cast<uint64_t>(r.model + 1) * 0x9E3779B97F4A7C15ULL;
  s ^= static_cast<uint64_t>(r.replicas) * 0x94D049BB133111EBULL;
  a.seed = s >> 2;  // a non-negative JSON integer
  return a;
}

}  // namespace

LoadedFleet LoadFleet(FleetSpec spec, const FleetSources& sources) {
  LoadedFleet f;
  f.spec = std::move(spec);
  const FleetSpec& s = f.spec;
  f.traces.resize(s.models.size());
  f.llm.resize(s.models.size());
  f.notes.resize(s.models.size());
  for (size_t i = 0; i < s.models.size(); ++i) {
    const FleetModel& m = s.models[i];
    switch (m.kind) {
      case ModelKind::kTrace: {
        const Trace t = ReadTrace(m.trace_path);
        const std::string traced = TracedGpu(t);
        if (traced.empty())
          FailAt(s.file, m.at + ".trace",
                 m.trace_path +
                     " names no GPU it was captured on (device.gpu or a known device.name), so "
                     "it cannot be rescaled to the fleet's GPUs");
        std::optional<GpuSpec> from;
        for (const FleetGpu& g : s.gpus) {
          Trace copy = t;
          if (traced != g.spec.key) {
            if (!from) {
              try {
                from = LoadGpuSpec(traced);
              } catch (const InputError& e) {
                FailAt(s.file, m.at + ".trace",
                       m.trace_path + " was captured on " + traced +
                           ", which no GPU spec describes, so it cannot be rescaled to " +
                           g.spec.key);
              }
            }
            SwapGpu(copy, *from, g.spec);
            f.notes[i] +=
                (f.notes[i].empty() ? "traced on " + traced + "; rescaled to " : ", ") + g.spec.key;
          }
          f.traces[i].push_back(std::move(copy));
        }
        if (!f.notes[i].empty()) f.notes[i] += " by the what-if GPU swap";
        break;
      }
      case ModelKind::kZoo:
        if (!sources.zoo) FailAt(s.file, m.at + ".zoo", "no zoo models here");
        for (const FleetGpu& g : s.gpus) {
          try {
            f.traces[i].push_back(sources.zoo(m, g.spec));
          } catch (const InputError& e) {
            FailAt(s.file, m.at + ".zoo", e.what());
          }
        }
        break;
      case ModelKind::kLlm:
        if (!sources.llm) FailAt(s.file, m.at, "no llm models here");
        for (const FleetGpu& g : s.gpus) f.llm[i].push_back(sources.llm(m.llm, s.file, g.spec));
        break;
    }
  }
  return f;
}

bool MeetsAttainment(int64_t requests, int64_t misses, double attainment) {
  const int64_t need = static_cast<int64_t>(std::ceil(attainment * 1e6));
  return (requests - misses) * 1000000 >= need * requests;
}

std::string FormatGib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(bytes) / (1LL << 30));
  return buf;
}

double ReplicaRate(const LoadedFleet& f, const Replica& r) {
  return f.spec.models[static_cast<size_t>(r.model)].rate_hz / r.replicas;
}

int64_t ReplicaRequests(const LoadedFleet& f, const Replica& r) {
  const double n = std::ceil(ReplicaRate(f, r) * f.spec.window_s);
  return std::max<int64_t>(f.spec.min_requests, static_cast<int64_t>(std::min(n, 1e7)));
}

std::string ReplicaName(const LoadedFleet& f, const Replica& r) {
  const std::string& name = f.spec.models[static_cast<size_t>(r.model)].name;
  return r.replicas > 1 ? name + "#" + std::to_string(r.index + 1) : name;
}

int64_t GroupMemory(const LoadedFleet& f, const std::vector<Replica>& group) {
  int64_t bytes = 0;
  for (const Replica& r : group) bytes += f.spec.models[static_cast<size_t>(r.model)].memory_bytes;
  return bytes;
}

LoadedWorkload GroupWorkload(const LoadedFleet& f, const std::vector<Replica>& group,
                             int32_t kind) {
  const FleetGpu& gpu = f.spec.gpus[static_cast<size_t>(kind)];
  LoadedWorkload lw;
  lw.workload.file = f.spec.file;
  lw.workload.gpu = gpu.spec.key;
  lw.workload.objective = Objective::kSlo;
  lw.gpu = gpu.spec;
  lw.gpu_reason = "the fleet";
  for (const Replica& r : group) {
    const FleetModel& m = f.spec.models[static_cast<size_t>(r.model)];
    const int64_t requests = ReplicaRequests(f, r);
    if (m.kind != ModelKind::kLlm) {
      TenantSpec t;
      t.name = ReplicaName(f, r);
      t.trace_path = m.kind == ModelKind::kTrace ? m.trace_path : "zoo:" + m.zoo;
      t.requests = requests;
      t.arrival = ReplicaArrival(f, r);
      t.slo_ns = m.slo_ns;
      t.memory_bytes = m.memory_bytes;
      lw.workload.tenants.push_back(std::move(t));
      lw.traces.push_back(f.traces[static_cast<size_t>(r.model)][static_cast<size_t>(kind)]);
      lw.by_batch.emplace_back();
      lw.traced_gpu.push_back(gpu.spec.key);
      continue;
    }
    LlmTenantSpec t = m.llm;
    t.name = ReplicaName(f, r);
    t.requests = requests;
    t.arrival = ArrivalToJson(ReplicaArrival(f, r));
    t.serving.gpu_memory_utilization = std::min(
        1.0, static_cast<double>(m.memory_bytes) / static_cast<double>(gpu.spec.dram_bytes));
    LoadedLlmTenant l;
    l.model = f.llm[static_cast<size_t>(r.model)][static_cast<size_t>(kind)];
    l.requests = LlmRequests(t, f.spec.file);
    lw.workload.llm_tenants.push_back(std::move(t));
    lw.llm.push_back(std::move(l));
  }
  return lw;
}

GroupVerdict EvaluateGroup(const LoadedFleet& f, const std::vector<Replica>& group, int32_t kind,
                           Effort effort) {
  const FleetGpu& gpu = f.spec.gpus[static_cast<size_t>(kind)];
  GroupVerdict v;
  const int64_t memory = GroupMemory(f, group);
  if (memory > gpu.spec.dram_bytes) {
    v.fits = false;
    v.why = "memory: " + FormatGib(memory) + " on " + gpu.spec.key + "'s " +
            FormatGib(gpu.spec.dram_bytes);
    return v;
  }
  // Where each group member's result is: trace tenants first, then llm tenants.
  std::vector<size_t> at(group.size());
  {
    size_t traces = 0;
    for (const Replica& r : group)
      traces += f.spec.models[static_cast<size_t>(r.model)].kind != ModelKind::kLlm;
    size_t t = 0, l = traces;
    for (size_t i = 0; i < group.size(); ++i)
      at[i] =
          f.spec.models[static_cast<size_t>(group[i].model)].kind != ModelKind::kLlm ? t++ : l++;
  }
  // Fills the verdict from one result; true when every replica meets its SLO.
  auto judge = [&](const SimResult& r, const Plan& plan, const std::string& source) {
    v.outcomes.clear();
    v.feasible = true;
    v.why.clear();
    double worst = 2.0;
    for (size_t i = 0; i < group.size(); ++i) {
      const TenantResult& tr = r.tenants[at[i]];
      ReplicaOutcome o;
      o.replica = group[i];
      o.requests = tr.requests;
      o.misses = tr.slo_violations;
      o.attainment =
          tr.requests > 0 ? static_cast<double>(tr.requests - tr.slo_violations) / tr.requests : 0;
      o.p99_ns = tr.latency.p99;
      const size_t traces = r.tenants.size() - r.llm.size();
      if (at[i] >= traces) {
        const ServingMetrics& m = r.llm[at[i] - traces].metrics;
        o.ttft_p99_ns = m.ttft.p99;
        o.tpot_p99_ns = m.tpot.p99;
      }
      if (!MeetsAttainment(tr.requests, tr.slo_violations, f.spec.attainment)) {
        v.feasible = false;
        if (o.attainment < worst) {
          worst = o.attainment;
          char buf[96];
          std::snprintf(buf, sizeof(buf), " meets its SLO on %.1f%% of requests (needs %.1f%%)",
                        100.0 * o.attainment, 100.0 * f.spec.attainment);
          v.why = ReplicaName(f, group[i]) + buf;
        }
      }
      v.outcomes.push_back(o);
    }
    v.plan = PlanToJson(plan);
    v.plan_source = source;
    v.sm_busy = r.gpu.sm_busy_fraction;
    v.occupancy = r.gpu.mean_sm_occupancy;
    return v.feasible;
  };
  try {
    const LoadedWorkload lw = GroupWorkload(f, group, kind);
    SimOptions so;
    so.model = f.spec.model;
    so.score_only = true;
    const SimResult native = Simulate(lw, Plan{}, so);
    ++v.simulations;
    if (judge(native, Plan{}, "native") || effort == Effort::kNative || group.size() < 2 ||
        f.spec.search_budget <= 0)
      return v;
    // Priorities and SM partitions: the knobs that trade one tenant's latency for
    // another's under open arrivals (groups and stages make requests wait for others).
    const search::PlanSpace space(lw, search::SpaceConfigFromKnobList("priority,sm"));
    search::SearchOptions o;
    o.budget_evaluations = f.spec.search_budget;
    o.threads = 1;
    o.seed = f.spec.seed;
    o.model = f.spec.model;
    // Stop at no SLO misses; no sequential (open arrivals cannot wait for a group),
    // no prefill/decode split of every llm tenant, no each-alone reference row.
    o.target_value = 0.0;
    o.baselines = {"priority", "equal-partition", "chunked-shared"};
    const search::SearchResult sr = search::RunSearch(space, o);
    v.simulations += sr.evaluations + static_cast<int64_t>(sr.baselines.size());
    const GroupVerdict native_verdict = v;
    const int64_t sims = v.simulations;
    const std::string source = sr.found_by.rfind("baseline ", 0) == 0
                                   ? "search: " + sr.found_by.substr(9) + " baseline"
                                   : "search (" + sr.strategy + ")";
    if (!judge(sr.best_result, sr.best_plan, source)) {
      // Keep the plan with fewer misses in all (the search's best by its objective).
      int64_t a = 0, b = 0;
      for (const ReplicaOutcome& o2 : native_verdict.outcomes) a += o2.misses;
      for (const ReplicaOutcome& o2 : v.outcomes) b += o2.misses;
      if (a <= b) v = native_verdict;
    }
    v.simulations = sims;
  } catch (const InputError& e) {
    v.feasible = false;
    v.outcomes.clear();
    v.plan = nullptr;
    v.why = e.what();
  }
  return v;
}

double GroupCost(const LoadedFleet& f, const std::vector<Replica>& group) {
  double cost = 0.0;
  for (const Replica& r : group) {
    const double n = static_cast<double>(ReplicaRequests(f, r));
    const auto& traces = f.traces[static_cast<size_t>(r.model)];
    cost += traces.empty() ? n * 2000.0 : n * static_cast<double>(traces[0].tasks.size());
  }
  return cost * static_cast<double>(group.size());
}

json VerdictToJson(const GroupVerdict& v) {
  json outcomes = json::array();
  for (const ReplicaOutcome& o : v.outcomes)
    outcomes.push_back({o.replica.model, o.replica.index, o.replica.replicas, o.requests, o.misses,
                        o.attainment, o.p99_ns, o.ttft_p99_ns, o.tpot_p99_ns});
  return {{"fits", v.fits},       {"feasible", v.feasible},   {"why", v.why},
          {"plan", v.plan},       {"source", v.plan_source},  {"outcomes", outcomes},
          {"sm_busy", v.sm_busy}, {"occupancy", v.occupancy}, {"sims", v.simulations}};
}

GroupVerdict VerdictFromJson(const json& j) {
  GroupVerdict v;
  v.fits = j.at("fits").get<bool>();
  v.feasible = j.at("feasible").get<bool>();
  v.why = j.at("why").get<std::string>();
  v.plan = j.at("plan");
  v.plan_source = j.at("source").get<std::string>();
  for (const json& o : j.at("outcomes")) {
    ReplicaOutcome r;
    r.replica = {o[0].get<int32_t>(), o[1].get<int32_t>(), o[2].get<int32_t>()};
    r.requests = o[3].get<int64_t>();
    r.misses = o[4].get<int64_t>();
    r.attainment = o[5].get<double>();
    r.p99_ns = o[6].get<TimeNs>();
    r.ttft_p99_ns = o[7].get<TimeNs>();
    r.tpot_p99_ns = o[8].get<TimeNs>();
    v.outcomes.push_back(r);
  }
  v.sm_busy = j.at("sm_busy").get<double>();
  v.occupancy = j.at("occupancy").get<double>();
  v.simulations = j.at("sims").get<int64_t>();
  return v;
}

}  // namespace cotenant::fleet
