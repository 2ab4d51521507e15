// One group of model replicas on one GPU of the fleet: the workload it makes
// and its verdict (do all SLOs hold, under which plan).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fleet/fleet_spec.h"
#include "sim/serving_mix.h"
#include "sim/simulate.h"
#include "sim/trace.h"

namespace cotenant::fleet {

/// Makes a zoo model's trace of one request on `spec` (the CLI and the Python
/// module pass profiler's synth). Throws InputError naming the model.
using ZooSource = std::function<Trace(const FleetModel& m, const GpuSpec& spec)>;

struct FleetSources {
  ZooSource zoo;        ///< needed when the fleet has zoo models
  LlmModelFactory llm;  ///< needed when it has llm models
};

/// A fleet with every model ready on every GPU kind. Read-only once made (the
/// evaluations of a placement share it across threads).
struct LoadedFleet {
  FleetSpec spec;
  /// [model][kind]: the trace (trace and zoo models; trace files rescaled to the kind
  /// with the what-if GPU swap when captured on another GPU).
  std::vector<std::vector<Trace>> traces;
  /// [model][kind]: the llm model (llm models).
  std::vector<std::vector<std::shared_ptr<const LlmTenantModel>>> llm;
  /// Per model: how its trace was adapted ("traced on a100-sxm4-40g, rescaled to
  /// h100-sxm ..."), for messages; empty = nothing to say.
  std::vector<std::string> notes;
};

/// Reads every trace and makes every zoo trace and llm model on every kind.
/// Throws InputError naming the model for a trace that cannot be read, one
/// captured on no known GPU, or a model the sources refuse.
LoadedFleet LoadFleet(FleetSpec spec, const FleetSources& sources);

/// One replica of a model: a model served by `replicas` copies each taking
/// rate_hz / replicas, and which copy this is.
struct Replica {
  int32_t model = 0;
  int32_t index = 0;     ///< 0..replicas-1
  int32_t replicas = 1;  ///< of the model

  bool operator==(const Replica& o) const {
    return model == o.model && index == o.index && replicas == o.replicas;
  }
};

/// Requests per second this replica gets.
double ReplicaRate(const LoadedFleet& f, const Replica& r);
/// Requests it runs in one evaluation: max(min_requests, ceil(rate x window_s)).
int64_t ReplicaRequests(const LoadedFleet& f, const Replica& r);

/// What one replica got on a GPU.
struct ReplicaOutcome {
  Replica replica;
  int64_t requests = 0, misses = 0;         ///< misses: over its SLO (llm: TTFT or TPOT)
  double attainment = 0.0;                  ///< (requests - misses) / requests
  TimeNs p99_ns = 0;                        ///< end-to-end latency p99
  TimeNs ttft_p99_ns = 0, tpot_p99_ns = 0;  ///< llm models
};

/// How evaluations of groups run.
enum class Effort : uint8_t {
  kNative,  ///< native multi-stream only (what a user gets without a plan)
  kSearch,  ///< native, then the plan search when an SLO is missed
};

/// The verdict on one group on one GPU kind.
struct GroupVerdict {
  bool fits = true;         ///< the replicas' memory fits the GPU
  bool feasible = false;    ///< fits, and every replica meets its SLO at the fleet's attainment
  std::string why;          ///< when not feasible: the memory, the worst replica, or the refusal
  nlohmann::json plan;      ///< cotenant.plan/1 of the plan below (null when not simulated)
  std::string plan_source;  ///< "native", or "search (N simulations)"
  std::vector<ReplicaOutcome> outcomes;  ///< in group order (empty when not simulated)
  double sm_busy = 0.0;     ///< share of the span with a kernel running (nvidia-smi's utilisation)
  double occupancy = 0.0;   ///< time-average share of the SMs held by kernels
  int64_t simulations = 0;  ///< simulations it took
};

/// Whether `misses` of `requests` leave at least `attainment` of them within the SLO
/// (in integers: misses <= (1 - attainment) x requests, attainment to 1 ppm).
bool MeetsAttainment(int64_t requests, int64_t misses, double attainment);

/// Bytes as "40.0 GiB", for messages.
std::string FormatGib(int64_t bytes);

/// Memory the replicas hold on `gpu`, bytes.
int64_t GroupMemory(const LoadedFleet& f, const std::vector<Replica>& group);

/// The workload `group` makes on GPU kind `kind` (objective slo): one tenant per
/// replica named after its model ("#2" for the second copy), Poisson (or gamma)
/// arrivals at its rate seeded from the fleet's seed, model and copy. Throws
/// InputError when the llm tenants' memory does not fit.
LoadedWorkload GroupWorkload(const LoadedFleet& f, const std::vector<Replica>& group, int32_t kind);

/// Simulates `group` on kind `kind`: native multi-stream; with Effort::kSearch and
/// an SLO missed (and more than one replica), the plan search (objective slo,
/// search_budget simulations, one thread, the fleet's seed). Deterministic.
/// Refusals of the simulator (a plan or memory the GPU cannot take) make an
/// infeasible verdict, not an exception.
GroupVerdict EvaluateGroup(const LoadedFleet& f, const std::vector<Replica>& group, int32_t kind,
                           Effort effort);

/// A rough cost of evaluating `group` (for balancing jobs): simulated requests
/// times their tasks (llm: their tokens).
double GroupCost(const LoadedFleet& f, const std::vector<Replica>& group);

nlohmann::json VerdictToJson(const GroupVerdict& v);
GroupVerdict VerdictFromJson(const nlohmann::json& j);

/// The replica's display name: the model's, with "#k" (k from 1) when it has copies.
std::string ReplicaName(const LoadedFleet& f, const Replica& r);

}  // namespace cotenant::fleet
