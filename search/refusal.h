// Why the simulator refused a plan of the search space: its InputError
// message classified into a small fixed set of reasons, each with the knob
// that a user changes to avoid it, and the tally a search keeps of them.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cotenant::search {

/// Reasons the simulator refuses a plan, in the order reports list them.
enum class RefusalReason : uint8_t {
  kQueueDeadlock,  ///< "workload deadlocks: ...": streams on a shared hardware queue wait
  kSmPartition,    ///< an SM partition the GPU cannot make, or partitions over its SMs
  kConnections,    ///< max_connections over the GPU's hardware queues
  kBatchSplit,     ///< a batch split out of range
  kStageCut,       ///< a stage cut beyond the tenant's operators (or a trace with one operator)
  kCycle,          ///< "dependency cycle: ..." (stage or group waits that loop)
  kTooLarge,       ///< more tasks than the simulator indexes or this machine's memory holds
  kLlmBudget,      ///< an llm request over max_num_batched_tokens without chunked prefill
  kOther,          ///< none of the above
};
constexpr int kRefusalReasonCount = 9;

/// The reason of a simulator message (InputError::what() of Simulate), by the
/// stable text after its `file: path:` location: exact prefixes for deadlocks
/// and cycles, field paths and fixed phrases for the plan checks. kOther when
/// none matches.
RefusalReason ClassifyRefusal(const std::string& message);

/// The reason's key in the search report ("queue_deadlock", "sm_partition",
/// "connections", "batch_split", "stage_cut", "cycle", "too_large", "llm_budget",
/// "other").
const char* RefusalKey(RefusalReason r);
/// What went wrong, in a few words, for the terminal table.
const char* RefusalDescription(RefusalReason r);
/// The knob (KnobName) to change and which way, for the terminal table.
const char* RefusalKnob(RefusalReason r);

/// How many plans were refused for one reason, and the first message.
struct RefusalTally {
  int64_t count = 0;
  std::string example;  ///< the simulator's full message for the first one ("" when count == 0)
};
/// Indexed by RefusalReason.
using RefusalTallies = std::array<RefusalTally, kRefusalReasonCount>;

/// Counts `message` under its reason (keeping it as the example of a new one).
void CountRefusal(const std::string& message, RefusalTallies* tallies);

}  // namespace cotenant::search
