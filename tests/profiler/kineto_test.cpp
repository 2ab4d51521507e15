// Tests of the Kineto (PyTorch profiler) importer on the hand-written traces
// in tests/data/kineto (see its README): the capture each layout gives, the
// traces built from it, step selection, and the exact message of each
// malformed input.
#include "profiler/kineto.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "sim/byte_source.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using testing::ErrorOf;
using testing::kData;
using testing::TempDir;

const std::string kKineto = kData + "/kineto";

/// A capture from a trace whose traceEvents hold `events` (the text inside
/// the array).
Capture Parse(const std::string& events, KinetoReport* report = nullptr) {
  return ParseKinetoTrace("{\"traceEvents\": [" + events + "]}", "t.json", report);
}

/// The error of parsing a trace whose traceEvents hold `events`.
std::string EventsError(const std::string& events) {
  return ErrorOf([&] { Parse(events); });
}

/// A kernel event on stream 7 with extra fields (`more`, inside its braces).
std::string Kernel(const std::string& more) {
  return R"({"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, )" + more + "}";
}

const Task* FindTask(const Trace& t, int64_t id) {
  for (const Task& task : t.tasks) {
    if (task.id == id) return &task;
  }
  return nullptr;
}

TEST_CASE("UsTextToNs converts decimal microseconds exactly", "[kineto]") {
  CHECK(UsTextToNs("1234.567") == TimeNs{1234567});
  CHECK(UsTextToNs("0") == TimeNs{0});
  CHECK(UsTextToNs("17") == TimeNs{17000});
  CHECK(UsTextToNs("40.0005") == TimeNs{40001});  // half a ns rounds away from zero
  CHECK(UsTextToNs("40.0004999") == TimeNs{40000});
  CHECK(UsTextToNs("0.0005") == TimeNs{1});
  CHECK(UsTextToNs("0.0004") == TimeNs{0});
  CHECK(UsTextToNs("-1.5") == TimeNs{-1500});
  CHECK(UsTextToNs("-0.0005") == TimeNs{-1});
  CHECK(UsTextToNs("+2") == TimeNs{2000});
  CHECK(UsTextToNs(".5") == TimeNs{500});
  CHECK(UsTextToNs("1.5e3") == TimeNs{1500000});
  CHECK(UsTextToNs("1.69e+15") == TimeNs{1690000000000000000});
  CHECK(UsTextToNs("25E-4") == TimeNs{3});
  CHECK(UsTextToNs("1e-30") == TimeNs{0});
  CHECK(UsTextToNs("000123.4560") == TimeNs{123456});
  // Digits beyond a double's precision are kept.
  CHECK(UsTextToNs("1690000000000000.123") == TimeNs{1690000000000000123});
  CHECK(UsTextToNs("9223372036854775.807") == std::numeric_limits<TimeNs>::max());
  CHECK(UsTextToNs("9223372036854775.808") == std::nullopt);  // over int64
  CHECK(UsTextToNs("1e20") == std::nullopt);
  for (const char* bad : {"", "-", ".", "abc", "12us", " 1", "1 ", "1e", "1e+", "--1", "1.2.3",
                          "0x10", "NaN", "inf"}) {
    INFO(bad);
    CHECK(UsTextToNs(bad) == std::nullopt);
  }
}

TEST_CASE("Kineto current layout: the capture", "[kineto]") {
  KinetoReport r;
  const Capture c = ReadKinetoTrace(kKineto + "/current.json", &r);

  CHECK(c.source == "kineto");
  CHECK(c.device_name == "NVIDIA H100 80GB HBM3");
  CHECK(c.pid == 1000);

  // API calls, in file order; correlation 14 comes from an ac2g flow.
  REQUIRE(c.api.size() == 10);
  struct ApiWant {
    const char* name;
    bool driver;
    TimeNs start, end;
    int64_t corr, stream, event;
  };
  const ApiWant api[] = {
      {"cudaLaunchKernel", false, 120500, 125750, 10, kAbsent, kAbsent},
      {"cudaMemcpyAsync", false, 180000, 184000, 11, kAbsent, kAbsent},
      {"cudaEventRecord", false, 190000, 192000, 12, 20, 12},
      {"cudaStreamWaitEvent", false, 193000, 194000, 13, 7, 12},
      {"cudaLaunchKernel", false, 212000, 217000, 14, kAbsent, kAbsent},
      {"cudaStreamSynchronize", false, 240000, 270000, 15, 7, kAbsent},
      {"cudaLaunchKernel", false, 315000, 320000, 20, kAbsent, kAbsent},
      {"cuLaunchKernel", true, 360000, 364000, 21, kAbsent, kAbsent},
      {"cudaMemsetAsync", false, 380000, 383000, 22, kAbsent, kAbsent},
      {"cudaDeviceSynchronize", false, 400000, 440000, 23, kAbsent, kAbsent},
  };
  for (size_t i = 0; i < c.api.size(); ++i) {
    INFO("api[" << i << "] " << api[i].name);
    CHECK(c.api[i].name == api[i].name);
    CHECK(c.api[i].driver == api[i].driver);
    CHECK(c.api[i].thread == 1001);
    CHECK(c.api[i].start_ns == api[i].start);
    CHECK(c.api[i].end_ns == api[i].end);
    CHECK(c.api[i].correlation == api[i].corr);
    CHECK(c.api[i].stream == api[i].stream);
    CHECK(c.api[i].event == api[i].event);
  }

  // GPU work: shapes from args, op from the cpu_op with the same External id
  // (the innermost of linear > addmm), none for work under ProfilerStep#2.
  REQUIRE(c.gpu.size() == 6);
  const GpuActivity& gemm = c.gpu[0];
  CHECK(gemm.kind == TaskKind::kKernel);
  CHECK(gemm.name == "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n");
  CHECK(gemm.device == 0);
  CHECK(gemm.stream == 7);
  CHECK(gemm.start_ns == 130125);
  CHECK(gemm.end_ns == 130125 + 40001);  // "dur": 40.0005 µs
  CHECK(gemm.correlation == 10);
  CHECK(gemm.grid == std::array<int32_t, 3>{264, 1, 1});
  CHECK(gemm.block == std::array<int32_t, 3>{128, 1, 1});
  CHECK(gemm.regs == 168);
  CHECK(gemm.smem == 98304);
  CHECK(gemm.op == "aten::addmm");

  const GpuActivity& copy = c.gpu[1];
  CHECK(copy.kind == TaskKind::kMemcpy);
  CHECK(copy.name == "Memcpy HtoD (Pageable -> Device)");
  CHECK(copy.stream == 20);
  CHECK(copy.dir == CopyDir::kH2D);
  CHECK(copy.bytes == 602112);
  CHECK(copy.start_ns == 186000);
  CHECK(copy.end_ns == 196000);
  CHECK(copy.correlation == 11);
  CHECK(copy.op == "aten::copy_");

  const GpuActivity& relu = c.gpu[2];  // ts/dur as strings, correlation from ac2g
  CHECK(relu.name == "relu_kernel");
  CHECK(relu.start_ns == 220000);
  CHECK(relu.end_ns == 228500);
  CHECK(relu.correlation == 14);
  CHECK(relu.grid == std::array<int32_t, 3>{128, 1, 1});
  CHECK(relu.block == std::array<int32_t, 3>{256, 1, 1});
  CHECK(relu.regs == 16);
  CHECK(relu.smem == 0);
  CHECK(relu.op == "aten::relu");

  CHECK(c.gpu[3].op == "aten::linear");
  CHECK(c.gpu[3].correlation == 20);
  CHECK(c.gpu[4].name == "triton_poi_fused_add_0");
  CHECK(c.gpu[4].stream == 20);
  CHECK(c.gpu[4].op == "triton_poi_fused_add_0");  // a user_annotation labels too
  const GpuActivity& memset = c.gpu[5];
  CHECK(memset.kind == TaskKind::kMemset);
  CHECK(memset.bytes == 4096);
  CHECK(memset.stream == 20);
  CHECK(memset.op.empty());  // External id of ProfilerStep#2: no operator

  // Syncs: the record (event id = its correlation, stream from the wait's
  // wait_on_stream) first, then the cuda_sync events.
  REQUIRE(c.syncs.size() == 4);
  CHECK(c.syncs[0].type == SyncType::kEventRecord);
  CHECK(c.syncs[0].correlation == 12);
  CHECK(c.syncs[0].stream == 20);
  CHECK(c.syncs[0].event == 12);
  CHECK(c.syncs[0].start_ns == 190000);
  CHECK(c.syncs[0].end_ns == 192000);
  CHECK(c.syncs[1].type == SyncType::kStreamWaitEvent);
  CHECK(c.syncs[1].correlation == 13);
  CHECK(c.syncs[1].stream == 7);
  CHECK(c.syncs[1].event == 12);
  CHECK(c.syncs[2].type == SyncType::kStreamSync);
  CHECK(c.syncs[2].correlation == 15);
  CHECK(c.syncs[2].stream == 7);
  CHECK(c.syncs[2].start_ns == 240000);
  CHECK(c.syncs[2].end_ns == 270000);
  CHECK(c.syncs[3].type == SyncType::kDeviceSync);
  CHECK(c.syncs[3].correlation == 23);
  CHECK(c.syncs[3].stream == kAbsent);

  // cpu_ops and user_annotations as ranges.
  REQUIRE(c.ranges.size() == 8);
  CHECK(c.ranges[0].name == "ProfilerStep#1");
  CHECK(c.ranges[0].thread == 1001);
  CHECK(c.ranges[0].start_ns == 100000);
  CHECK(c.ranges[0].end_ns == 300000);
  CHECK(c.ranges[2].name == "aten::addmm");
  CHECK(c.ranges[5].name == "ProfilerStep#2");

  CHECK(r.layout == "current");
  CHECK(r.events == 38);
  CHECK(r.kernels == 4);
  CHECK(r.memcpys == 1);
  CHECK(r.memsets == 1);
  CHECK(r.runtime_calls == 9);
  CHECK(r.driver_calls == 1);
  CHECK(r.sync_events == 3);
  CHECK(r.cpu_ops == 5);
  CHECK(r.annotations == 3);
  CHECK(r.flows == 4);
  CHECK(r.metadata == 2);
  CHECK(r.other_ignored == 2);
  CHECK(r.unknown_categories ==
        std::map<std::string, int64_t>{{"Trace", 1}, {"python_function", 1}});
  CHECK(r.gpu_annotations == 1);
  CHECK(r.gpu_range_kernels == 0);  // it covers a kernel labelled through External id
  CHECK(r.base_time_ns == 1700000000000000000);
  CHECK(r.steps == std::vector<int64_t>{1, 2});
  CHECK(r.correlated_by_flow == 2);
  CHECK(r.labelled_kernels == 5);
  CHECK(r.problems.empty());
}

TEST_CASE("Kineto legacy layout: the capture", "[kineto]") {
  KinetoReport r;
  const Capture c = ReadKinetoTrace(kKineto + "/legacy.json", &r);
  CHECK(c.device_name.empty());
  CHECK(c.pid == 13721);

  REQUIRE(c.api.size() == 5);
  CHECK(c.api[0].name == "cudaLaunchKernel");
  CHECK(c.api[0].thread == 123);  // "tid": "123"
  CHECK(c.api[0].start_ns == 120000);
  CHECK(c.api[0].end_ns == 130000);
  CHECK(c.api[0].correlation == 334);
  CHECK(c.api[2].name == "cudaStreamSynchronize");
  CHECK(c.api[2].stream == kAbsent);  // the legacy layout has no cuda_sync events
  CHECK(c.api[4].correlation == 338);

  REQUIRE(c.gpu.size() == 4);
  const GpuActivity& conv = c.gpu[0];
  CHECK(conv.name == "implicit_convolve_sgemm");
  CHECK(conv.stream == 7);
  CHECK(conv.start_ns == 200000);
  CHECK(conv.end_ns == 250000);
  CHECK(conv.grid == std::array<int32_t, 3>{13, 1, 1});
  CHECK(conv.block == std::array<int32_t, 3>{256, 1, 1});
  CHECK(conv.regs == 64);
  CHECK(conv.smem == 4096);
  CHECK(conv.op == "aten::cudnn_convolution");  // lowercase "external id"
  CHECK(c.gpu[1].kind == TaskKind::kMemcpy);
  CHECK(c.gpu[1].dir == CopyDir::kD2H);
  CHECK(c.gpu[1].bytes == 32000);
  CHECK(c.gpu[1].op == "aten::to");
  CHECK(c.gpu[2].kind == TaskKind::kMemset);
  CHECK(c.gpu[2].op.empty());  // "external id": 0 names no operator
  const GpuActivity& relu = c.gpu[3];
  CHECK(relu.stream == 7);                              // from args; "tid": "stream 7" agrees
  CHECK(relu.grid == std::array<int32_t, 3>{0, 0, 0});  // no shape given
  CHECK(relu.regs == 0);
  CHECK(relu.op == "aten::relu");
  CHECK(c.syncs.empty());
  CHECK(c.ranges.size() == 6);

  CHECK(r.layout == "legacy");
  CHECK(r.events == 20);
  CHECK(r.cpu_ops == 6);
  CHECK(r.flows == 2);
  CHECK(r.other_ignored == 1);
  CHECK(r.unknown_categories == std::map<std::string, int64_t>{{"Python", 1}, {"Trace", 1}});
  CHECK(r.base_time_ns == kAbsent);
  CHECK(r.steps == std::vector<int64_t>{1, 2});
  CHECK(r.correlated_by_flow == 0);
  CHECK(r.labelled_kernels == 3);
}

TEST_CASE("Kineto: a bare array of events, exact large timestamps, short shapes", "[kineto]") {
  KinetoReport r;
  const Capture c = ReadKinetoTrace(kKineto + "/array.json", &r);
  REQUIRE(c.gpu.size() == 2);
  // 1690000000000000.123 µs is not a double; its digits are kept.
  CHECK(c.gpu[0].start_ns == 1690000000000000123);
  CHECK(c.gpu[0].end_ns == 1690000000000002623);
  CHECK(c.gpu[0].grid == std::array<int32_t, 3>{4, 1, 1});
  CHECK(c.gpu[0].block == std::array<int32_t, 3>{32, 2, 1});
  CHECK(c.gpu[1].start_ns == 1690000000000004000);
  CHECK(c.gpu[1].correlation == kAbsent);
  CHECK(c.api.empty());
  CHECK(r.layout == "current");
}

TEST_CASE("Kineto: a gzip-compressed trace reads like the plain one", "[kineto]") {
  TempDir dir("cotenant_kineto_gz");
  WriteFileAtomic(dir / "t.json.gz", ReadFileText(kKineto + "/current.json"));
  KinetoReport a, b;
  const Capture plain = ReadKinetoTrace(kKineto + "/current.json", &a);
  const Capture gz = ReadKinetoTrace(dir / "t.json.gz", &b);
  CHECK(gz.api.size() == plain.api.size());
  REQUIRE(gz.gpu.size() == plain.gpu.size());
  for (size_t i = 0; i < gz.gpu.size(); ++i) {
    CHECK(gz.gpu[i].start_ns == plain.gpu[i].start_ns);
    CHECK(gz.gpu[i].op == plain.gpu[i].op);
  }
  CHECK(b.unknown_categories == a.unknown_categories);
}

TEST_CASE("Kineto import: the tenant is named after the file unless given", "[kineto]") {
  CHECK(ImportKineto(kKineto + "/legacy.json", {}, nullptr, nullptr).tenant == "legacy");
  // The name PyTorch's tensorboard_trace_handler gives its files:
  // <host>_<pid>.<ms since the epoch>.pt.trace.json[.gz].
  TempDir dir("cotenant_kineto_name");
  WriteFileAtomic(dir / "node3_4242.1700000000123.pt.trace.json.gz",
                  ReadFileText(kKineto + "/current.json"));
  const std::string pt = dir / "node3_4242.1700000000123.pt.trace.json.gz";
  CHECK(ImportKineto(pt, {}, nullptr, nullptr).tenant == "node3_4242");
  KinetoImportOptions o;
  o.tenant = "mlp";
  CHECK(ImportKineto(pt, o, nullptr, nullptr).tenant == "mlp");
}

TEST_CASE("Kineto: StepWindow selects ProfilerStep#N", "[kineto]") {
  const Capture c = ReadKinetoTrace(kKineto + "/current.json", nullptr);
  const Window w1 = StepWindow(c, 1, "current.json");
  CHECK(w1.kind == Window::Kind::kTime);
  CHECK_FALSE(w1.time_relative);
  CHECK(w1.from_ns == 100000);
  CHECK(w1.to_ns == 300000);
  const Window w2 = StepWindow(c, 2, "current.json");
  CHECK(w2.from_ns == 300000);
  CHECK(w2.to_ns == 450000);
  CHECK(ErrorOf([&] { StepWindow(c, 3, "current.json"); }) ==
        "current.json: --step 3: no ProfilerStep#3 range in the trace (its steps: 1, 2)");
  const Capture none = ReadKinetoTrace(kKineto + "/array.json", nullptr);
  CHECK(ErrorOf([&] { StepWindow(none, 1, "array.json"); }) ==
        "array.json: --step 1: no ProfilerStep#1 range in the trace (it has no ProfilerStep "
        "ranges: profile with torch.profiler.schedule and call prof.step())");
}

TEST_CASE("Kineto import of one step of the current layout", "[kineto]") {
  KinetoImportOptions o;
  o.tenant = "mlp";
  o.step = 2;
  o.gpu = "h100-sxm";
  KinetoReport kr;
  BuildReport br;
  const Trace t = ImportKineto(kKineto + "/current.json", o, &kr, &br);
  CHECK(t.tenant == "mlp");
  CHECK(t.device_name == "NVIDIA H100 80GB HBM3");
  CHECK(t.device_gpu == "h100-sxm");
  REQUIRE(t.tasks.size() == 7);
  struct Want {
    TaskKind kind;
    const char* name;
    int64_t thread, stream;
    TimeNs start, dur;
    int64_t corr;
    const char* op;
  };
  // Times from 315 µs, the step's first launch.
  const Want want[] = {
      {TaskKind::kLaunch, "cudaLaunchKernel", 1, kAbsent, 0, 5000, 20, ""},
      {TaskKind::kKernel, "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n", kAbsent, 7, 10000, 40000, 20,
       "aten::linear"},
      {TaskKind::kLaunch, "cuLaunchKernel", 1, kAbsent, 45000, 4000, 21, ""},
      {TaskKind::kKernel, "triton_poi_fused_add_0", kAbsent, 20, 51000, 6000, 21,
       "triton_poi_fused_add_0"},
      {TaskKind::kLaunch, "cudaMemsetAsync", 1, kAbsent, 65000, 3000, 22, ""},
      {TaskKind::kMemset, "Memset (Device)", kAbsent, 20, 70000, 2000, 22, ""},
      {TaskKind::kSync, "cudaDeviceSynchronize", 1, kAbsent, 85000, 40000, kAbsent, ""},
  };
  for (size_t i = 0; i < t.tasks.size(); ++i) {
    const Task& task = t.tasks[i];
    INFO("task " << i);
    CHECK(task.id == static_cast<int64_t>(i) + 1);
    CHECK(task.kind == want[i].kind);
    CHECK(t.Name(task) == want[i].name);
    CHECK(task.thread == want[i].thread);
    CHECK(task.stream == want[i].stream);
    CHECK(task.start_ns == want[i].start);
    CHECK(task.dur_ns == want[i].dur);
    CHECK(task.correlation == want[i].corr);
    CHECK(t.Op(task) == want[i].op);
  }
  CHECK(t.tasks[1].grid == std::array<int32_t, 3>{264, 1, 1});
  CHECK(t.tasks[1].regs == 168);
  CHECK(t.tasks[5].bytes == 4096);
  CHECK(t.tasks[6].scope == SyncScope::kDevice);

  CHECK(br.kernels == 2);
  CHECK(br.memsets == 1);
  CHECK(br.launches == 3);
  CHECK(br.syncs == 1);
  CHECK(br.streams == 2);
  CHECK(br.threads == 1);
  CHECK(br.outside_window == 9);  // step 1: 6 calls that enqueue or sync, 3 GPU tasks
  CHECK(br.unlabelled_kernels == 0);
  CHECK(br.gpu_busy_ns == 48000);

  CHECK(t.meta["source"] == "kineto");
  CHECK(t.meta["kineto"] == nlohmann::json::parse(R"({"file": "current.json",
      "layout": "current", "base_time_ns": 1700000000000000000, "step": 2,
      "unknown_categories": {"Trace": 1, "python_function": 1}})"));

  // What is written reads back as a valid trace.
  TempDir dir("cotenant_kineto_step");
  WriteTrace(t, dir / "t.json");
  const Trace back = ReadTrace(dir / "t.json");
  CHECK(back.tasks.size() == 7);
}

TEST_CASE("Kineto import of step 1: event record, stream wait, stream sync", "[kineto]") {
  KinetoImportOptions o;
  o.step = 1;
  BuildReport br;
  const Trace t = ImportKineto(kKineto + "/current.json", o, nullptr, &br);
  REQUIRE(t.tasks.size() == 9);
  // Origin: the first launch at 120.5 µs.
  const Task& gemm = *FindTask(t, 2);
  CHECK(gemm.kind == TaskKind::kKernel);
  CHECK(gemm.start_ns == 9625);
  CHECK(gemm.dur_ns == 40001);
  CHECK(t.Op(gemm) == "aten::addmm");
  const Task& copy = *FindTask(t, 4);
  CHECK(copy.kind == TaskKind::kMemcpy);
  CHECK(copy.dir == CopyDir::kH2D);
  CHECK(copy.stream == 20);
  const Task& record = *FindTask(t, 5);
  CHECK(record.kind == TaskKind::kEventRecord);
  CHECK(record.stream == 20);
  CHECK(record.event == 12);
  CHECK(record.start_ns == 69500);
  const Task& wait = *FindTask(t, 6);
  CHECK(wait.kind == TaskKind::kStreamWait);
  CHECK(wait.stream == 7);
  CHECK(wait.event == 12);
  const Task& relu = *FindTask(t, 8);
  CHECK(relu.kind == TaskKind::kKernel);
  CHECK(relu.correlation == 14);  // joined through the ac2g flow
  CHECK(FindTask(t, 7)->correlation == 14);
  CHECK(relu.start_ns == 99500);
  CHECK(relu.dur_ns == 8500);
  const Task& sync = *FindTask(t, 9);
  CHECK(sync.kind == TaskKind::kSync);
  CHECK(sync.scope == SyncScope::kStream);
  CHECK(sync.stream == 7);
  CHECK(sync.start_ns == 119500);
  CHECK(sync.dur_ns == 30000);
  CHECK(br.kernels == 2);
  CHECK(br.memcpys == 1);
  CHECK(br.syncs == 1);
  CHECK(br.outside_window == 7);
}

TEST_CASE("Kineto import of the legacy layout, whole and by step", "[kineto]") {
  BuildReport br;
  const Trace all = ImportKineto(kKineto + "/legacy.json", {}, nullptr, &br);
  REQUIRE(all.tasks.size() == 9);
  CHECK(br.kernels == 2);
  CHECK(br.memcpys == 1);
  CHECK(br.memsets == 1);
  CHECK(br.launches == 4);
  CHECK(br.streams == 1);
  CHECK(br.threads == 1);
  // The stream synchronize has no stream in this layout.
  CHECK(br.problems == std::vector<std::string>{
                           "a stream synchronize without its stream became a device synchronize"});
  const Task& conv = all.tasks[1];
  CHECK(conv.kind == TaskKind::kKernel);
  CHECK(conv.stream == 7);
  CHECK(conv.start_ns == 80000);
  CHECK(conv.dur_ns == 50000);
  CHECK(all.Op(conv) == "aten::cudnn_convolution");
  CHECK(all.meta["kineto"]["layout"] == "legacy");

  KinetoImportOptions o;
  o.step = 2;
  const Trace step = ImportKineto(kKineto + "/legacy.json", o, nullptr, &br);
  REQUIRE(step.tasks.size() == 2);
  CHECK(step.tasks[0].kind == TaskKind::kLaunch);
  CHECK(step.tasks[0].correlation == 338);
  CHECK(step.tasks[0].start_ns == 0);
  CHECK(step.tasks[1].kind == TaskKind::kKernel);
  CHECK(step.tasks[1].start_ns == 20000);
  CHECK(step.tasks[1].dur_ns == 8000);
  CHECK_FALSE(step.tasks[1].HasShape());
  CHECK(step.Op(step.tasks[1]) == "aten::relu");
}

TEST_CASE("Kineto import: windows and selections", "[kineto]") {
  KinetoImportOptions o;
  o.window = "range:ProfilerStep#2";
  const Trace t = ImportKineto(kKineto + "/current.json", o, nullptr, nullptr);
  CHECK(t.tasks.size() == 7);
  o.window = "range:aten::relu";
  CHECK(ImportKineto(kKineto + "/current.json", o, nullptr, nullptr).tasks.size() == 2);
  o.step = 1;
  CHECK(ErrorOf([&] { ImportKineto(kKineto + "/current.json", o, nullptr, nullptr); }) ==
        "--step, --window: give one of them, not both");
  o.step = -1;
  o.window = "bogus";
  CHECK(ErrorOf([&] { ImportKineto(kKineto + "/current.json", o, nullptr, nullptr); }) ==
        "--window: expected \"all\", \"profiler\", \"range:NAME[:N]\" or "
        "\"time:FROM_NS:TO_NS\", found \"bogus\"");
  o.window = "";
  o.step = 9;
  CHECK(ErrorOf([&] { ImportKineto(kKineto + "/current.json", o, nullptr, nullptr); }) ==
        kKineto +
            "/current.json: --step 9: no ProfilerStep#9 range in the trace (its steps: 1, 2)");
}

TEST_CASE("Kineto import: a trace without CUDA activity names the file", "[kineto]") {
  // Found by the kineto fuzz target: the message named only the window,
  // "window \"all\": ...", which the user never gave.
  const TempDir dir("cotenant_kineto_empty");
  const std::string path = dir / "cpu_only.json";
  WriteFileAtomic(path, R"({"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm",
      "pid": 1, "tid": 1, "ts": 10, "dur": 5}]})");
  CHECK(ErrorOf([&] { ImportKineto(path, {}, nullptr, nullptr); }) ==
        path + ": window \"all\": no API call or GPU activity falls inside it");
  KinetoImportOptions o;
  o.window = "time:1:2";
  CHECK(ErrorOf([&] { ImportKineto(kKineto + "/current.json", o, nullptr, nullptr); }) ==
        kKineto +
            "/current.json: window \"time:1:2\": no API call or GPU activity falls inside it");
}

TEST_CASE("Kineto: malformed files give one exact message", "[kineto]") {
  auto error = [](const std::string& name) {
    return ErrorOf([&] { ReadKinetoTrace(kKineto + "/" + name, nullptr); });
  };
  const std::string d = kKineto + "/";
  CHECK(error("broken.json") ==
        d + "broken.json:3:87: malformed JSON: unexpected '}'; expected string literal");
  CHECK(error("events_not_array.json") ==
        d + "events_not_array.json: traceEvents: expected an array of trace events, found an "
            "object");
  CHECK(error("string_dur.json") ==
        d + "string_dur.json: traceEvents[1].dur: expected a non-negative number of µs, found "
            "\"12us\"");
  CHECK(error("negative_dur.json") ==
        d + "negative_dur.json: traceEvents[0].dur: expected a non-negative number of µs, found "
            "-5");
  CHECK(error("not_a_trace.json") ==
        d + "not_a_trace.json: expected a Chrome trace (an object with \"traceEvents\", or an "
            "array of events), found \"traceEvents\"");
  CHECK(error("no_events.json") ==
        d + "no_events.json: traceEvents: missing required field (is this a Chrome trace?)");
  CHECK(error("missing.json") == d + "missing.json: cannot open: No such file or directory");
}

TEST_CASE("Kineto: bad fields of the events it uses", "[kineto]") {
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": -5.5)")) ==
        "t.json: traceEvents[0].dur: expected a non-negative number of µs, found -5.5");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": "-2")")) ==
        "t.json: traceEvents[0].dur: expected a non-negative number of µs, found \"-2\"");
  CHECK(EventsError(Kernel(R"("dur": 1)")) ==
        "t.json: traceEvents[0].ts: missing required field (a \"kernel\" event needs it)");
  CHECK(EventsError(Kernel(R"("ts": true, "dur": 1)")) ==
        "t.json: traceEvents[0].ts: expected a number of µs, found true");
  CHECK(EventsError(Kernel(R"("ts": 1e30, "dur": 1)")) ==
        "t.json: traceEvents[0].ts: expected a number of µs that fits in 64-bit ns, found 1e30");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": 1, "args": [])")) ==
        "t.json: traceEvents[0].args: expected an object, found an array");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": 1, "args": {"grid": 5})")) ==
        "t.json: traceEvents[0].args.grid: expected an array of 1 to 3 integers, found 5");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": 1, "args": {"grid": [1, "x", 1]})")) ==
        "t.json: traceEvents[0].args.grid[1]: expected an integer, found \"x\"");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": 1, "args": {"registers per thread": -1})")) ==
        "t.json: traceEvents[0].args.registers per thread: expected an integer in 0..65536, "
        "found -1");
  CHECK(EventsError(Kernel(R"("ts": 1, "dur": 1, "args": {"correlation": 1.5})")) ==
        "t.json: traceEvents[0].args.correlation: expected a non-negative integer, found 1.5");
  CHECK(EventsError(R"({"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1})") ==
        "t.json: traceEvents[0].args.stream: missing required field (a \"kernel\" event needs it, "
        "or a \"tid\" naming the stream)");
  CHECK(EventsError(R"(5)") == "t.json: traceEvents[0]: expected a trace event object, found 5");
  CHECK(EventsError(R"([])") ==
        "t.json: traceEvents[0]: expected a trace event object, found an array");
  CHECK(ErrorOf([] { ParseKinetoTrace(R"({"traceEvents": "x"})", "t.json", nullptr); }) ==
        "t.json: traceEvents: expected an array of trace events, found \"x\"");
  CHECK(ErrorOf([] { ParseKinetoTrace("[1]", "t.json", nullptr); }) ==
        "t.json: [0]: expected a trace event object, found 1");
  CHECK(ErrorOf([] {
          ParseKinetoTrace(R"([{}, {"ph": "X", "cat": "kernel", "ts": 1}])", "t.json", nullptr);
        }) == "t.json: [1].dur: missing required field (a \"kernel\" event needs it)");
  CHECK(ErrorOf([] { ParseKinetoTrace("42", "t.json", nullptr); }) ==
        "t.json: expected a Chrome trace (an object with \"traceEvents\", or an array of "
        "events), found 42");
  CHECK(ErrorOf([] {
          ParseKinetoTrace(R"({"baseTimeNanoseconds": "x", "traceEvents": []})", "t.json", nullptr);
        }) == "t.json: baseTimeNanoseconds: expected a non-negative integer, found \"x\"");
  CHECK(ErrorOf([] { ParseKinetoTrace("{\"traceEvents\": [", "t.json", nullptr); }) ==
        "t.json: the trace is cut short at byte 17, after 0 complete events; --partial imports "
        "them");
}

TEST_CASE("Kineto: unknown categories are counted, never fatal", "[kineto]") {
  KinetoReport r;
  const Capture c = Parse(
      R"({"ph": "X", "cat": "python_function", "name": "f", "ts": "garbage", "dur": -1},
         {"ph": "X", "cat": "python_function", "name": "g"},
         {"ph": "X", "cat": "overhead", "name": "Buffer Flush", "ts": 1, "dur": 1},
         {"ph": "s", "cat": "fwdbwd", "id": 3, "ts": 1},
         {"ph": "X", "name": "no category", "ts": 1, "dur": 1},
         {"ph": "i", "cat": "kernel", "name": "an instant kernel", "ts": 1},
         {"ph": "X", "cat": "ac2g", "name": "a complete flow", "ts": 1, "dur": 1},
         {"ph": "i", "s": "g", "name": "Record Window End", "ts": 9},
         {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "x"}})",
      &r);
  CHECK(c.gpu.empty());
  CHECK(c.api.empty());
  CHECK(r.events == 9);
  CHECK(r.unknown_categories == std::map<std::string, int64_t>{{"(none)", 1},
                                                               {"ac2g (ph X)", 1},
                                                               {"fwdbwd", 1},
                                                               {"kernel (ph i)", 1},
                                                               {"overhead", 1},
                                                               {"python_function", 2}});
  CHECK(r.other_ignored == 1);
  CHECK(r.metadata == 1);
  CHECK(r.layout == "unknown");
}

TEST_CASE("Kineto: a layout mixing current and legacy names", "[kineto]") {
  KinetoReport r;
  Parse(Kernel(R"("ts": 1, "dur": 1)") + "," +
            R"({"ph": "X", "cat": "Runtime", "name": "cudaLaunchKernel", "tid": 1, "ts": 0,
                "dur": 1})",
        &r);
  CHECK(r.layout == "mixed");
}

TEST_CASE("Kineto: the innermost of several cpu_ops sharing an External id labels", "[kineto]") {
  const Capture c = Parse(
      R"({"ph": "X", "cat": "cpu_op", "name": "outer", "tid": 1, "ts": 0, "dur": 100,
          "args": {"External id": 7}},
         {"ph": "X", "cat": "cpu_op", "name": "inner", "tid": 1, "ts": 10, "dur": 50,
          "args": {"External id": 7}},
         {"ph": "X", "cat": "cpu_op", "name": "same start, shorter", "tid": 1, "ts": 10,
          "dur": 20, "args": {"External id": 7}},
         {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "tid": 1, "ts": 15,
          "dur": 2, "args": {"correlation": 5, "External id": 7}},)" +
      Kernel(R"("ts": 20, "dur": 3, "args": {"stream": 7, "correlation": 5})"));
  REQUIRE(c.gpu.size() == 1);
  // The kernel has no External id of its own: its launch's is used.
  CHECK(c.gpu[0].op == "same start, shorter");
}

TEST_CASE("Kineto: waits known by CUDA event id join the record of that event", "[kineto]") {
  KinetoReport r;
  const Capture c = Parse(
      R"({"ph": "X", "cat": "cuda_runtime", "name": "cudaEventRecord", "tid": 1, "ts": 10,
          "dur": 1, "args": {"correlation": 30}},
         {"ph": "X", "cat": "cuda_event", "name": "cudaEvent", "pid": 0, "tid": 20, "ts": 0,
          "dur": 0.001, "args": {"event_id": 5, "stream": 20, "correlation": 30, "device": 0}},
         {"ph": "X", "cat": "cuda_runtime", "name": "cudaEventRecord", "tid": 1, "ts": 20,
          "dur": 1, "args": {"correlation": 31}},
         {"ph": "X", "cat": "cuda_event", "name": "cudaEvent", "pid": 0, "tid": 21, "ts": 0,
          "dur": 0.001, "args": {"event_id": 5, "stream": 21, "correlation": 31, "device": 0}},
         {"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamWaitEvent", "tid": 1, "ts": 15,
          "dur": 1, "args": {"correlation": 32}},
         {"ph": "X", "cat": "cuda_sync", "name": "Stream Wait Event", "pid": 0, "tid": 7,
          "ts": 15, "dur": 1, "args": {"cuda_sync_kind": "Stream Wait Event",
          "wait_on_stream": 20, "wait_on_cuda_event_id": 5, "stream": 7, "correlation": 32}},
         {"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamWaitEvent", "tid": 1, "ts": 40,
          "dur": 1, "args": {"correlation": 33}},
         {"ph": "X", "cat": "cuda_sync", "name": "Stream Wait Event", "pid": 0, "tid": 7,
          "ts": 40, "dur": 1, "args": {"cuda_sync_kind": "Stream Wait Event",
          "wait_on_stream": -1, "wait_on_cuda_event_record_corr_id": -1,
          "wait_on_cuda_event_id": 99, "stream": 7, "correlation": 33}},
         {"ph": "X", "cat": "cuda_sync", "name": "Unknown Sync", "pid": 0, "tid": 7,
          "ts": 50, "dur": 1, "args": {"stream": 7, "correlation": 34}})",
      &r);
  // Two records (event ids = their correlations), the first wait joined to
  // the latest record of event 5 before it (correlation 30, not 31, which
  // comes later); the wait on the unknown event 99 is left out.
  REQUIRE(c.syncs.size() == 3);
  CHECK(c.syncs[0].type == SyncType::kEventRecord);
  CHECK(c.syncs[0].correlation == 30);
  CHECK(c.syncs[0].stream == 20);
  CHECK(c.syncs[0].event == 30);
  CHECK(c.syncs[0].start_ns == 10000);  // the call's time, not the device's
  CHECK(c.syncs[1].type == SyncType::kEventRecord);
  CHECK(c.syncs[1].stream == 21);
  CHECK(c.syncs[1].event == 31);
  CHECK(c.syncs[2].type == SyncType::kStreamWaitEvent);
  CHECK(c.syncs[2].correlation == 32);
  CHECK(c.syncs[2].stream == 7);
  CHECK(c.syncs[2].event == 30);
  CHECK(c.api[0].stream == 20);
  CHECK(c.api[0].event == 30);
  CHECK(c.api[2].event == 30);
  CHECK(c.api[3].event == kAbsent);
  CHECK(r.cuda_events == 2);
  CHECK(r.waits_linked_by_event_id == 1);
  CHECK(r.problems ==
        std::vector<std::string>{
            "cuda_sync events of unknown kind were left out",
            "1 stream wait(s)/event sync(s) whose event record is unknown were left out"});
  CHECK(c.problems == r.problems);
}

TEST_CASE("Kineto: event syncs, memcpy kinds, split shared memory, bad shapes", "[kineto]") {
  KinetoReport r;
  const Capture c = Parse(
      R"J({"ph": "X", "cat": "cuda_sync", "name": "Event Sync", "tid": 1, "ts": 5, "dur": 2,
          "args": {"cuda_sync_kind": "Event Sync", "wait_on_stream": 3,
          "wait_on_cuda_event_record_corr_id": 40, "stream": -1, "correlation": 41}},
         {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy DtoD (Device -> Device)", "tid": 3,
          "ts": 1, "dur": 1, "args": {"stream": 3}},
         {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy PtoP (Device -> Device)", "tid": 3,
          "ts": 2, "dur": 1, "args": {"stream": 3, "inDevice": 1}},
         {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoH (Pinned -> Pinned)", "tid": 3,
          "ts": 3, "dur": 1, "args": {"stream": 3}},
         {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy weird", "tid": 3,
          "ts": 4, "dur": 1, "args": {"stream": 3}},)J" +
          Kernel(R"("ts": 6, "dur": 1, "args": {"static shared memory": 1024,
                "dynamic shared memory": 2048, "grid": [0, 1, 1], "block": [32, 1, 1]})"),
      &r);
  REQUIRE(c.syncs.size() == 2);
  CHECK(c.syncs[0].type == SyncType::kEventRecord);
  CHECK(c.syncs[0].correlation == 40);
  CHECK(c.syncs[0].stream == 3);
  CHECK(c.syncs[0].start_ns == 5000);  // no call or cuda_event: the sync's time
  CHECK(c.syncs[1].type == SyncType::kEventSync);
  CHECK(c.syncs[1].event == 40);
  CHECK(c.syncs[1].stream == kAbsent);
  REQUIRE(c.gpu.size() == 5);
  CHECK(c.gpu[0].dir == CopyDir::kD2D);
  CHECK(c.gpu[1].dir == CopyDir::kP2P);
  CHECK(c.gpu[1].device == 1);
  CHECK(c.gpu[2].dir == CopyDir::kH2H);
  CHECK(c.gpu[3].dir == CopyDir::kD2D);
  CHECK(c.gpu[4].smem == 3072);
  CHECK(c.gpu[4].grid == std::array<int32_t, 3>{0, 0, 0});
  CHECK(c.gpu[4].block == std::array<int32_t, 3>{0, 0, 0});
  CHECK(r.problems ==
        std::vector<std::string>{
            "memcpys of unknown direction (name not \"Memcpy HtoD ...\" etc.) taken as d2d",
            "kernels with a non-positive grid or block dimension were kept without a launch "
            "shape"});
}

}  // namespace

TEST_CASE("Kineto: a trace larger than the reader's chunks streams from a file", "[kineto]") {
  // About 3 MiB: events cut by chunk boundaries (1 MiB) and, compressed, by
  // the inflated chunks.
  std::string events;
  for (int i = 1; i <= 6000; ++i) {
    const std::string corr = std::to_string(i);
    const std::string ts = std::to_string(1000 + 10 * i) + ".5";
    events += std::string(i == 1 ? "" : ",\n") +
              R"({"ph": "X", "cat": "cpu_op", "name": "aten::op)" + corr +
              R"(", "pid": 1, "tid": 1, "ts": )" + ts + R"(, "dur": 8, "args": {"External id": )" +
              corr + R"(, "Input Dims": [[8, 768], [768]], "Sequence number": 1}},)" +
              R"({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, )" +
              R"("tid": 1, "ts": )" + ts + R"(, "dur": 4, "args": {"External id": )" + corr +
              R"(, "correlation": )" + corr +
              R"(}},{"ph": "X", "cat": "kernel", "name": "gemm_kernel_with_a_long_name_)" + corr +
              R"(", "pid": 0, "tid": 7, "ts": )" + ts + R"(, "dur": 20.25, "args": )" +
              R"({"correlation": )" + corr + R"(, "stream": 7, "grid": [264, 1, 1], )" +
              R"("block": [128, 1, 1], "registers per thread": 168, "shared memory": 98304}})";
  }
  const std::string text = "{\"traceEvents\": [\n" + events + "\n]}";
  REQUIRE(text.size() > 2 * FileSource::kChunkBytes);
  TempDir dir("cotenant_kineto_stream");
  WriteFileAtomic(dir / "t.json", text);
  WriteFileAtomic(dir / "t.json.gz", text);
  KinetoReport want_report;
  const Capture want = ParseKinetoTrace(text, dir / "t.json", &want_report);
  REQUIRE(want.gpu.size() == 6000);
  CHECK(want.gpu[5999].op == "aten::op6000");
  CHECK(want.gpu[5999].start_ns == 61'000'500);
  CHECK(want.gpu[5999].end_ns == 61'020'750);
  for (const std::string name : {"t.json", "t.json.gz"}) {
    KinetoReport report;
    const Capture got = ReadKinetoTrace(dir / name, &report);
    INFO(name);
    CHECK(report.events == want_report.events);
    CHECK(report.labelled_kernels == 6000);
    REQUIRE(got.gpu.size() == want.gpu.size());
    REQUIRE(got.api.size() == want.api.size());
    for (size_t i = 0; i < got.gpu.size(); ++i) {
      CHECK(got.gpu[i].name == want.gpu[i].name);
      CHECK(got.gpu[i].op == want.gpu[i].op);
      CHECK(got.gpu[i].start_ns == want.gpu[i].start_ns);
      CHECK(got.gpu[i].end_ns == want.gpu[i].end_ns);
      CHECK(got.gpu[i].grid == want.gpu[i].grid);
    }
  }

  // An error past the first chunk names its event; in a gzip file cut
  // short, the gzip error comes first, as when the file was read whole.
  const size_t at = text.find("\"dur\": 20.25", text.size() / 2);
  std::string bad = text;
  bad.replace(at, 12, "\"dur\": -20.25");
  WriteFileAtomic(dir / "bad.json", bad);
  const std::string error = ErrorOf([&] { ReadKinetoTrace(dir / "bad.json", nullptr); });
  CHECK(error.find(dir / "bad.json" + ": traceEvents[") == 0);
  CHECK(error.find("].dur: expected a non-negative number of µs, found -20.25") !=
        std::string::npos);
  CHECK(ErrorOf([&] { ParseKinetoTrace(bad, dir / "bad.json", nullptr); }) == error);
  WriteFileAtomic(dir / "bad.json.gz", bad);
  std::filesystem::resize_file(dir / "bad.json.gz",
                               std::filesystem::file_size(dir / "bad.json.gz") - 20);
  // Cut short (kineto_jobs_test.cpp has the details).
  const std::string cut = ErrorOf([&] { ReadKinetoTrace(dir / "bad.json.gz", nullptr); });
  CHECK(cut.rfind(dir / "bad.json.gz" + ": the trace is cut short at byte ", 0) == 0);
}

}  // namespace cotenant::profiler
