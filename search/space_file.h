// The search-space file (`cotenant.searchspace/1`) and command-line space
// settings (`--set KEY=VALUES`, `--knobs`): what the user asks of the plan
// space, read and checked for syntax only. Values are checked against the
// workload and GPU when the space is built (search/space_knobs.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "search/knob.h"

namespace cotenant::search {

/// The schema string of a search-space document.
constexpr const char* kSpaceSchema = "cotenant.searchspace/1";

/// A knob's values as configured (a list; a single value fixes the knob),
/// with where they came from for messages.
struct ConfiguredValues {
  std::vector<int64_t> values;  ///< SM counts use -1 for null
  std::string file, path;       ///< "space.json", "tenants.bert.sm_count"

  /// Where value `i` is named in messages: `path[i]` in a list of several,
  /// else `path`.
  std::string PathOf(size_t i) const;
};

/// Stage options as configured: a list of cut-point lists.
struct ConfiguredCuts {
  std::vector<std::vector<int64_t>> options;
  std::string file, path;
};

/// Prefill/decode options as configured: (prefill, decode) SM pairs, {-1, -1} = off.
struct ConfiguredPd {
  std::vector<std::pair<int64_t, int64_t>> options;
  std::string file, path;
};

/// What the user asks of the space (`cotenant.searchspace/1` and command-line
/// settings). Unset fields take the defaults of docs/formats.md. Syntax is
/// checked when reading; values against the workload and GPU when the space is
/// built (search/space_knobs.h).
struct SpaceConfig {
  struct Tenant {
    std::optional<ConfiguredValues> priority, sm_count, batch_split, offset_ns;
    std::optional<ConfiguredCuts> stages;
    // llm tenants only:
    std::optional<ConfiguredValues> max_num_batched_tokens, chunked_prefill;
    std::optional<ConfiguredPd> prefill_decode_sm;
  };
  std::string file;  ///< for messages ("space.json", "--knobs")
  /// Knobs ranged over their default domains; the others stay at their
  /// native-plan value unless a domain is given below. Unset = every knob.
  std::optional<std::vector<Knob>> knobs;
  std::optional<int64_t> sm_step;          ///< SM partition step (multiple of the granularity)
  std::optional<int64_t> priority_levels;  ///< distinct stream priorities, >= 1
  std::optional<int64_t> max_groups;       ///< concurrency groups, >= 1
  std::optional<int64_t> max_cuts;         ///< stage cut points per tenant, >= 0
  std::optional<int64_t> cut_grid;         ///< cut points at k/cut_grid of a tenant's kernel time
  std::optional<std::vector<double>> offset_fractions;  ///< of a tenant's isolated request time
  /// Fixed concurrency groups (tenant names), with where they came from.
  std::optional<std::vector<std::vector<std::string>>> groups;
  std::string groups_file, groups_path;
  std::optional<ConfiguredValues> max_connections;
  std::map<std::string, Tenant> tenants;       ///< by tenant name
  std::map<std::string, std::string> origins;  ///< top-level key -> file it came from

  /// Takes every field `later` sets (later settings win).
  void MergeFrom(const SpaceConfig& later);
};

/// Reads a `cotenant.searchspace/1` document (syntax only).
SpaceConfig SpaceConfigFromJson(const nlohmann::json& j, const std::string& file);
SpaceConfig ReadSpaceConfig(const std::string& path);
/// One command-line setting `KEY=VALUES` (see docs/formats.md): KEY is a
/// top-level key (`max_connections`, `groups`, `sm_step`, ...) or
/// `TENANT.KNOB`; VALUES is `v`, `v1,v2,...` or `lo:hi[:step]`.
SpaceConfig SpaceConfigFromSetting(const std::string& setting);
/// `--knobs groups,priority,...` as a config.
SpaceConfig SpaceConfigFromKnobList(const std::string& list);

}  // namespace cotenant::search
