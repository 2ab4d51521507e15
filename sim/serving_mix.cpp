#include "sim/serving_mix.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/error.h"
#include "sim/graph.h"
#include "sim/json_util.h"
#include "sim/simulate.h"

namespace cotenant {
namespace {

using nlohmann::json;

/// Host work of the launch call itself; the rest of an iteration's launch work runs after
/// it, overlapping the kernels (so an iteration takes about before + max(launch, GPU)).
constexpr TimeNs kLaunchCallNs = 5000;

constexpr int64_t kLlmThread = 1;

/// One serving loop of one LLM tenant as a chain of tasks, built while the loop runs.
struct LoopChain {
  /// One round's chain: the trace and where each iteration is in it.
  struct Round {
    Trace trace;
    TimeNs host_end = 0;  ///< traced end of the last host task
    int64_t next_corr = 1;
    /// Per iteration: the serving loop's start and duration; the task index of its
    /// first host task and of its sync.
    std::vector<TimeNs> start, dur;
    std::vector<int32_t> first_task, sync_task;
    /// Per iteration, from the last simulations: start and end with the other tenants,
    /// and its duration alone.
    std::vector<TimeNs> joint_start, joint_end, alone_dur;
  };
  std::string tenant;  ///< its name in the joint workload: "chat" or "chat prefill"
  ServingLoop loop = ServingLoop::kMixed;
  int64_t stream = 1;
  int32_t priority = 0;
  int32_t sm_count = -1;
  Round r;
};

/// The stretch the next round applies: per iteration of the previous round, its start
/// with the other tenants and contended / alone duration, sorted by start.
struct Stretch {
  std::vector<TimeNs> start;
  std::vector<double> factor;

  double At(TimeNs t) const {
    if (start.empty()) return 1.0;
    const auto it = std::upper_bound(start.begin(), start.end(), t);
    if (it == start.begin()) return factor.front();
    return factor[static_cast<size_t>(it - start.begin()) - 1];
  }
};

void AddTask(LoopChain* c, Task t) {
  t.id = static_cast<int64_t>(c->r.trace.tasks.size());
  c->r.trace.tasks.push_back(std::move(t));
}

/// Appends one iteration starting at `start` (the scheduler's time) to `c`.
void AppendIteration(LoopChain* c, TimeNs start, TimeNs dur, const IterationWork& w) {
  // The engine idles until `start` (a request's arrival) or works on from the previous
  // iteration's end, whichever is later: a release time, and no CPU gap.
  c->r.start.push_back(start);
  c->r.dur.push_back(dur);
  c->r.first_task.push_back(static_cast<int32_t>(c->r.trace.tasks.size()));
  TimeNs t = c->r.host_end;
  const TimeNs call = std::min(kLaunchCallNs, w.host_launch_ns);
  Task step;
  step.kind = TaskKind::kCpu;
  step.thread = kLlmThread;
  step.start_ns = t;
  step.release_ns = start;
  // The launch call's own time comes out of the step, so that alone and GPU-bound the
  // chain takes what the cost says: before + launch latency + kernels + sync latency.
  step.dur_ns = std::max<TimeNs>(1, w.host_before_ns - call);
  step.name = c->r.trace.Intern("scheduler step and input copies");
  t += step.dur_ns;
  AddTask(c, step);
  Task launch;
  launch.kind = TaskKind::kLaunch;
  launch.thread = kLlmThread;
  launch.start_ns = t;
  launch.dur_ns = std::max<TimeNs>(1, call);
  launch.correlation = c->r.next_corr++;
  launch.name = c->r.trace.Intern("launch");
  t += launch.dur_ns;
  const int64_t corr = launch.correlation;
  AddTask(c, launch);
  TimeNs gpu_t = t;
  const int32_t op = c->r.trace.Intern(LlmLoopName(c->loop));
  for (const IterationKernel& k : w.kernels) {
    Task kt;
    kt.kind = TaskKind::kKernel;
    kt.stream = c->stream;
    kt.correlation = corr;
    kt.dur_ns = std::max<TimeNs>(1, k.dur_ns);
    kt.dram_bytes = static_cast<int64_t>(std::llround(std::max(0.0, k.dram_bytes)));
    kt.dram_source = DramSource::kShape;
    kt.grid = k.grid;
    kt.block = k.block;
    kt.regs = k.regs;
    kt.smem = k.smem;
    kt.name = c->r.trace.Intern(k.name);
    kt.op = op;
    for (int64_t r = 0; r < k.repeat; ++r) {
      kt.start_ns = gpu_t;
      gpu_t += kt.dur_ns;
      AddTask(c, kt);
    }
  }
  if (w.host_launch_ns > call) {
    Task rest;
    rest.kind = TaskKind::kCpu;
    rest.thread = kLlmThread;
    rest.start_ns = t;
    rest.dur_ns = w.host_launch_ns - call;
    rest.name = c->r.trace.Intern("launch work");
    t += rest.dur_ns;
    AddTask(c, rest);
  }
  Task sync;
  sync.kind = TaskKind::kSync;
  sync.scope = SyncScope::kStream;
  sync.thread = kLlmThread;
  sync.stream = c->stream;
  sync.start_ns = t;
  sync.dur_ns = std::max<TimeNs>(0, gpu_t - t);
  sync.name = c->r.trace.Intern("wait for sampled tokens");
  c->r.sync_task.push_back(static_cast<int32_t>(c->r.trace.tasks.size()));
  AddTask(c, sync);
  c->r.host_end = sync.end_ns();
}

/// Fills each chain's joint or alone figures from a simulation of `lw`, in which chain
/// i is tenant `first + i`.
GraphObserver ObserveChains(std::vector<LoopChain*> chains, int32_t first, bool joint) {
  return [chains, first, joint](const TaskGraph& g, const std::function<TimeNs(int32_t)>& start_of,
                                const std::function<TimeNs(int32_t)>& end_of) {
    std::vector<std::vector<TimeNs>> starts(chains.size()), ends(chains.size());
    for (size_t i = 0; i < chains.size(); ++i) {
      // (The chain's trace is in the simulated workload now: its task count from here.)
      const size_t tasks = chains[i]->r.sync_task.empty()
                               ? 0
                               : static_cast<size_t>(chains[i]->r.sync_task.back()) + 1;
      starts[i].assign(tasks, 0);
      ends[i].assign(tasks, 0);
    }
    for (int32_t v = 0; v < static_cast<int32_t>(g.nodes.size()); ++v) {
      const Node& n = g.nodes[v];
      if (n.tenant < first || n.tmpl < 0 || IsGpuNode(n.kind)) continue;
      const size_t ci = static_cast<size_t>(n.tenant - first);
      if (ci >= chains.size()) continue;
      const int32_t task = g.Tmpl(n).task;
      starts[ci][task] = start_of(v);
      ends[ci][task] = end_of(v);
    }
    for (size_t i = 0; i < chains.size(); ++i) {
      LoopChain& c = *chains[i];
      const size_t iters = c.r.start.size();
      if (joint) {
        c.r.joint_start.resize(iters);
        c.r.joint_end.resize(iters);
      } else {
        c.r.alone_dur.resize(iters);
      }
      for (size_t k = 0; k < iters; ++k) {
        const TimeNs s = starts[i][c.r.first_task[k]], e = ends[i][c.r.sync_task[k]];
        if (joint) {
          c.r.joint_start[k] = s;
          c.r.joint_end[k] = e;
        } else {
          c.r.alone_dur[k] = std::max<TimeNs>(1, e - s);
        }
      }
    }
  };
}

/// The joint workload's tenant for `c` (closed, one request: the whole chain).
TenantSpec ChainTenant(const LoopChain& c) {
  TenantSpec t;
  t.name = c.tenant;
  t.trace_path = "(" + c.tenant + ": serving loop)";
  return t;
}

/// One LLM tenant in a simulation.
struct LlmState {
  const LlmTenantSpec* spec = nullptr;
  const LoadedLlmTenant* loaded = nullptr;
  TenantPlan knobs;
  ServingConfig config;
  LlmKvBudget kv;
  std::unique_ptr<LlmIterationModel> model;
  std::vector<LoopChain> chains;  ///< one (mixed) or two (prefill, decode)
  std::vector<Stretch> stretch;   ///< per chain
  ServingRun run;
  ServingMetrics metrics;
  double last_change = 0.0;
};

/// Serves `s` once with each chain's stretch, rebuilding its chains.
void Serve(LlmState* s, bool record) {
  for (LoopChain& c : s->chains) c.r = LoopChain::Round{};
  IterationWork work;
  auto cost_for = [s, &work](size_t chain) {
    return [s, &work, chain](const IterationShape& shape, TimeNs start) {
      LoopChain& c = s->chains[chain];
      work.kernels.clear();
      const TimeNs solo = s->model->Price(shape, &work);
      const double f = s->stretch[chain].At(start);
      const TimeNs dur =
          std::max<TimeNs>(1, static_cast<TimeNs>(std::llround(static_cast<double>(solo) * f)));
      AppendIteration(&c, start, dur, work);
      return dur;
    };
  };
  const std::vector<LlmRequest>& requests = s->loaded->requests;
  if (s->chains.size() == 1) {
    s->run = RunServing(requests, s->config, cost_for(0), record);
  } else {
    s->run = RunServingMux(requests, s->config, cost_for(0), cost_for(1), record);
  }
  s->metrics = ComputeServingMetrics(s->run, s->spec->slo);
}

/// Simulates the trace tenants of `base` with every chain; fills the chains' joint
/// figures (and, with `alone`, simulates each chain alone for its alone ones). Returns
/// the joint result.
SimResult SimulateChains(const LoadedWorkload& base, const Plan& plan, std::vector<LlmState>* llm,
                         const SimOptions& options, bool alone) {
  LoadedWorkload joint;
  joint.workload.file = base.workload.file;
  joint.workload.gpu = base.workload.gpu;
  joint.workload.objective = base.workload.objective;
  joint.workload.tenants = base.workload.tenants;
  joint.traces = base.traces;
  joint.by_batch = base.by_batch;
  joint.gpu = base.gpu;
  joint.gpu_reason = base.gpu_reason;
  joint.traced_gpu = base.traced_gpu;
  Plan jplan = plan;
  std::vector<LoopChain*> chains;
  for (LlmState& s : *llm) {
    jplan.tenants.erase(s.spec->name);
    for (LoopChain& c : s.chains) {
      chains.push_back(&c);
      joint.workload.tenants.push_back(ChainTenant(c));
      joint.traces.push_back(std::move(c.r.trace));  // (moved back below: chains are large)
      joint.by_batch.emplace_back();
      joint.traced_gpu.emplace_back();
      TenantPlan tp;
      tp.priority = c.priority;
      tp.sm_count = c.sm_count;
      jplan.tenants[c.tenant] = tp;
    }
  }
  for (std::vector<std::string>& group : jplan.groups) {
    std::vector<std::string> names;
    for (const std::string& n : group) {
      bool llm_name = false;
      for (const LlmState& s : *llm) {
        if (s.spec->name != n) continue;
        llm_name = true;
        for (const LoopChain& c : s.chains) names.push_back(c.tenant);
      }
      if (!llm_name) names.push_back(n);
    }
    group = std::move(names);
  }
  const int32_t first = static_cast<int32_t>(base.workload.tenants.size());
  SimOptions o = options;
  o.templates = nullptr;
  o.workspace = nullptr;
  SimResult r = SimulateTraces(joint, jplan, o, ObserveChains(chains, first, true));
  for (size_t i = 0; i < chains.size(); ++i)
    chains[i]->r.trace = std::move(joint.traces[first + i]);

  if (!alone) return r;
  // Each chain alone on the whole GPU: the denominators of the stretch.
  SimOptions alone_o;
  alone_o.model = options.model;
  alone_o.score_only = true;
  for (LoopChain* c : chains) {
    LoadedWorkload alone;
    alone.workload.file = base.workload.file;
    alone.workload.gpu = base.workload.gpu;
    alone.workload.tenants.push_back(ChainTenant(*c));
    alone.traces.push_back(std::move(c->r.trace));
    alone.by_batch.emplace_back();
    alone.traced_gpu.emplace_back();
    alone.gpu = base.gpu;
    Plan p;
    p.file = plan.file;
    SimulateTraces(alone, p, alone_o, ObserveChains({c}, 0, false));
    c->r.trace = std::move(alone.traces[0]);
  }
  return r;
}

/// Sets each chain's stretch for the next round from its last simulations: per
/// iteration, the slowdown found there (contended / alone), averaged over the
/// kLlmStretchWindow iterations of its loop around it (which iterations of two tenants
/// meet changes from round to round; their average over a few dozen does not), and moved
/// from the one the serving loop assumed by `alpha` (1 = take it; less damps
/// oscillations). Returns the mean over `s`'s iterations of |found - assumed| / assumed
/// (found averaged); `*mean` gets the mean slowdown found.
double UpdateStretch(LlmState* s, double alpha, double* mean) {
  double sum = 0.0, diff = 0.0;
  int64_t n = 0;
  std::vector<double> found, prefix;
  for (size_t i = 0; i < s->chains.size(); ++i) {
    const LoopChain& c = s->chains[i];
    const size_t iters = c.r.start.size();
    found.resize(iters);
    prefix.assign(iters + 1, 0.0);
    for (size_t k = 0; k < iters; ++k) {
      found[k] = static_cast<double>(std::max<TimeNs>(1, c.r.joint_end[k] - c.r.joint_start[k])) /
                 static_cast<double>(c.r.alone_dur[k]);
      prefix[k + 1] = prefix[k] + found[k];
      sum += found[k];
    }
    // Keyed by when the serving loop started the iteration (not when the simulation
    // did): the next round's loop asks by its own clock. Starts never decrease.
    Stretch next;
    next.start = c.r.start;
    next.factor.resize(iters);
    // Busy periods: an iteration that starts after the previous one ended (the engine
    // idled) begins a new one; windows stay within theirs.
    std::vector<size_t> period_start(iters), period_end(iters);
    for (size_t k = 0; k < iters; ++k)
      period_start[k] =
          k > 0 && c.r.start[k] <= c.r.start[k - 1] + c.r.dur[k - 1] ? period_start[k - 1] : k;
    for (size_t k = iters; k-- > 0;)
      period_end[k] =
          k + 1 < iters && period_start[k + 1] == period_start[k] ? period_end[k + 1] : k + 1;
    const size_t half = kLlmStretchWindow / 2;
    for (size_t k = 0; k < iters; ++k) {
      const size_t lo = std::max(period_start[k], k >= half ? k - half : 0);
      const size_t hi = std::min(period_end[k], k + half + 1);
      const double smooth = (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo);
      const double assumed = s->stretch[i].At(c.r.start[k]);
      diff += std::abs(smooth - assumed) / assumed;
      ++n;
      next.factor[k] = assumed + alpha * (smooth - assumed);
    }
    s->stretch[i] = std::move(next);
  }
  *mean = n > 0 ? sum / static_cast<double>(n) : 1.0;
  return n > 0 ? diff / static_cast<double>(n) : 0.0;
}

int64_t Percent(double x) { return static_cast<int64_t>(std::llround(x * 100.0)); }

}  // namespace

const char* LlmLoopName(ServingLoop loop) {
  switch (loop) {
    case ServingLoop::kPrefill:
      return "prefill";
    case ServingLoop::kDecode:
      return "decode";
    case ServingLoop::kMixed:
      break;
  }
  return "serving";
}

std::vector<int64_t> LlmUsableBytes(const Workload& w, const GpuSpec& spec,
                                    const std::string& file) {
  const double dram = static_cast<double>(spec.dram_bytes);
  int64_t trace_bytes = 0;
  for (const TenantSpec& t : w.tenants) trace_bytes += t.memory_bytes;
  std::vector<int64_t> share;
  int64_t shares = 0;
  for (const LlmTenantSpec& t : w.llm_tenants) {
    share.push_back(static_cast<int64_t>(dram * t.serving.gpu_memory_utilization));
    shares += share.back();
  }
  if (!w.llm_tenants.empty() && shares + trace_bytes > spec.dram_bytes) {
    const LlmTenantSpec& last = w.llm_tenants.back();
    FailAt(file, last.at + ".serving.gpu_memory_utilization",
           "the llm tenants' shares of " + spec.key + "'s memory (" +
               std::to_string(Percent(static_cast<double>(shares) / dram)) +
               "% in all) and the trace tenants' memory_bytes (" + std::to_string(trace_bytes) +
               ") exceed its " + std::to_string(spec.dram_bytes) +
               " bytes; lower gpu_memory_utilization (each llm engine takes its share of the "
               "whole GPU)");
  }
  return share;
}

json LlmTenantResultToJson(const LlmTenantResult& r) {
  const ServingMetrics& m = r.metrics;
  auto pct = [](const Percentiles& p) {
    return json{{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}};
  };
  json j = {
      {"model", r.model},
      {"dtype", r.dtype},
      {"gpu", r.gpu},
      {"requests", m.requests},
      {"generated_tokens", m.generated_tokens},
      {"iterations", m.iterations},
      {"preemptions", m.preemptions},
      {"makespan_ns", m.makespan_ns},
      {"ttft_ns", pct(m.ttft)},
      {"tpot_ns", pct(m.tpot)},
      {"tpot_requests", m.tpot_requests},
      {"e2e_ns", pct(m.e2e)},
      {"tokens_per_s", m.tokens_per_s},
      {"goodput",
       {{"slo_ttft_ns", r.slo.ttft_ns},
        {"slo_tpot_ns", r.slo.tpot_ns},
        {"good_requests", m.good},
        {"share", m.good_share},
        {"requests_per_s", m.goodput_rps}}},
      {"kv_cache",
       {{"capacity_tokens", r.kv.capacity_tokens},
        {"bytes_per_token", r.kv.kv_bytes_per_token},
        {"usable_bytes", r.kv.usable_bytes},
        {"weights_bytes", r.kv.weights_bytes},
        {"activation_bytes", r.kv.activation_bytes}}},
      {"serving",
       {{"max_num_batched_tokens", r.config.max_num_batched_tokens},
        {"max_num_seqs", r.config.max_num_seqs},
        {"chunked_prefill", r.config.chunked_prefill},
        {"block_size", r.config.block_tokens},
        {"multiplexed", r.multiplexed}}},
      {"fixed_point",
       {{"rounds", r.rounds},
        {"converged", r.converged},
        {"last_change", r.last_change},
        {"mean_stretch", r.mean_stretch}}},
  };
  if (r.multiplexed) {
    j["serving"]["prefill_sm_count"] = r.prefill_sm_count;
    j["serving"]["decode_sm_count"] = r.decode_sm_count;
  }
  return j;
}

SimResult SimulateWithLlm(const LoadedWorkload& lw, const Plan& plan, const SimOptions& options) {
  const Workload& w = lw.workload;
  if (lw.llm.size() != w.llm_tenants.size()) {
    throw InputError(w.file + ": llm tenants were read without their models");
  }
  CheckPlanAgainst(plan, w, lw.gpu);
  const std::vector<int64_t> usable = LlmUsableBytes(w, lw.gpu, w.file);
  std::vector<LlmState> llm(w.llm_tenants.size());
  bool alone = w.tenants.empty() && llm.size() == 1;
  for (size_t i = 0; i < llm.size(); ++i) {
    LlmState& s = llm[i];
    const LlmTenantSpec& t = w.llm_tenants[i];
    s.spec = &t;
    s.loaded = &lw.llm[i];
    s.knobs = plan.For(t.name);
    s.config.max_num_batched_tokens = s.knobs.max_num_batched_tokens > 0
                                          ? s.knobs.max_num_batched_tokens
                                          : t.serving.max_num_batched_tokens;
    s.config.max_num_seqs = t.serving.max_num_seqs;
    s.config.chunked_prefill =
        s.knobs.chunked_prefill >= 0 ? s.knobs.chunked_prefill == 1 : t.serving.chunked_prefill;
    s.config.block_tokens = t.serving.block_size;
    s.kv = s.loaded->model->KvBudget(usable[i], s.config.max_num_batched_tokens,
                                     s.config.max_num_seqs);
    s.config.kv_capacity_tokens = s.kv.capacity_tokens;
    s.loaded->model->CheckRequests(s.loaded->requests, s.kv, s.config.block_tokens);
    s.model = s.loaded->model->NewRun();
    const auto prio = [&s](int32_t p) { return p != INT32_MIN ? p : s.knobs.priority; };
    if (s.knobs.Multiplexed()) {
      s.chains.resize(2);
      s.chains[0].tenant = t.name + " prefill";
      s.chains[0].loop = ServingLoop::kPrefill;
      s.chains[0].priority = prio(s.knobs.prefill_priority);
      s.chains[0].sm_count = s.knobs.prefill_sm_count;
      s.chains[1].tenant = t.name + " decode";
      s.chains[1].loop = ServingLoop::kDecode;
      s.chains[1].stream = 2;
      s.chains[1].priority = prio(s.knobs.decode_priority);
      s.chains[1].sm_count = s.knobs.decode_sm_count;
      alone = false;
    } else {
      s.chains.resize(1);
      s.chains[0].tenant = t.name;
      s.chains[0].priority = s.knobs.priority;
      s.chains[0].sm_count = s.knobs.sm_count;
      if (s.knobs.sm_count > 0) alone = false;
    }
    s.stretch.resize(s.chains.size());
  }

  const auto serve_all = [&llm, &w](bool record) {
    for (size_t i = 0; i < llm.size(); ++i) {
      try {
        Serve(&llm[i], record);
      } catch (const InputError& e) {
        FailAt(w.file, llm[i].spec->at, e.what());
      }
    }
  };

  SimResult result;
  result.model = options.model;
  int32_t rounds = 0;
  bool converged = false;
  std::vector<double> mean_stretch(llm.size(), 1.0);
  if (alone) {
    // One LLM tenant alone on the whole GPU: its costs are its own, one round.
    serve_all(options.record_timeline);
    rounds = 0;
    converged = true;
  } else {
    // Each round: serve with the slowdowns found so far, simulate, compare. Damped from
    // the third round on (queues near saturation make the loop's choices jumpy).
    SimOptions quiet = options;
    quiet.record_timeline = false;
    const auto progress = options.progress;
    for (rounds = 1;; ++rounds) {
      serve_all(options.record_timeline);
      if (progress) {
        const int32_t r = rounds;
        quiet.progress = [progress, r](int64_t done, int64_t all) {
          progress(static_cast<int64_t>(r - 1) * all + done,
                   static_cast<int64_t>(kLlmMaxRounds) * all);
        };
      }
      result = SimulateChains(lw, plan, &llm, quiet, true);
      double change = 0.0;
      for (size_t i = 0; i < llm.size(); ++i) {
        llm[i].last_change = UpdateStretch(&llm[i], rounds <= 2 ? 1.0 : 0.5, &mean_stretch[i]);
        change = std::max(change, llm[i].last_change);
      }
      converged = change <= kLlmConvergence;
      if (converged || rounds == kLlmMaxRounds) break;
    }
    if (options.record_timeline) result = SimulateChains(lw, plan, &llm, options, false);
    rounds = std::min(rounds, kLlmMaxRounds);
    // Timeline process names: the trace tenants, then every chain.
    if (options.record_timeline) {
      for (const TenantSpec& t : w.tenants) result.timeline_tenants.push_back(t.name);
      for (const LlmState& s : llm)
        for (const LoopChain& c : s.chains) result.timeline_tenants.push_back(c.tenant);
    }
    // Drop the chains' own entries; the makespan is the trace tenants' and the LLM
    // tenants' (below), not the chains' (their tasks only stand for the iterations).
    result.tenants.resize(w.tenants.size());
    result.makespan_ns = 0;
    result.lower_bound_ns = 0;  // (not computed: the chains' own bound is no bound)
    for (const TenantResult& tr : result.tenants)
      result.makespan_ns = std::max(result.makespan_ns, tr.finish_ns);
  }

  for (size_t i = 0; i < llm.size(); ++i) {
    LlmState& s = llm[i];
    LlmTenantResult r;
    r.name = s.spec->name;
    r.model = s.loaded->model->ModelName();
    r.dtype = s.loaded->model->DtypeName();
    r.gpu = lw.gpu.key.empty() ? lw.gpu.name : lw.gpu.key;
    r.config = s.config;
    r.multiplexed = s.knobs.Multiplexed();
    r.prefill_sm_count = s.knobs.prefill_sm_count;
    r.decode_sm_count = s.knobs.decode_sm_count;
    r.kv = s.kv;
    r.slo = s.spec->slo;
    r.metrics = s.metrics;
    r.run = std::move(s.run);
    r.rounds = rounds;
    r.converged = converged;
    r.last_change = s.last_change;
    r.mean_stretch = mean_stretch[i];

    TenantResult tr;
    tr.name = r.name;
    tr.requests = r.metrics.requests;
    for (const RequestOutcome& q : r.run.requests) {
      tr.latencies_ns.push_back(q.finish_ns - q.arrival_ns);
      tr.finish_ns = std::max(tr.finish_ns, q.finish_ns);
    }
    tr.slo_violations = r.metrics.requests - r.metrics.good;
    FillLatencyStats(&tr);
    result.makespan_ns = std::max(result.makespan_ns, tr.finish_ns);
    result.tenants.push_back(std::move(tr));
    if (alone && result.makespan_ns > 0) {
      // Served alone, no task graph: the GPU is busy while an iteration runs, and an
      // iteration is taken to hold every SM (its kernels' own shapes are not simulated).
      result.gpu.sm_busy_fraction =
          static_cast<double>(r.run.busy_ns) / static_cast<double>(result.makespan_ns);
      result.gpu.mean_sm_occupancy = result.gpu.sm_busy_fraction;
    }
    if (!options.record_timeline) r.run.iterations.clear();
    result.llm.push_back(std::move(r));
  }
  return result;
}

}  // namespace cotenant
