// Plan expansion: the replay program derived from the simulator's task graph.
#include "tools/replay/program.h"

#include <catch2/catch.hpp>

#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant::replay {
namespace {

using namespace cotenant::testing;

/// Graph node of tenant `tenant`, request `r`, sub-batch `j`, trace task index `task`
/// (`gpu`: the GPU part of an event record/wait).
int32_t NodeOf(const TaskGraph& g, int tenant, int r, int task, bool gpu = true, int j = 0) {
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& n = g.nodes[v];
    if (n.tenant != tenant || n.request != r || n.sub_batch != j || n.tmpl < 0) continue;
    if (g.Tmpl(n).task == task && IsGpuNode(n.kind) == gpu) return static_cast<int32_t>(v);
  }
  FAIL("no such node");
  return -1;
}

const Op& OpOf(const ReplayProgram& p, int32_t v) {
  REQUIRE(p.owner[v] >= 0);
  return p.threads[p.owner[v]].ops[p.position[v]];
}

}  // namespace

TEST_CASE("replay program: host calls then the GPU work they launch, in thread order",
          "[replay][program]") {
  // Thread 1: launch (corr 10) -> kernel on stream 7; CPU work; launch (corr 11) -> kernel.
  Trace t = MakeTrace("a", {Host(1, TaskKind::kLaunch, 0, 100, 10), Kernel(2, 7, 200, 1000, 8),
                            Host(3, TaskKind::kCpu, 150, 500),
                            Host(4, TaskKind::kLaunch, 700, 100, 11), Kernel(5, 7, 1200, 1000, 8)});
  t.tasks[1].correlation = 10;
  t.tasks[4].correlation = 11;
  const LoadedWorkload lw = Make({{t, 2}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  const ReplayProgram p = BuildReplayProgram(g);
  REQUIRE(p.threads.size() == 1);
  const ThreadProgram& th = p.threads[0];
  REQUIRE(th.tenant == 0);
  REQUIRE(th.ops.size() == 10);  // 2 requests x (3 host + 2 GPU)
  const std::vector<OpKind> kinds = {OpKind::kHost, OpKind::kGpu, OpKind::kHost, OpKind::kHost,
                                     OpKind::kGpu};
  for (size_t i = 0; i < th.ops.size(); ++i) REQUIRE(th.ops[i].kind == kinds[i % 5]);
  REQUIRE(th.ops[1].node == NodeOf(g, 0, 0, 1));
  REQUIRE(th.ops[4].node == NodeOf(g, 0, 0, 4));
  // The first request starts at once; nothing to wait for inside it.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(th.ops[i].release_ns == 0);
    REQUIRE(th.ops[i].gpu_waits.empty());
    REQUIRE(th.ops[i].host_waits.empty());
  }
  // Closed loop: request 1's first call waits for request 0's last kernel
  // (its only GPU sink) to end.
  REQUIRE(th.ops[5].gpu_waits == std::vector<int32_t>{NodeOf(g, 0, 0, 4)});
  REQUIRE(p.signalled[NodeOf(g, 0, 0, 4)]);
  REQUIRE_FALSE(p.signalled[NodeOf(g, 0, 0, 1)]);
}

TEST_CASE("replay program: GPU-only traces go to an issuer thread; arrivals and offsets",
          "[replay][program]") {
  Arrival periodic;
  periodic.kind = ArrivalKind::kPeriodic;
  periodic.period_ns = 5000;
  const LoadedWorkload lw = Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2)}), 3, periodic}});
  Plan plan;
  plan.tenants["a"].offset_ns = 700;
  const TaskGraph g = BuildTaskGraph(lw, plan);
  const ReplayProgram p = BuildReplayProgram(g);
  REQUIRE(p.threads.size() == 1);
  REQUIRE(p.threads[0].graph_thread == -1);
  REQUIRE(p.threads[0].ops.size() == 3);
  for (int r = 0; r < 3; ++r) {
    const Op& op = p.threads[0].ops[r];
    REQUIRE(op.node == NodeOf(g, 0, r, 0));
    REQUIRE(op.release_ns == 700 + 5000 * r);
    REQUIRE(op.gpu_waits.empty());  // open arrivals: no wait on the previous request
  }
}

TEST_CASE("replay program: groups and stage barriers become cross-tenant event waits",
          "[replay][program]") {
  Trace ta = MakeTrace("a", {Kernel(1, 7, 0, 1000, 2), Kernel(2, 7, 1000, 1000, 2)});
  Trace tb = MakeTrace("b", {Kernel(1, 7, 0, 3000, 2), Kernel(2, 7, 3000, 100, 2)});
  ta.tasks[0].op = ta.Intern("A0");
  ta.tasks[1].op = ta.Intern("A1");
  tb.tasks[0].op = tb.Intern("B0");
  tb.tasks[1].op = tb.Intern("B1");
  const LoadedWorkload lw = Make({{ta}, {tb}});
  SECTION("groups: a's first kernel waits for b's last") {
    Plan plan;
    plan.groups = {{"b"}, {"a"}};
    const TaskGraph g = BuildTaskGraph(lw, plan);
    const ReplayProgram p = BuildReplayProgram(g);
    REQUIRE(OpOf(p, NodeOf(g, 0, 0, 0)).gpu_waits == std::vector<int32_t>{NodeOf(g, 1, 0, 1)});
    REQUIRE(OpOf(p, NodeOf(g, 0, 0, 1)).gpu_waits.empty());
    REQUIRE(OpOf(p, NodeOf(g, 1, 0, 0)).gpu_waits.empty());
  }
  SECTION("stages: stage 1 of each waits for stage 0 of the other, not its own stream") {
    Plan plan;
    plan.stages["a"] = {1};
    plan.stages["b"] = {1};
    const TaskGraph g = BuildTaskGraph(lw, plan);
    const ReplayProgram p = BuildReplayProgram(g);
    REQUIRE(OpOf(p, NodeOf(g, 0, 0, 1)).gpu_waits == std::vector<int32_t>{NodeOf(g, 1, 0, 0)});
    REQUIRE(OpOf(p, NodeOf(g, 1, 0, 1)).gpu_waits == std::vector<int32_t>{NodeOf(g, 0, 0, 0)});
    REQUIRE(p.gpu_waits == 2);
    REQUIRE(p.threads.size() == 2);  // one issuer per tenant
  }
}

TEST_CASE("replay program: event record -> wait across streams; batch split", "[replay][program]") {
  Task rec;
  rec.id = 2;
  rec.kind = TaskKind::kEventRecord;
  rec.event = 3;
  rec.stream = 7;
  rec.start_ns = 1000;
  Task wait = rec;
  wait.id = 3;
  wait.kind = TaskKind::kStreamWait;
  wait.stream = 9;
  wait.start_ns = 1001;
  const LoadedWorkload lw =
      Make({{MakeTrace("a", {Kernel(1, 7, 0, 1000, 2), rec, wait, Kernel(4, 9, 1002, 500, 2)})}});
  Plan plan;
  plan.tenants["a"].batch_split = 2;
  const TaskGraph g = BuildTaskGraph(lw, plan);
  const ReplayProgram p = BuildReplayProgram(g);
  for (int j = 0; j < 2; ++j) {
    const int32_t record = NodeOf(g, 0, 0, 1, true, j), waiter = NodeOf(g, 0, 0, 2, true, j);
    REQUIRE(OpOf(p, waiter).kind == OpKind::kGpu);
    REQUIRE(OpOf(p, waiter).gpu_waits == std::vector<int32_t>{record});
    REQUIRE(p.signalled[record]);
    // Ops of sub-batch 1 come after those of sub-batch 0 on the issuer thread.
    REQUIRE(p.position[NodeOf(g, 0, 0, 3, true, j)] > p.position[waiter]);
  }
  REQUIRE(p.position[NodeOf(g, 0, 0, 0, true, 1)] > p.position[NodeOf(g, 0, 0, 0, true, 0)]);
  REQUIRE(g.templates[0]->kernels[0].blocks == 1);  // what-if split: 2 blocks / 2
}

TEST_CASE("replay program: kernels with their own priority or SM cap get side streams",
          "[replay][program]") {
  // Three kernels on stream 7: the second has a what-if priority, the third
  // an SM cap; two requests share the side streams.
  Trace t = MakeTrace(
      "a", {Kernel(1, 7, 0, 1000, 8), Kernel(2, 7, 1000, 1000, 8), Kernel(3, 7, 2000, 1000, 8)});
  t.tasks[1].priority = -2;
  t.tasks[2].sm_count = 2;
  const LoadedWorkload lw = Make({{t, 2}});
  const TaskGraph g = BuildTaskGraph(lw, Plan{});
  const ReplayProgram p = BuildReplayProgram(g);
  REQUIRE(p.side_streams.size() == 2);
  const int32_t stream = g.nodes[NodeOf(g, 0, 0, 0)].stream;
  REQUIRE(p.side_streams[0].stream == stream);
  REQUIRE(p.side_streams[0].priority == -2);
  REQUIRE(p.side_streams[0].partition == -1);
  REQUIRE(p.side_streams[1].stream == stream);
  REQUIRE(p.side_streams[1].priority == 0);
  REQUIRE(p.side_streams[1].partition == 0);
  REQUIRE(g.partitions.sm_counts == std::vector<int32_t>{2});
  for (int r = 0; r < 2; ++r) {
    REQUIRE(p.side_stream_of[NodeOf(g, 0, r, 0)] == -1);
    REQUIRE(p.side_stream_of[NodeOf(g, 0, r, 1)] == 0);
    REQUIRE(p.side_stream_of[NodeOf(g, 0, r, 2)] == 1);
  }
  const std::vector<ThreadSummary> rows = SummarizeProgram(g, p);
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].tenant == "a");
  REQUIRE(rows[0].gpu_tasks == 6);
  REQUIRE(rows[0].side_launches == 4);  // 2 requests x 2 kernels
  // A plan priority of the tenant itself is the stream's, not a side stream's.
  Plan plan;
  plan.tenants["a"].priority = -2;
  const ReplayProgram q = BuildReplayProgram(BuildTaskGraph(lw, plan));
  REQUIRE(q.side_streams.size() == 1);
  REQUIRE(q.side_streams[0].priority == -2);
  REQUIRE(q.side_streams[0].partition == 0);
}

}  // namespace cotenant::replay
