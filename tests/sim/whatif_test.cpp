// What-if primitives on small traces built in code, with exact expected values.
#include "sim/whatif.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::ErrorOf;

Task Host(Trace& tr, int64_t id, TaskKind kind, const std::string& name, TimeNs start, TimeNs dur,
          int64_t corr = kAbsent) {
  Task t;
  t.id = id;
  t.kind = kind;
  t.name = tr.Intern(name);
  t.thread = 1;
  t.start_ns = start;
  t.dur_ns = dur;
  t.correlation = corr;
  return t;
}

Task Gpu(Trace& tr, int64_t id, TaskKind kind, const std::string& name, const std::string& op,
         int64_t stream, TimeNs start, TimeNs dur, int64_t corr = kAbsent) {
  Task t;
  t.id = id;
  t.kind = kind;
  t.name = tr.Intern(name);
  if (!op.empty()) t.op = tr.Intern(op);
  t.stream = stream;
  t.start_ns = start;
  t.dur_ns = dur;
  t.correlation = corr;
  return t;
}

/// thread 1: launch 1 (corr 10), launch 3 (corr 11), launch 5 (corr 12), cpu 7
/// stream 7: gemm kernel 2, relu kernel 4, d2h memcpy 6.
Trace Basic() {
  Trace tr;
  tr.tenant = "resnet";
  tr.tasks.push_back(Host(tr, 1, TaskKind::kLaunch, "cudaLaunchKernel", 0, 100, 10));
  Task gemm =
      Gpu(tr, 2, TaskKind::kKernel, "sm90_xmma_gemm_f16", "aten::linear", 7, 1000, 1000, 10);
  gemm.grid = {10, 1, 1};
  gemm.block = {128, 1, 1};
  gemm.dram_bytes = 1000;
  tr.tasks.push_back(gemm);
  tr.tasks.push_back(Host(tr, 3, TaskKind::kLaunch, "cudaLaunchKernel", 200, 100, 11));
  tr.tasks.push_back(
      Gpu(tr, 4, TaskKind::kKernel, "elementwise_relu", "aten::relu", 7, 2000, 500, 11));
  tr.tasks.push_back(Host(tr, 5, TaskKind::kLaunch, "cudaMemcpyAsync", 400, 100, 12));
  Task copy = Gpu(tr, 6, TaskKind::kMemcpy, "Memcpy DtoH", "", 7, 2500, 300, 12);
  copy.dir = CopyDir::kD2H;
  copy.bytes = 4096;
  tr.tasks.push_back(copy);
  tr.tasks.push_back(Host(tr, 7, TaskKind::kCpu, "python", 600, 50));
  return tr;
}

std::vector<int64_t> Ids(const Trace& tr) {
  std::vector<int64_t> ids;
  for (const Task& t : tr.tasks) ids.push_back(t.id);
  return ids;
}

/// Ids of the tasks of one stream (or thread) in the simulator's order:
/// (start_ns, index in Trace::tasks).
std::vector<int64_t> OrderOf(const Trace& tr, bool stream, int64_t value) {
  std::vector<int32_t> idx;
  for (size_t i = 0; i < tr.tasks.size(); ++i) {
    if ((stream ? tr.tasks[i].stream : tr.tasks[i].thread) == value) idx.push_back(int32_t(i));
  }
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    return tr.tasks[a].start_ns < tr.tasks[b].start_ns;
  });
  std::vector<int64_t> ids;
  for (int32_t i : idx) ids.push_back(tr.tasks[i].id);
  return ids;
}

const Task& ById(const Trace& tr, int64_t id) {
  const int32_t i = FindTaskById(tr, id);
  REQUIRE(i >= 0);
  return tr.tasks[i];
}

LoadedWorkload OneTenant(const Trace& trace) {
  LoadedWorkload lw;
  TenantSpec t;
  t.name = trace.tenant;
  lw.workload.tenants.push_back(t);
  lw.workload.gpu = "h100-sxm";
  lw.traces.push_back(trace);
  lw.by_batch.resize(1);
  lw.gpu = GpuSpec{};  // the H100 SXM defaults of gpu_spec.h
  return lw;
}

/// A GPU-only trace: kernels back to back on stream 7.
Trace GpuOnly(const std::vector<std::pair<TimeNs, int32_t>>& kernels) {
  Trace tr;
  tr.tenant = "solo";
  TimeNs t = 0;
  int64_t id = 1;
  for (const auto& [dur, blocks] : kernels) {
    Task k = Gpu(tr, id, TaskKind::kKernel, "k" + std::to_string(id), "", 7, t, dur);
    ++id;
    if (blocks > 0) {
      k.grid = {blocks, 1, 1};
      k.block = {1024, 1, 1};  // 2 blocks per SM on H100: 264 slots
    }
    tr.tasks.push_back(k);
    t += dur;
  }
  return tr;
}

TimeNs Makespan(const Trace& trace) {
  return Simulate(OneTenant(trace), Plan{}, SimOptions{}).makespan_ns;
}

using V32 = std::vector<int32_t>;
using V64 = std::vector<int64_t>;

}  // namespace

TEST_CASE("Select by each key", "[whatif]") {
  const Trace tr = Basic();
  CHECK(Select(tr, ParseSelector("")) == V32{0, 1, 2, 3, 4, 5, 6});
  CHECK(Select(tr, ParseSelector("kind=kernel")) == V32{1, 3});
  CHECK(Select(tr, ParseSelector("kind=launch")) == V32{0, 2, 4});
  CHECK(Select(tr, ParseSelector("name=gemm")) == V32{1});
  CHECK(Select(tr, ParseSelector("name=GEMM")).empty());
  CHECK(Select(tr, ParseSelector("name=(?i)GEMM")) == V32{1});
  CHECK(Select(tr, ParseSelector("op=^aten::")) == V32{1, 3});
  CHECK(Select(tr, ParseSelector("op=aten::relu")) == V32{3});
  CHECK(Select(tr, ParseSelector("name=cuda,kind=launch")) == V32{0, 2, 4});
  CHECK(Select(tr, ParseSelector("kind=kernel,name=relu,op=relu")) == V32{3});
  CHECK(Select(tr, ParseSelector("tenant=resnet,kind=memcpy")) == V32{5});
  CHECK(Select(tr, ParseSelector("tenant=bert")).empty());
  // The tenant is compared with the workload's name when one is given.
  CHECK(Select(tr, ParseSelector("tenant=bert,kind=cpu"), "bert") == V32{6});
}

TEST_CASE("ParseSelector reads keys, kinds and regexes with commas", "[whatif]") {
  const Selector s = ParseSelector("name=a{1,3}b,kind=kernel");
  CHECK(s.name_text == "a{1,3}b");
  REQUIRE(s.kind);
  CHECK(*s.kind == TaskKind::kKernel);
  CHECK(s.ToString() == "name=a{1,3}b,kind=kernel");
  CHECK(ParseSelector(" tenant=bert , op=x").tenant == "bert");
  CHECK(ParseSelector("").ToString() == "all");
  CHECK(*ParseSelector("kind=event_record").kind == TaskKind::kEventRecord);
}

TEST_CASE("ParseSelector rejects bad input with a clear message", "[whatif]") {
  CHECK(ErrorOf([] { ParseSelector("knd=kernel"); }) ==
        "--select: unknown key \"knd\" (expected one of \"tenant\", \"name\", \"op\", \"kind\"); "
        "did you mean \"kind\"?");
  CHECK(ErrorOf([] { ParseSelector("kind=kernl"); }) ==
        "--select: kind: expected one of \"launch\", \"kernel\", \"memcpy\", \"memset\", \"cpu\", "
        "\"event_record\", \"stream_wait\", \"sync\", found \"kernl\"; did you mean \"kernel\"?");
  CHECK_THAT(ErrorOf([] { ParseSelector("name=gemm("); }),
             Catch::StartsWith("--select: name: expected a regular expression, found \"gemm(\""));
  CHECK(ErrorOf([] { ParseSelector("gemm"); }) ==
        "--select: expected key=value with a key among \"tenant\", \"name\", \"op\", \"kind\", "
        "found \"gemm\"");
  CHECK(ErrorOf([] { ParseSelector("name=a,name=b"); }) == "--select: key \"name\" given twice");
  CHECK(ErrorOf([] { ParseSelector("op="); }) == "--select: op: expected a value, found nothing");
  CHECK(ErrorOf([] { ParseSelector("kind=", "--only"); }) ==
        "--only: kind: expected a value, found nothing");
}

TEST_CASE("ScaleTasks multiplies durations, rounding to the nearest ns", "[whatif]") {
  Trace tr = Basic();
  const std::string d = ScaleTasks(tr, Select(tr, ParseSelector("kind=kernel")), 0.5);
  CHECK(d == "scaled 2 kernels by 0.5 (1500 ns -> 750 ns)");
  CHECK(ById(tr, 2).dur_ns == 500);
  CHECK(ById(tr, 4).dur_ns == 250);
  CHECK(ById(tr, 2).dram_bytes == 1000);  // bytes kept
  CHECK(ById(tr, 2).start_ns == 1000);    // start times untouched
  CHECK(ById(tr, 4).start_ns == 2000);
  CHECK(ById(tr, 6).dur_ns == 300);
  // 250 * 0.333 = 83.25 -> 83; 500 * 0.333 = 166.5 -> 167 (half away from zero).
  ScaleTasks(tr, {1, 3}, 0.333);
  CHECK(ById(tr, 2).dur_ns == 167);
  CHECK(ById(tr, 4).dur_ns == 83);
  // A repeated index scales once.
  ScaleTasks(tr, {6, 6}, 2.0);
  CHECK(ById(tr, 7).dur_ns == 100);
  CHECK(ErrorOf([&] { ScaleTasks(tr, {1}, 0.0); }) == "scale: expected a factor > 0, found 0");
  CHECK(ErrorOf([&] { ScaleTasks(tr, {1}, -2); }) == "scale: expected a factor > 0, found -2");
}

TEST_CASE("RemoveTasks removes a kernel and its launch, or keeps the launch's CPU cost",
          "[whatif]") {
  {
    Trace tr = Basic();
    const std::string d = RemoveTasks(tr, Select(tr, ParseSelector("name=relu")));
    CHECK(d == "removed 1 kernel; also removed 1 launch left without GPU work");
    CHECK(Ids(tr) == V64{1, 2, 5, 6, 7});
  }
  {
    Trace tr = Basic();
    RemoveOptions keep;
    keep.keep_launch = true;
    const std::string d = RemoveTasks(tr, Select(tr, ParseSelector("name=relu")), keep);
    CHECK(d == "removed 1 kernel; kept 1 launch as cpu tasks");
    CHECK(Ids(tr) == V64{1, 2, 3, 5, 6, 7});
    CHECK(ById(tr, 3).kind == TaskKind::kCpu);
    CHECK(ById(tr, 3).correlation == kAbsent);
    CHECK(ById(tr, 3).dur_ns == 100);
  }
  {
    // Removing a launch removes the GPU work it enqueued.
    Trace tr = Basic();
    const std::string d = RemoveTasks(tr, {0});
    CHECK(d == "removed 1 launch; also removed 1 GPU task of removed launches");
    CHECK(Ids(tr) == V64{3, 4, 5, 6, 7});
  }
  {
    // A launch that still has GPU work stays.
    Trace tr = Basic();
    tr.tasks[3].correlation = 10;  // relu now also launched by task 1
    tr.tasks.erase(tr.tasks.begin() + 2);
    RemoveTasks(tr, Select(tr, ParseSelector("name=relu")));
    CHECK(Ids(tr) == V64{1, 2, 5, 6, 7});
  }
}

TEST_CASE("RemoveTasks removes the waits and syncs bound to a removed event record", "[whatif]") {
  Trace tr;
  tr.tenant = "t";
  auto marker = [&](int64_t id, TaskKind kind, int64_t stream, TimeNs start) {
    Task m =
        Host(tr, id, kind,
             kind == TaskKind::kEventRecord ? "cudaEventRecord" : "cudaStreamWaitEvent", start, 10);
    m.stream = stream;
    m.event = 3;
    return m;
  };
  tr.tasks.push_back(marker(1, TaskKind::kEventRecord, 7, 0));
  tr.tasks.push_back(marker(2, TaskKind::kStreamWait, 9, 100));
  tr.tasks.push_back(marker(3, TaskKind::kEventRecord, 7, 200));
  tr.tasks.push_back(marker(4, TaskKind::kStreamWait, 9, 300));
  Task sync = Host(tr, 5, TaskKind::kSync, "cudaEventSynchronize", 400, 10);
  sync.scope = SyncScope::kEvent;
  sync.event = 3;
  tr.tasks.push_back(sync);
  {
    Trace t = tr;
    CHECK(RemoveTasks(t, {2}) ==
          "removed 1 event_record; also removed 1 stream_wait on removed event records, 1 sync "
          "on removed event records");
    CHECK(Ids(t) == V64{1, 2});
  }
  {
    Trace t = tr;
    CHECK(RemoveTasks(t, {0}) ==
          "removed 1 event_record; also removed 1 stream_wait on removed event records");
    CHECK(Ids(t) == V64{3, 4, 5});
  }
}

TEST_CASE("InsertKernel adds a kernel and its launch in the right place", "[whatif]") {
  Trace tr = Basic();
  Task k;
  k.name = tr.Intern("inserted");
  k.dur_ns = 250;
  k.grid = {4, 1, 1};
  k.block = {256, 1, 1};
  InsertSpec spec;
  spec.after_id = 2;
  const std::string d = InsertKernel(tr, spec, k);
  CHECK(d ==
        "inserted kernel 8 (250 ns) on stream 7 after task 2, launched by new launch 9 on "
        "thread 1");
  CHECK(Ids(tr) == V64{1, 9, 2, 8, 3, 4, 5, 6, 7});
  const Task& kernel = ById(tr, 8);
  const Task& launch = ById(tr, 9);
  CHECK(kernel.kind == TaskKind::kKernel);
  CHECK(kernel.stream == 7);
  CHECK(kernel.correlation == 13);
  CHECK(kernel.start_ns == 2000);  // predecessor's end, not after the successor's start
  CHECK(kernel.dur_ns == 250);
  CHECK(kernel.grid[0] == 4);
  CHECK(launch.kind == TaskKind::kLaunch);
  CHECK(launch.thread == 1);
  CHECK(launch.correlation == 13);
  CHECK(launch.start_ns == 0);
  CHECK(launch.dur_ns == 100);  // a copy of the anchor's launch
  CHECK(OrderOf(tr, true, 7) == V64{2, 8, 4, 6});
  CHECK(OrderOf(tr, false, 1) == V64{1, 9, 3, 5, 7});

  // On another stream: after the last task of that stream ordered before the anchor.
  spec.after_id = 4;
  spec.stream = 9;
  InsertKernel(tr, spec, k);
  CHECK(ById(tr, 10).stream == 9);
  CHECK(ById(tr, 10).start_ns == 2500);  // the anchor's end: stream 9 is empty
  CHECK(ById(tr, 11).correlation == 14);
  CHECK(OrderOf(tr, false, 1) == V64{1, 9, 3, 11, 5, 7});

  CHECK(ErrorOf([&] {
          InsertSpec bad;
          bad.after_id = 99;
          InsertKernel(tr, bad, k);
        }) == "insert: no task with id 99 in the trace");
  CHECK(ErrorOf([&] {
          Task big = k;
          big.block = {2048, 1, 1};
          InsertKernel(tr, spec, big);
        }) == "insert: expected at most 1024 threads per block, found 2048");
  CHECK(ErrorOf([&] {  // (the product overflowed int64 before: undefined behaviour)
          Task huge = k;
          huge.block = {2147483647, 2147483647, 2147483647};
          InsertKernel(tr, spec, huge);
        }) ==
        "insert: expected at most 1024 threads per block, found 2147483647 x 2147483647 x "
        "2147483647");
  CHECK(ErrorOf([&] {
          Task wide = k;
          wide.block = {1024, 1024, 1024};  // 2^30 threads: fits in int64, shown as a number
          InsertKernel(tr, spec, wide);
        }) == "insert: expected at most 1024 threads per block, found 1073741824");
  CHECK(ErrorOf([&] {
          Task half = k;
          half.block = {0, 0, 0};
          InsertKernel(tr, spec, half);
        }) == "insert: grid and block go together");
  CHECK(ErrorOf([&] {
          InsertSpec bad;
          bad.after_id = 7;
          InsertKernel(tr, bad, k);
        }) == "insert: task 7 (cpu python) runs on no stream; insert after a GPU task");
}

TEST_CASE("InsertKernel breaks start-time ties by file order", "[whatif]") {
  // Three zero-length kernels at the same start on one stream, GPU only.
  Trace tr;
  for (int64_t id = 1; id <= 3; ++id) {
    tr.tasks.push_back(Gpu(tr, id, TaskKind::kKernel, "k", "", 0, 500, 0));
  }
  Task k;
  k.dur_ns = 10;
  InsertSpec spec;
  spec.after_id = 2;
  InsertKernel(tr, spec, k);
  CHECK(ById(tr, 4).start_ns == 500);
  CHECK(ById(tr, 4).correlation == kAbsent);  // no launch in a GPU-only trace
  CHECK(OrderOf(tr, true, 0) == V64{1, 2, 4, 3});
  CHECK(tr.tasks.size() == 4);
}

TEST_CASE("MoveTasks changes stream, priority and SM cap", "[whatif]") {
  Trace tr = Basic();
  MoveTo to;
  to.stream = 9;
  to.priority = -1;
  to.sm_count = 64;
  const std::string d = MoveTasks(tr, Select(tr, ParseSelector("kind=kernel")), to);
  CHECK(d == "moved 2 kernels: stream 7 -> 9, priority -1, SM cap 64");
  for (int64_t id : {2, 4}) {
    CHECK(ById(tr, id).stream == 9);
    CHECK(ById(tr, id).priority == -1);
    CHECK(ById(tr, id).sm_count == 64);
  }
  CHECK(ById(tr, 6).stream == 7);
  CHECK(ById(tr, 6).priority == INT32_MIN);
  MoveTo p;
  p.priority = 2;
  CHECK(MoveTasks(tr, {5}, p) == "moved 1 memcpy: priority 2");
  CHECK(ErrorOf([&] { MoveTasks(tr, {0}, p); }) ==
        "move: task 1 (launch cudaLaunchKernel) runs on no stream; select GPU tasks (e.g. "
        "kind=kernel)");
  CHECK(ErrorOf([&] { MoveTasks(tr, {1}, MoveTo{}); }) == "move: nothing to change");
  MoveTo zero;
  zero.sm_count = 0;
  CHECK(ErrorOf([&] { MoveTasks(tr, {1}, zero); }) == "move: expected an SM count >= 1, found 0");
}

TEST_CASE("SplitKernels back to back preserves blocks, time and bytes exactly", "[whatif]") {
  Trace tr = Basic();
  const std::string d = SplitKernels(tr, Select(tr, ParseSelector("name=gemm")), 3, false);
  CHECK(d == "split 1 kernel into 3 pieces each, back to back on their streams; 2 launches added");
  // Pieces 8, 9, 10 take the kernel's place; launch copies 11, 12, 13 the launch's.
  CHECK(Ids(tr) == V64{11, 12, 13, 8, 9, 10, 3, 4, 5, 6, 7});
  const std::vector<int32_t> blocks = {3, 3, 4};  // 10 blocks: floor(10*i/3) boundaries
  const std::vector<TimeNs> durs = {333, 333, 334};
  for (int i = 0; i < 3; ++i) {
    const Task& p = ById(tr, 8 + i);
    CHECK(p.kind == TaskKind::kKernel);
    CHECK(p.grid == std::array<int32_t, 3>{blocks[i], 1, 1});
    CHECK(p.block == std::array<int32_t, 3>{128, 1, 1});
    CHECK(p.dur_ns == durs[i]);
    CHECK(p.dram_bytes == durs[i]);
    CHECK(p.stream == 7);
    CHECK(p.start_ns == 1000);
    CHECK(p.correlation == 13 + i);
    CHECK(tr.Name(p) == "sm90_xmma_gemm_f16 [" + std::to_string(i + 1) + "/3]");
    CHECK(tr.Op(p) == "aten::linear");
    const Task& l = ById(tr, 11 + i);
    CHECK(l.kind == TaskKind::kLaunch);
    CHECK(l.correlation == 13 + i);
    CHECK(l.start_ns == 0);
    CHECK(l.dur_ns == 100);
  }
  CHECK(FindTaskById(tr, 1) < 0);
  CHECK(FindTaskById(tr, 2) < 0);
  CHECK(OrderOf(tr, true, 7) == V64{8, 9, 10, 4, 6});
  CHECK(OrderOf(tr, false, 1) == V64{11, 12, 13, 3, 5, 7});
}

TEST_CASE("SplitKernels cuts along x, then y, then z, else flattens", "[whatif]") {
  auto split = [](std::array<int32_t, 3> grid, int32_t k) {
    Trace tr;
    Task t = Gpu(tr, 1, TaskKind::kKernel, "k", "", 0, 0, 1000);
    t.grid = grid;
    t.block = {64, 1, 1};
    tr.tasks.push_back(t);
    SplitKernels(tr, {0}, k, false);
    std::vector<std::array<int32_t, 3>> grids;
    for (const Task& p : tr.tasks) grids.push_back(p.grid);
    return grids;
  };
  using G = std::vector<std::array<int32_t, 3>>;
  CHECK(split({10, 1, 1}, 3) == G{{3, 1, 1}, {3, 1, 1}, {4, 1, 1}});
  CHECK(split({2, 7, 3}, 3) == G{{2, 2, 3}, {2, 2, 3}, {2, 3, 3}});
  CHECK(split({2, 2, 5}, 4) == G{{2, 2, 1}, {2, 2, 1}, {2, 2, 1}, {2, 2, 2}});
  CHECK(split({2, 2, 1}, 3) == G{{1, 1, 1}, {1, 1, 1}, {2, 1, 1}});
  CHECK(ErrorOf([&] {
          split({2, 1, 1}, 3);
        }) == "split: task 1 (kernel k) has 2 blocks, fewer than the 3 pieces asked for");
  CHECK(ErrorOf([&] { split({4, 1, 1}, 1); }) == "split: expected k >= 2, found 1");
  Trace tr = Basic();
  CHECK(ErrorOf([&] { SplitKernels(tr, {5}, 2, false); }) ==
        "split: task 6 (memcpy Memcpy DtoH) is not a kernel; only kernels can be split");
}

TEST_CASE("SplitKernels on parallel streams forks and joins with events", "[whatif]") {
  Trace tr = Basic();
  const std::string d = SplitKernels(tr, {1}, 2, true);
  CHECK(d ==
        "split 1 kernel into 2 pieces each, on 2 side streams per stream (2 new), forked and "
        "joined with 7 event records/waits; 1 launch added");
  // Pieces 8, 9 on new streams 8 and 9; launch copies 10, 11; markers 12..18.
  // The markers are 0-length calls on the launching thread: the fork where
  // the launch was (start 0, before the launch copies), the join right after
  // the copies (start 100, the launch's end), so the program order is a real
  // fork/join: record, waits, launches, records, waits.
  CHECK(Ids(tr) == V64{12, 13, 14, 8, 9, 10, 11, 15, 16, 17, 18, 3, 4, 5, 6, 7});
  CHECK(ById(tr, 8).stream == 8);
  CHECK(ById(tr, 9).stream == 9);
  CHECK(ById(tr, 8).grid[0] == 5);
  CHECK(ById(tr, 9).grid[0] == 5);
  CHECK(ById(tr, 8).dur_ns == 500);
  CHECK(ById(tr, 8).correlation == 13);
  CHECK(ById(tr, 10).correlation == 13);
  struct M {
    int64_t id;
    TaskKind kind;
    int64_t stream, event;
  };
  const std::vector<M> markers = {
      {12, TaskKind::kEventRecord, 7, 1}, {13, TaskKind::kStreamWait, 8, 1},
      {14, TaskKind::kStreamWait, 9, 1},  {15, TaskKind::kEventRecord, 8, 2},
      {16, TaskKind::kEventRecord, 9, 3}, {17, TaskKind::kStreamWait, 7, 2},
      {18, TaskKind::kStreamWait, 7, 3}};
  for (const M& m : markers) {
    const Task& t = ById(tr, m.id);
    CHECK(t.kind == m.kind);
    CHECK(t.stream == m.stream);
    CHECK(t.event == m.event);
    CHECK(t.thread == 1);
    CHECK(t.dur_ns == 0);
    CHECK(t.start_ns == (m.id <= 14 ? 0 : 100));
  }
  CHECK(ById(tr, 8).start_ns == 0);
  CHECK(OrderOf(tr, true, 7) == V64{12, 17, 18, 4, 6});
  CHECK(OrderOf(tr, true, 8) == V64{13, 8, 15});
  CHECK(OrderOf(tr, true, 9) == V64{14, 9, 16});
  CHECK(OrderOf(tr, false, 1) == V64{12, 13, 14, 10, 11, 15, 16, 17, 18, 3, 5, 7});
}

TEST_CASE("SplitKernels on parallel streams keeps the stream order when the host runs ahead",
          "[whatif]") {
  // The relu kernel (4) was launched at 200 but its stream predecessor (the
  // gemm) starts at 1000: the fork cannot be issued before 1000 without
  // jumping ahead of the gemm on stream 7, so the markers start at 1000,
  // after the gemm in file order.
  Trace tr = Basic();
  SplitKernels(tr, {3}, 2, true);
  CHECK(Ids(tr) == V64{1, 2, 10, 11, 12, 13, 14, 8, 9, 15, 16, 17, 18, 5, 6, 7});
  for (int64_t id = 12; id <= 18; ++id) {
    if (id == 8 || id == 9) continue;
    CHECK(ById(tr, id).start_ns == 1000);
  }
  CHECK(OrderOf(tr, true, 7) == V64{2, 12, 17, 18, 6});
  CHECK(OrderOf(tr, false, 1) == V64{1, 10, 11, 5, 7, 12, 13, 14, 15, 16, 17, 18});
  // Both kernels split (pieces 8, 9 and 19, 20; markers 12-18 and 23-29):
  // the second kernel's markers follow the first's on every stream; as the
  // gemm's join now starts at 100, the relu's fork can be issued at its
  // launch (200) and its join after its launch copies (300).
  Trace both = Basic();
  SplitKernels(both, {1, 3}, 2, true);
  CHECK(OrderOf(both, true, 7) == V64{12, 17, 18, 23, 28, 29, 6});
  CHECK(OrderOf(both, true, 8) == V64{13, 8, 15, 24, 19, 26});
  CHECK(OrderOf(both, true, 9) == V64{14, 9, 16, 25, 20, 27});
  CHECK(ById(both, 23).start_ns == 200);
  CHECK(ById(both, 26).start_ns == 300);
  CHECK(OrderOf(both, false, 1) ==
        V64{12, 13, 14, 10, 11, 15, 16, 17, 18, 23, 24, 25, 21, 22, 26, 27, 28, 29, 5, 7});
}

TEST_CASE("SwapGpu rescales by a roofline of compute and bandwidth ratios", "[whatif]") {
  GpuSpec from, to;
  from.key = "from";
  to.key = "to";
  to.name = "To GPU";
  from.dram_gbps = 3000;
  to.dram_gbps = 2000;  // b = 1.5
  from.tensor_tflops = 100;
  to.tensor_tflops = 50;  // c = 2 for GEMM-like names
  from.fp32_tflops = 40;
  to.fp32_tflops = 10;  // c = 4 otherwise
  from.pcie_gbps = 50;
  to.pcie_gbps = 25;  // x2 for h2d/d2h

  Trace tr;
  Task gemm = Gpu(tr, 1, TaskKind::kKernel, "cutlass_80_tensorop_s1688gemm", "", 0, 0, 1000);
  gemm.mem_bound = 0.5;  // 0.5 * 2 + 0.5 * 1.5 = 1.75
  tr.tasks.push_back(gemm);
  Task ew = Gpu(tr, 2, TaskKind::kKernel, "vectorized_elementwise", "", 0, 1000, 1000);
  ew.dram_bytes = 750000;  // 750 B/ns = 0.25 of 3000 GB/s: 0.75 * 4 + 0.25 * 1.5 = 3.375
  tr.tasks.push_back(ew);
  tr.tasks.push_back(Gpu(tr, 3, TaskKind::kKernel, "softmax", "", 0, 2000, 1000));  // mb 0.5: 2.75
  Task h2d = Gpu(tr, 4, TaskKind::kMemcpy, "Memcpy HtoD", "", 0, 3000, 100);
  h2d.dir = CopyDir::kH2D;
  tr.tasks.push_back(h2d);
  Task d2d = Gpu(tr, 5, TaskKind::kMemcpy, "Memcpy DtoD", "", 0, 3100, 100);
  d2d.dir = CopyDir::kD2D;
  tr.tasks.push_back(d2d);
  tr.tasks.push_back(Gpu(tr, 6, TaskKind::kMemset, "Memset", "", 0, 3200, 100));
  tr.tasks.push_back(Host(tr, 7, TaskKind::kCpu, "python", 0, 100));

  CHECK(SwapGpuKernelFactor(tr, tr.tasks[0], from, to) == Approx(1.75));
  const std::string d = SwapGpu(tr, from, to);
  CHECK(d ==
        "swapped GPU from -> to: rescaled 3 kernels, 1 host copies, 2 device copies/memsets "
        "(3300 ns -> 8375 ns of GPU time)");
  CHECK(ById(tr, 1).dur_ns == 1750);
  CHECK(ById(tr, 2).dur_ns == 3375);
  CHECK(ById(tr, 3).dur_ns == 2750);
  CHECK(ById(tr, 4).dur_ns == 200);
  CHECK(ById(tr, 5).dur_ns == 150);
  CHECK(ById(tr, 6).dur_ns == 150);
  CHECK(ById(tr, 7).dur_ns == 100);
  CHECK(tr.device_gpu == "to");
  CHECK(tr.device_name == "To GPU");

  CHECK(IsTensorKernelName("sm90_XMMA_gemm"));
  CHECK(IsTensorKernelName("implicit_convolve_sgemm"));
  CHECK(!IsTensorKernelName("reduce_kernel"));
}

TEST_CASE("SwapGpu rejects a kernel whose block does not fit the new GPU", "[whatif]") {
  GpuSpec from, to;
  from.key = "big";
  to.key = "small";
  to.sm.max_smem_per_block = 48 * 1024;
  to.sm.smem_bytes = 64 * 1024;
  Trace tr;
  tr.file = "t.json";
  Task k = Gpu(tr, 42, TaskKind::kKernel, "flash_fwd", "", 0, 0, 1000);
  k.grid = {132, 1, 1};
  k.block = {128, 1, 1};
  k.smem = 100000;
  tr.tasks.push_back(k);
  CHECK_THAT(ErrorOf([&] { SwapGpu(tr, from, to); }),
             Catch::StartsWith("swap-gpu: t.json: task 42 (kernel flash_fwd): its block (128 "
                               "threads, 32 registers/thread, 100000 B shared memory) does not "
                               "fit on an SM of small"));
  CHECK(tr.tasks[0].dur_ns == 1000);  // unchanged
}

// End to end through the simulator.

TEST_CASE("Scaling every kernel of a single-stream GPU-only trace by 0.5 halves the makespan",
          "[whatif]") {
  Trace tr = GpuOnly({{1000, 0}, {2000, 264}, {3000, 528}, {4000, 100}});
  const TimeNs before = Makespan(tr);
  CHECK(before == 10000);
  ScaleTasks(tr, Select(tr, ParseSelector("kind=kernel")), 0.5);
  CHECK(Makespan(tr) == 5000);
}

TEST_CASE("Splitting a small kernel onto parallel streams lets the pieces overlap", "[whatif]") {
  // 66 blocks fill a quarter of the 264 slots: two pieces of 33 fit together.
  const Trace tr = GpuOnly({{1000, 66}, {1000, 0}});
  CHECK(Makespan(tr) == 2000);
  Trace serial = tr;
  SplitKernels(serial, {0}, 2, false);
  CHECK(Makespan(serial) == 2000);
  Trace parallel = tr;
  SplitKernels(parallel, {0}, 2, true);
  CHECK(Makespan(parallel) == 1500);  // pieces of 500 ns side by side, then the join
  // A GPU-filling kernel gains nothing: its pieces serialize.
  Trace full = GpuOnly({{1000, 0}});
  SplitKernels(full, {0}, 2, true);
  CHECK(Makespan(full) == 1000);
}

TEST_CASE("Parallel splits never deadlock, even when every stream shares one hardware queue",
          "[whatif]") {
  Plan one_queue;
  one_queue.max_connections = 1;
  auto run = [&](const Trace& tr) {
    return Simulate(OneTenant(tr), one_queue, SimOptions{}).makespan_ns;
  };
  const Trace base = Basic();
  Trace serial = base, parallel = base;
  SplitKernels(serial, Select(serial, ParseSelector("kind=kernel")), 2, false);
  SplitKernels(parallel, Select(parallel, ParseSelector("kind=kernel")), 2, true);
  // One queue runs the pieces one after another either way.
  CHECK(run(parallel) == run(serial));
  const Trace gpu_only = GpuOnly({{1000, 66}, {1000, 0}, {3000, 33}});
  Trace p2 = gpu_only;
  SplitKernels(p2, Select(p2, ParseSelector("kind=kernel")), 3, true);
  CHECK(run(p2) == 5000);
}

TEST_CASE("Changed traces pass the trace reader's checks", "[whatif]") {
  auto round_trip = [](const Trace& tr) {
    const Trace back = ParseTrace(TraceToJsonText(tr), "changed.json");
    CHECK(back.tasks.size() == tr.tasks.size());
    CHECK(Ids(back) == Ids(tr));
  };
  Trace split = Basic();
  SplitKernels(split, Select(split, ParseSelector("kind=kernel")), 3, true);
  round_trip(split);
  Trace serial = Basic();
  SplitKernels(serial, Select(serial, ParseSelector("kind=kernel")), 2, false);
  round_trip(serial);
  Trace inserted = Basic();
  Task k;
  k.dur_ns = 10;
  InsertSpec spec;
  spec.after_id = 4;
  InsertKernel(inserted, spec, k);
  round_trip(inserted);
  Trace removed = Basic();
  RemoveTasks(removed, Select(removed, ParseSelector("kind=kernel")));
  round_trip(removed);
}

}  // namespace cotenant
