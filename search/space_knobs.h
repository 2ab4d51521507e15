// One builder per knob of the plan space: from a workload, its GPU and a
// space configuration, the domain each knob ranges over, per tenant (or
// once for max_connections). PlanSpace lays these domains out as dimensions.
// Every builder checks the configured values it uses against the workload
// and GPU, and throws InputError naming the configuration's file and field.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "search/knob.h"
#include "search/space_file.h"
#include "sim/simulate.h"

namespace cotenant::search {

/// Per tenant (in workload order), the values of one knob.
using KnobDomains = std::vector<std::vector<int64_t>>;

/// What every knob builder reads: the workload with its GPU, the
/// configuration, and which knobs range over their default domains.
class KnobInputs {
 public:
  /// Both must outlive the inputs. Throws InputError (naming the file of
  /// the first configured knob of that tenant) when `config` names a tenant
  /// the workload does not have.
  KnobInputs(const LoadedWorkload& lw, const SpaceConfig& config);

  const LoadedWorkload& lw() const { return lw_; }
  const GpuSpec& gpu() const { return lw_.gpu; }
  const SpaceConfig& config() const { return config_; }
  /// Every tenant: the trace tenants, then the llm tenants.
  int32_t tenants() const { return static_cast<int32_t>(names_.size()); }
  /// The trace tenants (indices 0..traces()-1; llm tenants follow).
  int32_t traces() const { return static_cast<int32_t>(lw_.workload.tenants.size()); }
  bool IsLlm(int32_t ti) const { return ti >= traces(); }
  /// The spec of llm tenant `ti` (IsLlm(ti)).
  const LlmTenantSpec& Llm(int32_t ti) const { return lw_.workload.llm_tenants[ti - traces()]; }
  /// Tenant names: the trace tenants in workload order, then the llm tenants.
  const std::vector<std::string>& names() const { return names_; }
  /// The index of tenant `name` in names(), or -1.
  int32_t Find(const std::string& name) const;
  /// The configured domains of tenant `ti`, or null when it has none.
  const SpaceConfig::Tenant* Configured(int32_t ti) const;
  /// True when `k` ranges over its default domain (config.knobs lists it,
  /// or sets no list).
  bool Ranged(Knob k) const { return ranged_[static_cast<size_t>(k)]; }
  /// The file a top-level key of the configuration came from.
  const std::string& Origin(const char* key) const;

 private:
  const LoadedWorkload& lw_;
  const SpaceConfig& config_;
  std::vector<std::string> names_;
  std::vector<bool> ranged_;  ///< by Knob
};

/// Concurrency group levels (0 = first group; groups run in level order).
/// Fixed groups give each tenant its one level; otherwise every tenant
/// ranges over 0..k-1, k = min(tenants, max_groups) when ranged, else 1.
/// With llm tenants, one group of all (k = 1; fixed groups must be one group).
KnobDomains GroupDomains(const KnobInputs& in);

/// Stream priorities, lowest priority first (0, -1, -2, ...): the configured
/// list, else 0..-(min(tenants, priority_levels) - 1) when ranged and there
/// are at least two tenants, else {0}.
KnobDomains PriorityDomains(const KnobInputs& in);

/// The SM partition step, SMs: sm_step (checked against the GPU's
/// granularity), else the granularity (0 when the GPU cannot partition).
int64_t SmStep(const KnobInputs& in);

/// SM partitions, -1 (share every SM) first, then increasing SM counts: the
/// configured list (each checked by CheckSmPartition), else -1 and every
/// multiple of SmStep from the smallest partition up to the GPU's SM count
/// when ranged and the GPU can partition, else {-1}.
KnobDomains SmDomains(const KnobInputs& in);

/// Batch splits, increasing (llm tenants: {1}): the configured list, else 1 and the splits the
/// measured sub-batch traces (traces_by_batch) allow when ranged, falling
/// back to 2 and 4 where they divide the batch (or the batch is unknown),
/// else {1}.
KnobDomains SplitDomains(const KnobInputs& in);

/// Per tenant, its stage options (cut-point lists, operator indices), the
/// first the empty list (llm tenants: only the empty list): the configured options (each cut
/// checked against the tenant's operator count), else {} and every increasing choice of 1 to
/// max_cuts (default 1) grid points when ranged, a grid point being the
/// operator boundary nearest k/cut_grid (default 4) of its kernel time.
std::vector<std::vector<std::vector<int64_t>>> StageOptions(const KnobInputs& in);

/// Start offsets, ns, increasing (llm tenants: {0}): the configured list, else 0 and each
/// offset_fraction (default 0.25, 0.5) of the tenant's isolated request span
/// (rounded to whole µs from a 1 ms span up) when ranged, else {0}.
KnobDomains OffsetDomains(const KnobInputs& in);

/// max_connections values, increasing: the configured list (each at most
/// the GPU's hardware queues), else the powers of two up to them when
/// ranged, else {min(8, hardware queues)}.
std::vector<int64_t> ConnectionDomain(const KnobInputs& in);

/// Per llm tenant (in workload order), max_num_batched_tokens values, increasing: the
/// configured list, else the workload's value and 2048 and 512 where smaller when ranged,
/// else {the workload's value}.
KnobDomains BudgetDomains(const KnobInputs& in);

/// Per llm tenant, chunked_prefill values (0 / 1), increasing: the configured list, else
/// {the workload's value}, ranged or not (turning chunking off is a choice to make in the
/// space file: without it a prompt longer than the token budget cannot be scheduled).
KnobDomains ChunkedDomains(const KnobInputs& in);

/// Per llm tenant, its prefill/decode options, the first {-1, -1} (one loop): the
/// configured options (each partition checked by CheckSmPartition, each pair at most the
/// GPU's SMs), else off and, when ranged and the GPU can partition, prefill on 1/4, 1/2
/// and 3/4 of the SMs rounded to the nearest multiple of the granularity (at least the
/// smallest partition) with decode on the rest rounded down (pairs whose decode share is
/// below the smallest partition left out), else off only.
std::vector<std::vector<std::pair<int64_t, int64_t>>> PdOptions(const KnobInputs& in);

/// The most streams the workload's tenants use together (every trace tenant's
/// largest stream count over its traces, summed, plus 2 per llm tenant: its
/// prefill and decode loops when multiplexed).
int64_t MaxStreams(const LoadedWorkload& lw);

}  // namespace cotenant::search
