// End to end without a GPU: synthetic CUPTI buffers through TraceSession (the
// injection library's record handling), BuildTrace, the trace file, ReadTrace.
#include "profiler/cupti/trace_session.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "profiler/cupti/cupti_check.h"
#include "sim/trace.h"
#include "tests/profiler/cupti/record_buffer.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler::cupti {
namespace {

using namespace testing;  // NOLINT: the record builders
using cotenant::testing::TempDir;

constexpr uint32_t kNone = CUPTI_SYNCHRONIZATION_INVALID_VALUE;
constexpr uint32_t kLaunch = CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000;

InjectSettings Settings(const std::string& out, const std::string& window = "all") {
  InjectSettings s;
  s.trace_out = out;
  s.tenant = "resnet50";
  s.window = ParseWindow(window, "COTENANT_WINDOW");
  s.nvtx = true;
  return s;
}

/// Finishes `session` and reads back the file it wrote.
Trace Written(TraceSession* session, const std::string& path) {
  REQUIRE(session->Finish());
  return ReadTrace(path);
}

/// One iteration of a small model on thread 77 (NVTX-labelled, as PyTorch's
/// emit_nvtx does) and one launch on thread 78, split over two buffers the
/// way CUPTI delivers them: host records first, GPU records later.
void FeedModel(TraceSession* s) {
  RecordBuffer host;
  host.Add(Push(1, 77, 1000, "aten::linear, seq = 1"));
  host.Add(Push(2, 77, 1500, "aten::addmm, seq = 2, sizes = [[8, 768]]"));
  host.Add(Runtime(kLaunch, 77, 2000, 2500, 10));
  host.Add(Api(true, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, 77, 2100, 2400, 11));
  host.Add(Pop(2, 77, 4000));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020, 77, 4100, 4300, 12));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaMemsetAsync_v3020, 77, 4400, 4500, 13));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaEventRecord_v3020, 77, 6100, 6200, 14));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaStreamWaitEvent_v3020, 77, 6300, 6400, 15));
  host.Add(Runtime(kLaunch, 77, 6500, 6600, 16));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaStreamSynchronize_v3020, 77, 7600, 7700, 17));
  host.Add(Runtime(kLaunch, 78, 8000, 8100, 19));
  host.Add(Pop(1, 77, 9000));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaDeviceSynchronize_v3020, 77, 9100, 9200, 18));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaGetDevice_v3020, 77, 9300, 9310, 20));

  RecordBuffer gpu;
  gpu.Add(Kernel("sm90_gemm", 7, 3000, 5000, 10));
  gpu.Add(Memset(256, 9, 4600, 4700, 13));
  gpu.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, 4096, 7, 5000, 6000, 12));
  gpu.Add(Event(7, 3, 14));
  gpu.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT, 9, 3, 6300, 6400, 15));
  auto relu = Kernel("relu", 9, 7000, 7500, 16);
  relu.gridX = 8;
  relu.gridY = 1;
  relu.blockX = 256;
  relu.registersPerThread = 16;
  relu.staticSharedMemory = 0;
  relu.dynamicSharedMemory = 0;
  gpu.Add(relu);
  gpu.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE, 9, kNone, 7600, 7700, 17));
  gpu.Add(Kernel("other_thread", 13, 8200, 8300, 19));
  gpu.Add(
      Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE, kNone, kNone, 9100, 9200, 18));
  s->HandleBuffer(host.data(), host.size());
  s->HandleBuffer(gpu.data(), gpu.size());
}

TEST_CASE("synthetic CUPTI records become the trace written at exit", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_session");
  TraceSession session(Settings(dir / "trace.json"), 4242);
  FeedModel(&session);
  session.SetDeviceName("NVIDIA H100 80GB HBM3");
  session.SetLoadedCuptiVersion(130001);
  const Trace t = Written(&session, dir / "trace.json");

  CHECK(t.tenant == "resnet50");
  CHECK(t.device_name == "NVIDIA H100 80GB HBM3");
  REQUIRE(t.tasks.size() == 14);
  // Time 0 is the first launch; ids follow start order, host before GPU.
  const std::vector<std::pair<TaskKind, TimeNs>> expected = {
      {TaskKind::kLaunch, 0},         {TaskKind::kKernel, 1000},     {TaskKind::kLaunch, 2100},
      {TaskKind::kLaunch, 2400},      {TaskKind::kMemset, 2600},     {TaskKind::kMemcpy, 3000},
      {TaskKind::kEventRecord, 4100}, {TaskKind::kStreamWait, 4300}, {TaskKind::kLaunch, 4500},
      {TaskKind::kKernel, 5000},      {TaskKind::kSync, 5600},       {TaskKind::kLaunch, 6000},
      {TaskKind::kKernel, 6200},      {TaskKind::kSync, 7100}};
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("task " << i);
    CHECK(t.tasks[i].id == static_cast<int64_t>(i) + 1);
    CHECK(t.tasks[i].kind == expected[i].first);
    CHECK(t.tasks[i].start_ns == expected[i].second);
  }

  // The first launch (the driver call inside it folded away) and its kernel.
  const Task& launch = t.tasks[0];
  CHECK(t.Name(launch) == "cudaLaunchKernel");
  CHECK(launch.thread == 1);
  CHECK(launch.dur_ns == 500);
  CHECK(launch.correlation == 10);
  const Task& gemm = t.tasks[1];
  CHECK(t.Name(gemm) == "sm90_gemm");
  CHECK(gemm.correlation == launch.correlation);
  CHECK(gemm.stream == 7);
  CHECK(gemm.dur_ns == 2000);
  CHECK(gemm.grid == std::array<int32_t, 3>{264, 2, 1});
  CHECK(gemm.block == std::array<int32_t, 3>{128, 1, 1});
  CHECK(gemm.regs == 168);
  CHECK(gemm.smem == 98304);           // 32 KiB static + 64 KiB dynamic
  CHECK(t.Op(gemm) == "aten::addmm");  // the innermost range, emit_nvtx decorations cut

  const Task& relu = t.tasks[9];
  CHECK(t.Name(relu) == "relu");
  CHECK(relu.correlation == t.tasks[8].correlation);
  CHECK(t.Op(relu) == "aten::linear");  // addmm had closed by its launch
  CHECK(relu.grid == std::array<int32_t, 3>{8, 1, 1});
  CHECK(relu.block == std::array<int32_t, 3>{256, 1, 1});
  CHECK(relu.regs == 16);
  CHECK(relu.smem == 0);

  const Task& other = t.tasks[12];
  CHECK(t.Name(other) == "other_thread");
  CHECK(other.stream == 13);
  CHECK(t.Op(other).empty());      // no range open on thread 78
  CHECK(t.tasks[11].thread == 2);  // thread 78, renumbered

  const Task& memset = t.tasks[4];
  CHECK(memset.bytes == 256);
  CHECK(memset.stream == 9);
  CHECK(memset.correlation == t.tasks[3].correlation);
  const Task& copy = t.tasks[5];
  CHECK(copy.dir == CopyDir::kH2D);
  CHECK(copy.bytes == 4096);
  CHECK(copy.stream == 7);
  CHECK(copy.correlation == t.tasks[2].correlation);

  const Task& record = t.tasks[6];
  CHECK(record.event == 3);
  CHECK(record.stream == 7);
  CHECK(record.thread == 1);
  const Task& wait = t.tasks[7];
  CHECK(wait.event == 3);
  CHECK(wait.stream == 9);
  const Task& stream_sync = t.tasks[10];
  CHECK(stream_sync.scope == SyncScope::kStream);
  CHECK(stream_sync.stream == 9);
  CHECK(stream_sync.dur_ns == 100);
  CHECK(t.tasks[13].scope == SyncScope::kDevice);

  CHECK(t.meta.at("source") == ProfilerSource());
  CHECK(t.meta.at("pid") == 4242);
  CHECK(t.meta.at("dropped_records") == 0);
  CHECK(t.meta.at("complete") == true);
  CHECK(t.meta.at("window") == "all");
  CHECK(t.meta.at("nvtx") == true);
  const nlohmann::json& cupti = t.meta.at("cupti");
  CHECK(cupti.at("version") == 130001);
  CHECK(cupti.at("header_version") == kHeaderVersion);
  CHECK(cupti.at("records").at("kernels") == 3);
  CHECK(cupti.at("records").at("runtime_calls") == 10);
  CHECK(cupti.at("records").at("driver_calls") == 1);
  CHECK(cupti.at("records").at("ranges") == 2);
  CHECK(cupti.at("records").at("buffers") == 2);
  CHECK(t.meta.count("problems") == 0);
}

TEST_CASE("dropped records are counted in meta and make the trace incomplete", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_dropped");
  TraceSession session(Settings(dir / "t.json"), 1);
  FeedModel(&session);
  session.AddDropped(5);
  session.AddDropped(2);
  const Trace t = Written(&session, dir / "t.json");
  CHECK(t.meta.at("dropped_records") == 7);
  CHECK(t.meta.at("complete") == false);
}

TEST_CASE("a CUPTI failure marks the trace incomplete and names the call", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_failed");
  TraceSession session(Settings(dir / "t.json"), 1);
  FeedModel(&session);
  CUpti_Activity* record = nullptr;
  COTENANT_CUPTI_CALL(cuptiActivityGetNextRecord(nullptr, 0, &record));
  const Trace t = Written(&session, dir / "t.json");
  CHECK(t.meta.at("complete") == false);
  REQUIRE(t.meta.at("problems").size() == 1);
  CHECK(t.meta.at("problems")[0] ==
        "cuptiActivityGetNextRecord(nullptr, 0, &record) failed: CUPTI_ERROR_INVALID_PARAMETER");
  CHECK(t.tasks.size() == 14);  // what was captured is still written
  Problems().Clear();
}

/// Kernels launched before, inside and after cudaProfilerStart/Stop, each in
/// a range "step" on thread 77.
void FeedSteps(TraceSession* s) {
  RecordBuffer b;
  uint32_t corr = 100;
  for (uint32_t i = 0; i < 3; ++i) {
    const uint64_t base = 10000 * (i + 1);
    b.Add(Push(i + 1, 77, base, "step"));
    b.Add(Runtime(kLaunch, 77, base + 100, base + 200, corr));
    b.Add(Kernel(i == 1 ? "inside" : "outside", 7, base + 300, base + 400, corr));
    b.Add(Pop(i + 1, 77, base + 1000));
    ++corr;
  }
  b.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaProfilerStart_v4000, 77, 15000, 15100, 200));
  b.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaProfilerStop_v4000, 77, 25000, 25100, 201));
  s->HandleBuffer(b.data(), b.size());
}

TEST_CASE("the window between cudaProfilerStart and cudaProfilerStop", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_profiler_window");
  TraceSession session(Settings(dir / "t.json", "profiler"), 1);
  FeedSteps(&session);
  const Trace t = Written(&session, dir / "t.json");
  REQUIRE(t.tasks.size() == 2);
  CHECK(t.tasks[0].kind == TaskKind::kLaunch);
  CHECK(t.tasks[1].kind == TaskKind::kKernel);
  CHECK(t.Name(t.tasks[1]) == "inside");
  CHECK(t.tasks[1].start_ns == 200);
  CHECK(t.meta.at("window") == "profiler");
  CHECK(t.meta.at("complete") == true);
}

TEST_CASE("the window of the Nth NVTX range of a name", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_range_window");
  TraceSession session(Settings(dir / "t.json", "range:step:2"), 1);
  FeedSteps(&session);
  const Trace t = Written(&session, dir / "t.json");
  REQUIRE(t.tasks.size() == 2);
  CHECK(t.Name(t.tasks[1]) == "inside");
  CHECK(t.Op(t.tasks[1]) == "step");
  CHECK(t.meta.at("window") == "range:step:2");
}

TEST_CASE("a window that selects nothing keeps the whole run, incomplete", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_empty_window");
  TraceSession session(Settings(dir / "t.json", "range:step:9"), 1);
  FeedSteps(&session);
  const Trace t = Written(&session, dir / "t.json");
  CHECK(t.tasks.size() == 6);
  CHECK(t.meta.at("window") == "all");
  CHECK(t.meta.at("complete") == false);
  REQUIRE(t.meta.at("problems").size() == 1);
  CHECK(t.meta.at("problems")[0] ==
        "window \"range:step:9\": 3 range(s) named \"step\" were captured; the whole run was "
        "written");
}

TEST_CASE("a bad window setting is reported in the trace", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_bad_window");
  InjectSettings s = ReadInjectSettings(
      [&](const char* name) -> const char* {
        if (std::string(name) == "COTENANT_WINDOW") return "between:a:b";
        if (std::string(name) == "COTENANT_TRACE_OUT") return "/never/used";
        return nullptr;
      },
      1, "");
  s.trace_out = dir / "t.json";
  TraceSession session(s, 1);
  FeedSteps(&session);
  const Trace t = Written(&session, dir / "t.json");
  CHECK(t.tasks.size() == 6);
  CHECK(t.meta.at("complete") == false);
  REQUIRE(t.meta.at("problems").size() == 1);
  CHECK(t.meta.at("problems")[0].get<std::string>().find("COTENANT_WINDOW: expected") == 0);
}

TEST_CASE("nothing captured still writes a trace that says so", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_nothing");
  TraceSession session(Settings(dir / "t.json"), 31);
  const Trace t = Written(&session, dir / "t.json");
  CHECK(t.tasks.empty());
  CHECK(t.tenant == "resnet50");
  CHECK(t.meta.at("complete") == false);
  CHECK(t.meta.at("pid") == 31);
  CHECK(t.meta.at("problems")[0] == "no API call or GPU activity was captured");
}

TEST_CASE("buffers after Finish are ignored and Finish runs once", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_late");
  TraceSession session(Settings(dir / "t.json"), 1);
  FeedSteps(&session);
  REQUIRE(session.Finish());
  const size_t tasks = session.trace().tasks.size();
  FeedModel(&session);
  CHECK_FALSE(session.Finish());
  CHECK(session.trace().tasks.size() == tasks);
  CHECK(ReadTrace(dir / "t.json").tasks.size() == tasks);
}

TEST_CASE("an unwritable output is a message, not a crash", "[cupti]") {
  Problems().Clear();
  TraceSession session(Settings("/nonexistent-dir/sub/t.json"), 1);
  FeedSteps(&session);
  CHECK_FALSE(session.Finish());
}

TEST_CASE("replay mode hands tagged GPU times over and writes no trace", "[cupti]") {
  Problems().Clear();
  TempDir dir("cotenant_cupti_replay");
  InjectSettings settings = Settings(dir / "t.json");
  settings.replay = true;
  TraceSession session(settings, 5);
  // Run 1: a calibration launch (untagged, corr 9), two tagged launches
  // (nodes 4 and 7 -> ids 5 and 8) and a tagged copy; a PyTorch-style id of
  // another kind (CUSTOM1) on the last launch is not replay's.
  RecordBuffer host;
  host.Add(Runtime(kLaunch, 77, 100, 200, 9));
  host.Add(External(5, 10));
  host.Add(Runtime(kLaunch, 77, 300, 400, 10));
  host.Add(External(8, 11));
  host.Add(Runtime(kLaunch, 78, 310, 410, 11));
  host.Add(External(9, 12));
  host.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020, 78, 500, 600, 12));
  auto other = External(3, 13);
  other.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM1;
  host.Add(other);
  host.Add(Runtime(kLaunch, 78, 700, 800, 13));
  RecordBuffer gpu;
  gpu.Add(Kernel("calibration", 7, 150, 250, 9));
  gpu.Add(Kernel("replay", 7, 1000, 2000, 10));
  gpu.Add(Kernel("replay", 9, 1500, 2600, 11));
  gpu.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, 4096, 9, 2600, 2900, 12));
  gpu.Add(Kernel("replay", 9, 3000, 3100, 13));
  session.HandleBuffer(host.data(), host.size());
  session.HandleBuffer(gpu.data(), gpu.size());
  std::vector<TaggedTiming> got = session.TakeTagged(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0);
  REQUIRE(got.size() == 3);
  CHECK(got[0].id == 5);
  CHECK(got[0].start_ns == 1000);
  CHECK(got[0].end_ns == 2000);
  CHECK(got[1].id == 8);
  CHECK(got[1].start_ns == 1500);
  CHECK(got[2].id == 9);
  CHECK(got[2].end_ns == 2900);
  // Everything was forgotten: a second collect of nothing new is empty.
  CHECK(session.TakeTagged(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0).empty());
  // Run 2 reuses the ids with new correlations.
  RecordBuffer host2, gpu2;
  host2.Add(External(5, 20));
  host2.Add(Runtime(kLaunch, 77, 5000, 5100, 20));
  gpu2.Add(Kernel("replay", 7, 6000, 6500, 20));
  session.HandleBuffer(gpu2.data(), gpu2.size());  // the GPU buffer may come first
  session.HandleBuffer(host2.data(), host2.size());
  got = session.TakeTagged(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0);
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == 5);
  CHECK(got[0].start_ns == 6000);
  // At exit: nothing written.
  CHECK(session.Finish());
  CHECK_FALSE(std::filesystem::exists(dir / "t.json"));
}

}  // namespace
}  // namespace cotenant::profiler::cupti
