// Refusal reasons: simulator messages in, one reason of a fixed set out; the
// messages the plan checks throw today classified as the reason they mean.
#include "search/refusal.h"

#include <catch2/catch.hpp>

#include "sim/error.h"
#include "sim/plan.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

/// The message CheckPlanAgainst throws for `plan` on tenant "A" of an H100 SXM.
std::string PlanError(const Plan& plan) {
  const LoadedWorkload lw = testing::TinyWorkload({{"A", {{1000, 2}}}}, Objective::kMakespan);
  try {
    CheckPlanAgainst(plan, lw.workload, testing::H100Sxm());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("refusal reasons: exact messages", "[search][refusal]") {
  struct Case {
    const char* message;
    RefusalReason reason;
  };
  const Case cases[] = {
      {"workload deadlocks: 2 tasks never run (A request 0 kernel 1 waits at the head of "
       "hardware queue 0); streams sharing a hardware queue may wait on each other: try a larger "
       "max_connections",
       RefusalReason::kQueueDeadlock},
      {"workload deadlocks: 1 tasks never run (A request 0 sync 3 waits for GPU work that never "
       "ends); streams sharing a hardware queue may wait on each other: try a larger "
       "max_connections",
       RefusalReason::kQueueDeadlock},
      {"dependency cycle: A request 0 stage 1 -> B request 0 stage 0 -> ...; 4 tasks never ready",
       RefusalReason::kCycle},
      {"plan: tenants.bert.sm_count: SM partitions need 140 SMs, the GPU has 132",
       RefusalReason::kSmPartition},
      {"tenants.bert.sm_count: expected a multiple of 2 SMs (the partition granularity of "
       "h100-sxm), found 7",
       RefusalReason::kSmPartition},
      {"tenants.bert.sm_count: expected null (l4 has no SM partitioning), found 8",
       RefusalReason::kSmPartition},
      {"tenants: SM partitions add up to 140 SMs, more than the 132 of h100-sxm",
       RefusalReason::kSmPartition},
      {"max_connections: expected at most 32 (the hardware queues of h100-sxm), found 64",
       RefusalReason::kConnections},
      {"tenants.bert.batch_split: expected an integer in 1..64, found 128",
       RefusalReason::kBatchSplit},
      {"traces/bert.json: stages.bert: no cut point is possible: the trace has 1 operator",
       RefusalReason::kStageCut},
      {"traces/bert.json: stages.bert[0]: expected a cut point in 1..11 (12 operators), found 12",
       RefusalReason::kStageCut},
      {"workload: tenants: the workload has 3000000000 tasks and 5 dependencies, over the 2^31 "
       "this simulator indexes; use fewer requests",
       RefusalReason::kTooLarge},
      {"w.json: tenants: simulating 100 tasks needs about 900 GB, more than this machine's 128 "
       "GB; use fewer requests",
       RefusalReason::kTooLarge},
      {"traces/a.json: tasks[3].event: dangling event 7: no event_record of it starts before "
       "this task",
       RefusalReason::kOther},
      {"", RefusalReason::kOther},
      // The deadlock text, not at the start, is not a deadlock.
      {"x: workload deadlocks: 2 tasks never run", RefusalReason::kOther},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    CHECK(ClassifyRefusal(c.message) == c.reason);
  }
}

TEST_CASE("refusal reasons: what the plan checks throw", "[search][refusal]") {
  Plan plan;
  plan.max_connections = 64;
  CHECK(ClassifyRefusal(PlanError(plan)) == RefusalReason::kConnections);
  plan = Plan();
  plan.tenants["A"].sm_count = 7;  // not a multiple of the granularity
  CHECK(ClassifyRefusal(PlanError(plan)) == RefusalReason::kSmPartition);
  plan.tenants["A"].sm_count = 1000;
  CHECK(ClassifyRefusal(PlanError(plan)) == RefusalReason::kSmPartition);
  plan = Plan();
  plan.tenants["A"].batch_split = static_cast<int32_t>(kMaxBatchSplit) + 1;
  CHECK(ClassifyRefusal(PlanError(plan)) == RefusalReason::kBatchSplit);
}

TEST_CASE("refusal reasons: keys, words and knobs", "[search][refusal]") {
  CHECK(std::string(RefusalKey(RefusalReason::kQueueDeadlock)) == "queue_deadlock");
  CHECK(std::string(RefusalKey(RefusalReason::kSmPartition)) == "sm_partition");
  CHECK(std::string(RefusalKey(RefusalReason::kConnections)) == "connections");
  CHECK(std::string(RefusalKey(RefusalReason::kBatchSplit)) == "batch_split");
  CHECK(std::string(RefusalKey(RefusalReason::kStageCut)) == "stage_cut");
  CHECK(std::string(RefusalKey(RefusalReason::kCycle)) == "cycle");
  CHECK(std::string(RefusalKey(RefusalReason::kTooLarge)) == "too_large");
  CHECK(std::string(RefusalKey(RefusalReason::kOther)) == "other");
  CHECK(std::string(RefusalKnob(RefusalReason::kQueueDeadlock))
            .rfind("connections: a larger max_connections", 0) == 0);
  for (int i = 0; i < kRefusalReasonCount; ++i) {
    CHECK(std::string(RefusalDescription(static_cast<RefusalReason>(i))).size() > 0);
  }
}

TEST_CASE("refusal tallies count by reason and keep the first message", "[search][refusal]") {
  RefusalTallies t;
  CountRefusal("workload deadlocks: 1 tasks never run; first", &t);
  CountRefusal("tenants: SM partitions add up to 140 SMs, more than the 132 of h100-sxm", &t);
  CountRefusal("workload deadlocks: 3 tasks never run; second", &t);
  const RefusalTally& dead = t[static_cast<size_t>(RefusalReason::kQueueDeadlock)];
  CHECK(dead.count == 2);
  CHECK(dead.example == "workload deadlocks: 1 tasks never run; first");
  CHECK(t[static_cast<size_t>(RefusalReason::kSmPartition)].count == 1);
  CHECK(t[static_cast<size_t>(RefusalReason::kOther)].count == 0);
  CHECK(t[static_cast<size_t>(RefusalReason::kOther)].example.empty());
}

}  // namespace cotenant::search
