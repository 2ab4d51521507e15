// A fleet (`cotenant.fleet/1`): the models to place, with their request rates
// and SLOs, the GPUs available, and how placement evaluates a group of models
// on one GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/llm_workload.h"
#include "sim/units.h"

namespace cotenant::fleet {

enum class ModelKind : uint8_t {
  kTrace,  ///< a trace file of one request (`trace`)
  kZoo,    ///< a model synth builds for each GPU kind (`zoo`, `batch`, `seq`, `dtype`)
  kLlm,    ///< an LLM served by an engine's loop (`"kind": "llm"`, the workload's llm keys)
};
const char* ModelKindName(ModelKind k);

struct FleetModel {
  std::string name;
  std::string at;  ///< "models[3]", for messages
  ModelKind kind = ModelKind::kTrace;
  std::string trace_path;  ///< kTrace: resolved against the fleet file's folder
  std::string zoo;         ///< kZoo: a model synth knows ("resnet50")
  int batch = 1;           ///< kZoo: batch of one request
  int seq = 0;             ///< kZoo: tokens per sequence (BERT), 0 = synth's default
  std::string dtype;       ///< kZoo: "" = synth's default
  /// kLlm: the tenant as a workload holds it; `requests` and `arrival` are set for
  /// each evaluation, `serving.gpu_memory_utilization` from memory_bytes and the GPU.
  LlmTenantSpec llm;
  double rate_hz = 0.0;     ///< requests per second to the model, all replicas together (> 0)
  double burstiness = 1.0;  ///< arrivals: 1 = Poisson, else gamma gaps of this shape
  TimeNs slo_ns = 0;        ///< kTrace, kZoo: latency SLO per request (> 0); kLlm: llm.slo
  /// Device memory one replica holds (weights, activations, workspaces; for kLlm the
  /// engine's whole budget, KV cache included), bytes; 0 = not given (trace and zoo
  /// models only: not counted).
  int64_t memory_bytes = 0;
  int32_t max_replicas = 0;  ///< 0 = up to the fleet's GPU count
};

struct FleetGpu {
  std::string key;  ///< spec key or path, as given
  int32_t count = 0;
  GpuSpec spec;  ///< loaded
};

struct FleetSpec {
  std::string file;
  /// GPU kinds in preference order: a new GPU is taken from the first kind with one
  /// left on which the model meets its SLO alone.
  std::vector<FleetGpu> gpus;
  std::vector<FleetModel> models;
  /// Simulated span of one evaluation, s: each model replica gets
  /// max(min_requests, ceil(rate x window_s)) requests.
  double window_s = 2.0;
  int64_t min_requests = 20;
  /// Share of a model's requests that must meet its SLO (llm: TTFT and TPOT).
  double attainment = 0.99;
  /// Simulations of the plan search when a group misses an SLO under native
  /// multi-stream (0 = native plans only).
  int64_t search_budget = 8;
  /// Open GPUs tried for each model replica: the fullest half and the emptiest half.
  int32_t candidates = 8;
  /// Replicas evaluated together against the same GPUs (the parallel work of a
  /// placement step); the answer depends on it, not on the rank or thread count.
  int32_t batch = 4;
  /// The interference-blind packer's cap on summed utilisation (alone), and the
  /// prefilter of cotenant's candidates.
  double util_cap = 1.0;
  std::string model = "fluid";  ///< contention model
  uint64_t seed = 1;

  int32_t TotalGpus() const;
};

/// Reads and checks a fleet file (docs/formats.md "Fleet"); loads the GPU specs.
/// Trace paths are resolved against the file's folder (the traces are not read).
/// Throws InputError naming the file and field.
FleetSpec ReadFleet(const std::string& path);
FleetSpec FleetFromJson(const nlohmann::json& j, const std::string& file,
                        const std::string& base_dir);

}  // namespace cotenant::fleet
