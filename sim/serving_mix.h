// LLM tenants beside trace tenants (and each other) on one GPU. An LLM tenant's serving
// loop decides its iterations from their durations, and its durations depend on what
// runs beside it; so Simulate finds a fixed point: serve with the iteration costs alone
// on the whole GPU, turn the iterations into a chain of tasks in the task graph, simulate
// that chain with every other tenant under the plan, stretch each iteration's cost by how
// much slower it ran there than alone, and serve again, until the serving metrics stop
// moving. The rules and their limits: docs/models.md ("LLM tenants beside other
// tenants"). What an iteration costs comes from an LlmTenantModel, which profiler/
// implements (serving_run) from synth's kernels and which the caller attaches to the
// LoadedWorkload (LoadWorkload's `llm` factory).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/llm_workload.h"
#include "sim/serving.h"
#include "sim/units.h"
#include "sim/workload.h"

namespace cotenant {

/// Where an LLM engine's KV-cache capacity comes from, bytes unless named otherwise.
struct LlmKvBudget {
  int64_t usable_bytes = 0;      ///< the engine's share of the GPU's memory
  int64_t weights_bytes = 0;     ///< parameters x weight element
  int64_t activation_bytes = 0;  ///< the forward pass's reserve (profiler/serving_cost.h)
  int64_t kv_bytes_per_token = 0;
  int64_t capacity_tokens = 0;  ///< (usable - weights - activations) / per token, >= 0
};

/// Kernels standing for a share of an iteration's kernels in the task graph: `repeat`
/// kernels one after another, each taking dur_ns alone on the whole GPU and moving
/// dram_bytes, with one launch shape (the share's longest kernel's: how many SMs it
/// holds beside other tenants' kernels).
struct IterationKernel {
  const char* name = "";                 ///< static string: "layer", "lm_head"
  int64_t repeat = 1;                    ///< >= 1
  TimeNs dur_ns = 0;                     ///< each, > 0
  double dram_bytes = 0;                 ///< each, >= 0
  std::array<int32_t, 3> grid{0, 0, 0};  ///< {0,0,0}: fills the GPU
  std::array<int32_t, 3> block{0, 0, 0};
  int32_t regs = 32;
  int32_t smem = 0;
};

/// The work of one iteration as the task graph runs it: host work before the launches,
/// host work launching the kernels (it overlaps them), and the kernels in stream order.
struct IterationWork {
  TimeNs host_before_ns = 0;
  TimeNs host_launch_ns = 0;
  std::vector<IterationKernel> kernels;
};

/// Prices iterations of one LLM tenant for one run. Not thread-safe (caches).
class LlmIterationModel {
 public:
  virtual ~LlmIterationModel() = default;
  /// Duration of `shape` alone on the whole GPU, ns (> 0): what the serving loop uses;
  /// with `work`, also the same iteration as host work and a few kernels, for the task
  /// graph (priced together: the fixed point needs both for every iteration).
  virtual TimeNs Price(const IterationShape& shape, IterationWork* work) = 0;
};

/// An LLM tenant's model on the workload's GPU. Thread-safe (const).
class LlmTenantModel {
 public:
  virtual ~LlmTenantModel() = default;
  virtual std::string ModelName() const = 0;  ///< "llama-3.1-8b"
  virtual std::string DtypeName() const = 0;  ///< "bf16"
  /// A fresh iteration model for one run.
  virtual std::unique_ptr<LlmIterationModel> NewRun() const = 0;
  /// The KV budget when the engine may use `usable_bytes` of the GPU's memory and
  /// iterations are bounded by `max_num_batched_tokens` and `max_num_seqs`.
  virtual LlmKvBudget KvBudget(int64_t usable_bytes, int64_t max_num_batched_tokens,
                               int64_t max_num_seqs) const = 0;
  /// Throws InputError (naming the workload file and field) when one of `requests`
  /// cannot run under `kv` with blocks of `block_tokens` or exceeds the context window.
  virtual void CheckRequests(const std::vector<LlmRequest>& requests, const LlmKvBudget& kv,
                             int64_t block_tokens) const = 0;
};

/// Makes the model of LLM tenant `t` of workload file `file` on `spec`; throws
/// InputError naming the field for an unknown model or dtype.
using LlmModelFactory = std::function<std::shared_ptr<const LlmTenantModel>(
    const LlmTenantSpec& t, const std::string& file, const GpuSpec& spec)>;

/// An LLM tenant ready to simulate: its model and requests.
struct LoadedLlmTenant {
  std::shared_ptr<const LlmTenantModel> model;
  std::vector<LlmRequest> requests;
};

/// "serving" (one loop), "prefill" or "decode".
const char* LlmLoopName(ServingLoop loop);

/// Bounds of the fixed point: at most this many serving runs and simulations.
constexpr int kLlmMaxRounds = 8;
/// The fixed point stops when, for every LLM tenant, the slowdowns the simulation found
/// differ from those its serving loop assumed by at most this share on average over its
/// iterations.
constexpr double kLlmConvergence = 0.01;
/// A slowdown found is averaged over this many iterations of its loop, centred on it.
constexpr size_t kLlmStretchWindow = 33;

/// What one LLM tenant got in a simulation.
struct LlmTenantResult {
  std::string name;
  std::string model, dtype;  ///< LlmTenantModel::ModelName(), DtypeName()
  std::string gpu;           ///< the spec's key
  ServingConfig config;
  bool multiplexed = false;  ///< prefill and decode as two loops on their own partitions
  int32_t prefill_sm_count = -1, decode_sm_count = -1;
  LlmKvBudget kv;
  ServingSlo slo;
  ServingRun run;  ///< iterations kept when the timeline is recorded
  ServingMetrics metrics;
  /// Rounds of the fixed point (a serving run and a simulation each); 0 = served alone
  /// on the whole GPU, nothing to simulate.
  int32_t rounds = 0;
  bool converged = false;  ///< the last round's slowdowns agreed within kLlmConvergence
  /// Mean over the last round's iterations of |found - assumed| / assumed slowdown.
  double last_change = 0.0;
  /// Mean stretch of its iterations in the last simulation (contended / alone), >= 0.
  double mean_stretch = 1.0;
};

/// The memory each LLM tenant's engine may use, bytes, in workload order: its
/// gpu_memory_utilization share of the GPU's whole memory (as a vLLM instance takes it).
/// Throws InputError naming `file` and the field when the shares and the trace tenants'
/// memory_bytes add up to more than the GPU's memory.
std::vector<int64_t> LlmUsableBytes(const Workload& w, const GpuSpec& spec,
                                    const std::string& file);

/// The "llm" object of a `cotenant.result/1` tenant (docs/formats.md).
nlohmann::json LlmTenantResultToJson(const LlmTenantResult& r);

}  // namespace cotenant
