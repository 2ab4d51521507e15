// Tests of the Kineto importer on the structures of large jobs (CUDA
// Graphs, host polling, NCCL kernels, waits named by stream) and on the
// corner cases of real traces, with the hand-written fixtures of
// tests/data/kineto (see its README). Where the simulated span is checked,
// the expected value is worked out in the comment from the fixture's times
// and the simulator's rules (launch latency 3 µs, sync latency 2 µs).
#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/kineto.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using testing::ErrorOf;
using testing::kData;

const std::string kKineto = kData + "/kineto";

Trace Import(const std::string& file, KinetoReport* k = nullptr, BuildReport* b = nullptr,
             KinetoImportOptions options = {}) {
  return ImportKineto(kKineto + "/" + file, options, k, b);
}

std::vector<const Task*> OfKind(const Trace& t, TaskKind kind) {
  std::vector<const Task*> out;
  for (const Task& task : t.tasks) {
    if (task.kind == kind) out.push_back(&task);
  }
  return out;
}

/// The trace replayed alone on an H100: (first GPU start, last GPU end).
std::pair<TimeNs, TimeNs> SimulatedGpuSpan(const Trace& trace) {
  const SimResult r = testing::Run(testing::Make({testing::TenantIn(trace)}, testing::H100Sxm()));
  TimeNs lo = -1, hi = 0;
  for (const TimelineEntry& e : r.timeline) {
    if (!e.gpu) continue;
    if (lo < 0 || e.start_ns < lo) lo = e.start_ns;
    hi = std::max(hi, e.end_ns);
  }
  return {lo, hi};
}

/// The traced GPU span of a trace: (first GPU start, last GPU end).
std::pair<TimeNs, TimeNs> TracedGpuSpan(const Trace& trace) {
  TimeNs lo = -1, hi = 0;
  for (const Task& t : trace.tasks) {
    if (t.kind != TaskKind::kKernel && t.kind != TaskKind::kMemcpy && t.kind != TaskKind::kMemset)
      continue;
    if (lo < 0 || t.start_ns < lo) lo = t.start_ns;
    hi = std::max(hi, t.end_ns());
  }
  return {lo, hi};
}

TEST_CASE("Kineto: a CUDA Graph launch links to all its kernels, on their streams", "[kineto]") {
  BuildReport b;
  const Trace t = Import("graphs.json", nullptr, &b);
  CHECK(b.launches == 2);
  CHECK(b.kernels == 8);
  CHECK(b.orphan_gpu == 0);
  CHECK(b.problems.empty());
  const auto launches = OfKind(t, TaskKind::kLaunch);
  REQUIRE(launches.size() == 2);
  CHECK(t.Name(*launches[0]) == "cudaGraphLaunch");
  CHECK(launches[0]->correlation == 50);
  CHECK(launches[1]->correlation == 60);
  // Each launch's kernels in traced order, on the streams they ran on.
  const auto kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 8);
  const std::vector<std::string> names = {"gemm_a", "side_c", "gemm_b", "join_d"};
  const std::vector<int64_t> streams = {7, 20, 7, 7};
  for (size_t i = 0; i < 8; ++i) {
    INFO(i);
    CHECK(kernels[i]->correlation == (i < 4 ? 50 : 60));
    CHECK(t.Name(*kernels[i]) == names[i % 4]);
    CHECK(kernels[i]->stream == streams[i % 4]);
    CHECK(t.Op(*kernels[i]) == "CUDAGraph::replay");
  }
  // The written trace reads back (one launch per correlation).
  const Trace back = ParseTrace(TraceToJsonText(t), "g.json");
  CHECK(back.tasks.size() == 10);
}

TEST_CASE("Kineto: a CUDA Graph trace replayed alone keeps its GPU span", "[kineto]") {
  const Trace t = Import("graphs.json");
  // Traced (rebased to the first launch at 105 µs): first kernel 15 µs, last
  // kernel end 162 µs: 147 µs.
  CHECK(TracedGpuSpan(t) == std::make_pair(TimeNs{15000}, TimeNs{162000}));
  // Simulated: launch 1 ends at 10 µs, its kernels are ready 3 µs later;
  // gemm_a 13-43 and side_c 13-38 run together on streams 7 and 20, gemm_b
  // 43-63, join_d 63-73 (the traced 2 µs before join_d, a graph edge Kineto
  // does not record, is not known). Launch 2 keeps its 75 µs CPU gap: 85-95;
  // gemm_a 98-128, side_c 98-123, gemm_b 128-148, join_d 148-158. Span 145
  // µs, 2 µs (1.4%) under the traced 147.
  CHECK(SimulatedGpuSpan(t) == std::make_pair(TimeNs{13000}, TimeNs{158000}));
}

TEST_CASE("Kineto: runs of cudaEventQuery / cudaStreamQuery polls become one wait each",
          "[kineto]") {
  KinetoReport k;
  BuildReport b;
  const Trace t = Import("polling.json", &k, &b);
  CHECK(k.polls == 8);
  CHECK(k.poll_waits == 2);
  CHECK(k.polls_folded == 7);  // the lone poll at 250 µs stays host time
  CHECK(b.launches == 4);
  CHECK(b.syncs == 2);
  CHECK(b.kernels == 4);
  CHECK(b.problems.empty());
  REQUIRE(t.tasks.size() == 11);
  // Five event polls, 115 to 201 µs: the record (correlation 3, stream 30)
  // issued before them whose stream's work (the NCCL kernel, to 200 µs)
  // ended last before the last poll returned.
  const Task& ev = t.tasks[5];
  CHECK(ev.kind == TaskKind::kSync);
  CHECK(ev.scope == SyncScope::kEvent);
  CHECK(ev.event == 3);
  CHECK(ev.start_ns == 15000);
  CHECK(ev.dur_ns == 86000);
  CHECK(t.Name(ev) == "cudaEventQuery");
  // Two stream polls, 240 to 246 µs: stream 7 (gemm2 ended at 243 µs; the
  // NCCL stream's work, at 200 µs, was done before the first poll).
  const Task& st = t.tasks[8];
  CHECK(st.kind == TaskKind::kSync);
  CHECK(st.scope == SyncScope::kStream);
  CHECK(st.stream == 7);
  CHECK(st.start_ns == 140000);
  CHECK(st.dur_ns == 6000);
  CHECK(t.meta["kineto"]["polls"] == 8);
  CHECK(t.meta["kineto"]["poll_waits"] == 2);
  CHECK(t.meta["kineto"]["polls_folded"] == 7);
  // No poll is a launch.
  for (const Task* l : OfKind(t, TaskKind::kLaunch)) CHECK(t.Name(*l) == "cudaLaunchKernel");
}

TEST_CASE("Kineto: a polling NCCL trace replayed alone keeps its GPU span", "[kineto]") {
  const Trace t = Import("polling.json");
  CHECK(TracedGpuSpan(t) == std::make_pair(TimeNs{10000}, TimeNs{180000}));
  // Simulated: gemm 8-48 µs (launch 0-5 + 3); NCCL launch 6-11, kernel
  // 14-102; record 12-14, its marker done with the NCCL kernel at 102; the
  // event wait starts at 15 and returns 2 µs after 102: 104 (traced 101);
  // the next launch keeps its 4 µs gap: 108-113, gemm2 116-147; the stream
  // wait starts 30 µs after that launch's end, at 143, and returns 2 µs
  // after gemm2: 149; the last launch (14 µs gap) 163-168, tail 171-181.
  // Span 173 µs against the traced 170 (+1.8%: the 3 µs the event wait
  // returned later than traced).
  CHECK(SimulatedGpuSpan(t) == std::make_pair(TimeNs{8000}, TimeNs{181000}));
}

TEST_CASE("Kineto: NCCL kernels are kernels with their traced time and operator", "[kineto]") {
  const Trace t = Import("polling.json");
  const auto kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 4);
  const Task& nccl = *kernels[1];
  CHECK(t.Name(nccl) == "ncclDevKernel_AllReduce_Sum_f32_RING_LL");
  CHECK(nccl.stream == 30);
  CHECK(nccl.start_ns == 12000);
  CHECK(nccl.dur_ns == 88000);
  CHECK(nccl.correlation == 2);
  CHECK(t.Op(nccl) == "nccl:all_reduce");
  CHECK(nccl.grid == std::array<int32_t, 3>{2, 1, 1});
}

/// A trace whose traceEvents hold `events`, parsed.
Capture Parse(const std::string& events, KinetoReport* report = nullptr) {
  return ParseKinetoTrace("{\"traceEvents\": [" + events + "]}", "t.json", report);
}

// An older PyTorch's wait: "Stream Wait Event" naming the stream waited on
// (20), without the record's correlation or CUDA event id.
const char* const kOldWait = R"(
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
   "ts": 10, "dur": 2, "args": {"correlation": 1}},
  {"ph": "X", "cat": "kernel", "name": "a", "pid": 0, "tid": 20, "ts": 15, "dur": 10,
   "args": {"stream": 20, "correlation": 1}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaEventRecord", "pid": 1, "tid": 2,
   "ts": 13, "dur": 1, "args": {"correlation": 2}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamWaitEvent", "pid": 1, "tid": 2,
   "ts": 15, "dur": 1, "args": {"correlation": 3}},
  {"ph": "X", "cat": "cuda_sync", "name": "Stream Wait Event", "pid": 0, "tid": 7,
   "ts": 15, "dur": 1, "args": {"cuda_sync_kind": "Stream Wait Event", "wait_on_stream": 20,
   "stream": 7, "correlation": 3}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
   "ts": 17, "dur": 2, "args": {"correlation": 4}},
  {"ph": "X", "cat": "kernel", "name": "b", "pid": 0, "tid": 7, "ts": 26, "dur": 4,
   "args": {"stream": 7, "correlation": 4}})";

TEST_CASE("Kineto: a wait naming only the stream waited on joins the last record there",
          "[kineto]") {
  for (const bool record_known : {false, true}) {
    INFO("record known from a cuda_event: " << record_known);
    const std::string events =
        std::string(kOldWait) +
        (record_known ? R"(, {"ph": "X", "cat": "cuda_event", "name": "Event Record", "pid": 0,
                           "tid": 20, "ts": 13, "dur": 0, "args": {"stream": 20, "correlation": 2}})"
                      : "");
    KinetoReport k;
    const Capture c = Parse(events, &k);
    CHECK(k.waits_linked_by_stream == 1);
    CHECK(k.waits_linked_by_event_id == 0);
    REQUIRE(c.syncs.size() == 2);
    CHECK(c.syncs[0].type == SyncType::kEventRecord);
    CHECK(c.syncs[0].stream == 20);
    CHECK(c.syncs[0].event == 2);
    CHECK(c.syncs[1].type == SyncType::kStreamWaitEvent);
    CHECK(c.syncs[1].stream == 7);
    CHECK(c.syncs[1].event == 2);
    REQUIRE(k.problems.size() == 1);
    CHECK(k.problems[0] ==
          "1 stream wait(s) without an event record id were linked to the last event record on "
          "the stream waited on");
    BuildOptions o;
    o.tenant = "old";
    const Trace t = BuildTrace(c, o, nullptr);
    const auto rec = OfKind(t, TaskKind::kEventRecord);
    const auto wait = OfKind(t, TaskKind::kStreamWait);
    REQUIRE(rec.size() == 1);
    REQUIRE(wait.size() == 1);
    CHECK(rec[0]->stream == 20);
    CHECK(wait[0]->stream == 7);
    CHECK(wait[0]->event == rec[0]->event);
  }
  // No record on the stream and no record call before the wait: left out, as before.
  KinetoReport k;
  const Capture c = Parse(R"(
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaStreamWaitEvent", "pid": 1, "tid": 2,
     "ts": 15, "dur": 1, "args": {"correlation": 3}},
    {"ph": "X", "cat": "cuda_sync", "name": "Stream Wait Event", "pid": 0, "tid": 7,
     "ts": 15, "dur": 1, "args": {"cuda_sync_kind": "Stream Wait Event", "wait_on_stream": 20,
     "stream": 7, "correlation": 3}})",
                          &k);
  CHECK(k.waits_linked_by_stream == 0);
  CHECK(c.syncs.empty());
  REQUIRE(k.problems.size() == 1);
  CHECK(k.problems[0] ==
        "1 stream wait(s)/event sync(s) whose event record is unknown were left out");
}

TEST_CASE("Kineto: gpu_user_annotation ranges label kernels no cpu_op labels", "[kineto]") {
  KinetoReport k;
  const Capture c = Parse(R"(
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 10, "dur": 2, "args": {"correlation": 1}},
    {"ph": "X", "cat": "kernel", "name": "k1", "pid": 0, "tid": 7, "ts": 20, "dur": 10,
     "args": {"stream": 7, "correlation": 1}},
    {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 2, "ts": 11.5, "dur": 3,
     "args": {"External id": 5}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 12, "dur": 2, "args": {"correlation": 2, "External id": 5}},
    {"ph": "X", "cat": "kernel", "name": "k2", "pid": 0, "tid": 7, "ts": 30, "dur": 10,
     "args": {"stream": 7, "correlation": 2}},
    {"ph": "X", "cat": "cpu_op", "name": "aten::relu", "pid": 1, "tid": 2, "ts": 15.5, "dur": 3.5},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 16, "dur": 2, "args": {"correlation": 3}},
    {"ph": "X", "cat": "kernel", "name": "k3", "pid": 0, "tid": 7, "ts": 40, "dur": 5,
     "args": {"stream": 7, "correlation": 3}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 19.5, "dur": 0.4, "args": {"correlation": 4}},
    {"ph": "X", "cat": "kernel", "name": "k4", "pid": 0, "tid": 20, "ts": 20, "dur": 5,
     "args": {"stream": 20, "correlation": 4}},
    {"ph": "X", "cat": "gpu_user_annotation", "name": "block1", "pid": 0, "tid": 7,
     "ts": 19, "dur": 31},
    {"ph": "X", "cat": "gpu_user_annotation", "name": "attn", "pid": 0, "tid": 7,
     "ts": 19.5, "dur": 15.5, "args": {"stream": 7}})",
                          &k);
  CHECK(k.gpu_annotations == 2);
  CHECK(k.unknown_categories.empty());
  // k1 (20-30): attn, the innermost; k2 has its External id label; k3
  // (40-45): block1, below the host range aten::relu; k4: stream 20 has none.
  CHECK(k.gpu_range_kernels == 2);
  REQUIRE(c.gpu.size() == 4);
  CHECK(c.gpu[0].gpu_range == "attn");
  CHECK(c.gpu[1].gpu_range.empty());
  CHECK(c.gpu[1].op == "aten::mm");
  CHECK(c.gpu[2].gpu_range == "block1");
  CHECK(c.gpu[3].gpu_range.empty());
  BuildOptions o;
  o.tenant = "ann";
  BuildReport b;
  const Trace t = BuildTrace(c, o, &b);
  const auto kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 4);
  CHECK(t.Op(*kernels[0]) == "attn");      // k1
  CHECK(t.Op(*kernels[1]) == "");          // k4 (starts at 20 too, on stream 20)
  CHECK(t.Op(*kernels[2]) == "aten::mm");  // k2
  CHECK(t.Op(*kernels[3]) == "aten::relu");
  CHECK(b.unlabelled_kernels == 1);
}

TEST_CASE("Kineto: a trace cut short is refused at its byte, or imported with --partial",
          "[kineto]") {
  const std::string whole = ReadFileText(kKineto + "/current.json");
  // Cut at byte 1200: inside the 6th event (deviceProperties' entry closes at
  // byte 345; two metadata events, ProfilerStep#1, a python_function and
  // aten::linear close at 546, 647, 827, 984 and 1150).
  const std::string cut = whole.substr(0, 1200);
  CHECK(ErrorOf([&] { ParseKinetoTrace(cut, "cut.json", nullptr); }) ==
        "cut.json: the trace is cut short at byte 1200, after 5 complete events; --partial "
        "imports them");
  KinetoReport k;
  const Capture c = ParseKinetoTrace(cut, "cut.json", &k, true);
  CHECK(k.events == 5);
  CHECK(k.truncated_at_byte == 1200);
  CHECK_FALSE(c.complete);
  REQUIRE(c.ranges.size() == 2);  // ProfilerStep#1, aten::linear
  CHECK(c.ranges[1].name == "aten::linear");
  CHECK(c.problems == std::vector<std::string>{
                          "the trace is cut short at byte 1200, after 5 complete events: those "
                          "were imported"});
  // Cut before traceEvents: refused even with partial, no hint.
  CHECK(ErrorOf([&] { ParseKinetoTrace(whole.substr(0, 100), "cut.json", nullptr, true); }) ==
        "cut.json: the trace is cut short at byte 100, after 0 complete events");
  // A malformed (not cut) trace keeps its message with partial.
  CHECK(ErrorOf([&] {
          ReadKinetoTrace(kKineto + "/broken.json", nullptr, true);
        }).find("malformed JSON: unexpected '}'") != std::string::npos);
}

TEST_CASE("Kineto: a .gz trace cut short names the byte of its inflated text", "[kineto]") {
  testing::TempDir dir("cotenant_kineto_cut");
  const std::string whole = ReadFileText(kKineto + "/current.json");
  WriteFileAtomic(dir / "t.json.gz", whole);
  const std::string packed = [&] {
    std::ifstream in(dir / "t.json.gz", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  {
    std::ofstream out(dir / "cut.json.gz", std::ios::binary);
    out << packed.substr(0, packed.size() / 2);
  }
  const std::string path = dir / "cut.json.gz";
  const std::string error = ErrorOf([&] { ReadKinetoTrace(path, nullptr); });
  CHECK(error.rfind(path + ": the trace is cut short at byte ", 0) == 0);
  CHECK(error.find(" of its inflated text, after ") != std::string::npos);
  CHECK(error.find("; --partial imports them") != std::string::npos);
  KinetoReport k;
  const Capture c = ReadKinetoTrace(path, &k, true);
  REQUIRE(k.truncated_at_byte > 0);
  REQUIRE(k.truncated_at_byte < static_cast<int64_t>(whole.size()));
  // The same events as the plain text cut at that byte.
  KinetoReport plain;
  const Capture p = ParseKinetoTrace(whole.substr(0, static_cast<size_t>(k.truncated_at_byte)),
                                     "t.json", &plain, true);
  CHECK(k.events == plain.events);
  CHECK(c.api.size() == p.api.size());
  CHECK(c.gpu.size() == p.gpu.size());
  CHECK(c.ranges.size() == p.ranges.size());
}

TEST_CASE("Kineto: a trace with GPU work on several devices needs --device", "[kineto]") {
  const std::string file = kKineto + "/devices.json";
  CHECK(ErrorOf([&] { Import("devices.json"); }) ==
        file +
            ": GPU work on 2 devices; pick one with --device: 0 (NVIDIA H100 80GB HBM3, 2 "
            "kernels), 1 (NVIDIA A100-SXM4-80GB, 1 kernel)");
  KinetoImportOptions o;
  o.device = 5;
  CHECK(ErrorOf([&] { Import("devices.json", nullptr, nullptr, o); }) ==
        file +
            ": --device 5: no GPU work on it (devices: 0 (NVIDIA H100 80GB HBM3, 2 kernels), 1 "
            "(NVIDIA A100-SXM4-80GB, 1 kernel))");
  o.device = 0;
  BuildReport b;
  const Trace t0 = Import("devices.json", nullptr, &b, o);
  CHECK(t0.device_name == "NVIDIA H100 80GB HBM3");
  CHECK(b.kernels == 2);
  CHECK(b.memcpys == 0);
  CHECK(b.launches == 2);  // the launches of b1 and the copy ran on device 1: dropped
  CHECK(b.orphan_gpu == 0);
  CHECK(t0.meta["kineto"]["device"] == 0);
  const auto k0 = OfKind(t0, TaskKind::kKernel);
  REQUIRE(k0.size() == 2);
  CHECK(t0.Name(*k0[0]) == "a0");
  CHECK(t0.Name(*k0[1]) == "c0");
  o.device = 1;
  const Trace t1 = Import("devices.json", nullptr, &b, o);
  CHECK(t1.device_name == "NVIDIA A100-SXM4-80GB");
  CHECK(b.kernels == 1);
  CHECK(b.memcpys == 1);
  CHECK(b.launches == 2);
  // Rebased to the first kept call (the launch of b1 at 106 µs).
  CHECK(t1.tasks.front().start_ns == 0);
  CHECK(t1.meta["origin_ns"] == 106000);
}

TEST_CASE("Kineto: a GPU clock behind the host's is detected and corrected", "[kineto]") {
  KinetoReport k;
  BuildReport b;
  const Trace t = Import("clock_offset.json", &k, &b);
  // k1 starts 5 µs before its launch, k2 2 µs before, k3 1 µs after: GPU
  // times move 5 µs later (k1 at its launch's start, k2 3 µs and k3 6 µs
  // after theirs).
  CHECK(k.gpu_before_launch == 2);
  CHECK(k.gpu_clock_shift_ns == 5000);
  CHECK(t.meta["kineto"]["gpu_clock_shift_ns"] == 5000);
  REQUIRE(b.problems.size() == 1);
  CHECK(b.problems[0] ==
        "2 GPU activities started before their launch call: every GPU time was moved 5000 ns "
        "later (the smallest shift that puts each after its call)");
  const auto kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 3);
  CHECK(kernels[0]->start_ns == 0);  // origin: the first launch, at 100 µs
  CHECK(kernels[1]->start_ns == 23000);
  CHECK(kernels[2]->start_ns == 46000);
  // The gpu_user_annotation moved with the kernels: 122.5-133.5 covers k2
  // (123-133).
  CHECK(t.Op(*kernels[1]) == "block");
  CHECK(t.Op(*kernels[0]) == "");
  // A trace whose GPU times are consistent is left alone.
  KinetoReport c;
  Import("graphs.json", &c);
  CHECK(c.gpu_before_launch == 0);
  CHECK(c.gpu_clock_shift_ns == 0);
}

TEST_CASE("Kineto: each rank's trace of a multi-process job is its own tenant", "[kineto]") {
  testing::TempDir dir("cotenant_kineto_ranks");
  const std::string text = ReadFileText(kKineto + "/polling.json");
  const std::vector<std::string> files = {"node0_rank0.1700000000123.pt.trace.json",
                                          "node0_rank1.1700000000456.pt.trace.json.gz"};
  std::vector<Trace> traces;
  for (const std::string& f : files) {
    WriteFileAtomic(dir / f, text);
    traces.push_back(ImportKineto(dir / f, {}, nullptr, nullptr));
  }
  CHECK(traces[0].tenant == "node0_rank0");
  CHECK(traces[1].tenant == "node0_rank1");
  const SimResult r = testing::Run(testing::Make(
      {testing::TenantIn(traces[0]), testing::TenantIn(traces[1])}, testing::H100Sxm()));
  REQUIRE(r.tenants.size() == 2);
  CHECK(r.tenants[0].name == "node0_rank0");
  CHECK(r.tenants[1].name == "node0_rank1");
}

TEST_CASE("Kineto: each poll run waits on what was done last before it ended", "[kineto]") {
  // Records 2 (stream 30, its kernel ends at 50 µs) and 4 (stream 40, ends
  // at 20 µs). Thread 3 polls 15-21.5 µs: only record 4 was done by then.
  // Thread 2 polls 22-51.5 µs: both were, record 2 last.
  auto poll = [](int tid, const char* ts, int corr) {
    return std::string(R"({"ph": "X", "cat": "cuda_runtime", "name": "cudaEventQuery", "pid": 1,
                          "tid": )") +
           std::to_string(tid) + R"(, "ts": )" + ts + R"(, "dur": 0.5, "args": {"correlation": )" +
           std::to_string(corr) + "}}";
  };
  const std::string events = R"(
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 10, "dur": 1, "args": {"correlation": 1}},
    {"ph": "X", "cat": "kernel", "name": "long", "pid": 0, "tid": 30, "ts": 12, "dur": 38,
     "args": {"stream": 30, "correlation": 1}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaEventRecord", "pid": 1, "tid": 2,
     "ts": 11.5, "dur": 0.5, "args": {"correlation": 2}},
    {"ph": "X", "cat": "cuda_event", "name": "Event Record", "pid": 0, "tid": 30,
     "ts": 50, "dur": 0, "args": {"stream": 30, "correlation": 2}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2,
     "ts": 13, "dur": 1, "args": {"correlation": 3}},
    {"ph": "X", "cat": "kernel", "name": "short", "pid": 0, "tid": 40, "ts": 14, "dur": 6,
     "args": {"stream": 40, "correlation": 3}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaEventRecord", "pid": 1, "tid": 2,
     "ts": 14.5, "dur": 0.5, "args": {"correlation": 4}},
    {"ph": "X", "cat": "cuda_event", "name": "Event Record", "pid": 0, "tid": 40,
     "ts": 20, "dur": 0, "args": {"stream": 40, "correlation": 4}},
  )" + poll(2, "22", 10) + "," +
                             poll(2, "30", 11) + "," + poll(2, "51", 12) + "," + poll(3, "15", 20) +
                             "," + poll(3, "16", 21) + "," + poll(3, "21", 22);
  KinetoReport k;
  const Capture c = Parse(events, &k);
  CHECK(k.polls == 6);
  CHECK(k.poll_waits == 2);
  CHECK(k.polls_folded == 6);
  BuildOptions o;
  o.tenant = "polls";
  const Trace t = BuildTrace(c, o, nullptr);
  const auto syncs = OfKind(t, TaskKind::kSync);
  REQUIRE(syncs.size() == 2);
  CHECK(syncs[0]->start_ns == 5000);  // thread 3's run, from 15 µs (origin 10 µs)
  CHECK(syncs[0]->dur_ns == 6500);
  CHECK(syncs[0]->event == 4);
  CHECK(syncs[1]->start_ns == 12000);  // thread 2's run, from 22 µs
  CHECK(syncs[1]->dur_ns == 29500);
  CHECK(syncs[1]->event == 2);
  CHECK(syncs[0]->thread != syncs[1]->thread);
}

}  // namespace
}  // namespace cotenant::profiler
