// The knobs of the plan space: one per field of `cotenant.plan/1` that search
// varies, their names in space files and on the command line, and the limits
// of their domains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cotenant::search {

/// The plan knobs, in the order dimensions are laid out.
enum class Knob : uint8_t {
  kGroups,       ///< per tenant: its concurrency group (groups run one after another)
  kPriority,     ///< per tenant: stream priority
  kSm,           ///< per tenant: SM partition, -1 = share
  kSplit,        ///< per tenant: batch split
  kStages,       ///< per tenant: stage cut points (an index into PlanSpace::cut_options)
  kOffset,       ///< per tenant: start offset, ns
  kConnections,  ///< global: max_connections
};
constexpr int kKnobCount = 7;

/// Distinct CUDA stream priorities on Volta and later (0..-5), levels.
constexpr int64_t kMaxPriorityLevels = 6;
/// Values one knob may range over at most (a configured range, stage options).
constexpr int64_t kMaxDomain = 4096;

/// "groups", "priority", "sm", "split", "stages", "offset", "connections".
const char* KnobName(Knob k);
/// Every knob name, in Knob order.
std::vector<std::string> KnobNames();

}  // namespace cotenant::search
