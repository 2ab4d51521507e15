// Tests of the Nsight Systems SQLite importer on reports built here, table by
// table, from the documented export schema (current and older column sets):
// the capture, the traces built from it, device and process selection, and
// the exact message of each refused input.
#include "profiler/nsys.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/kernel_memory.h"
#include "sim/error.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using testing::ErrorOf;
using testing::TempDir;

constexpr int64_t kBase = 1000000000;  // the report's clock at our "0"

/// globalTid / globalPid as nsys packs them: pid in bits 24..47, tid in
/// bits 0..23, and something in the high bits (nsys puts the VM id there).
int64_t Gtid(int64_t pid, int64_t tid) { return (int64_t{1} << 56) | (pid << 24) | tid; }
int64_t Gpid(int64_t pid) { return Gtid(pid, 0); }

/// An SQLite file built statement by statement.
class Report {
 public:
  explicit Report(const std::string& path) : path_(path) {
    std::remove(path.c_str());
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    Exec("BEGIN");
  }
  ~Report() { Close(); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      FAIL(sql << ": " << msg);
    }
  }
  void Close() {
    if (db_ == nullptr) return;
    Exec("COMMIT");
    sqlite3_close(db_);
    db_ = nullptr;
  }
  const std::string& path() const { return path_; }

  // The current schema (nsys 2023-2025 exports), columns the importer reads
  // plus a few it does not.
  void CurrentSchema() {
    Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    Exec(
        "CREATE TABLE TARGET_INFO_GPU (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "busLocation TEXT, totalMemory INTEGER, smCount INTEGER)");
    Exec(
        "CREATE TABLE TARGET_INFO_CUDA_DEVICE (gpuId INTEGER, cudaId INTEGER, pid INTEGER, "
        "uuid TEXT, numMultiprocessors INTEGER)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
        "correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL, "
        "shortName INTEGER NOT NULL, mangledName INTEGER, registersPerThread INTEGER NOT NULL, "
        "gridX INTEGER NOT NULL, gridY INTEGER NOT NULL, gridZ INTEGER NOT NULL, "
        "blockX INTEGER NOT NULL, blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL, "
        "staticSharedMemory INTEGER NOT NULL, dynamicSharedMemory INTEGER NOT NULL, "
        "graphNodeId INTEGER)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
        "correlationId INTEGER, globalPid INTEGER, bytes INTEGER NOT NULL, "
        "copyKind INTEGER NOT NULL, srcKind INTEGER, dstKind INTEGER)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMSET (start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
        "correlationId INTEGER, globalPid INTEGER, value INTEGER NOT NULL, "
        "bytes INTEGER NOT NULL)");
    for (const char* t : {"CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_DRIVER"}) {
      Exec(std::string("CREATE TABLE ") + t +
           " (start INTEGER NOT NULL, end INTEGER NOT NULL, eventClass INTEGER NOT NULL, "
           "globalTid INTEGER, correlationId INTEGER, nameId INTEGER NOT NULL, "
           "returnValue INTEGER NOT NULL, callchainId INTEGER)");
    }
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_SYNCHRONIZATION (start INTEGER NOT NULL, "
        "end INTEGER NOT NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, "
        "streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, "
        "syncType INTEGER NOT NULL, eventId INTEGER NOT NULL)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_CUDA_EVENT (deviceId INTEGER NOT NULL, "
        "contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER, "
        "globalPid INTEGER, eventId INTEGER NOT NULL)");
    Exec(
        "CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT "
        "NULL, rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER, "
        "endGlobalTid INTEGER, textId INTEGER, domainId INTEGER)");
  }

  void String(int64_t id, const std::string& value) {
    Exec("INSERT INTO StringIds VALUES (" + std::to_string(id) + ", '" + value + "')");
  }
  void Gpu(int64_t id, const std::string& name) {
    Exec("INSERT INTO TARGET_INFO_GPU VALUES (" + std::to_string(id) + ", '" + name +
         "', '', 0, 108)");
    Exec("INSERT INTO TARGET_INFO_CUDA_DEVICE VALUES (" + std::to_string(id) + ", " +
         std::to_string(id) + ", 0, '', 108)");
  }
  void Kernel(int64_t pid, int device, int stream, int64_t corr, int64_t start, int64_t end,
              int name, const std::string& shape = "1, 1, 1, 1, 1, 1, 0, 0") {
    // regs, gridX..Z, blockX..Z, static, dynamic smem come in `shape` after regs.
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (" + T(start) + ", " + T(end) + ", " +
         std::to_string(device) + ", 1, " + std::to_string(stream) + ", " + std::to_string(corr) +
         ", " + std::to_string(Gpid(pid)) + ", " + std::to_string(name) + ", " +
         std::to_string(name) + ", NULL, 32, " + shape + ", NULL)");
  }
  void Memcpy(int64_t pid, int device, int stream, int64_t corr, int64_t start, int64_t end,
              int64_t bytes, int kind) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY VALUES (" + T(start) + ", " + T(end) + ", " +
         std::to_string(device) + ", 1, " + std::to_string(stream) + ", " + std::to_string(corr) +
         ", " + std::to_string(Gpid(pid)) + ", " + std::to_string(bytes) + ", " +
         std::to_string(kind) + ", 0, 0)");
  }
  void Memset(int64_t pid, int device, int stream, int64_t corr, int64_t start, int64_t end,
              int64_t bytes) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_MEMSET VALUES (" + T(start) + ", " + T(end) + ", " +
         std::to_string(device) + ", 1, " + std::to_string(stream) + ", " + std::to_string(corr) +
         ", " + std::to_string(Gpid(pid)) + ", 0, " + std::to_string(bytes) + ")");
  }
  void Api(bool driver, int64_t pid, int64_t tid, int64_t corr, int64_t start, int64_t end,
           int name) {
    Exec(std::string("INSERT INTO CUPTI_ACTIVITY_KIND_") + (driver ? "DRIVER" : "RUNTIME") +
         " VALUES (" + T(start) + ", " + T(end) + ", 0, " + std::to_string(Gtid(pid, tid)) + ", " +
         std::to_string(corr) + ", " + std::to_string(name) + ", 0, NULL)");
  }
  void Sync(int64_t pid, int device, int stream, int64_t corr, int64_t start, int64_t end, int type,
            int64_t event) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_SYNCHRONIZATION VALUES (" + T(start) + ", " + T(end) +
         ", " + std::to_string(device) + ", 1, " + std::to_string(stream) + ", " +
         std::to_string(corr) + ", " + std::to_string(Gpid(pid)) + ", " + std::to_string(type) +
         ", " + std::to_string(event) + ")");
  }
  void EventRecord(int64_t pid, int device, int stream, int64_t corr, int64_t event) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_CUDA_EVENT VALUES (" + std::to_string(device) + ", 1, " +
         std::to_string(stream) + ", " + std::to_string(corr) + ", " + std::to_string(Gpid(pid)) +
         ", " + std::to_string(event) + ")");
  }
  /// An NVTX row: `text` inline when not "", else `text_id`; end -1 = NULL.
  void Nvtx(int64_t pid, int64_t tid, int type, int64_t start, int64_t end, const std::string& text,
            int64_t text_id = -1) {
    Exec("INSERT INTO NVTX_EVENTS VALUES (" + T(start) + ", " + (end < 0 ? "NULL" : T(end)) + ", " +
         std::to_string(type) + ", 0, 0, 0, " + (text.empty() ? "NULL" : "'" + text + "'") + ", " +
         std::to_string(Gtid(pid, tid)) + ", NULL, " +
         (text_id < 0 ? "NULL" : std::to_string(text_id)) + ", 0)");
  }

 private:
  static std::string T(int64_t t) { return std::to_string(kBase + t); }
  std::string path_;
  sqlite3* db_ = nullptr;
};

enum Str : int {
  kLaunch = 1,
  kCuLaunch,
  kMemcpyAsync,
  kMemsetAsync,
  kEventRecordApi,
  kStreamWaitApi,
  kMalloc,
  kGemm,
  kRelu,
  kAddmmLabel,
};

void Strings(Report& r) {
  r.String(kLaunch, "cudaLaunchKernel_v7000");
  r.String(kCuLaunch, "cuLaunchKernel");
  r.String(kMemcpyAsync, "cudaMemcpyAsync_v3020");
  r.String(kMemsetAsync, "cudaMemsetAsync_v3020");
  r.String(kEventRecordApi, "cudaEventRecord_v3020");
  r.String(kStreamWaitApi, "cudaStreamWaitEvent_v3020");
  r.String(kMalloc, "cudaMalloc_v3020");
  r.String(kGemm, "void gemm<float>(float*)");
  r.String(kRelu, "relu_kernel");
  r.String(kAddmmLabel, "aten::addmm, seq = 12, op_id = 3, sizes = [[8, 768], [768, 768]]");
}

/// One process (pid 100, thread 101), one GPU. Times from kBase, in ns:
///   NVTX push "aten::addmm, ..." (textId)          [1000, 5000)
///     cudaMemcpyAsync corr 1 [1100, 1300) -> HtoD 4096 B, stream 7 [1400, 1900)
///     cudaLaunchKernel corr 2 [2000, 2500), cuLaunchKernel corr 2 [2100, 2400) inside
///       -> gemm, stream 7 [2600, 4600), grid 4x2x1, block 128, smem 1024 + 2048
///   cudaEventRecord corr 3 [5100, 5200) -> event 42 on stream 7
///   cudaStreamWaitEvent corr 4 [5300, 5400) -> stream 13 waits for event 42
///   NVTX push "aten::relu, seq = 13" (text)       [5500, 7000)
///     cudaLaunchKernel corr 5 [5600, 5900) -> relu, stream 13 [6000, 6500)
///     cudaMemsetAsync corr 6 [6100, 6200) -> 512 B, stream 13 [6600, 6700)
///     NVTX mark (type 34, no end) at 6300
///   cudaMalloc corr 7 [800, 900) (before everything; not a task)
void OneProcess(Report& r, int device = 0, int64_t pid = 100) {
  const int64_t tid = pid + 1;
  r.Nvtx(pid, tid, 59, 1000, 5000, "", kAddmmLabel);
  r.Api(false, pid, tid, 1, 1100, 1300, kMemcpyAsync);
  r.Memcpy(pid, device, 7, 1, 1400, 1900, 4096, 1);
  r.Api(false, pid, tid, 2, 2000, 2500, kLaunch);
  r.Api(true, pid, tid, 2, 2100, 2400, kCuLaunch);
  r.Kernel(pid, device, 7, 2, 2600, 4600, kGemm, "4, 2, 1, 128, 1, 1, 1024, 2048");
  r.Api(false, pid, tid, 3, 5100, 5200, kEventRecordApi);
  r.EventRecord(pid, device, 7, 3, 42);
  r.Api(false, pid, tid, 4, 5300, 5400, kStreamWaitApi);
  r.Sync(pid, device, 13, 4, 5300, 5400, 2, 42);
  r.Nvtx(pid, tid, 59, 5500, 7000, "aten::relu, seq = 13");
  r.Api(false, pid, tid, 5, 5600, 5900, kLaunch);
  r.Kernel(pid, device, 13, 5, 6000, 6500, kRelu, "16, 1, 1, 256, 1, 1, 0, 0");
  r.Api(false, pid, tid, 6, 6100, 6200, kMemsetAsync);
  r.Memset(pid, device, 13, 6, 6600, 6700, 512);
  r.Nvtx(pid, tid, 34, 6300, -1, "a mark");
  r.Api(false, pid, tid, 7, 800, 900, kMalloc);
}

std::vector<const Task*> OfKind(const Trace& t, TaskKind kind) {
  std::vector<const Task*> out;
  for (const Task& task : t.tasks) {
    if (task.kind == kind) out.push_back(&task);
  }
  return out;
}

TEST_CASE("nsys: globalTid packs pid and tid", "[nsys]") {
  CHECK(NsysPid(Gtid(4242, 77)) == 4242);
  CHECK(NsysTid(Gtid(4242, 77)) == 77);
  CHECK(NsysPid((int64_t{0xFFFFFF} << 24) | 5) == 0xFFFFFF);
  CHECK(NsysFileStem("dir/run.sqlite") == "run");
  CHECK(NsysFileStem("a.b.db") == "a.b");
  CHECK(NsysFileStem("report") == "report");
}

TEST_CASE("nsys: one process on one GPU, current schema", "[nsys]") {
  TempDir dir("cotenant_nsys_one");
  {
    Report r(dir / "run.sqlite");
    r.CurrentSchema();
    Strings(r);
    r.Gpu(0, "NVIDIA A100 SXM4 80GB");
    OneProcess(r);
  }
  NsysReport report;
  const std::vector<NsysProcess> processes =
      ReadNsysReport(dir / "run.sqlite", NsysSelect{}, &report);
  REQUIRE(processes.size() == 1);
  const Capture& c = processes[0].capture;
  CHECK(processes[0].pid == 100);
  CHECK(c.pid == 100);
  CHECK(c.source == "nsys");
  CHECK(c.device_name == "NVIDIA A100 SXM4 80GB");
  CHECK(c.gpu.size() == 4);
  CHECK(c.api.size() == 8);
  CHECK(c.syncs.size() == 2);
  CHECK(c.ranges.size() == 2);  // the mark is not a range
  CHECK(report.kernels == 2);
  CHECK(report.memcpys == 1);
  CHECK(report.memsets == 1);
  CHECK(report.runtime_calls == 7);
  CHECK(report.driver_calls == 1);
  CHECK(report.syncs == 1);
  CHECK(report.event_records == 1);
  CHECK(report.nvtx_ranges == 2);
  CHECK(report.unused_rows == 1);
  CHECK(report.other_device == 0);
  CHECK(report.other_process == 0);
  CHECK(report.missing_optional.empty());
  REQUIRE(report.devices.size() == 1);
  CHECK(report.devices[0].kernels == 2);
  CHECK(report.pids == std::vector<int64_t>{100});

  // The driver call keeps its thread and correlation.
  const ApiCall* cu = nullptr;
  for (const ApiCall& a : c.api) {
    if (a.driver) cu = &a;
  }
  REQUIRE(cu != nullptr);
  CHECK(cu->name == "cuLaunchKernel");
  CHECK(cu->thread == 101);
  CHECK(cu->correlation == 2);
  CHECK(cu->start_ns == kBase + 2100);
  // Ranges keep the full emit_nvtx label, from textId or text.
  CHECK(c.ranges[0].name == "aten::addmm, seq = 12, op_id = 3, sizes = [[8, 768], [768, 768]]");
  CHECK(c.ranges[0].thread == 101);
  CHECK(c.ranges[1].name == "aten::relu, seq = 13");

  NsysImportOptions options;
  const std::vector<NsysTrace> traces = ImportNsys(dir / "run.sqlite", options, &report);
  REQUIRE(traces.size() == 1);
  const Trace& t = traces[0].trace;
  CHECK(t.tenant == "run");
  CHECK(t.device_name == "NVIDIA A100 SXM4 80GB");
  CHECK(t.device_gpu == "a100-sxm4-80g");
  CHECK(t.meta["nsys"]["pid"] == 100);
  CHECK(t.meta["nsys"]["device"] == 0);
  CHECK(t.meta["nsys"]["file"] == "run.sqlite");
  CHECK(t.meta["source"] == "nsys");
  // Rebased on the first task, the cudaMemcpyAsync at 1100 (cudaMalloc is no task).
  CHECK(t.meta["origin_ns"] == kBase + 1100);

  const BuildReport& b = traces[0].build;
  CHECK(b.kernels == 2);
  CHECK(b.memcpys == 1);
  CHECK(b.memsets == 1);
  CHECK(b.launches == 4);  // memcpy, two kernels, memset; the driver call folded in
  CHECK(b.streams == 2);
  CHECK(b.threads == 1);
  CHECK(b.unlabelled_kernels == 0);
  CHECK(b.orphan_gpu == 0);

  const std::vector<const Task*> kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 2);
  const Task& gemm = *kernels[0];
  CHECK(t.Name(gemm) == "void gemm<float>(float*)");
  CHECK(t.Op(gemm) == "aten::addmm");
  CHECK(gemm.start_ns == 1500);
  CHECK(gemm.dur_ns == 2000);
  CHECK(gemm.stream == 7);
  CHECK(gemm.grid == std::array<int32_t, 3>{4, 2, 1});
  CHECK(gemm.block == std::array<int32_t, 3>{128, 1, 1});
  CHECK(gemm.regs == 32);
  CHECK(gemm.smem == 3072);
  const Task& relu = *kernels[1];
  CHECK(t.Name(relu) == "relu_kernel");
  CHECK(t.Op(relu) == "aten::relu");
  CHECK(relu.start_ns == 4900);
  CHECK(relu.dur_ns == 500);
  CHECK(relu.stream == 13);
  // DRAM figures (EstimateImportedMemory), on the spec the device name
  // matches. The addmm label's sizes give mat1 [8, 768] but no mat2
  // (emit_nvtx lists two inputs here), so no shape estimate: the gemm falls
  // back to its name's class. relu_kernel has no class and aten::relu no
  // sizes: no figure.
  CHECK(t.meta["memory"]["gpu"] == "a100-sxm4-80g");
  CHECK(!t.meta["memory"].contains("gpu_unknown"));
  CHECK(t.meta["memory"]["name"] == 1);
  CHECK(t.meta["memory"]["none"] == 1);
  const GpuSpec a100 = LoadGpuSpec("a100-sxm4-80g");
  REQUIRE(ClassifyKernelName(t.Name(gemm)) == NameClass::kGemm);
  CHECK(gemm.dram_source == DramSource::kName);
  CHECK(gemm.mem_bound == NameClassDefaults(NameClass::kGemm, a100)->mem_bound);
  // Physics: never more than peak DRAM bandwidth over the kernel's time.
  CHECK(gemm.dram_bytes > 0);
  CHECK(static_cast<double>(gemm.dram_bytes) <= a100.dram_gbps * static_cast<double>(gemm.dur_ns));
  CHECK(DramSourceOf(relu) == DramSource::kNone);

  const std::vector<const Task*> launches = OfKind(t, TaskKind::kLaunch);
  REQUIRE(launches.size() == 4);
  CHECK(launches[1]->start_ns == 900);  // cudaLaunchKernel at 2000, the cu call inside it
  CHECK(launches[1]->dur_ns == 500);
  CHECK(launches[1]->thread == 1);
  CHECK(launches[1]->correlation == gemm.correlation);
  CHECK(t.Name(*launches[1]) == "cudaLaunchKernel");  // nsys's "_v7000" dropped
  CHECK(t.Name(*launches[0]) == "cudaMemcpyAsync");

  const std::vector<const Task*> copies = OfKind(t, TaskKind::kMemcpy);
  REQUIRE(copies.size() == 1);
  CHECK(copies[0]->dir == CopyDir::kH2D);
  CHECK(copies[0]->bytes == 4096);
  CHECK(copies[0]->start_ns == 300);
  CHECK(copies[0]->dur_ns == 500);
  CHECK(t.Name(*copies[0]) == "Memcpy HtoD");
  const std::vector<const Task*> sets = OfKind(t, TaskKind::kMemset);
  REQUIRE(sets.size() == 1);
  CHECK(sets[0]->bytes == 512);
  CHECK(sets[0]->stream == 13);
  CHECK(sets[0]->start_ns == 5500);

  const std::vector<const Task*> records = OfKind(t, TaskKind::kEventRecord);
  REQUIRE(records.size() == 1);
  CHECK(records[0]->event == 42);
  CHECK(records[0]->stream == 7);
  CHECK(records[0]->start_ns == 4000);
  const std::vector<const Task*> waits = OfKind(t, TaskKind::kStreamWait);
  REQUIRE(waits.size() == 1);
  CHECK(waits[0]->event == 42);
  CHECK(waits[0]->stream == 13);
  CHECK(waits[0]->start_ns == 4200);

  // The trace is valid: it survives writing and reading back.
  WriteTrace(t, dir / "run.json");
  const Trace back = ReadTrace(dir / "run.json");
  CHECK(back.tasks.size() == t.tasks.size());
}

TEST_CASE("nsys: synchronizations, start/end ranges, unknown copy and sync kinds", "[nsys]") {
  TempDir dir("cotenant_nsys_sync");
  const int64_t none = 0xFFFFFFFF;  // CUPTI's "no stream / no event"
  {
    Report r(dir / "sync.sqlite");
    r.CurrentSchema();
    Strings(r);
    r.String(20, "cudaStreamSynchronize_v3020");
    r.String(21, "cudaEventSynchronize_v3020");
    r.String(22, "cudaDeviceSynchronize_v3020");
    r.Gpu(0, "NVIDIA A100 SXM4 80GB");
    r.Nvtx(50, 51, 60, 0, 10000, "step");
    r.Api(false, 50, 51, 1, 100, 200, kLaunch);
    r.Kernel(50, 0, 7, 1, 300, 1300, kRelu);
    r.Api(false, 50, 51, 2, 400, 450, kEventRecordApi);
    r.EventRecord(50, 0, 7, 2, 9);
    r.Api(false, 50, 51, 3, 500, 1400, 20);
    r.Sync(50, 0, 7, 3, 500, 1400, 3, none);
    r.Api(false, 50, 51, 4, 1500, 1600, 21);
    r.Sync(50, 0, none, 4, 1500, 1600, 1, 9);
    r.Api(false, 50, 51, 5, 1700, 1800, 22);
    r.Sync(50, 0, none, 5, 1700, 1800, 4, none);
    r.Api(false, 50, 51, 6, 1900, 2000, kMemcpyAsync);
    r.Memcpy(50, 0, 7, 6, 2100, 2200, 100, 0);
    r.Sync(50, 0, 7, 7, 2300, 2400, 0, none);  // unknown sync type
    r.Exec("INSERT INTO NVTX_EVENTS (start, end, eventType, text) VALUES (" +
           std::to_string(kBase + 10) + ", " + std::to_string(kBase + 20) + ", 59, 'no thread')");
  }
  NsysReport report;
  const std::vector<NsysTrace> traces = ImportNsys(dir / "sync.sqlite", {}, &report);
  REQUIRE(traces.size() == 1);
  CHECK(report.syncs == 3);
  CHECK(report.event_records == 1);
  CHECK(report.unused_rows == 2);  // the sync of type 0, the range without a thread
  CHECK(report.problems ==
        std::vector<std::string>{"1 memcpys of unknown copyKind taken as device to device"});
  const Trace& t = traces[0].trace;
  CHECK(traces[0].build.syncs == 3);
  const std::vector<const Task*> syncs = OfKind(t, TaskKind::kSync);
  REQUIRE(syncs.size() == 3);
  CHECK(syncs[0]->scope == SyncScope::kStream);
  CHECK(syncs[0]->stream == 7);
  CHECK(syncs[0]->start_ns == 400);  // rebased on the launch at 100
  CHECK(syncs[0]->dur_ns == 900);
  CHECK(syncs[1]->scope == SyncScope::kEvent);
  CHECK(syncs[1]->event == 9);
  CHECK(syncs[2]->scope == SyncScope::kDevice);
  const std::vector<const Task*> kernels = OfKind(t, TaskKind::kKernel);
  REQUIRE(kernels.size() == 1);
  CHECK(t.Op(*kernels[0]) == "step");  // a start/end range labels too
  const std::vector<const Task*> copies = OfKind(t, TaskKind::kMemcpy);
  REQUIRE(copies.size() == 1);
  CHECK(copies[0]->dir == CopyDir::kD2D);
  CHECK(t.Name(*copies[0]) == "Memcpy");
}

TEST_CASE("nsys: older schema (shortName only, NVTX text only, no driver/sync tables)", "[nsys]") {
  TempDir dir("cotenant_nsys_old");
  {
    Report r(dir / "old.sqlite");
    r.Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    r.Exec("CREATE TABLE TARGET_INFO_GPU (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    r.Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT "
        "NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT "
        "NULL, correlationId INTEGER, globalPid INTEGER, shortName INTEGER NOT NULL, "
        "gridX INTEGER NOT NULL, gridY INTEGER NOT NULL, gridZ INTEGER NOT NULL, "
        "blockX INTEGER NOT NULL, blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL)");
    r.Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT "
        "NULL, eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER, "
        "nameId INTEGER NOT NULL, returnValue INTEGER NOT NULL)");
    r.Exec(
        "CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT "
        "NULL, rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, "
        "globalTid INTEGER)");
    Strings(r);
    r.Exec("INSERT INTO TARGET_INFO_GPU VALUES (0, 'Tesla V100-SXM2-16GB')");
    const int64_t g = Gtid(7, 8);
    r.Exec("INSERT INTO NVTX_EVENTS VALUES (" + std::to_string(kBase) + ", " +
           std::to_string(kBase + 900) + ", 59, 0, 0, 0, 'aten::mm, seq = 1', " +
           std::to_string(g) + ")");
    r.Exec("INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (" + std::to_string(kBase + 100) + ", " +
           std::to_string(kBase + 300) + ", 0, " + std::to_string(g) + ", 9, " +
           std::to_string(kLaunch) + ", 0)");
    r.Exec("INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (" + std::to_string(kBase + 400) + ", " +
           std::to_string(kBase + 1400) + ", 0, 1, 7, 9, " + std::to_string(Gpid(7)) + ", " +
           std::to_string(kGemm) + ", 2, 1, 1, 64, 1, 1)");
  }
  NsysReport report;
  const std::vector<NsysTrace> traces = ImportNsys(dir / "old.sqlite", {}, &report);
  REQUIRE(traces.size() == 1);
  CHECK(report.missing_optional ==
        std::vector<std::string>{"CUPTI_ACTIVITY_KIND_KERNEL.registersPerThread",
                                 "CUPTI_ACTIVITY_KIND_KERNEL.staticSharedMemory",
                                 "CUPTI_ACTIVITY_KIND_KERNEL.dynamicSharedMemory"});
  const Trace& t = traces[0].trace;
  CHECK(t.device_name == "Tesla V100-SXM2-16GB");
  REQUIRE(t.tasks.size() == 2);
  const Task& launch = t.tasks[0];
  const Task& kernel = t.tasks[1];
  CHECK(launch.kind == TaskKind::kLaunch);
  CHECK(launch.start_ns == 0);
  CHECK(launch.dur_ns == 200);
  CHECK(kernel.kind == TaskKind::kKernel);
  CHECK(kernel.start_ns == 300);
  CHECK(kernel.dur_ns == 1000);
  CHECK(kernel.grid == std::array<int32_t, 3>{2, 1, 1});
  CHECK(kernel.regs == 32);  // unknown: the trace default
  CHECK(kernel.smem == 0);
  CHECK(t.Name(kernel) == "void gemm<float>(float*)");
  CHECK(t.Op(kernel) == "aten::mm");
  CHECK(t.meta["nsys"]["missing_columns"].size() == 3);
}

TEST_CASE("nsys: several devices are refused without --device, one is picked with it", "[nsys]") {
  TempDir dir("cotenant_nsys_dev");
  {
    Report r(dir / "two.sqlite");
    r.CurrentSchema();
    Strings(r);
    r.Gpu(0, "NVIDIA A100 SXM4 80GB");
    r.Gpu(1, "NVIDIA H100 SXM5 80GB");
    OneProcess(r, 0, 100);
    r.Kernel(100, 1, 21, 50, 3000, 3500, kRelu);
    r.Kernel(100, 1, 21, 51, 3600, 3700, kRelu);
    r.Api(false, 100, 101, 50, 2900, 2950, kLaunch);
    r.Api(false, 100, 101, 51, 3550, 3580, kLaunch);
  }
  CHECK(ErrorOf([&] { ImportNsys(dir / "two.sqlite", {}, nullptr); }) ==
        dir / "two.sqlite" +
            ": the report has 2 devices; pick one with --device N (0 \"NVIDIA A100 SXM4 80GB\": "
            "2 kernels, 1 memcpys, 1 memsets; 1 \"NVIDIA H100 SXM5 80GB\": 2 kernels, 0 "
            "memcpys, 0 memsets)");
  NsysImportOptions options;
  options.select.device = 1;
  NsysReport report;
  const std::vector<NsysTrace> traces = ImportNsys(dir / "two.sqlite", options, &report);
  REQUIRE(traces.size() == 1);
  const Trace& t = traces[0].trace;
  CHECK(t.device_name == "NVIDIA H100 SXM5 80GB");
  CHECK(traces[0].build.kernels == 2);
  CHECK(traces[0].build.memcpys == 0);
  CHECK(report.kernels == 2);
  CHECK(report.other_device == 6);  // 2 kernels, memcpy, memset, sync, event record of device 0
  CHECK(OfKind(t, TaskKind::kKernel)[0]->stream == 21);
  CHECK(t.meta["nsys"]["device"] == 1);
  options.select.device = 3;
  CHECK(ErrorOf([&] { ImportNsys(dir / "two.sqlite", options, nullptr); }) ==
        dir / "two.sqlite" +
            ": --device 3: no GPU work on that device (devices: 0 \"NVIDIA A100 SXM4 80GB\": 2 "
            "kernels, 1 memcpys, 1 memsets; 1 \"NVIDIA H100 SXM5 80GB\": 2 kernels, 0 memcpys, "
            "0 memsets)");
}

TEST_CASE("nsys: each process becomes its own trace", "[nsys]") {
  TempDir dir("cotenant_nsys_proc");
  {
    Report r(dir / "pair.sqlite");
    r.CurrentSchema();
    Strings(r);
    r.Gpu(0, "NVIDIA A100 SXM4 80GB");
    OneProcess(r, 0, 300);
    OneProcess(r, 0, 200);
    // A process with host calls only: no tenant.
    r.Api(false, 999, 1000, 1, 10, 20, kLaunch);
  }
  NsysReport report;
  NsysImportOptions options;
  options.tenant = "bert";
  const std::vector<NsysTrace> traces = ImportNsys(dir / "pair.sqlite", options, &report);
  REQUIRE(traces.size() == 2);
  CHECK(report.pids == std::vector<int64_t>{200, 300});
  CHECK(report.other_process == 1);
  CHECK(traces[0].pid == 200);
  CHECK(traces[0].trace.tenant == "bert.pid200");
  CHECK(traces[1].trace.tenant == "bert.pid300");
  for (const NsysTrace& t : traces) {
    CHECK(t.build.kernels == 2);
    CHECK(t.build.launches == 4);
    CHECK(OfKind(t.trace, TaskKind::kEventRecord).size() == 1);
    CHECK(OfKind(t.trace, TaskKind::kStreamWait).size() == 1);
    CHECK(t.trace.Op(*OfKind(t.trace, TaskKind::kKernel)[0]) == "aten::addmm");
  }
  options.select.pid = 300;
  const std::vector<NsysTrace> one = ImportNsys(dir / "pair.sqlite", options, &report);
  REQUIRE(one.size() == 1);
  CHECK(one[0].pid == 300);
  CHECK(one[0].trace.tenant == "bert");
  CHECK(report.pids == std::vector<int64_t>{200, 300});
  options.select.pid = 5;
  CHECK(ErrorOf([&] { ImportNsys(dir / "pair.sqlite", options, nullptr); }) ==
        dir / "pair.sqlite" +
            ": --pid 5: no GPU work of that process on device 0 (processes: 200, 300)");
}

TEST_CASE("nsys: unknown schemas and files that are not reports are refused", "[nsys]") {
  TempDir dir("cotenant_nsys_bad");
  {
    Report r(dir / "nostart.sqlite");
    r.Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    r.Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (begin INTEGER, end INTEGER, deviceId "
        "INTEGER, streamId INTEGER, correlationId INTEGER, globalPid INTEGER, "
        "demangledName INTEGER)");
  }
  CHECK(ErrorOf([&] { ImportNsys(dir / "nostart.sqlite", {}, nullptr); }) ==
        dir / "nostart.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.start: missing column (unknown Nsight Systems schema; "
            "expected a report exported with `nsys export --type sqlite`)");
  {
    Report r(dir / "noname.sqlite");
    r.Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    r.Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, deviceId "
        "INTEGER, streamId INTEGER, correlationId INTEGER, globalPid INTEGER, name TEXT)");
  }
  CHECK(ErrorOf([&] { ImportNsys(dir / "noname.sqlite", {}, nullptr); }) ==
        dir / "noname.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.demangledName: missing column (unknown Nsight Systems "
            "schema; expected a report exported with `nsys export --type sqlite`)");
  {
    Report r(dir / "nostrings.sqlite");
    r.Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMSET (start INTEGER, end INTEGER, deviceId "
        "INTEGER, streamId INTEGER, correlationId INTEGER, globalPid INTEGER, bytes INTEGER)");
  }
  CHECK(ErrorOf([&] { ImportNsys(dir / "nostrings.sqlite", {}, nullptr); }) ==
        dir / "nostrings.sqlite" +
            ": StringIds: missing table (unknown Nsight Systems schema; expected a report "
            "exported with `nsys export --type sqlite`)");
  {
    Report r(dir / "nocuda.sqlite");
    r.Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    r.Exec("CREATE TABLE OSRT_API (start INTEGER, end INTEGER)");
  }
  CHECK(ErrorOf([&] { ImportNsys(dir / "nocuda.sqlite", {}, nullptr); }) ==
        dir / "nocuda.sqlite" +
            ": no CUDA GPU activity in the report (no CUPTI_ACTIVITY_KIND_KERNEL, _MEMCPY or "
            "_MEMSET table; was it captured with `nsys profile --trace=cuda`?)");
  // Values a trace cannot hold are refused, naming the field.
  const auto bad_kernel = [&](const std::string& file, const std::string& values) {
    Report r(dir / file);
    r.CurrentSchema();
    Strings(r);
    r.Exec("INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (" + values + ")");
  };
  // start, end, deviceId, contextId, streamId, correlationId, globalPid, demangledName,
  // shortName, mangledName, regs, grid x/y/z, block x/y/z, static, dynamic smem, graphNodeId
  bad_kernel("stream.sqlite", "10, 20, 0, 1, -3, 1, 0, 8, 8, NULL, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0");
  CHECK(ErrorOf([&] { ImportNsys(dir / "stream.sqlite", {}, nullptr); }) ==
        dir / "stream.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.streamId: expected a non-negative integer, found -3");
  bad_kernel("corr.sqlite", "10, 20, 0, 1, 7, 'abc', 0, 8, 8, NULL, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0");
  CHECK(ErrorOf([&] { ImportNsys(dir / "corr.sqlite", {}, nullptr); }) ==
        dir / "corr.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.correlationId: expected an integer, found \"abc\"");
  bad_kernel("grid.sqlite",
             "10, 20, 0, 1, 7, 1, 0, 8, 8, NULL, 32, 4294967296, 1, 1, 1, 1, 1, 0, 0, 0");
  CHECK(ErrorOf([&] { ImportNsys(dir / "grid.sqlite", {}, nullptr); }) ==
        dir / "grid.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.gridX: expected an integer in [-2147483648, "
            "2147483647], found 4294967296");
  bad_kernel("time.sqlite",
             "10, 9223372036854775807, 0, 1, 7, 1, 0, 8, 8, NULL, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0");
  CHECK(ErrorOf([&] { ImportNsys(dir / "time.sqlite", {}, nullptr); }) ==
        dir / "time.sqlite" +
            ": CUPTI_ACTIVITY_KIND_KERNEL.end: expected an integer in [-4611686018427387904, "
            "4611686018427387904], found 9223372036854775807");
  { std::ofstream(dir / "text.sqlite") << "{\"traceEvents\": []}\n"; }
  CHECK(ErrorOf([&] { ImportNsys(dir / "text.sqlite", {}, nullptr); }) ==
        dir / "text.sqlite" +
            ": not an Nsight Systems SQLite export (file is not a database; export the report "
            "with `nsys export --type sqlite`)");
  CHECK(ErrorOf([&] { ImportNsys(dir / "missing.sqlite", {}, nullptr); }) ==
        dir / "missing.sqlite" + ": cannot open: No such file or directory");

  // A real report cut short: the first page survives, the tables' pages do not.
  {
    Report r(dir / "full.sqlite");
    r.CurrentSchema();
    Strings(r);
    r.Gpu(0, "NVIDIA A100 SXM4 80GB");
    for (int i = 0; i < 200; ++i) OneProcess(r, 0, 100 + i);
  }
  {
    std::ifstream in(dir / "full.sqlite", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 16384);
    std::ofstream(dir / "cut.sqlite", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  const std::string cut = ErrorOf([&] { ImportNsys(dir / "cut.sqlite", {}, nullptr); });
  CHECK(cut.rfind(dir / "cut.sqlite" + ": ", 0) == 0);
  CHECK(cut.find('\n') == std::string::npos);
  CHECK(cut != "<no error>");
}

}  // namespace
}  // namespace cotenant::profiler
