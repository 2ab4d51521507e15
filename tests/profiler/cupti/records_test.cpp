// Synthetic CUPTI records through RecordNormaliser::HandleBuffer, the code the
// injection library runs on CUPTI's buffers: every kind it reads, exact values.
#include <catch2/catch.hpp>
#include <limits>

#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/cupti_records.h"
#include "tests/profiler/cupti/record_buffer.h"

namespace cotenant::profiler::cupti {
namespace {

using namespace testing;  // NOLINT: the record builders

Capture Normalise(const RecordBuffer& b, RecordStats* stats = nullptr) {
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(b.data(), b.size());
  n.Finish();
  if (stats != nullptr) *stats = n.stats();
  return c;
}

TEST_CASE("kernel records keep their shape, stream and correlation", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  auto k = Kernel("sm90_xmma_gemm", 7, 6000, 58000, 10);
  k.deviceId = 1;
  b.Add(k);
  auto untimed = Kernel("lost", 7, 0, 0, 11);  // no timestamps: left out
  b.Add(untimed);
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  REQUIRE(c.gpu.size() == 1);
  const GpuActivity& g = c.gpu[0];
  CHECK(g.kind == TaskKind::kKernel);
  CHECK(g.name == "sm90_xmma_gemm");
  CHECK(g.device == 1);
  CHECK(g.stream == 7);
  CHECK(g.start_ns == 6000);
  CHECK(g.end_ns == 58000);
  CHECK(g.correlation == 10);
  CHECK(g.grid == std::array<int32_t, 3>{264, 2, 1});
  CHECK(g.block == std::array<int32_t, 3>{128, 1, 1});
  CHECK(g.regs == 168);
  CHECK(g.smem == 32768 + 65536);  // static + dynamic
  CHECK(g.op.empty());
  CHECK(stats.records == 2);
  CHECK(stats.kernels == 1);
  CHECK(stats.untimed == 1);
  CHECK(stats.buffers == 1);
  CHECK(Problems().complete());
}

TEST_CASE("runtime and driver API records get names without version suffixes", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  b.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 77, 1000, 5000, 10));
  b.Add(Api(true, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, 77, 1500, 4000, 11));
  b.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000, 78, 6000, 7000, 12));
  b.Add(Api(true, CUPTI_DRIVER_TRACE_CBID_cuMemcpyHtoDAsync_v2, 78, 8000, 9000, 0));
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  REQUIRE(c.api.size() == 4);
  CHECK(c.api[0].name == "cudaLaunchKernel");
  CHECK_FALSE(c.api[0].driver);
  CHECK(c.api[0].thread == 77);
  CHECK(c.api[0].start_ns == 1000);
  CHECK(c.api[0].end_ns == 5000);
  CHECK(c.api[0].correlation == 10);
  CHECK(c.api[1].name == "cuLaunchKernel");
  CHECK(c.api[1].driver);
  CHECK(c.api[1].correlation == 11);
  CHECK(c.api[2].name == "cudaLaunchKernel_ptsz");
  CHECK(c.api[3].name == "cuMemcpyHtoDAsync_v2");  // the driver's own suffix stays
  CHECK(c.api[3].correlation == kAbsent);          // 0 = none
  CHECK(c.api[0].stream == kAbsent);
  CHECK(c.api[0].event == kAbsent);
  CHECK(stats.runtime_calls == 2);
  CHECK(stats.driver_calls == 2);
  CHECK(RoleOfApi(c.api[2].name) == ApiRole::kLaunch);
}

TEST_CASE("copy kinds become directions; memsets keep their bytes", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  b.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, 602112, 7, 100, 30100, 20));
  b.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_DTOH, 4096, 7, 40000, 41000, 21));
  b.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_DTOD, 8192, 9, 50000, 50500, 22));
  b.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOH, 16, 9, 51000, 51010, 23));
  b.Add(PeerCopy(1 << 20, 13, 60000, 70000, 24));
  b.Add(Memset(1 << 16, 9, 80000, 80400, 25));
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  REQUIRE(c.gpu.size() == 6);
  CHECK(c.gpu[0].kind == TaskKind::kMemcpy);
  CHECK(c.gpu[0].dir == CopyDir::kH2D);
  CHECK(c.gpu[0].bytes == 602112);
  CHECK(c.gpu[0].stream == 7);
  CHECK(c.gpu[0].start_ns == 100);
  CHECK(c.gpu[0].end_ns == 30100);
  CHECK(c.gpu[0].correlation == 20);
  CHECK(c.gpu[0].name.empty());
  CHECK(c.gpu[1].dir == CopyDir::kD2H);
  CHECK(c.gpu[2].dir == CopyDir::kD2D);
  CHECK(c.gpu[3].dir == CopyDir::kH2H);
  CHECK(c.gpu[4].kind == TaskKind::kMemcpy);
  CHECK(c.gpu[4].dir == CopyDir::kP2P);
  CHECK(c.gpu[4].bytes == (1 << 20));
  CHECK(c.gpu[4].stream == 13);
  CHECK(c.gpu[4].device == 1);
  CHECK(c.gpu[5].kind == TaskKind::kMemset);
  CHECK(c.gpu[5].bytes == (1 << 16));
  CHECK(c.gpu[5].correlation == 25);
  CHECK(stats.memcpys == 5);
  CHECK(stats.memsets == 1);
}

TEST_CASE("CopyDirOfKind covers every CUPTI copy kind", "[cupti]") {
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_HTOA) == CopyDir::kH2D);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_ATOH) == CopyDir::kD2H);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_ATOA) == CopyDir::kD2D);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_ATOD) == CopyDir::kD2D);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_DTOA) == CopyDir::kD2D);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_PTOP) == CopyDir::kP2P);
  CHECK(CopyDirOfKind(CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN) == CopyDir::kNone);
}

TEST_CASE("synchronization and CUDA event records become GpuSyncs", "[cupti]") {
  Problems().Clear();
  const uint32_t kNone = CUPTI_SYNCHRONIZATION_INVALID_VALUE;
  RecordBuffer b;
  b.Add(Event(7, 3, 30));
  b.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT, 9, 3, 1000, 1100, 31));
  b.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE, 9, kNone, 2000, 9000, 32));
  b.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE, kNone, 3, 9100, 9200, 33));
  b.Add(
      Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE, kNone, kNone, 9300, 9900, 34));
  b.Add(Sync(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_UNKNOWN, kNone, kNone, 9950, 9960, 35));
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  REQUIRE(c.syncs.size() == 5);
  CHECK(c.syncs[0].type == SyncType::kEventRecord);
  CHECK(c.syncs[0].stream == 7);
  CHECK(c.syncs[0].event == 3);
  CHECK(c.syncs[0].correlation == 30);
  CHECK(c.syncs[1].type == SyncType::kStreamWaitEvent);
  CHECK(c.syncs[1].stream == 9);
  CHECK(c.syncs[1].event == 3);
  CHECK(c.syncs[1].start_ns == 1000);
  CHECK(c.syncs[1].end_ns == 1100);
  CHECK(c.syncs[2].type == SyncType::kStreamSync);
  CHECK(c.syncs[2].stream == 9);
  CHECK(c.syncs[2].event == kAbsent);
  CHECK(c.syncs[3].type == SyncType::kEventSync);
  CHECK(c.syncs[3].stream == kAbsent);
  CHECK(c.syncs[3].event == 3);
  CHECK(c.syncs[4].type == SyncType::kDeviceSync);
  CHECK(c.syncs[4].correlation == 34);
  CHECK(stats.event_records == 1);
  CHECK(stats.syncs == 4);
  CHECK(stats.ignored == 1);  // the unknown synchronization type
}

TEST_CASE("NVTX markers pair into ranges on their thread", "[cupti]") {
  Problems().Clear();
  RecordBuffer first, second;
  // Thread 77: push/pop nesting; thread 78: a start/end range whose end
  // arrives in a later buffer; an instantaneous mark labels nothing.
  first.Add(Push(1, 77, 1000, "aten::linear, seq = 12, op_id = 3"));
  first.Add(Push(2, 77, 1500, "aten::addmm, seq = 13, sizes = [[8, 768]]"));
  first.Add(Marker(CUPTI_ACTIVITY_FLAG_MARKER_INSTANTANEOUS, 3, 77, 1600, "mark"));
  first.Add(Pop(2, 77, 4000));
  first.Add(Push(4, 78, 2000, "step"));
  first.Add(Pop(1, 77, 9000));
  second.Add(Pop(4, 78, 12000));
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(first.data(), first.size());
  n.HandleBuffer(second.data(), second.size());
  n.Finish();
  REQUIRE(c.ranges.size() == 3);
  CHECK(c.ranges[0].name == "aten::addmm, seq = 13, sizes = [[8, 768]]");
  CHECK(c.ranges[0].thread == 77);
  CHECK(c.ranges[0].start_ns == 1500);
  CHECK(c.ranges[0].end_ns == 4000);
  CHECK(c.ranges[1].name == "aten::linear, seq = 12, op_id = 3");
  CHECK(c.ranges[1].start_ns == 1000);
  CHECK(c.ranges[1].end_ns == 9000);
  CHECK(c.ranges[2].name == "step");
  CHECK(c.ranges[2].thread == 78);
  CHECK(c.ranges[2].start_ns == 2000);
  CHECK(c.ranges[2].end_ns == 12000);
  CHECK(n.stats().markers == 7);
  CHECK(n.stats().ranges == 3);
  CHECK(n.stats().open_ranges == 0);
  CHECK(n.stats().buffers == 2);
}

TEST_CASE("an end marker before its start, and ranges open at the end", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  b.Add(Pop(5, 77, 3000));  // delivered before its start
  b.Add(Push(5, 77, 1000, "early end"));
  b.Add(Push(6, 77, 4000, "never closed"));
  b.Add(Runtime(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 77, 5000, 8000, 10));
  b.Add(Pop(99, 77, 8500));  // no start ever
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  REQUIRE(c.ranges.size() == 2);
  CHECK(c.ranges[0].name == "early end");
  CHECK(c.ranges[0].start_ns == 1000);
  CHECK(c.ranges[0].end_ns == 3000);
  CHECK(c.ranges[1].name == "never closed");
  CHECK(c.ranges[1].start_ns == 4000);
  CHECK(c.ranges[1].end_ns == 8500);  // the last timestamp seen
  CHECK(stats.open_ranges == 1);
  CHECK(stats.unmatched_marker_ends == 1);
}

TEST_CASE("external correlation records are kept by CUPTI correlation", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  b.Add(External(123456789, 10));
  b.Add(External(42, 11));
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(b.data(), b.size());
  REQUIRE(n.external_ids().size() == 2);
  CHECK(n.external_ids().at(10).second == 123456789);
  CHECK(n.external_ids().at(10).first == CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0);
  CHECK(n.external_ids().at(11).second == 42);
  CHECK(n.stats().external_correlations == 2);
}

TEST_CASE("records of other kinds are counted and left out", "[cupti]") {
  Problems().Clear();
  auto stream = Zeroed<CUpti_ActivityStream>();
  stream.kind = CUPTI_ACTIVITY_KIND_STREAM;
  stream.streamId = 7;
  RecordBuffer b;
  b.Add(stream);
  b.Add(Kernel("k", 7, 10, 20, 1));
  RecordStats stats;
  const Capture c = Normalise(b, &stats);
  CHECK(c.gpu.size() == 1);
  CHECK(stats.records == 2);
  CHECK(stats.ignored == 1);
}

TEST_CASE("a record cut off by the valid size is not read", "[cupti]") {
  Problems().Clear();
  RecordBuffer b;
  b.Add(Kernel("k", 7, 10, 20, 1));
  b.Add(Kernel("cut", 7, 30, 40, 2));
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(b.data(), b.size() - 16);  // the second record is incomplete
  REQUIRE(c.gpu.size() == 1);
  CHECK(c.gpu[0].name == "k");
  CHECK(n.stats().bad_buffers == 0);
  CHECK(Problems().complete());
}

TEST_CASE("an invalid record stops the walk and is reported", "[cupti]") {
  Problems().Clear();
  auto bad = Zeroed<KernelRecord>();
  bad.kind = CUPTI_ACTIVITY_KIND_INVALID;
  RecordBuffer b;
  b.Add(Kernel("k", 7, 10, 20, 1));
  b.Add(bad);
  b.Add(Kernel("after", 7, 30, 40, 2));
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(b.data(), b.size());
  CHECK(c.gpu.size() == 1);
  CHECK(n.stats().bad_buffers == 1);
  CHECK_FALSE(Problems().complete());
  REQUIRE(Problems().Lines().size() == 1);
  CHECK(Problems().Lines()[0] ==
        "cuptiActivityGetNextRecord(data, valid_size, &record) failed: "
        "CUPTI_ERROR_INVALID_KIND");
  Problems().Clear();
}

TEST_CASE("values past int64 saturate instead of turning negative", "[cupti]") {
  // Found by the cupti_records fuzz target: a size or time of 2^63 or more
  // became negative, and the trace written from it was unreadable; two
  // int32 shared-memory sizes overflowed their int32 sum.
  Problems().Clear();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RecordBuffer b;
  b.Add(Memcpy(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, 0xcfcfcfcfcfcfcfcfull, 7, 100, 200, 1));
  b.Add(Memset(uint64_t{1} << 63, 7, 300, 0xffffffffffffffffull, 2));
  auto k = Kernel("k", 7, 400, 500, 3);
  k.staticSharedMemory = std::numeric_limits<int32_t>::max();
  k.dynamicSharedMemory = 65536;
  b.Add(k);
  const Capture c = Normalise(b);
  REQUIRE(c.gpu.size() == 3);
  CHECK(c.gpu[0].bytes == kMax);
  CHECK(c.gpu[1].bytes == kMax);
  CHECK(c.gpu[1].start_ns == 300);
  CHECK(c.gpu[1].end_ns == kMax);
  CHECK(c.gpu[2].smem == std::numeric_limits<int32_t>::max());
  const Trace t = BuildTrace(c, {}, nullptr);
  CHECK(ParseTrace(TraceToJsonText(t), "t.json").tasks.size() == 3);
  CHECK(Problems().complete());
}

TEST_CASE("an empty or missing buffer is harmless", "[cupti]") {
  Problems().Clear();
  Capture c;
  RecordNormaliser n(&c);
  n.HandleBuffer(nullptr, 0);
  RecordBuffer empty;
  n.HandleBuffer(empty.data(), 0);
  n.Finish();
  CHECK(c.gpu.empty());
  CHECK(n.stats().buffers == 2);
  CHECK(Problems().complete());
}

TEST_CASE("TrimRuntimeVersion drops only CUPTI's runtime version suffix", "[cupti]") {
  CHECK(TrimRuntimeVersion("cudaLaunchKernel_v7000") == "cudaLaunchKernel");
  CHECK(TrimRuntimeVersion("cudaMemcpyAsync_ptsz_v7000") == "cudaMemcpyAsync_ptsz");
  CHECK(TrimRuntimeVersion("cudaGraphLaunch_v10000") == "cudaGraphLaunch");
  CHECK(TrimRuntimeVersion("cuMemcpyHtoD_v2") == "cuMemcpyHtoD_v2");
  CHECK(TrimRuntimeVersion("cudaFoo_vx123") == "cudaFoo_vx123");
  CHECK(TrimRuntimeVersion("plain") == "plain");
}

TEST_CASE("the stats serialise under their field names", "[cupti]") {
  RecordStats s;
  s.kernels = 3;
  s.untimed = 1;
  const nlohmann::json j = StatsToJson(s);
  CHECK(j.at("kernels") == 3);
  CHECK(j.at("untimed") == 1);
  CHECK(j.size() == 17);
}

}  // namespace
}  // namespace cotenant::profiler::cupti
