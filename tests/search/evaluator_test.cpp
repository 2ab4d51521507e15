// The evaluator: cache, budget accounting, infeasible candidates, refused
// plans, the best-so-far and its curve; the thread pool; template reuse
// across simulations gives the same results as building every time.
#include "search/evaluator.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>

#include "search/objective.h"
#include "search/thread_pool.h"
#include "sim/graph.h"
#include "tests/common/fixtures.h"

namespace cotenant::search {
namespace {

using testing::TinyWorkload;

LoadedWorkload Two() {
  return TinyWorkload({{"L", {{4000, 8}}}, {"S", {{1000, 8}}}}, Objective::kMeanLatency);
}

Candidate Zero(const PlanSpace& space) { return Candidate(space.dims().size(), 0); }

}  // namespace

TEST_CASE("the evaluator caches, counts and keeps the best", "[search][evaluator]") {
  const LoadedWorkload lw = Two();
  const PlanSpace space(lw, SpaceConfigFromKnobList("priority,sm"));
  EvalOptions eo;
  eo.max_evaluations = 3;
  Evaluator ev(space, eo);
  const int32_t pl = space.Dim(Knob::kPriority, 0), ps = space.Dim(Knob::kPriority, 1);
  const int32_t sl = space.Dim(Knob::kSm, 0), ss = space.Dim(Knob::kSm, 1);

  Candidate native = Zero(space);
  Candidate s_first = native;
  s_first[ps] = 1;  // S at -1
  Candidate both_high = native;
  both_high[pl] = 1;
  both_high[ps] = 1;  // the same as native: only the order matters
  Candidate too_big = native;
  too_big[sl] = 4;  // 4 SMs
  too_big[ss] = 1;  // + 1 SM > 4
  const std::vector<Outcome> a = ev.Evaluate({native, s_first, both_high, too_big, native});
  REQUIRE(a[0].status == Status::kEvaluated);
  REQUIRE(a[0].score.value == 4500);
  REQUIRE(a[1].status == Status::kEvaluated);
  REQUIRE(a[1].score.value == 3000);
  REQUIRE(a[2].status == Status::kCached);  // canonical form = native, within the batch
  REQUIRE(a[2].candidate == native);
  REQUIRE(a[2].score.value == 4500);
  REQUIRE(a[3].status == Status::kInfeasible);
  REQUIRE_FALSE(a[3].ok);
  REQUIRE(a[4].status == Status::kCached);
  REQUIRE(ev.evaluations() == 2);
  REQUIRE(ev.cache_hits() == 2);
  REQUIRE(ev.infeasible() == 1);
  REQUIRE(ev.best() == s_first);
  REQUIRE(ev.curve().size() == 2);
  REQUIRE(ev.curve()[0].evaluation == 1);
  REQUIRE(ev.curve()[1].evaluation == 2);
  REQUIRE(ev.curve()[1].best.value == 3000);

  // One evaluation left: the first new candidate runs, the second is skipped.
  Candidate l_capped = native;
  l_capped[sl] = 3;
  Candidate s_capped = native;
  s_capped[ss] = 2;
  const std::vector<Outcome> b = ev.Evaluate({l_capped, s_capped, s_first});
  REQUIRE(b[0].status == Status::kEvaluated);
  REQUIRE(b[1].status == Status::kSkipped);
  REQUIRE(b[2].status == Status::kCached);
  REQUIRE(ev.evaluations() == 3);
  REQUIRE(ev.Done());
  REQUIRE(ev.Evaluate({s_capped})[0].status == Status::kSkipped);
}

TEST_CASE("plans the simulator refuses are counted, not fatal", "[search][evaluator]") {
  // One tenant, kernel 1 on stream 7 waits (`after`) for kernel 2 on stream
  // 8, issued later. On one hardware queue kernel 1 waits at the head for
  // kernel 2 behind it: a deadlock; on two queues 2 runs, then 1.
  LoadedWorkload lw = TinyWorkload({{"A", {{1000, 2}, {1000, 2}}}}, Objective::kMakespan);
  lw.traces[0].tasks[1].stream = 8;
  lw.traces[0].tasks[0].after = {2};
  const PlanSpace space(lw, SpaceConfigFromKnobList("connections"));
  REQUIRE(space.Size() == 2);  // 1 queue, or enough for both streams
  Evaluator ev(space, EvalOptions{});
  Candidate one = Zero(space), many = Zero(space);
  many.back() = 3;  // 8 queues
  REQUIRE(space.ToPlan(one)->max_connections == 1);
  REQUIRE(space.ToPlan(many)->max_connections >= 2);
  const std::vector<Outcome> outs = ev.Evaluate({one, many});
  REQUIRE(outs[0].status == Status::kEvaluated);
  REQUIRE_FALSE(outs[0].ok);
  REQUIRE(outs[0].error.rfind("workload deadlocks: ", 0) == 0);
  REQUIRE(outs[1].ok);
  REQUIRE(outs[1].score.value == 2000);  // kernel 2, then kernel 1
  REQUIRE(ev.evaluations() == 2);
  REQUIRE(ev.failed() == 1);
  REQUIRE(ev.first_error() == outs[0].error);
  const RefusalTally& dead = ev.refused()[static_cast<size_t>(RefusalReason::kQueueDeadlock)];
  REQUIRE(dead.count == 1);
  REQUIRE(dead.example == outs[0].error);
  REQUIRE(ev.best() == many);
  // Asked again, the refusal comes from the cache.
  const Outcome again = ev.Evaluate({one})[0];
  REQUIRE(again.status == Status::kCached);
  REQUIRE_FALSE(again.ok);
  REQUIRE(ev.refused()[static_cast<size_t>(RefusalReason::kQueueDeadlock)].count == 1);
  REQUIRE(ev.Done());  // both plans of the space are known
}

TEST_CASE("stage barriers hold back the next stage's issue: no deadlock on a shared queue",
          "[search][evaluator]") {
  // Two tenants of two operators, each cut after the first: a2 and b2 wait
  // for the stage barrier, which waits for a1 and b1. The next stage is
  // issued only once every tenant has issued the current one (as replay
  // does), so one hardware queue holds a1, b1, a2, b2 in that order and runs
  // them one after another; with a queue per stream a1 || b1, then a2 || b2.
  const LoadedWorkload lw = TinyWorkload(
      {{"A", {{1000, 2}, {1000, 2}}}, {"B", {{1000, 2}, {1000, 2}}}}, Objective::kMakespan);
  SpaceConfig config = SpaceConfigFromKnobList("connections");
  config.MergeFrom(SpaceConfigFromSetting("A.stages=1"));
  config.MergeFrom(SpaceConfigFromSetting("B.stages=1"));
  const PlanSpace space(lw, config);
  REQUIRE(space.Size() == 2);
  Evaluator ev(space, EvalOptions{});
  Candidate one = Zero(space), many = Zero(space);
  many.back() = 3;  // 8 queues
  const std::vector<Outcome> outs = ev.Evaluate({one, many});
  REQUIRE(outs[0].ok);
  REQUIRE(outs[0].score.value == 4000);
  REQUIRE(outs[1].ok);
  REQUIRE(outs[1].score.value == 2000);
  REQUIRE(ev.failed() == 0);
}

TEST_CASE("the thread pool runs every iteration once and reports errors", "[search][evaluator]") {
  ThreadPool pool(3);
  REQUIRE(pool.size() == 3);
  std::vector<std::atomic<int>> hits(1000);
  for (auto& h : hits) h = 0;
  std::atomic<int> bad_worker{0};  // (Catch assertions are not thread-safe)
  pool.ParallelFor(1000, [&](int64_t i, int worker) {
    if (worker < 0 || worker >= 3) ++bad_worker;
    ++hits[static_cast<size_t>(i)];
  });
  REQUIRE(bad_worker == 0);
  for (auto& h : hits) REQUIRE(h == 1);
  REQUIRE_THROWS_WITH(pool.ParallelFor(100,
                                       [](int64_t i, int) {
                                         if (i == 17 || i == 60)
                                           throw std::runtime_error("at " + std::to_string(i));
                                       }),
                      "at 17");
  // Still usable afterwards.
  std::atomic<int> n{0};
  pool.ParallelFor(10, [&](int64_t, int) { ++n; });
  REQUIRE(n == 10);
}

TEST_CASE("reused request templates give the same results", "[search][evaluator]") {
  const LoadedWorkload lw =
      LoadWorkload(std::string(COTENANT_SOURCE_DIR) + "/configs/workloads/vision3.json");
  std::vector<Plan> plans(4);
  plans[1].tenants["resnet50"].batch_split = 4;  // the measured batch-8 trace
  plans[1].tenants["vgg16"].batch_split = 2;     // a what-if split
  plans[2].stages["resnet50"] = {10};
  plans[2].stages["vgg16"] = {5};
  plans[2].tenants["mobilenetv2"].sm_count = 64;
  plans[3].groups = {{"vgg16"}, {"resnet50", "mobilenetv2"}};
  plans[3].tenants["resnet50"].priority = -1;
  TemplateCache cache;
  for (int round = 0; round < 2; ++round) {
    for (const Plan& plan : plans) {
      SimOptions fresh, reused;
      fresh.record_timeline = reused.record_timeline = true;
      reused.templates = &cache;
      const SimResult a = Simulate(lw, plan, fresh);
      const SimResult b = Simulate(lw, plan, reused);
      REQUIRE(ResultToJson(a) == ResultToJson(b));
      REQUIRE(TimelineToJsonText(a) == TimelineToJsonText(b));
    }
  }
  REQUIRE(cache.size() == 7);  // 3 plain, 2 split, 2 with cuts
}

}  // namespace cotenant::search
