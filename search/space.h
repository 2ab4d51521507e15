// The plan space search explores: every knob of `cotenant.plan/1` as one or
// more dimensions with a finite domain, fixed (one value) or ranged, built
// from a workload, its GPU and a space configuration (`cotenant.searchspace/1`
// and command-line settings, read by search/space_file.h; each knob's domain
// comes from its builder in search/space_knobs.h). A candidate is one index per dimension; it maps
// to a plan deterministically, and equivalent candidates share one canonical
// form (see docs/formats.md, "Search space").
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "search/knob.h"
#include "search/space_file.h"
#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::search {

/// One dimension of the space: a knob of one tenant (or a global knob) and
/// its domain.
struct Dimension {
  Knob knob = Knob::kGroups;
  int32_t tenant = -1;  ///< tenant index, -1 for max_connections
  /// The values the knob may take: a group level (0 = first group), a
  /// priority (sorted from lowest to highest priority: 0, -1, -2, ...), an SM
  /// count (-1 = shared), a batch split, a cut-option index, an offset in
  /// ns, a max_connections value; llm tenants: a max_num_batched_tokens
  /// value, chunked_prefill 0 / 1, a prefill/decode option index.
  std::vector<int64_t> values;
};

/// One index into Dimension::values per dimension.
using Candidate = std::vector<int32_t>;

class PlanSpace {
 public:
  /// Builds the space of `lw` under `config`. Throws InputError (naming the
  /// config's file and field) for unknown tenants and values the plan format
  /// or the GPU does not allow.
  PlanSpace(const LoadedWorkload& lw, const SpaceConfig& config);

  const std::vector<Dimension>& dims() const { return dims_; }
  /// Tenants: the trace tenants, then the llm tenants.
  int32_t tenants() const { return tenants_; }
  /// The trace tenants (indices 0..traces()-1).
  int32_t traces() const { return traces_; }
  bool IsLlm(int32_t tenant) const { return tenant >= traces_; }
  /// Tenant names, in tenant index order.
  const std::vector<std::string>& names() const { return names_; }
  /// Index of the dimension of `knob` for `tenant` (-1 for connections);
  /// -1 when the tenant has no such dimension (llm knobs of trace tenants).
  int32_t Dim(Knob knob, int32_t tenant) const;
  /// Per llm tenant (index tenant - traces()): the (prefill SMs, decode SMs)
  /// options its kPd dimension indexes, the first {-1, -1} (one loop).
  const std::vector<std::vector<std::pair<int64_t, int64_t>>>& pd_options() const {
    return pd_options_;
  }
  /// The (prefill SMs, decode SMs) of `tenant` in `c`; {-1, -1} = one loop
  /// (and for trace tenants).
  std::pair<int64_t, int64_t> Pd(const Candidate& c, int32_t tenant) const;
  /// Per tenant: the stage options (cut-point lists) its kStages dimension indexes.
  const std::vector<std::vector<std::vector<int64_t>>>& cut_options() const { return cut_options_; }
  /// Dimensions with more than one value.
  int32_t RangedDims() const { return static_cast<int32_t>(ranged_.size()); }
  /// Their indices.
  const std::vector<int32_t>& ranged() const { return ranged_; }

  /// False when the plan cannot exist: SM partitions (prefill and decode
  /// partitions included) add up to more than the GPU has (green contexts
  /// are disjoint), or an llm tenant both multiplexes prefill/decode and has
  /// an SM partition of its own.
  bool Feasible(const Candidate& c) const;
  /// The representative of c's class of equivalent plans: group levels in
  /// order of first use (groups keep their order), priorities dense within each
  /// group (only their order among co-running tenants matters; a tenant alone
  /// is at the lowest), max_connections values at or above the stream count
  /// merged (into the default 8 when the domain has it).
  Candidate Canonical(const Candidate& c) const;
  bool IsCanonical(const Candidate& c) const { return Canonical(c) == c; }
  /// The plan of a candidate, or nullopt when it is not Feasible. Only
  /// non-default knobs are written; one group of all = no groups.
  std::optional<Plan> ToPlan(const Candidate& c) const;
  /// The canonical candidate of `plan`. Throws InputError naming the plan's
  /// file and field when a knob value is outside the space.
  Candidate FromPlan(const Plan& plan) const;
  /// The candidate of the native plan (every knob at its default), or
  /// nullopt when the space does not hold it.
  std::optional<Candidate> Native() const;

  /// Distinct canonical feasible plans, exact, saturating at UINT64_MAX.
  uint64_t Size() const { return size_; }
  /// Product of the domain sizes (what enumeration walks), saturating.
  uint64_t RawSize() const { return raw_size_; }
  /// The space as a `cotenant.searchspace/1` document with every domain explicit.
  nlohmann::json ToJson() const;
  /// One line per ranged knob: "bert.sm_count: null, 32, 64 (3)".
  std::vector<std::string> Describe() const;

  /// The workload the space was built for.
  const LoadedWorkload& workload() const { return lw_; }

 private:
  void AddDim(Knob knob, int32_t tenant, std::vector<int64_t> values);
  /// One dimension per tenant, from a knob builder.
  void AddDims(Knob knob, std::vector<std::vector<int64_t>> domains);
  uint64_t CountCanonical() const;

  const LoadedWorkload& lw_;
  int32_t tenants_ = 0, traces_ = 0;
  std::vector<std::string> names_;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> pd_options_;
  std::vector<Dimension> dims_;
  std::vector<int32_t> ranged_;  ///< dimensions with more than one value
  std::vector<int32_t> dim_of_;  ///< knob * tenants + tenant -> dim (connections: last)
  std::vector<std::vector<std::vector<int64_t>>> cut_options_;
  bool canonical_groups_ = false;      ///< group dims share one domain 0..k-1
  bool canonical_priorities_ = false;  ///< priority dims share one domain
  int64_t max_streams_ = 0;            ///< streams in use at most (for max_connections)
  int32_t connections_alike_ = 0;      ///< index standing for every value >= max_streams_
  uint64_t size_ = 0, raw_size_ = 0;
};

/// Saturating arithmetic for space sizes.
uint64_t SaturatingMul(uint64_t a, uint64_t b);
uint64_t SaturatingAdd(uint64_t a, uint64_t b);

}  // namespace cotenant::search
