#include "search/refusal.h"

namespace cotenant::search {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool Has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

struct ReasonText {
  const char* key;
  const char* description;
  const char* knob;
};

constexpr std::array<ReasonText, kRefusalReasonCount> kReasons = {{
    {"queue_deadlock", "streams sharing a hardware queue deadlock",
     "connections: a larger max_connections"},
    {"sm_partition", "SM partition the GPU cannot make",
     "sm: partitions of the GPU's granularity, adding up to at most its SMs"},
    {"connections", "max_connections over the hardware queues",
     "connections: at most the GPU's hardware queues"},
    {"batch_split", "batch split out of range", "split: a smaller batch split"},
    {"stage_cut", "stage cut beyond the tenant's operators",
     "stages: cut points inside the trace's operators (none for a one-operator trace)"},
    {"cycle", "dependency cycle through stage or group waits", "stages, groups"},
    {"too_large", "too many tasks to simulate", "split, or fewer requests in the workload"},
    {"llm_budget", "llm request over the token budget without chunked prefill",
     "budget, chunked: a larger max_num_batched_tokens, or chunked prefill on"},
    {"other", "other", "see the example message"},
}};

const ReasonText& Text(RefusalReason r) { return kReasons[static_cast<size_t>(r)]; }

}  // namespace

RefusalReason ClassifyRefusal(const std::string& message) {
  // Engine and graph messages start with their text.
  if (StartsWith(message, "workload deadlocks: ")) return RefusalReason::kQueueDeadlock;
  if (StartsWith(message, "dependency cycle: ")) return RefusalReason::kCycle;
  // Plan checks: `file: path: message`, path naming the plan field.
  if (Has(message, "max_connections: expected at most ")) return RefusalReason::kConnections;
  if (Has(message, ".sm_count: ") || Has(message, "_sm_count: ") ||
      Has(message, "tenants: SM partitions add up to "))
    return RefusalReason::kSmPartition;
  if (Has(message, ".batch_split: ")) return RefusalReason::kBatchSplit;
  if (Has(message, ": no cut point is possible: ") || Has(message, ": expected a cut point in "))
    return RefusalReason::kStageCut;
  if (Has(message, " this simulator indexes; use fewer requests") ||
      Has(message, " GB, more than this machine's "))
    return RefusalReason::kTooLarge;
  if (Has(message, " exceeds max_num_batched_tokens ")) return RefusalReason::kLlmBudget;
  return RefusalReason::kOther;
}

const char* RefusalKey(RefusalReason r) { return Text(r).key; }
const char* RefusalDescription(RefusalReason r) { return Text(r).description; }
const char* RefusalKnob(RefusalReason r) { return Text(r).knob; }

void CountRefusal(const std::string& message, RefusalTallies* tallies) {
  RefusalTally& t = (*tallies)[static_cast<size_t>(ClassifyRefusal(message))];
  if (t.count++ == 0) t.example = message;
}

}  // namespace cotenant::search
