// BuildTrace, MergeTraces and the window specs, on hand-made captures.
#include <catch2/catch.hpp>

#include "profiler/capture.h"
#include "sim/error.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using cotenant::testing::ErrorOf;

ApiCall Api(const std::string& name, int64_t thread, TimeNs start, TimeNs end, int64_t corr,
            bool driver = false) {
  ApiCall a;
  a.name = name;
  a.thread = thread;
  a.start_ns = start;
  a.end_ns = end;
  a.correlation = corr;
  a.driver = driver;
  return a;
}

GpuActivity Kernel(const std::string& name, int64_t stream, TimeNs start, TimeNs end,
                   int64_t corr) {
  GpuActivity g;
  g.kind = TaskKind::kKernel;
  g.name = name;
  g.stream = stream;
  g.start_ns = start;
  g.end_ns = end;
  g.correlation = corr;
  g.grid = {4, 2, 1};
  g.block = {128, 1, 1};
  g.regs = 40;
  g.smem = 1024;
  return g;
}

Range R(const std::string& name, int64_t thread, TimeNs start, TimeNs end) {
  Range r;
  r.name = name;
  r.thread = thread;
  r.start_ns = start;
  r.end_ns = end;
  return r;
}

GpuSync Sync(SyncType type, int64_t corr, int64_t stream, int64_t event) {
  GpuSync s;
  s.type = type;
  s.correlation = corr;
  s.stream = stream;
  s.event = event;
  return s;
}

/// The trace after a write/read round trip through the strict reader.
Trace RoundTrip(const Trace& t) { return ParseTrace(TraceToJsonText(t), "built.json"); }

const Task& ById(const Trace& t, int64_t id) {
  for (const Task& task : t.tasks) {
    if (task.id == id) return task;
  }
  FAIL("no task " << id);
  return t.tasks.front();
}

/// One thread (OS id 4242) launching two kernels on stream 13; the first
/// through the runtime (with the driver call nested inside), the second
/// through the driver only.
Capture TwoKernels() {
  Capture c;
  c.source = "test";
  c.pid = 99;
  c.api.push_back(Api("cudaLaunchKernel", 4242, 1000, 1500, 7));
  c.api.push_back(Api("cuLaunchKernel", 4242, 1100, 1400, 8, true));
  c.api.push_back(Api("cudaGetDevice", 4242, 1600, 1700, 9));
  c.api.push_back(Api("cuLaunchKernel_ptsz", 4242, 1800, 1900, 10, true));
  c.gpu.push_back(Kernel("k1", 13, 2000, 5000, 8));  // correlated with the driver call
  c.gpu.push_back(Kernel("k2", 13, 5000, 5600, 10));
  c.ranges.push_back(R("cotenant.request", 4242, 500, 10000));
  c.ranges.push_back(R("aten::relu, seq = 3, op_id = 1", 4242, 900, 1550));
  return c;
}

TEST_CASE("BuildTrace: launches, kernels, folding of nested driver calls, labels") {
  BuildOptions o;
  o.tenant = "net";
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(TwoKernels(), o, &rep));
  REQUIRE(t.tasks.size() == 4);
  CHECK(t.tenant == "net");
  // Origin 1000: the first launch.
  const Task& l1 = ById(t, 1);
  CHECK(l1.kind == TaskKind::kLaunch);
  CHECK(t.Name(l1) == "cudaLaunchKernel");
  CHECK(l1.thread == 1);
  CHECK(l1.start_ns == 0);
  CHECK(l1.dur_ns == 500);
  CHECK(l1.correlation == 7);
  const Task& l2 = ById(t, 2);
  CHECK(t.Name(l2) == "cuLaunchKernel_ptsz");
  CHECK(l2.start_ns == 800);
  CHECK(l2.correlation == 10);
  const Task& k1 = ById(t, 3);
  CHECK(k1.kind == TaskKind::kKernel);
  CHECK(k1.correlation == 7);  // the driver's 8 folded into the runtime call's 7
  CHECK(k1.stream == 13);
  CHECK(k1.start_ns == 1000);
  CHECK(k1.dur_ns == 3000);
  CHECK(k1.grid == std::array<int32_t, 3>{4, 2, 1});
  CHECK(k1.block == std::array<int32_t, 3>{128, 1, 1});
  CHECK(k1.regs == 40);
  CHECK(k1.smem == 1024);
  CHECK(t.Op(k1) == "aten::relu");  // innermost range at the launch, short form
  const Task& k2 = ById(t, 4);
  CHECK(t.Op(k2) == "cotenant.request");  // aten::relu had closed at 1550
  CHECK(k2.correlation == 10);
  CHECK(rep.kernels == 2);
  CHECK(rep.launches == 2);
  CHECK(rep.streams == 1);
  CHECK(rep.threads == 1);
  CHECK(rep.gpu_busy_ns == 3600);
  CHECK(rep.span_ns == 4600);
  CHECK(rep.unlabelled_kernels == 0);
  CHECK(t.meta["origin_ns"] == 1000);
  CHECK(t.meta["pid"] == 99);
  CHECK(t.meta["complete"] == true);
  CHECK(t.meta["window"] == "all");

  Capture steps = TwoKernels();
  steps.ranges[0].name = "ProfilerStep#3";  // marks an iteration, labels nothing
  const Trace st = BuildTrace(steps, o, nullptr);
  CHECK(st.Op(ById(st, 3)) == "aten::relu");
  CHECK(st.Op(ById(st, 4)) == "");

  o.short_op_names = false;
  const Trace full = BuildTrace(TwoKernels(), o, nullptr);
  CHECK(full.Op(ById(full, 3)) == "aten::relu, seq = 3, op_id = 1");
}

TEST_CASE("BuildTrace: events, waits and syncs take stream and event from the driver records") {
  Capture c;
  c.api.push_back(Api("cudaLaunchKernel", 1, 0, 100, 1));
  c.api.push_back(Api("cudaEventRecord", 1, 200, 250, 2));
  c.api.push_back(Api("cudaStreamWaitEvent", 1, 300, 350, 3));
  c.api.push_back(Api("cudaLaunchKernel", 1, 400, 500, 4));
  c.api.push_back(Api("cudaStreamSynchronize", 1, 600, 5000, 5));
  c.api.push_back(Api("cudaEventSynchronize", 1, 5100, 5200, 6));
  c.api.push_back(Api("cudaDeviceSynchronize", 1, 5300, 5400, 7));
  c.gpu.push_back(Kernel("a", 7, 150, 2000, 1));
  c.gpu.push_back(Kernel("b", 9, 2000, 4000, 4));
  c.syncs.push_back(Sync(SyncType::kEventRecord, 2, 7, 31));
  c.syncs.push_back(Sync(SyncType::kStreamWaitEvent, 3, 9, 31));
  c.syncs.push_back(Sync(SyncType::kStreamSync, 5, 9, kAbsent));
  c.syncs.push_back(Sync(SyncType::kEventSync, 6, kAbsent, 31));
  const Trace t = RoundTrip(BuildTrace(c, {}, nullptr));
  REQUIRE(t.tasks.size() == 9);
  // Order by start: launch 0, kernel 150, record 200, wait 300, launch 400,
  // sync 600, kernel 2000, event sync 5100, device sync 5300.
  const Task& rec = ById(t, 3);
  CHECK(rec.kind == TaskKind::kEventRecord);
  CHECK(rec.stream == 7);
  CHECK(rec.event == 31);
  const Task& wait = ById(t, 4);
  CHECK(wait.kind == TaskKind::kStreamWait);
  CHECK(wait.stream == 9);
  CHECK(wait.event == 31);
  const Task& ss = ById(t, 6);
  CHECK(ss.kind == TaskKind::kSync);
  CHECK(ss.scope == SyncScope::kStream);
  CHECK(ss.stream == 9);
  CHECK(ss.dur_ns == 4400);
  const Task& es = ById(t, 8);
  CHECK(es.scope == SyncScope::kEvent);
  CHECK(es.event == 31);
  const Task& ds = ById(t, 9);
  CHECK(ds.scope == SyncScope::kDevice);
  CHECK(ById(t, 7).kind == TaskKind::kKernel);
}

TEST_CASE("BuildTrace: a blocking cudaMemcpy is a launch then a wait on the copy's stream") {
  Capture c;
  c.api.push_back(Api("cudaMemcpy", 1, 1000, 11000, 3));
  GpuActivity copy;
  copy.kind = TaskKind::kMemcpy;
  copy.stream = 7;
  copy.start_ns = 5000;
  copy.end_ns = 10000;
  copy.correlation = 3;
  copy.dir = CopyDir::kH2D;
  copy.bytes = 602112;
  c.gpu.push_back(copy);
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(c, {}, &rep));
  REQUIRE(t.tasks.size() == 3);
  CHECK(ById(t, 1).kind == TaskKind::kLaunch);
  CHECK(ById(t, 1).dur_ns == 4000);
  const Task& m = ById(t, 3);
  CHECK(m.kind == TaskKind::kMemcpy);
  CHECK(m.dir == CopyDir::kH2D);
  CHECK(m.bytes == 602112);
  CHECK(m.start_ns == 4000);
  const Task& w = ById(t, 2);  // starts with the copy; host tasks come first
  CHECK(w.kind == TaskKind::kSync);
  CHECK(w.scope == SyncScope::kStream);
  CHECK(w.stream == 7);
  CHECK(w.start_ns == 4000);
  CHECK(w.dur_ns == 6000);
  CHECK(rep.memcpys == 1);
  CHECK(rep.syncs == 1);

  SECTION("cudaMemcpyAsync is not split") {
    c.api[0].name = "cudaMemcpyAsync";
    const Trace a = BuildTrace(c, {}, nullptr);
    REQUIRE(a.tasks.size() == 2);
    CHECK(a.tasks[0].dur_ns == 10000);
  }
}

/// Three iterations, each a range "step" around one launch on thread 1, with
/// cudaProfilerStart/Stop around the second.
Capture ThreeSteps() {
  Capture c;
  for (int i = 0; i < 3; ++i) {
    const TimeNs base = 10000 * i;
    c.ranges.push_back(R("step", 1, base, base + 5000));
    c.api.push_back(Api("cudaLaunchKernel", 1, base + 100, base + 200, 10 + i));
    c.gpu.push_back(Kernel("k" + std::to_string(i), 7, base + 300, base + 4000, 10 + i));
  }
  c.api.push_back(Api("cudaProfilerStart", 1, 9000, 9500, 50));
  c.api.push_back(Api("cudaProfilerStop", 1, 16000, 16100, 51));
  return c;
}

TEST_CASE("BuildTrace: windows select one iteration") {
  BuildOptions o;
  BuildReport rep;
  SECTION("profiler start/stop") {
    o.window = ParseWindow("profiler", "--window");
    const Trace t = RoundTrip(BuildTrace(ThreeSteps(), o, &rep));
    REQUIRE(t.tasks.size() == 2);
    CHECK(t.Name(t.tasks[1]) == "k1");
    CHECK(t.tasks[0].start_ns == 0);
    CHECK(t.tasks[1].start_ns == 200);
    CHECK(t.meta["origin_ns"] == 10100);
    CHECK(t.meta["window"] == "profiler");
    CHECK(rep.outside_window == 4);  // two launches and two kernels
  }
  SECTION("the N-th range of a name") {
    o.window = ParseWindow("range:step:3", "--window");
    const Trace t = BuildTrace(ThreeSteps(), o, nullptr);
    REQUIRE(t.tasks.size() == 2);
    CHECK(t.Name(t.tasks[1]) == "k2");
    CHECK(t.Op(t.tasks[1]) == "step");
  }
  SECTION("a time window counts from the first record") {
    o.window = ParseWindow("time:0:10000", "--window");
    const Trace t = BuildTrace(ThreeSteps(), o, nullptr);
    REQUIRE(t.tasks.size() == 2);
    CHECK(t.Name(t.tasks[1]) == "k0");
  }
  SECTION("windows that select nothing are errors") {
    o.window = ParseWindow("range:step:4", "--window");
    CHECK(ErrorOf([&] { BuildTrace(ThreeSteps(), o, nullptr); }) ==
          "window \"range:step:4\": 3 range(s) named \"step\" were captured");
    o.window = ParseWindow("profiler", "--window");
    CHECK(ErrorOf([&] { BuildTrace(TwoKernels(), o, nullptr); }) ==
          "window \"profiler\": no cudaProfilerStart call was captured");
    o.window = ParseWindow("time:100000:200000", "--window");
    CHECK(ErrorOf([&] { BuildTrace(ThreeSteps(), o, nullptr); }) ==
          "window \"time:100000:200000\": no API call or GPU activity falls inside it");
  }
}

TEST_CASE("BuildTrace: a wait whose record is outside the window is left out and reported") {
  Capture c;
  c.api.push_back(Api("cudaEventRecord", 1, 0, 10, 1));
  c.api.push_back(Api("cudaStreamWaitEvent", 1, 100, 110, 2));
  c.api.push_back(Api("cudaLaunchKernel", 1, 200, 210, 3));
  c.gpu.push_back(Kernel("k", 5, 300, 400, 3));
  c.syncs.push_back(Sync(SyncType::kEventRecord, 1, 4, 2));
  c.syncs.push_back(Sync(SyncType::kStreamWaitEvent, 2, 5, 2));
  BuildOptions o;
  o.window = ParseWindow("time:50:1000", "w");
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(c, o, &rep));
  REQUIRE(t.tasks.size() == 2);
  REQUIRE(rep.problems.size() == 1);
  CHECK(rep.problems[0] == "a stream wait on an event recorded before the window was left out");
  CHECK(t.meta["problems"][0] == rep.problems[0]);
}

TEST_CASE("BuildTrace: GPU work without captured launches is kept; dropped records are reported") {
  Capture c;
  c.gpu.push_back(Kernel("k", 5, 300, 400, 77));
  GpuActivity noshape = Kernel("n", 5, 400, 500, kAbsent);
  noshape.grid = {0, 0, 0};
  noshape.regs = 0;
  c.gpu.push_back(noshape);
  c.dropped_records = 12;
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(c, {}, &rep));
  REQUIRE(t.tasks.size() == 2);
  CHECK(t.tasks[0].correlation == kAbsent);
  CHECK_FALSE(t.tasks[1].HasShape());
  CHECK(t.tasks[1].regs == 32);
  CHECK(rep.orphan_gpu == 2);
  CHECK(rep.unlabelled_kernels == 2);
  CHECK(rep.dropped_records == 12);
  CHECK(t.meta["dropped_records"] == 12);
  CHECK(t.meta["complete"] == false);
}

TEST_CASE("BuildTrace: a launch shape the trace format rejects is dropped and reported") {
  // Found by the cupti_records fuzz target: a grid y of 100992003 (or a
  // block of 2048 threads, as a Kineto file may say) was copied into the
  // trace, which the trace reader then rejected.
  Capture c;
  GpuActivity tall = Kernel("tall", 5, 100, 200, kAbsent);
  tall.grid = {1, 100992003, 1};
  GpuActivity wide = Kernel("wide", 5, 200, 300, kAbsent);
  wide.block = {64, 32, 1};
  GpuActivity huge = Kernel("huge", 5, 300, 400, kAbsent);
  huge.block = {65536, 65536, 2};
  GpuActivity edge = Kernel("edge", 5, 400, 500, kAbsent);
  edge.grid = {2147483647, 65535, 65535};
  edge.block = {32, 32, 1};
  c.gpu = {tall, wide, huge, edge};
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(c, {}, &rep));
  REQUIRE(t.tasks.size() == 4);
  CHECK_FALSE(t.tasks[0].HasShape());
  CHECK_FALSE(t.tasks[1].HasShape());
  CHECK_FALSE(t.tasks[2].HasShape());
  CHECK(t.tasks[3].grid == std::array<int32_t, 3>{2147483647, 65535, 65535});
  CHECK(t.tasks[3].block == std::array<int32_t, 3>{32, 32, 1});
  REQUIRE(rep.problems.size() == 1);
  CHECK(rep.problems[0] ==
        "kernels with an impossible launch shape (grid y or z over 65535, or more than 1024 "
        "threads per block) were kept without a launch shape");
}

TEST_CASE("BuildTrace: a launch repeating an earlier launch's correlation keeps none") {
  // Found by the cupti_records fuzz target: both launches kept the id, and
  // the trace reader rejected the trace (duplicate launch correlation).
  Capture c;
  c.api.push_back(Api("cudaLaunchKernel", 1, 0, 10, 5));
  c.api.push_back(Api("cudaLaunchKernel", 1, 20, 30, 5));
  c.gpu.push_back(Kernel("k", 7, 40, 50, 5));
  BuildReport rep;
  const Trace t = RoundTrip(BuildTrace(c, {}, &rep));
  REQUIRE(t.tasks.size() == 3);
  CHECK(t.tasks[0].correlation == 5);
  CHECK(t.tasks[1].correlation == kAbsent);
  CHECK(t.tasks[2].correlation == 5);
  REQUIRE(rep.problems.size() == 1);
  CHECK(rep.problems[0] ==
        "launches with the correlation id of an earlier launch were kept without it");
}

TEST_CASE("ParseWindow and WindowSpec") {
  CHECK(ParseWindow("all", "w").kind == Window::Kind::kAll);
  const Window r = ParseWindow("range:aten::addmm", "w");
  CHECK(r.kind == Window::Kind::kRange);
  CHECK(r.range_name == "aten::addmm");
  CHECK(r.occurrence == 1);
  const Window r5 = ParseWindow("range:aten::addmm:5", "w");
  CHECK(r5.range_name == "aten::addmm");
  CHECK(r5.occurrence == 5);
  CHECK(WindowSpec(r5) == "range:aten::addmm:5");
  const Window t = ParseWindow("time:5:70", "w");
  CHECK(t.from_ns == 5);
  CHECK(t.to_ns == 70);
  CHECK(t.time_relative);
  CHECK(WindowSpec(t) == "time:5:70");
  CHECK(ErrorOf([] { ParseWindow("steps", "--window"); }) ==
        "--window: expected \"all\", \"profiler\", \"range:NAME[:N]\" or \"time:FROM_NS:TO_NS\", "
        "found \"steps\"");
  CHECK(ErrorOf([] { ParseWindow("time:9:3", "--window"); }) ==
        "--window: expected FROM_NS < TO_NS in \"time:9:3\"");
  CHECK(ErrorOf([] { ParseWindow("time:-1:3", "--window"); }) ==
        "--window: expected a non-negative integer in \"time:-1:3\", found \"-1\"");
  CHECK(ErrorOf([] { ParseWindow("range:step:0", "--window"); }) ==
        "--window: expected an occurrence >= 1 in \"range:step:0\", found 0");
  CHECK(ErrorOf([] { ParseWindow("range:", "--window"); }) ==
        "--window: expected a range name after \"range:\"");
}

TEST_CASE("RoleOfApi and ShortOpName") {
  CHECK(RoleOfApi("cudaLaunchKernel") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cudaLaunchKernel_ptsz") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cuLaunchKernelEx") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cuMemcpyHtoDAsync_v2") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cudaMemsetAsync") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cudaGraphLaunch_v10000") == ApiRole::kLaunch);
  CHECK(RoleOfApi("cudaEventRecordWithFlags") == ApiRole::kEventRecord);
  CHECK(RoleOfApi("cuStreamWaitEvent") == ApiRole::kStreamWait);
  CHECK(RoleOfApi("cudaStreamSynchronize_ptsz") == ApiRole::kStreamSync);
  CHECK(RoleOfApi("cuEventSynchronize") == ApiRole::kEventSync);
  CHECK(RoleOfApi("cuCtxSynchronize") == ApiRole::kDeviceSync);
  CHECK(RoleOfApi("cudaProfilerStart") == ApiRole::kProfilerStart);
  CHECK(RoleOfApi("cudaMalloc") == ApiRole::kOther);
  CHECK(RoleOfApi("cudaStreamIsCapturing") == ApiRole::kOther);
  CHECK(ShortOpName("aten::addmm, seq = 12, op_id = 3, sizes = [[8, 768]]") == "aten::addmm");
  CHECK(ShortOpName("outer") == "outer");
}

TEST_CASE("MergeTraces: processes on one clock, ids, threads and clashing streams kept apart") {
  Capture a = TwoKernels();
  Capture b = TwoKernels();
  for (ApiCall& x : b.api) x.start_ns += 500, x.end_ns += 500;
  for (GpuActivity& x : b.gpu) x.start_ns += 500, x.end_ns += 500;
  b.pid = 100;
  const Trace ta = BuildTrace(a, {}, nullptr);
  const Trace tb = BuildTrace(b, {}, nullptr);
  const Trace m = RoundTrip(MergeTraces({ta, tb}, "both"));
  REQUIRE(m.tasks.size() == 8);
  CHECK(m.tenant == "both");
  // Process b: ids 6.., thread 2, correlations + 11, stream 13 + 1000000, +500 ns.
  const Task& l = ById(m, 6);
  CHECK(l.kind == TaskKind::kLaunch);
  CHECK(l.thread == 2);
  CHECK(l.start_ns == 500);
  CHECK(l.correlation == 18);
  const Task& k = ById(m, 8);
  CHECK(k.kind == TaskKind::kKernel);
  CHECK(k.stream == 1000013);
  CHECK(k.start_ns == 1500);
  CHECK(k.correlation == 18);
  CHECK(m.Op(k) == "aten::relu");
  CHECK(m.meta["processes"].size() == 2);
  CHECK(m.meta["processes"][1]["pid"] == 100);
  CHECK(m.meta["processes"][1]["stream_offset"] == 1000000);
  CHECK(m.meta["origin_ns"] == 1000);
}

}  // namespace
}  // namespace cotenant::profiler
