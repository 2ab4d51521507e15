#include "fleet/placement.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::fleet {

using nlohmann::json;

bool Placement::AllSlosMet() const {
  if (!exists || !unplaced.empty()) return false;
  for (const GpuAssignment& g : gpus)
    if (!g.verdict.feasible) return false;
  return true;
}

int32_t Placement::Used(int32_t kind) const {
  int32_t n = 0;
  for (const GpuAssignment& g : gpus) n += g.kind == kind;
  return n;
}

namespace {

using Group = std::vector<Replica>;

std::string Ms(TimeNs ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string Pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * share);
  return buf;
}

/// Group evaluations through the pool, each group and kind evaluated once.
class Evaluations {
 public:
  Evaluations(const LoadedFleet& f, Pool& pool) : f_(f), pool_(pool) {}

  /// The verdicts of `jobs` (group, kind) at `effort`, in order.
  std::vector<GroupVerdict> Run(const std::vector<std::pair<Group, int32_t>>& jobs, Effort effort) {
    std::vector<std::string> keys;
    std::vector<size_t> todo;
    std::map<std::string, size_t> first;  // duplicates within this batch
    for (size_t i = 0; i < jobs.size(); ++i) {
      keys.push_back(Key(jobs[i].first, jobs[i].second, effort));
      if (cache_.count(keys.back()) == 0 && first.emplace(keys.back(), i).second) todo.push_back(i);
    }
    std::vector<double> cost;
    for (size_t i : todo) cost.push_back(GroupCost(f_, jobs[i].first));
    const std::vector<std::string> out = pool_.Map(todo.size(), cost, [&](size_t k) {
      const auto& [group, kind] = jobs[todo[k]];
      return VerdictToJson(EvaluateGroup(f_, group, kind, effort)).dump();
    });
    for (size_t k = 0; k < todo.size(); ++k) {
      GroupVerdict v = VerdictFromJson(json::parse(out[k]));
      evaluations_ += 1;
      simulations_ += v.simulations;
      cache_.emplace(keys[todo[k]], std::move(v));
    }
    std::vector<GroupVerdict> verdicts;
    for (const std::string& key : keys) verdicts.push_back(cache_.at(key));
    return verdicts;
  }

  int64_t evaluations() const { return evaluations_; }
  int64_t simulations() const { return simulations_; }

 private:
  static std::string Key(const Group& g, int32_t kind, Effort effort) {
    std::string k = std::to_string(kind) + (effort == Effort::kSearch ? "s" : "n");
    for (const Replica& r : g)
      k += "|" + std::to_string(r.model) + "." + std::to_string(r.index) + "." +
           std::to_string(r.replicas);
    return k;
  }

  const LoadedFleet& f_;
  Pool& pool_;
  std::map<std::string, GroupVerdict> cache_;
  int64_t evaluations_ = 0, simulations_ = 0;
};

/// The next replica count to try after `r`: one more up to 4, then half as many
/// more; never above `limit`.
int32_t NextReplicas(int32_t r, int32_t limit) {
  const int32_t next = r < 4 ? r + 1 : r + (r + 1) / 2;
  return std::min(next, limit);
}

/// The best of a model's verdicts alone (most requests within the SLO), for messages.
std::string BestAlone(const LoadedFleet& f, const std::vector<GroupVerdict>& alone,
                      const FleetModel& m) {
  int32_t best = -1;
  for (size_t k = 0; k < alone.size(); ++k) {
    if (alone[k].outcomes.empty()) continue;
    if (best < 0 ||
        alone[k].outcomes[0].attainment > alone[static_cast<size_t>(best)].outcomes[0].attainment)
      best = static_cast<int32_t>(k);
  }
  if (best < 0) {
    std::string why;
    for (size_t k = 0; k < alone.size(); ++k)
      why += (k ? "; " : "") + f.spec.gpus[k].spec.key + ": " + alone[k].why;
    return why;
  }
  const GroupVerdict& v = alone[static_cast<size_t>(best)];
  const ReplicaOutcome& o = v.outcomes[0];
  std::string s = "at best it meets it on " + Pct(o.attainment) + " of requests, on " +
                  f.spec.gpus[static_cast<size_t>(best)].spec.key + " (";
  if (m.kind == ModelKind::kLlm) {
    s += "TTFT p99 " + Ms(o.ttft_p99_ns) + " against " +
         (m.llm.slo.ttft_ns > 0 ? Ms(m.llm.slo.ttft_ns) : std::string("none")) + ", TPOT p99 " +
         Ms(o.tpot_p99_ns) + " against " +
         (m.llm.slo.tpot_ns > 0 ? Ms(m.llm.slo.tpot_ns) : std::string("none"));
  } else {
    s += "p99 " + Ms(o.p99_ns) + " against an SLO of " + Ms(m.slo_ns);
  }
  return s + "; the fleet asks for " + Pct(f.spec.attainment) + ")";
}

/// Each model's replica count and its verdicts alone: first every model at its
/// lowest load (max replicas) on every kind, refusing a model whose SLO nothing
/// meets; then from one replica up until one kind meets the SLO.
std::vector<ModelAlone> FindReplicas(const LoadedFleet& f, Evaluations& ev,
                                     const PlaceOptions& opt) {
  const FleetSpec& s = f.spec;
  const size_t n = s.models.size(), kinds = s.gpus.size();
  int64_t largest = 0;
  std::string largest_key;
  for (const FleetGpu& g : s.gpus)
    if (g.spec.dram_bytes > largest) largest = g.spec.dram_bytes, largest_key = g.spec.key;
  std::vector<int32_t> limit(n);
  for (size_t m = 0; m < n; ++m) {
    const FleetModel& fm = s.models[m];
    if (fm.memory_bytes > largest)
      FailAt(s.file, fm.at + ".memory_gib",
             fm.name + " needs " + FormatGib(fm.memory_bytes) +
                 " per replica; no GPU of the fleet " + "holds it (the largest, " + largest_key +
                 ", has " + FormatGib(largest) + ")");
    limit[m] = fm.max_replicas > 0 ? fm.max_replicas : s.TotalGpus();
  }
  const auto alone_jobs = [&](const std::vector<int32_t>& replicas, const std::vector<size_t>& ms) {
    std::vector<std::pair<Group, int32_t>> jobs;
    for (size_t m : ms)
      for (size_t k = 0; k < kinds; ++k)
        jobs.push_back(
            {{Replica{static_cast<int32_t>(m), 0, replicas[m]}}, static_cast<int32_t>(k)});
    return jobs;
  };
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  // The lowest load each model can get.
  {
    if (opt.on_progress) opt.on_progress("alone", 0, static_cast<int64_t>(n));
    const std::vector<GroupVerdict> v = ev.Run(alone_jobs(limit, all), Effort::kNative);
    for (size_t m = 0; m < n; ++m) {
      bool ok = false;
      for (size_t k = 0; k < kinds; ++k) ok = ok || v[m * kinds + k].feasible;
      if (ok) continue;
      const FleetModel& fm = s.models[m];
      const std::vector<GroupVerdict> mine(v.begin() + static_cast<long>(m * kinds),
                                           v.begin() + static_cast<long>((m + 1) * kinds));
      char rate[128];
      std::snprintf(rate, sizeof(rate), "%g req/s split over %d replica%s (%g req/s each)",
                    fm.rate_hz, limit[m], limit[m] == 1 ? "" : "s", fm.rate_hz / limit[m]);
      FailAt(s.file, fm.at,
             fm.name + ": no GPU of the fleet meets its SLO, even alone with its " + rate + ": " +
                 BestAlone(f, mine, fm));
    }
  }
  std::vector<ModelAlone> out(n);
  std::vector<int32_t> replicas(n, 1);
  std::vector<size_t> pending = all;
  int64_t done = 0;
  while (!pending.empty()) {
    if (opt.on_progress) opt.on_progress("alone", done, static_cast<int64_t>(n));
    const std::vector<GroupVerdict> v = ev.Run(alone_jobs(replicas, pending), Effort::kNative);
    std::vector<size_t> next;
    for (size_t i = 0; i < pending.size(); ++i) {
      const size_t m = pending[i];
      ModelAlone& a = out[m];
      a.replicas = replicas[m];
      a.alone.assign(v.begin() + static_cast<long>(i * kinds),
                     v.begin() + static_cast<long>((i + 1) * kinds));
      for (size_t k = 0; k < kinds && a.preferred < 0; ++k)
        if (a.alone[k].feasible) a.preferred = static_cast<int32_t>(k);
      if (a.preferred >= 0) {
        ++done;
        continue;
      }
      // (Feasible at `limit`, checked above: the loop ends there.)
      replicas[m] = NextReplicas(replicas[m], limit[m]);
      next.push_back(m);
    }
    pending = std::move(next);
  }
  return out;
}

/// The replicas of every model, heaviest first (utilisation alone on its
/// preferred kind), ties by model and copy.
std::vector<Replica> Shards(const std::vector<ModelAlone>& alone) {
  std::vector<Replica> shards;
  for (size_t m = 0; m < alone.size(); ++m)
    for (int32_t i = 0; i < alone[m].replicas; ++i)
      shards.push_back({static_cast<int32_t>(m), i, alone[m].replicas});
  const auto util = [&](const Replica& r) {
    const ModelAlone& a = alone[static_cast<size_t>(r.model)];
    return a.alone[static_cast<size_t>(a.preferred)].sm_busy;
  };
  std::stable_sort(shards.begin(), shards.end(),
                   [&](const Replica& a, const Replica& b) { return util(a) > util(b); });
  return shards;
}

/// A fresh GPU for `r`: the first kind with one left on which it meets its SLO
/// alone; -1 when none.
int32_t NewGpuKind(const LoadedFleet& f, const ModelAlone& a, const std::vector<int32_t>& left) {
  for (size_t k = 0; k < f.spec.gpus.size(); ++k)
    if (left[k] > 0 && a.alone[k].feasible) return static_cast<int32_t>(k);
  return -1;
}

/// Whether `r` may join `g` on memory and anti-affinity (no two copies of a model
/// on one GPU) and meets its SLO alone on g's kind.
bool MayJoin(const LoadedFleet& f, const std::vector<ModelAlone>& alone, const GpuAssignment& g,
             const Replica& r) {
  if (!alone[static_cast<size_t>(r.model)].alone[static_cast<size_t>(g.kind)].feasible)
    return false;
  for (const Replica& x : g.replicas)
    if (x.model == r.model) return false;
  Group group = g.replicas;
  group.push_back(r);
  return GroupMemory(f, group) <= f.spec.gpus[static_cast<size_t>(g.kind)].spec.dram_bytes;
}

GpuAssignment NewGpu(const std::vector<ModelAlone>& alone, int32_t kind, const Replica& r) {
  GpuAssignment g;
  g.kind = kind;
  g.replicas = {r};
  const GroupVerdict& v = alone[static_cast<size_t>(r.model)].alone[static_cast<size_t>(kind)];
  g.verdict = v;
  // The verdict alone is of copy 0; every copy gets the same requests.
  for (ReplicaOutcome& o : g.verdict.outcomes) o.replica = r;
  g.util = v.sm_busy;
  g.occupancy = v.occupancy;
  return g;
}

/// Puts `r` alone on a new GPU of the first kind with one left (`left`, per kind)
/// on which it meets its SLO alone; else lists it as unplaced. True when opened.
bool OpenGpu(const LoadedFleet& f, const std::vector<ModelAlone>& alone, const Replica& r,
             std::vector<int32_t>* left, Placement* p) {
  const int32_t kind = NewGpuKind(f, alone[static_cast<size_t>(r.model)], *left);
  if (kind < 0) {
    p->unplaced.push_back(r);
    return false;
  }
  --(*left)[static_cast<size_t>(kind)];
  p->gpus.push_back(NewGpu(alone, kind, r));
  return true;
}

void Add(GpuAssignment* g, const Replica& r, const ModelAlone& a, GroupVerdict v) {
  g->replicas.push_back(r);
  g->verdict = std::move(v);
  g->util += a.alone[static_cast<size_t>(g->kind)].sm_busy;
  g->occupancy += a.alone[static_cast<size_t>(g->kind)].occupancy;
}

/// cotenant's placement: each replica, heaviest first, joins the fullest open GPU
/// (SM occupancy of its models alone added up) on which simulation, with a
/// searched plan, says every SLO of the group still holds. The GPUs tried are
/// those with room (memory; one copy of a model per GPU; the replica meets its SLO
/// alone on the kind), at most `candidates` of them: the fullest half and the
/// emptiest half. When none holds, it opens a new GPU. Replicas go in batches of
/// `batch`, all evaluated at once against the GPUs as the batch starts (the
/// parallel work), then placed in order (a GPU an earlier replica of the batch
/// joined is evaluated again). The answer depends on `batch`, not on how many
/// processes or threads run it.
Placement PlaceCotenant(const LoadedFleet& f, const std::vector<ModelAlone>& alone, Evaluations& ev,
                        const PlaceOptions& opt) {
  Placement p;
  p.name = "cotenant";
  p.description = "interference-aware: groups judged by simulation, each GPU's plan searched";
  std::vector<int32_t> left;
  for (const FleetGpu& g : f.spec.gpus) left.push_back(g.count);
  // The GPUs `r` is tried on among `pool` (indices into p.gpus): those it may join,
  // at most `candidates`: the fullest half and the emptiest half, fullest first.
  const auto candidates_of = [&](const Replica& r, const std::vector<size_t>& pool) {
    std::vector<size_t> open;
    for (size_t i : pool)
      if (MayJoin(f, alone, p.gpus[i], r)) open.push_back(i);
    std::stable_sort(open.begin(), open.end(),
                     [&](size_t x, size_t y) { return p.gpus[x].occupancy > p.gpus[y].occupancy; });
    const size_t k = static_cast<size_t>(f.spec.candidates);
    if (open.size() <= k) return open;
    std::vector<size_t> cands(open.begin(), open.begin() + static_cast<long>((k + 1) / 2));
    cands.insert(cands.end(), open.end() - static_cast<long>(k / 2), open.end());
    return cands;
  };
  const auto add_jobs = [&](const Replica& r, const std::vector<size_t>& cands,
                            std::vector<std::pair<Group, int32_t>>* jobs) {
    for (size_t i : cands) {
      Group g = p.gpus[i].replicas;
      g.push_back(r);
      jobs->push_back({g, p.gpus[i].kind});
    }
  };
  const std::vector<Replica> shards = Shards(alone);
  const size_t batch = static_cast<size_t>(f.spec.batch);
  int64_t done = 0;
  for (size_t b = 0; b < shards.size(); b += batch) {
    const size_t e = std::min(shards.size(), b + batch);
    // Every replica of the batch against the GPUs as they are now, in one Map.
    const size_t before = p.gpus.size();
    std::vector<size_t> all(before);
    std::iota(all.begin(), all.end(), size_t{0});
    std::vector<std::vector<size_t>> cands;
    std::vector<size_t> first;
    std::vector<std::pair<Group, int32_t>> jobs;
    for (size_t i = b; i < e; ++i) {
      cands.push_back(candidates_of(shards[i], all));
      first.push_back(jobs.size());
      add_jobs(shards[i], cands.back(), &jobs);
    }
    const std::vector<GroupVerdict> v = ev.Run(jobs, Effort::kSearch);
    // Then one at a time, in order: a verdict on a GPU an earlier replica of the batch
    // joined is stale; the GPUs the batch changed or opened are looked at afresh when
    // no unchanged one holds.
    std::vector<bool> touched(before, false);
    for (size_t i = b; i < e; ++i) {
      if (opt.on_progress) opt.on_progress("placing", done++, static_cast<int64_t>(shards.size()));
      const Replica& r = shards[i];
      const ModelAlone& a = alone[static_cast<size_t>(r.model)];
      const std::vector<size_t>& mine = cands[i - b];
      bool placed = false;
      for (size_t c = 0; c < mine.size() && !placed; ++c) {
        if (touched[mine[c]] || !v[first[i - b] + c].feasible) continue;
        Add(&p.gpus[mine[c]], r, a, v[first[i - b] + c]);
        touched[mine[c]] = true;
        placed = true;
      }
      if (!placed) {
        std::vector<size_t> changed;
        for (size_t g = 0; g < p.gpus.size(); ++g)
          if (touched[g]) changed.push_back(g);
        const std::vector<size_t> fresh = candidates_of(r, changed);
        std::vector<std::pair<Group, int32_t>> more;
        add_jobs(r, fresh, &more);
        const std::vector<GroupVerdict> v2 = ev.Run(more, Effort::kSearch);
        for (size_t c = 0; c < fresh.size() && !placed; ++c) {
          if (!v2[c].feasible) continue;
          Add(&p.gpus[fresh[c]], r, a, v2[c]);
          placed = true;
        }
      }
      if (!placed && OpenGpu(f, alone, r, &left, &p)) touched.push_back(true);
    }
  }
  return p;
}

Placement OnePerGpu(const LoadedFleet& f, const std::vector<ModelAlone>& alone) {
  Placement p;
  p.name = "one-per-gpu";
  p.description = "each model replica on a GPU of its own";
  std::vector<int32_t> left;
  for (const FleetGpu& g : f.spec.gpus) left.push_back(g.count);
  for (const Replica& r : Shards(alone)) OpenGpu(f, alone, r, &left, &p);
  return p;
}

/// Interference-blind bin packing: first fit, heaviest first, while the summed
/// utilisations alone (nvidia-smi's: time with a kernel running) stay within
/// `cap`; each shared GPU then simulated under native multi-stream.
Placement BinPacking(const LoadedFleet& f, const std::vector<ModelAlone>& alone, double cap,
                     Evaluations& ev) {
  Placement p;
  p.name = "bin-packing";
  p.util_cap = cap;
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "first fit by utilisation alone up to %.0f%% per GPU, native multi-stream",
                100.0 * cap);
  p.description = buf;
  std::vector<int32_t> left;
  for (const FleetGpu& g : f.spec.gpus) left.push_back(g.count);
  for (const Replica& r : Shards(alone)) {
    const ModelAlone& a = alone[static_cast<size_t>(r.model)];
    bool placed = false;
    for (GpuAssignment& g : p.gpus) {
      if (!MayJoin(f, alone, g, r)) continue;
      if (g.util + a.alone[static_cast<size_t>(g.kind)].sm_busy > cap + 1e-12) continue;
      Add(&g, r, a, GroupVerdict{});
      placed = true;
      break;
    }
    if (!placed) OpenGpu(f, alone, r, &left, &p);
  }
  std::vector<std::pair<Group, int32_t>> jobs;
  std::vector<size_t> shared;
  for (size_t i = 0; i < p.gpus.size(); ++i) {
    if (p.gpus[i].replicas.size() < 2) continue;
    jobs.push_back({p.gpus[i].replicas, p.gpus[i].kind});
    shared.push_back(i);
  }
  const std::vector<GroupVerdict> v = ev.Run(jobs, Effort::kNative);
  for (size_t j = 0; j < shared.size(); ++j) p.gpus[shared[j]].verdict = v[j];
  return p;
}

}  // namespace

FleetResult PlaceFleet(const LoadedFleet& f, Pool& pool, const PlaceOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  FleetResult r;
  r.pool = pool.Describe();
  Evaluations ev(f, pool);
  r.models = FindReplicas(f, ev, options);
  r.placements.push_back(PlaceCotenant(f, r.models, ev, options));
  if (options.on_progress) options.on_progress("baselines", 0, 2);
  r.placements.push_back(OnePerGpu(f, r.models));
  Placement packed = BinPacking(f, r.models, f.spec.util_cap, ev);
  const bool packed_met = packed.AllSlosMet();
  r.placements.push_back(std::move(packed));
  // Tightened: the highest cap, in steps of 10 points, at which every SLO holds.
  Placement tight;
  tight.exists = false;
  if (!packed_met) {
    for (int step = static_cast<int>(std::ceil(f.spec.util_cap * 10.0 - 1e-9)) - 1; step >= 1;
         --step) {
      if (options.on_progress) options.on_progress("baselines", 1, 2);
      Placement p = BinPacking(f, r.models, step / 10.0, ev);
      if (p.AllSlosMet()) {
        tight = std::move(p);
        break;
      }
    }
    if (!tight.exists) tight.missing = "no cap down to 10% meets every SLO";
  } else {
    tight.missing = "not needed: bin packing at its cap meets every SLO";
  }
  tight.name = "bin-packing-tightened";
  if (tight.exists)
    tight.description = "bin packing with the highest cap (10-point steps) meeting every SLO: " +
                        tight.description.substr(0, tight.description.find(','));
  else
    tight.description = "bin packing, cap lowered until every SLO holds";
  r.placements.push_back(std::move(tight));
  if (options.on_progress) options.on_progress("baselines", 2, 2);
  r.evaluations = ev.evaluations();
  r.simulations = ev.simulations();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

namespace {

json ReplicaJson(const LoadedFleet& f, const ReplicaOutcome& o) {
  const FleetModel& m = f.spec.models[static_cast<size_t>(o.replica.model)];
  json j = {{"model", m.name},
            {"replica", o.replica.index},
            {"replicas", o.replica.replicas},
            {"rate_hz", ReplicaRate(f, o.replica)},
            {"requests", o.requests},
            {"slo_misses", o.misses},
            {"attainment", o.attainment},
            {"p99_ns", o.p99_ns}};
  if (m.kind == ModelKind::kLlm) {
    j["ttft_p99_ns"] = o.ttft_p99_ns;
    j["tpot_p99_ns"] = o.tpot_p99_ns;
  }
  return j;
}

json PlacementJson(const LoadedFleet& f, const Placement& p) {
  json j = {{"name", p.name}, {"description", p.description}, {"exists", p.exists}};
  if (!p.exists) {
    j["missing"] = p.missing;
    return j;
  }
  if (p.util_cap > 0) j["util_cap"] = p.util_cap;
  j["all_slos_met"] = p.AllSlosMet();
  j["gpus_used"] = static_cast<int64_t>(p.gpus.size());
  json free = json::object(), used = json::object();
  for (size_t k = 0; k < f.spec.gpus.size(); ++k) {
    const int32_t u = p.Used(static_cast<int32_t>(k));
    used[f.spec.gpus[k].spec.key] = u;
    free[f.spec.gpus[k].spec.key] = f.spec.gpus[k].count - u;
  }
  j["used"] = used;
  j["free"] = free;
  json gpus = json::array();
  for (size_t i = 0; i < p.gpus.size(); ++i) {
    const GpuAssignment& g = p.gpus[i];
    json reps = json::array();
    for (const ReplicaOutcome& o : g.verdict.outcomes) reps.push_back(ReplicaJson(f, o));
    gpus.push_back({{"index", i},
                    {"gpu", f.spec.gpus[static_cast<size_t>(g.kind)].spec.key},
                    {"models", reps},
                    {"util_alone_sum", g.util},
                    {"occupancy_alone_sum", g.occupancy},
                    {"sm_busy", g.verdict.sm_busy},
                    {"slos_met", g.verdict.feasible},
                    {"plan", g.verdict.plan},
                    {"plan_source", g.verdict.plan_source}});
    if (!g.verdict.feasible) gpus.back()["why"] = g.verdict.why;
  }
  j["gpus"] = gpus;
  json unplaced = json::array();
  for (const Replica& r : p.unplaced) unplaced.push_back(ReplicaName(f, r));
  j["unplaced"] = unplaced;
  return j;
}

}  // namespace

json FleetResultToJson(const FleetResult& r, const LoadedFleet& f) {
  json gpus = json::array();
  for (const FleetGpu& g : f.spec.gpus) gpus.push_back({{"gpu", g.spec.key}, {"count", g.count}});
  json models = json::array();
  for (size_t m = 0; m < f.spec.models.size(); ++m) {
    const FleetModel& fm = f.spec.models[m];
    const ModelAlone& a = r.models[m];
    json alone = json::object();
    for (size_t k = 0; k < f.spec.gpus.size(); ++k) {
      const GroupVerdict& v = a.alone[k];
      json one = {{"slo_met", v.feasible}, {"sm_busy", v.sm_busy}, {"occupancy", v.occupancy}};
      if (!v.outcomes.empty()) {
        one["attainment"] = v.outcomes[0].attainment;
        one["p99_ns"] = v.outcomes[0].p99_ns;
      }
      if (!v.feasible) one["why"] = v.why;
      alone[f.spec.gpus[k].spec.key] = one;
    }
    json jm = {{"name", fm.name},        {"kind", ModelKindName(fm.kind)},  {"rate_hz", fm.rate_hz},
               {"replicas", a.replicas}, {"memory_bytes", fm.memory_bytes}, {"alone", alone}};
    if (fm.kind == ModelKind::kLlm) {
      jm["ttft_slo_ns"] = fm.llm.slo.ttft_ns;
      jm["tpot_slo_ns"] = fm.llm.slo.tpot_ns;
    } else {
      jm["slo_ns"] = fm.slo_ns;
    }
    if (!f.notes[m].empty()) jm["note"] = f.notes[m];
    models.push_back(jm);
  }
  json placements = json::array();
  for (const Placement& p : r.placements) placements.push_back(PlacementJson(f, p));
  return {{"schema", "cotenant.fleet-result/1"},
          {"fleet", f.spec.file},
          {"gpus", gpus},
          {"attainment", f.spec.attainment},
          {"window_s", f.spec.window_s},
          {"seed", f.spec.seed},
          {"model", f.spec.model},
          {"models", models},
          {"placements", placements},
          {"evaluations", r.evaluations},
          {"simulations", r.simulations}};
}

}  // namespace cotenant::fleet
