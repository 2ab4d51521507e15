// Trace statistics (inspect) on a small trace built in code, with every
// expected value worked out by hand in the comments.
#include "sim/trace_stats.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

Task Make(Trace& tr, int64_t id, TaskKind kind, const std::string& name, TimeNs start, TimeNs dur) {
  Task t;
  t.id = id;
  t.kind = kind;
  t.name = tr.Intern(name);
  t.start_ns = start;
  t.dur_ns = dur;
  return t;
}

Task HostTask(Trace& tr, int64_t id, TaskKind kind, int64_t thread, TimeNs start, TimeNs dur) {
  Task t = Make(tr, id, kind, kind == TaskKind::kCpu ? "python" : "cudaLaunchKernel", start, dur);
  t.thread = thread;
  return t;
}

Task Kernel(Trace& tr, int64_t id, const std::string& name, const std::string& op, int64_t stream,
            TimeNs start, TimeNs dur) {
  Task t = Make(tr, id, TaskKind::kKernel, name, start, dur);
  if (!op.empty()) t.op = tr.Intern(op);
  t.stream = stream;
  return t;
}

/// Shape A on H100 (132 SMs): 256 threads x 64 registers = 8 warps of 2048
/// registers; 16384 per sub-partition / 2048 = 8 warps, x 4 / 8 = 4 blocks
/// per SM (threads allow 8, warps 8, blocks 32, shared memory 228): limited
/// by registers, 4 x 132 = 528 slots.
void ShapeA(Task* t, int32_t grid) {
  t->grid = {grid, 1, 1};
  t->block = {256, 1, 1};
  t->regs = 64;
}

/// thread 1: launch [0,100), launch [150,250), cpu [200,300), launch [400,500)
/// thread 2: launch [50,100), sync(stream 7) [5000,5010), stream_wait(stream 9) [5500,5510)
/// stream 7: K1 [1000,2000) linear, 132 blocks of A (footprint 132/528 = 25%)
///           K2 [1500,3500) linear, 528 blocks of A (one wave)
///           memcpy [4000,4500)
/// stream 9: K3 [6000,9000) relu_kernel (no op), 2000 blocks of A (ceil(2000/528) = 4 waves)
///           K4 [9000,9500) add, no launch shape
///           K5 [9500,9600) huge (no op), 240000 B of shared memory: does not fit
Trace Sample() {
  Trace tr;
  tr.file = "sample.json";
  tr.tenant = "sample";
  tr.device_gpu = "h100-sxm";
  tr.meta = {{"source", "hand-made"}};
  tr.tasks.push_back(HostTask(tr, 1, TaskKind::kLaunch, 1, 0, 100));
  tr.tasks.push_back(HostTask(tr, 2, TaskKind::kLaunch, 1, 150, 100));
  tr.tasks.push_back(HostTask(tr, 3, TaskKind::kCpu, 1, 200, 100));
  tr.tasks.push_back(HostTask(tr, 4, TaskKind::kLaunch, 1, 400, 100));
  tr.tasks.push_back(HostTask(tr, 5, TaskKind::kLaunch, 2, 50, 50));
  Task sync = HostTask(tr, 6, TaskKind::kSync, 2, 5000, 10);
  sync.stream = 7;
  tr.tasks.push_back(sync);
  Task wait = HostTask(tr, 7, TaskKind::kStreamWait, 2, 5500, 10);
  wait.stream = 9;
  wait.event = 1;
  tr.tasks.push_back(wait);
  Task k1 = Kernel(tr, 10, "gemm_a", "aten::linear", 7, 1000, 1000);
  ShapeA(&k1, 132);
  tr.tasks.push_back(k1);
  Task k2 = Kernel(tr, 11, "gemm_b", "aten::linear", 7, 1500, 2000);
  ShapeA(&k2, 528);
  tr.tasks.push_back(k2);
  Task copy = Make(tr, 12, TaskKind::kMemcpy, "Memcpy DtoH", 4000, 500);
  copy.stream = 7;
  tr.tasks.push_back(copy);
  Task k3 = Kernel(tr, 20, "relu_kernel", "", 9, 6000, 3000);
  ShapeA(&k3, 2000);
  tr.tasks.push_back(k3);
  tr.tasks.push_back(Kernel(tr, 21, "add_kernel", "aten::add", 9, 9000, 500));
  Task k5 = Kernel(tr, 22, "huge", "", 9, 9500, 100);
  k5.grid = {1, 1, 1};
  k5.block = {128, 1, 1};
  k5.smem = 240000;  // over the 232448 B a block may have
  tr.tasks.push_back(k5);
  return tr;
}

TEST_CASE("trace stats: counts, streams, threads, GPU time, operators, waves", "[trace_stats]") {
  const TraceStats st = ComputeTraceStats(Sample(), testing::H100Sxm(), 3);
  CHECK(st.file == "sample.json");
  CHECK(st.source == "hand-made");
  CHECK(st.tasks == 13);
  auto kind = [&st](TaskKind k) { return st.by_kind[static_cast<size_t>(k)]; };
  CHECK(kind(TaskKind::kLaunch) == 4);
  CHECK(kind(TaskKind::kKernel) == 5);
  CHECK(kind(TaskKind::kMemcpy) == 1);
  CHECK(kind(TaskKind::kMemset) == 0);
  CHECK(kind(TaskKind::kCpu) == 1);
  CHECK(kind(TaskKind::kStreamWait) == 1);
  CHECK(kind(TaskKind::kSync) == 1);

  // GPU time 1000 + 2000 + 500 + 3000 + 500 + 100 = 7100; the sync names
  // stream 7 but is not counted there.
  REQUIRE(st.streams.size() == 2);
  CHECK(st.streams[0].id == 7);
  CHECK(st.streams[0].kernels == 2);
  CHECK(st.streams[0].gpu_tasks == 3);
  CHECK(st.streams[0].markers == 0);
  CHECK(st.streams[0].gpu_time_ns == 3500);
  CHECK(st.streams[0].gpu_time_fraction == 3500.0 / 7100.0);
  CHECK(st.streams[1].id == 9);
  CHECK(st.streams[1].kernels == 3);
  CHECK(st.streams[1].gpu_tasks == 3);
  CHECK(st.streams[1].markers == 1);
  CHECK(st.streams[1].gpu_time_ns == 3600);

  // Thread 1: [0,100) + [150,300) + [400,500) = 350 busy of a 500 span.
  // Thread 2: 50 + 10 + 10 = 70 busy of [50, 5510) = 5460.
  REQUIRE(st.threads.size() == 2);
  CHECK(st.threads[0].tasks == 4);
  CHECK(st.threads[0].launches == 3);
  CHECK(st.threads[0].busy_ns == 350);
  CHECK(st.threads[0].span_ns == 500);
  CHECK(st.threads[1].tasks == 3);
  CHECK(st.threads[1].launches == 1);
  CHECK(st.threads[1].busy_ns == 70);
  CHECK(st.threads[1].span_ns == 5460);

  // GPU: [1000,3500) + [4000,4500) + [6000,9600) = 2500 + 500 + 3600 = 6600
  // busy of the span 1000..9600 = 8600.
  CHECK(st.kernel_time_ns == 6600);
  CHECK(st.gpu_time_ns == 7100);
  CHECK(st.gpu_first_start_ns == 1000);
  CHECK(st.gpu_last_end_ns == 9600);
  CHECK(st.gpu_span_ns == 8600);
  CHECK(st.gpu_busy_ns == 6600);
  CHECK(st.gpu_busy_fraction == 6600.0 / 8600.0);

  // Operators: linear 3000 (2 kernels), relu_kernel 3000 (by name), add 500,
  // huge 100; equal times keep name order.
  CHECK(st.distinct_operators == 4);
  REQUIRE(st.top_operators.size() == 3);
  CHECK(st.top_operators[0].name == "aten::linear");
  CHECK(st.top_operators[0].tally.kernels == 2);
  CHECK(st.top_operators[0].tally.time_ns == 3000);
  CHECK(st.top_operators[0].kernel_time_fraction == 3000.0 / 6600.0);
  CHECK(st.top_operators[1].name == "relu_kernel");
  CHECK(st.top_operators[2].name == "aten::add");
  CHECK(st.top_operators[2].tally.time_ns == 500);

  CHECK(st.occupancy_gpu == "h100-sxm");
  CHECK(st.sm_count == 132);
  auto wave = [&st](WaveBucket b) { return st.waves[static_cast<int>(b)]; };
  CHECK(std::string(WaveBucketName(WaveBucket::kFoot25)) == "<1 wave, 25-50% of slots");
  CHECK(std::string(WaveBucketName(WaveBucket::kNoFit)) == "does not fit");
  CHECK(wave(WaveBucket::kFoot0).kernels == 0);
  CHECK(wave(WaveBucket::kFoot25).kernels == 1);
  CHECK(wave(WaveBucket::kFoot25).time_ns == 1000);
  CHECK(wave(WaveBucket::kOneWave).time_ns == 2000);
  CHECK(wave(WaveBucket::kWaves2to4).time_ns == 3000);
  CHECK(wave(WaveBucket::kWaves5to16).kernels == 0);
  CHECK(wave(WaveBucket::kNoShape).time_ns == 500);
  CHECK(wave(WaveBucket::kNoFit).time_ns == 100);
  REQUIRE(st.limiters.size() == 2);
  CHECK(st.limiters[0].first == "registers");
  CHECK(st.limiters[0].second.kernels == 3);
  CHECK(st.limiters[0].second.time_ns == 6000);
  CHECK(st.limiters[1].first == "shared_memory");
  CHECK(st.limiters[1].second.kernels == 1);
}

TEST_CASE("trace stats: the cotenant.inspect/1 JSON", "[trace_stats]") {
  const nlohmann::json j =
      TraceStatsToJson(ComputeTraceStats(Sample(), testing::H100Sxm(), 10), "a note");
  CHECK(j["schema"] == "cotenant.inspect/1");
  CHECK(j["device"]["gpu"] == "h100-sxm");
  CHECK(j["tasks"]["total"] == 13);
  CHECK(j["tasks"]["by_kind"]["stream_wait"] == 1);
  CHECK(j["tasks"]["by_kind"]["event_record"] == 0);
  CHECK(j["gpu"]["busy_ns"] == 6600);
  CHECK(j["gpu"]["span_ns"] == 8600);
  CHECK(j["threads"][1]["span_ns"] == 5460);
  CHECK(j["operators"]["top"].size() == 4);
  CHECK(j["operators"]["top"][3]["operator"] == "huge");
  CHECK(j["occupancy"]["note"] == "a note");
  CHECK(j["occupancy"]["waves"].size() == 10);
  CHECK(j["occupancy"]["waves"][4]["bucket"] == "1 wave");
  CHECK(j["occupancy"]["waves"][4]["kernel_time_fraction"] == 2000.0 / 6600.0);
  CHECK(j["occupancy"]["limiters"][0]["time_ns"] == 6000);
}

TEST_CASE("trace stats: kernels by the source of their DRAM figures", "[trace_stats]") {
  Trace tr;
  Task a = Kernel(tr, 1, "k", "", 7, 0, 10);
  a.dram_bytes = 5;  // no source set: a counter
  Task b = Kernel(tr, 2, "k", "", 7, 10, 10);
  b.mem_bound = 0.5;
  b.dram_source = DramSource::kName;
  Task c = Kernel(tr, 3, "k", "", 7, 20, 10);
  c.dram_bytes = 7;
  c.dram_source = DramSource::kShape;
  Task d = Kernel(tr, 4, "k", "", 7, 30, 10);
  tr.tasks = {a, b, c, d, d};
  tr.tasks[4].id = 5;
  const nlohmann::json j = TraceStatsToJson(ComputeTraceStats(tr, testing::H100Sxm(), 10), "");
  CHECK(j["dram"] == nlohmann::json{{"counter", 1}, {"shape", 1}, {"name", 1}, {"none", 2}});
}

TEST_CASE("trace stats: an empty trace is all zeros", "[trace_stats]") {
  Trace tr;
  const TraceStats st = ComputeTraceStats(tr, testing::H100Sxm(), 10);
  CHECK(st.tasks == 0);
  CHECK(st.streams.empty());
  CHECK(st.gpu_first_start_ns == 0);
  CHECK(st.gpu_span_ns == 0);
  CHECK(st.gpu_busy_fraction == 0.0);
  CHECK(RequestSpanNs(tr) == 0);
}

TEST_CASE("trace stats: an unnamed trace takes its file's stem as tenant", "[trace_stats]") {
  Trace tr;
  tr.file = "out/resnet50_trace.json.gz";
  CHECK(ComputeTraceStats(tr, testing::H100Sxm(), 10).tenant == "resnet50_trace");
  tr.tenant = "resnet";
  CHECK(ComputeTraceStats(tr, testing::H100Sxm(), 10).tenant == "resnet");
  CHECK(ComputeTraceStats(Trace{}, testing::H100Sxm(), 10).tenant.empty());
}

TEST_CASE("the request span runs from the first start to the last end", "[trace_stats]") {
  CHECK(RequestSpanNs(Sample()) == 9600);  // 0 .. K5's end
}

}  // namespace
}  // namespace cotenant
