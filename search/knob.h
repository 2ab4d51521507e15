// The knobs of the plan space: one per field of `cotenant.plan/1` that search
// varies, their names in space files and on the command line, and the limits
// of their domains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cotenant::search {

/// The plan knobs, in the order dimensions are laid out (the llm knobs after
/// max_connections, tenant by tenant).
enum class Knob : uint8_t {
  kGroups,       ///< per tenant: its concurrency group (groups run one after another)
  kPriority,     ///< per tenant: stream priority
  kSm,           ///< per tenant: SM partition, -1 = share
  kSplit,        ///< per tenant: batch split
  kStages,       ///< per tenant: stage cut points (an index into PlanSpace::cut_options)
  kOffset,       ///< per tenant: start offset, ns
  kConnections,  ///< global: max_connections
  // LLM tenants only (a dimension for each llm tenant, none for trace tenants):
  kBudget,   ///< max_num_batched_tokens, tokens
  kChunked,  ///< chunked_prefill, 0 / 1
  kPd,       ///< prefill/decode multiplexing: an index into PlanSpace::pd_options (0 = off)
};
constexpr int kKnobCount = 10;

/// Distinct CUDA stream priorities on Volta and later (0..-5), levels.
constexpr int64_t kMaxPriorityLevels = 6;
/// Values one knob may range over at most (a configured range, stage options).
constexpr int64_t kMaxDomain = 4096;

/// "groups", "priority", "sm", "split", "stages", "offset", "connections", "budget",
/// "chunked", "pd".
const char* KnobName(Knob k);
/// Every knob name, in Knob order.
std::vector<std::string> KnobNames();

}  // namespace cotenant::search
