// The scheduling IR (`cotenant.plan/1`).
#pragma once

#include <climits>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant {

struct Workload;
struct GpuSpec;

/// Upper limit of `max_connections` (CUDA_DEVICE_MAX_CONNECTIONS), queues.
constexpr int64_t kMaxConnections = 32;
/// Largest `batch_split` a plan may ask for, sub-batches per request.
constexpr int64_t kMaxBatchSplit = 64;

/// Per-tenant knobs. Absent fields keep the native multi-stream default.
struct TenantPlan {
  int32_t priority = 0;     ///< stream priority; lower = higher, as CUDA
  int32_t sm_count = -1;    ///< green-context SM partition; -1 = share all SMs
  int32_t batch_split = 1;  ///< run each request as this many sub-batches
  TimeNs offset_ns = 0;     ///< start delay of the tenant's first request
  // LLM tenants only (docs/formats.md, "Plans for LLM tenants"); -1 = the workload's.
  int64_t max_num_batched_tokens = -1;  ///< token budget of one iteration
  int8_t chunked_prefill = -1;          ///< 0 / 1
  /// Prefill/decode multiplexing: both > 0 runs prefill and decode as two loops at once,
  /// each on its own green-context SM partition; -1 = one loop (sm_count applies).
  int32_t prefill_sm_count = -1, decode_sm_count = -1;
  int32_t prefill_priority = INT32_MIN;  ///< stream priority of prefill; INT32_MIN = priority
  int32_t decode_priority = INT32_MIN;   ///< stream priority of decode; INT32_MIN = priority

  /// True when prefill and decode run as two loops on their own partitions.
  bool Multiplexed() const { return prefill_sm_count > 0 && decode_sm_count > 0; }
};

struct Plan {
  std::string file;
  int32_t max_connections = 8;  ///< hardware queues used (CUDA_DEVICE_MAX_CONNECTIONS)
  /// Concurrency groups: tenants in one group run concurrently; groups run one
  /// after another. Empty = one group holding every tenant.
  std::vector<std::vector<std::string>> groups;
  std::map<std::string, TenantPlan> tenants;  ///< by tenant name
  /// Temporal interleaving: per tenant, increasing operator indices where a
  /// stage ends; stage i of every tenant in a group ends before stage i+1.
  std::map<std::string, std::vector<int64_t>> stages;

  /// The knobs of `tenant`, or the defaults.
  TenantPlan For(const std::string& tenant) const;
};

/// Reads and validates a plan (syntax only; see CheckPlanAgainst).
Plan ReadPlan(const std::string& path);
Plan PlanFromJson(const nlohmann::json& j, const std::string& file);
nlohmann::json PlanToJson(const Plan& plan);

/// One list of stage cut points (operator indices): an array of increasing
/// integers, the first at least `first`. Throws InputError `file: path[i]:
/// expected ..., found X`.
std::vector<int64_t> CutPointsFromJson(const nlohmann::json& j, const std::string& file,
                                       const std::string& path, int64_t first);

/// Checks one SM partition (a tenant's `sm_count`, SMs; not -1) against
/// `spec`: the GPU can partition, and `sm_count` is at least its smallest
/// partition, a multiple of its granularity and at most its SM count. Throws
/// InputError `file: path: expected ..., found sm_count`.
void CheckSmPartition(int64_t sm_count, const GpuSpec& spec, const std::string& file,
                      const std::string& path);

/// Checks a plan against a workload and GPU: every tenant it names exists,
/// groups partition the tenants, SM partitions fit the GPU and its
/// granularity (CheckSmPartition), max_connections is within the hardware
/// queues. Throws InputError naming the plan file and field.
void CheckPlanAgainst(const Plan& plan, const Workload& workload, const GpuSpec& spec);

}  // namespace cotenant
