// Tests of the file formats: trace, GPU spec, workload and plan readers and
// writers, each bad input checked for its exact message.
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <limits>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/plan.h"
#include "sim/trace.h"
#include "sim/workload.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::ErrorOf;
using testing::kData;
using testing::TempDir;

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kFormats = kData + "/formats";

/// A trace document around `tasks` (the text inside the tasks array).
std::string TraceText(const std::string& tasks) {
  return R"({"schema": "cotenant.trace/1", "tasks": [)" + tasks + "]}";
}

/// The error of reading `text` as a trace. The SAX reader (ParseTrace) and
/// the DOM reader (TraceFromJson) must agree on it.
std::string TraceError(const std::string& text) {
  const std::string sax = ErrorOf([&] { ParseTrace(text, "t.json"); });
  const std::string dom = ErrorOf([&] { TraceFromJson(ParseJsonText(text, "t.json"), "t.json"); });
  CHECK(sax == dom);
  return sax;
}

/// The error of a trace with one task holding `fields` (inside its braces).
std::string TaskError(const std::string& fields) {
  return TraceError(TraceText("{" + fields + "}"));
}

void CheckSameTask(const Trace& a, const Task& x, const Trace& b, const Task& y) {
  CHECK(x.id == y.id);
  CHECK(x.kind == y.kind);
  CHECK(x.start_ns == y.start_ns);
  CHECK(x.dur_ns == y.dur_ns);
  CHECK(x.thread == y.thread);
  CHECK(x.stream == y.stream);
  CHECK(x.correlation == y.correlation);
  CHECK(x.event == y.event);
  CHECK(x.scope == y.scope);
  CHECK(x.dir == y.dir);
  CHECK(x.bytes == y.bytes);
  CHECK(x.grid == y.grid);
  CHECK(x.block == y.block);
  CHECK(x.regs == y.regs);
  CHECK(x.smem == y.smem);
  CHECK(a.Name(x) == b.Name(y));
  CHECK(a.Op(x) == b.Op(y));
  CHECK(x.dram_bytes == y.dram_bytes);
  CHECK(x.mem_bound == y.mem_bound);
  CHECK(x.dram_source == y.dram_source);
  CHECK(x.priority == y.priority);
  CHECK(x.sm_count == y.sm_count);
  CHECK(x.after == y.after);
}

void CheckSameTrace(const Trace& a, const Trace& b) {
  CHECK(a.tenant == b.tenant);
  CHECK(a.device_name == b.device_name);
  CHECK(a.device_gpu == b.device_gpu);
  CHECK(a.meta == b.meta);
  REQUIRE(a.tasks.size() == b.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i) CheckSameTask(a, a.tasks[i], b, b.tasks[i]);
}

}  // namespace

// ---------------------------------------------------------------- traces

TEST_CASE("trace: good file is read field by field", "[formats]") {
  const Trace t = ReadTrace(kFormats + "/trace_good.json");
  CHECK(t.file == kFormats + "/trace_good.json");
  CHECK(t.tenant == "tiny");
  CHECK(t.device_name == "NVIDIA H100 80GB HBM3");
  CHECK(t.device_gpu == "h100-sxm");
  CHECK(t.meta["batch"] == 8);
  REQUIRE(t.tasks.size() == 13);

  const Task& copy = t.tasks[1];
  CHECK(copy.kind == TaskKind::kMemcpy);
  CHECK(copy.dir == CopyDir::kH2D);
  CHECK(copy.bytes == 602112);
  CHECK(copy.stream == 7);
  CHECK(copy.thread == kAbsent);
  CHECK(copy.correlation == 11);

  const Task& gemm = t.tasks[3];
  CHECK(gemm.id == 4);
  CHECK(gemm.kind == TaskKind::kKernel);
  CHECK(t.Name(gemm) == "sm90_xmma_gemm_f16f16_f16f32");
  CHECK(t.Op(gemm) == "aten::linear");
  CHECK(gemm.start_ns == 36000);
  CHECK(gemm.dur_ns == 52000);
  CHECK(gemm.end_ns() == 88000);
  CHECK(gemm.grid == std::array<int32_t, 3>{264, 1, 1});
  CHECK(gemm.block == std::array<int32_t, 3>{128, 1, 1});  // padded with 1
  CHECK(gemm.HasShape());
  CHECK(gemm.Blocks() == 264);
  CHECK(gemm.ThreadsPerBlock() == 128);
  CHECK(gemm.regs == 168);
  CHECK(gemm.smem == 98304);
  CHECK(gemm.dram_bytes == 41943040);
  CHECK(gemm.mem_bound == 0.2);
  CHECK(gemm.priority == INT32_MIN);
  CHECK(gemm.sm_count == -1);

  CHECK(t.tasks[4].kind == TaskKind::kEventRecord);
  CHECK(t.tasks[4].event == 3);
  CHECK(t.tasks[5].kind == TaskKind::kStreamWait);
  CHECK(t.tasks[7].kind == TaskKind::kMemset);
  CHECK(t.tasks[8].kind == TaskKind::kCpu);
  CHECK(t.tasks[9].scope == SyncScope::kStream);
  CHECK(t.tasks[10].scope == SyncScope::kEvent);
  CHECK(t.tasks[12].scope == SyncScope::kDevice);

  const Task& relu = t.tasks[11];  // GPU-only: no launch shape, no correlation
  CHECK_FALSE(relu.HasShape());
  CHECK(relu.regs == 32);
  CHECK(relu.smem == 0);
  CHECK(relu.correlation == kAbsent);
  CHECK(relu.mem_bound < 0);
  CHECK(relu.dram_bytes == kAbsent);
  CHECK(relu.priority == -1);
  CHECK(relu.sm_count == 64);
  CHECK(relu.after == std::vector<int64_t>{4, 8});
  CHECK(gemm.after.empty());
  CHECK(t.Name(t.tasks[12]) == "cudaDeviceSynchronize");
}

TEST_CASE("trace: names and operators are interned", "[formats]") {
  Trace t = ReadTrace(kFormats + "/trace_good.json");
  const size_t strings = t.strings.size();
  CHECK(t.tasks[2].name == t.Intern("cudaLaunchKernel"));
  CHECK(t.strings.size() == strings);
  Trace u;
  CHECK(u.Intern("a") == 0);
  CHECK(u.Intern("b") == 1);
  CHECK(u.Intern("a") == 0);
  u.strings.push_back("c");  // appended directly: still found
  CHECK(u.Intern("c") == 2);
  CHECK(u.strings.size() == 3);
  u.strings.clear();
  CHECK(u.Intern("b") == 0);
  Task none;
  CHECK(u.Name(none).empty());
  CHECK(u.Op(none).empty());
}

TEST_CASE("trace: round trip through the writer is exact", "[formats]") {
  const Trace t = ReadTrace(kFormats + "/trace_good.json");
  const std::string text = TraceToJsonText(t);
  const Trace back = ParseTrace(text, "rt.json");
  CheckSameTrace(t, back);
  CHECK(TraceToJsonText(back) == text);
  CHECK(TraceToJsonText(TraceFromJson(ParseJsonText(text, "rt.json"), "rt.json")) == text);
  CHECK(TraceToJsonText(ReadTrace(kFormats + "/trace_good.json.gz")) == text);

  TempDir tmp;
  WriteTrace(t, tmp / "t.json");
  WriteTrace(t, tmp / "t.json.gz");
  CHECK(ReadFileText(tmp / "t.json") == text);
  CheckSameTrace(t, ReadTrace(tmp / "t.json.gz"));
}

TEST_CASE("trace: writer layout is compact, one task per line, set fields only", "[formats]") {
  Trace t;
  t.tenant = "x";
  Task cpu;
  cpu.id = 1;
  cpu.kind = TaskKind::kCpu;
  cpu.thread = 4;
  cpu.start_ns = 10;
  cpu.dur_ns = 5;
  cpu.name = t.Intern("say \"hi\"");
  t.tasks.push_back(cpu);
  Task k;
  k.id = 2;
  k.kind = TaskKind::kKernel;
  k.stream = 7;
  k.dur_ns = 100;
  k.grid = {2, 1, 1};
  k.block = {64, 2, 1};
  k.mem_bound = 0.25;
  k.after = {1};
  t.tasks.push_back(k);
  CHECK(TraceToJsonText(t) ==
        "{\"schema\":\"cotenant.trace/1\",\"tenant\":\"x\",\"tasks\":[\n"
        "{\"id\":1,\"kind\":\"cpu\",\"name\":\"say \\\"hi\\\"\",\"thread\":4,\"start_ns\":10,"
        "\"dur_ns\":5},\n"
        "{\"id\":2,\"kind\":\"kernel\",\"stream\":7,\"start_ns\":0,\"dur_ns\":100,"
        "\"grid\":[2,1,1],\"block\":[64,2,1],\"regs\":32,\"smem\":0,\"mem_bound\":0.25,"
        "\"after\":[1]}\n"
        "]}\n");
  CHECK(TraceToJsonText(Trace{}) == "{\"schema\":\"cotenant.trace/1\",\"tasks\":[\n]}\n");
  CHECK(ParseTrace(TraceToJsonText(Trace{}), "e.json").tasks.empty());
}

TEST_CASE("trace: dram_source says where DRAM figures came from", "[formats]") {
  const std::string k = R"({"id": 1, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 10, )";
  const Trace t = ParseTrace(
      TraceText(k + R"("dram_bytes": 100})" + ",\n" +
                R"({"id": 2, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 10, )" +
                R"("mem_bound": 0.5, "dram_source": "name"})" + ",\n" +
                R"({"id": 3, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 10, )" +
                R"("dram_bytes": 5, "mem_bound": 0.01, "dram_source": "shape"})" + ",\n" +
                R"({"id": 4, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 10, )" +
                R"("dram_bytes": 5, "dram_source": "counter"})" + ",\n" +
                R"({"id": 5, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 10})"),
      "t.json");
  REQUIRE(t.tasks.size() == 5);
  // A figure without a source is a counter (the only figures before the field).
  CHECK(t.tasks[0].dram_source == DramSource::kCounter);
  CHECK(t.tasks[1].dram_source == DramSource::kName);
  CHECK(t.tasks[2].dram_source == DramSource::kShape);
  CHECK(t.tasks[3].dram_source == DramSource::kCounter);
  CHECK(t.tasks[4].dram_source == DramSource::kNone);
  CHECK(DramSourceOf(t.tasks[4]) == DramSource::kNone);
  // Written: estimates name their source, counters need not (old traces keep their bytes).
  const std::string text = TraceToJsonText(t);
  CHECK(text.find(R"("mem_bound":0.5,"dram_source":"name")") != std::string::npos);
  CHECK(text.find(R"("mem_bound":0.01,"dram_source":"shape")") != std::string::npos);
  CHECK(text.find("counter") == std::string::npos);
  CHECK(TraceToJsonText(ParseTrace(text, "t.json")) == text);
  // An unset source on a figure made in memory counts as a counter.
  Task m;
  m.dram_bytes = 1;
  CHECK(DramSourceOf(m) == DramSource::kCounter);
  CHECK(std::string(DramSourceName(DramSource::kShape)) == "shape");
}

TEST_CASE("trace: reference rules that are valid", "[formats]") {
  // GPU-only trace.
  CHECK(ParseTrace(TraceText(R"({"id": 1, "kind": "kernel", "stream": 7, "start_ns": 0,
                                 "dur_ns": 5, "correlation": 99})"),
                   "t.json")
            .tasks.size() == 1);
  // A launch whose GPU task is not in the trace.
  CHECK(ParseTrace(TraceText(R"({"id": 1, "kind": "launch", "thread": 1, "start_ns": 0,
                                 "dur_ns": 5, "correlation": 99})"),
                   "t.json")
            .tasks.size() == 1);
  // An event_record at the same start, earlier in the file, counts as before.
  CHECK(ParseTrace(TraceText(R"(
      {"id": 1, "kind": "event_record", "thread": 1, "stream": 7, "event": 3, "start_ns": 10, "dur_ns": 1},
      {"id": 2, "kind": "stream_wait", "thread": 1, "stream": 9, "event": 3, "start_ns": 10, "dur_ns": 1})"),
                   "t.json")
            .tasks.size() == 2);
  // Several GPU tasks may share one launch's correlation; 3.0 is an integer.
  CHECK(ParseTrace(TraceText(R"(
      {"id": 1, "kind": "launch", "thread": 1, "start_ns": 0, "dur_ns": 5, "correlation": 1},
      {"id": 2, "kind": "kernel", "stream": 7, "start_ns": 6.0, "dur_ns": 5, "correlation": 1},
      {"id": 3, "kind": "kernel", "stream": 7, "start_ns": 12, "dur_ns": 5, "correlation": 1})"),
                   "t.json")
            .tasks[1]
            .start_ns == 6);
}

TEST_CASE("trace: bad files give exact messages", "[formats]") {
  const std::string bad = kData + "/bad/";
  CHECK(ErrorOf([&] { ReadTrace(bad + "malformed.json"); }) ==
        bad + "malformed.json:3:69: malformed JSON: unexpected '}'; expected string literal");
  CHECK(ErrorOf([&] { ReadTrace(bad + "truncated.json"); }) ==
        bad +
            "truncated.json:4:48: malformed JSON: unexpected end of input; invalid string: "
            "missing closing quote; last read: '\"start_'; expected string literal");
  CHECK(ErrorOf([&] { ReadTrace(bad + "wrong_type.json"); }) ==
        bad + "wrong_type.json: tasks[1].dur_ns: expected a non-negative integer, found a string");
  CHECK(ErrorOf([&] { ReadTrace(bad + "unknown_key.json"); }) ==
        bad + "unknown_key.json: tasks[0].strat_ns: unknown key; did you mean \"start_ns\"?");
  CHECK(ErrorOf([&] { ReadTrace(bad + "negative_dur.json"); }) ==
        bad + "negative_dur.json: tasks[1].dur_ns: expected a non-negative integer, found -5");
  CHECK(ErrorOf([&] { ReadTrace(bad + "missing_field.json"); }) ==
        bad +
            "missing_field.json: tasks[0].stream: missing required field (a \"kernel\" task "
            "needs it)");
  CHECK(ErrorOf([&] { ReadTrace(bad + "duplicate_id.json"); }) ==
        bad + "duplicate_id.json: tasks[2].id: duplicate id 1 (also tasks[0])");
  CHECK(ErrorOf([&] { ReadTrace(bad + "dangling_event.json"); }) ==
        bad +
            "dangling_event.json: tasks[0].event: dangling event 3: no event_record of it "
            "starts before this task");
  CHECK(ErrorOf([&] { ReadTrace(bad + "dangling_after.json"); }) ==
        bad + "dangling_after.json: tasks[1].after[0]: dangling task id 42");
  CHECK(ErrorOf([&] { ReadTrace(bad + "cyclic.json"); }) ==
        bad + "cyclic.json: dependency cycle: task 2 -> task 3 -> task 2");
  CHECK(ErrorOf([&] { ReadTrace(bad + "duplicate_correlation.json"); }) ==
        bad +
            "duplicate_correlation.json: tasks[1].correlation: duplicate launch correlation 10 "
            "(also tasks[0])");
  CHECK(ErrorOf([&] { ReadTrace(bad + "wrong_schema.json"); }) ==
        bad +
            "wrong_schema.json: schema: expected \"cotenant.trace/1\", found \"cotenant.trace/2\"");
  CHECK(ErrorOf([&] { ReadTrace(bad + "corrupt.json.gz"); }) ==
        bad + "corrupt.json.gz: corrupt gzip data: incorrect header check");
  CHECK(ErrorOf([&] { ReadTrace(bad + "missing.json"); }) ==
        bad + "missing.json: cannot open: No such file or directory");
}

TEST_CASE("trace: document-level errors", "[formats]") {
  CHECK(TraceError("[1, 2]") == "t.json: expected a JSON object, found an array");
  CHECK(TraceError("7") == "t.json: expected a JSON object, found 7");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1"})") == "t.json: tasks: missing required field");
  CHECK(TraceError(R"({"tasks": []})") ==
        "t.json: schema: missing required field (expected \"cotenant.trace/1\")");
  CHECK(TraceError(R"({"schema": "cotenant.plan/1", "tasks": []})") ==
        "t.json: schema: expected \"cotenant.trace/1\", found \"cotenant.plan/1\"");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "tasks": {}})") ==
        "t.json: tasks: expected an array, found an object");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "tasks": 3})") ==
        "t.json: tasks: expected an array, found 3");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "tasks": [[]]})") ==
        "t.json: tasks[0]: expected an object, found an array");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "tasks": [null]})") ==
        "t.json: tasks[0]: expected an object, found null");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "taks": [], "tasks": []})") ==
        "t.json: taks: unknown key; did you mean \"tasks\"?");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "meta": [1], "tasks": []})") ==
        "t.json: meta: expected an object, found an array");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "tenant": 5, "tasks": []})") ==
        "t.json: tenant: expected a string, found 5");
  CHECK(TraceError(R"({"schema": "cotenant.trace/1", "device": {"gpus": "a"}, "tasks": []})") ==
        "t.json: device.gpus: unknown key; did you mean \"gpu\"?");
  // Duplicate keys are visible to the streaming reader only.
  CHECK(ErrorOf([] {
          ParseTrace(R"({"schema": "cotenant.trace/1", "tasks": [], "tasks": []})", "t.json");
        }) == "t.json: tasks: duplicate key");
  CHECK(ErrorOf([] {
          ParseTrace(
              TraceText(
                  R"({"id": 1, "id": 2, "kind": "cpu", "thread": 1, "start_ns": 0, "dur_ns": 1})"),
              "t.json");
        }) == "t.json: tasks[0].id: duplicate key");
  // Header fields may follow the tasks.
  const Trace t = ParseTrace(
      R"({"tasks": [], "meta": {"a": {"b": [1, {"c": null}]}}, "tenant": "z", "schema": "cotenant.trace/1"})",
      "t.json");
  CHECK(t.tenant == "z");
  CHECK(t.meta == json::parse(R"({"a": {"b": [1, {"c": null}]}})"));
}

TEST_CASE("trace: field errors", "[formats]") {
  const std::string base = R"("id": 1, "start_ns": 0, "dur_ns": 10, )";
  const std::string kernel = base + R"("kind": "kernel", "stream": 7, )";
  CHECK(TaskError(R"("kind": "cpu", "thread": 1, "start_ns": 0, "dur_ns": 10)") ==
        "t.json: tasks[0].id: missing required field");
  CHECK(TaskError(R"("id": 1, "thread": 1, "start_ns": 0, "dur_ns": 10)") ==
        "t.json: tasks[0].kind: missing required field");
  CHECK(TaskError(R"("id": 1, "kind": "cpu", "thread": 1, "dur_ns": 10)") ==
        "t.json: tasks[0].start_ns: missing required field");
  CHECK(TaskError(R"("id": 1, "kind": "cpu", "thread": 1, "start_ns": 10)") ==
        "t.json: tasks[0].dur_ns: missing required field");
  CHECK(TaskError(base + R"("kind": "cpu", "thread": 1, "id2": 3)") ==
        "t.json: tasks[0].id2: unknown key; did you mean \"id\"?");
  CHECK(TaskError(base + R"("kind": "cpu", "thread": 1, "colour": 3)") ==
        "t.json: tasks[0].colour: unknown key");
  CHECK(TaskError(R"("id": -1, "kind": "cpu", "thread": 1, "start_ns": 0, "dur_ns": 10)") ==
        "t.json: tasks[0].id: expected a non-negative integer, found -1");
  CHECK(TaskError(R"("id": 1, "kind": "cpu", "thread": 1, "start_ns": 1.5, "dur_ns": 10)") ==
        "t.json: tasks[0].start_ns: expected a non-negative integer, found 1.5");
  CHECK(
      TaskError(
          R"("id": 1, "kind": "cpu", "thread": 1, "start_ns": 0, "dur_ns": 18446744073709551615)") ==
      "t.json: tasks[0].dur_ns: expected a non-negative integer, found 18446744073709551615");
  CHECK(TaskError(base + R"("kind": "kernal", "stream": 1)") ==
        "t.json: tasks[0].kind: expected one of \"launch\", \"kernel\", \"memcpy\", \"memset\", "
        "\"cpu\", \"event_record\", \"stream_wait\", \"sync\", found \"kernal\"; did you mean "
        "\"kernel\"?");
  CHECK(TaskError(base + R"("kind": 3, "stream": 1)") ==
        "t.json: tasks[0].kind: expected one of \"launch\", \"kernel\", \"memcpy\", \"memset\", "
        "\"cpu\", \"event_record\", \"stream_wait\", \"sync\", found 3");
  CHECK(TaskError(kernel + R"("name": 5)") == "t.json: tasks[0].name: expected a string, found 5");
  CHECK(TaskError(kernel + R"("op": ["a"])") ==
        "t.json: tasks[0].op: expected a string, found an array");
  CHECK(TaskError(kernel + R"("thread": {"a": 1})") ==
        "t.json: tasks[0].thread: expected a non-negative integer, found an object");

  // Launch shapes.
  CHECK(TaskError(kernel + R"("grid": [1])") ==
        "t.json: tasks[0].block: missing required field (grid and block must appear together)");
  CHECK(TaskError(kernel + R"("block": [1])") ==
        "t.json: tasks[0].grid: missing required field (grid and block must appear together)");
  CHECK(TaskError(kernel + R"("grid": [1, 2, 3, 4], "block": [1])") ==
        "t.json: tasks[0].grid: expected an array of 1 to 3 positive integers, found 4 elements");
  CHECK(TaskError(kernel + R"("grid": [], "block": [1])") ==
        "t.json: tasks[0].grid: expected an array of 1 to 3 positive integers, found 0 elements");
  CHECK(TaskError(kernel + R"("grid": 8, "block": [1])") ==
        "t.json: tasks[0].grid: expected an array of 1 to 3 positive integers, found 8");
  CHECK(TaskError(kernel + R"("grid": [8, 0], "block": [1])") ==
        "t.json: tasks[0].grid[1]: expected a positive integer, found 0");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [64, "a"])") ==
        "t.json: tasks[0].block[1]: expected a positive integer, found a string");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [64, [1]])") ==
        "t.json: tasks[0].block[1]: expected a positive integer, found an array");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [64, 32])") ==
        "t.json: tasks[0].block: expected at most 1024 threads per block, found 2048");
  // Found by the fuzz targets (tests/fuzz/): the product overflowed int32
  // (undefined behaviour) and could wrap below the limit.
  CHECK(TaskError(kernel + R"("grid": [8], "block": [65536, 65536, 1])") ==
        "t.json: tasks[0].block: expected at most 1024 threads per block, found 4294967296");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [1024, 2147483647, 2147483647])") ==
        "t.json: tasks[0].block: expected at most 1024 threads per block, found 1024 x "
        "2147483647 x 2147483647");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [2, 2147483647])") ==
        "t.json: tasks[0].block: expected at most 1024 threads per block, found 4294967294");
  CHECK(TaskError(kernel + R"("grid": [8], "block": [1, 1, 1025])") ==
        "t.json: tasks[0].block: expected at most 1024 threads per block, found 1025");
  // Grid y and z at most CUDA's 65535, so the block count fits in int64.
  CHECK(TaskError(kernel + R"("grid": [2147483647, 65536], "block": [1])") ==
        "t.json: tasks[0].grid[1]: expected at most 65535 (CUDA's limit for grid y and z), found "
        "65536");
  CHECK(TaskError(kernel + R"("grid": [1, 1, 2147483647], "block": [1])") ==
        "t.json: tasks[0].grid[2]: expected at most 65535 (CUDA's limit for grid y and z), found "
        "2147483647");
  CHECK(TaskError(kernel + R"("grid": [2147483647, 65535, 65535], "block": [1024])") ==
        "<no error>");
  CHECK(TaskError(kernel + R"("regs": 0)") ==
        "t.json: tasks[0].regs: expected an integer in 1..255, found 0");
  CHECK(TaskError(kernel + R"("regs": 256)") ==
        "t.json: tasks[0].regs: expected an integer in 1..255, found 256");
  CHECK(TaskError(kernel + R"("smem": -1)") ==
        "t.json: tasks[0].smem: expected a non-negative integer, found -1");
  CHECK(TaskError(kernel + R"("mem_bound": 1.5)") ==
        "t.json: tasks[0].mem_bound: expected a number in [0, 1], found 1.5");
  CHECK(TaskError(kernel + R"("mem_bound": "x")") ==
        "t.json: tasks[0].mem_bound: expected a number in [0, 1], found a string");
  CHECK(TaskError(kernel + R"("dram_bytes": -1)") ==
        "t.json: tasks[0].dram_bytes: expected a non-negative integer, found -1");
  CHECK(TaskError(kernel + R"("dram_bytes": 1, "dram_source": "guess")") ==
        "t.json: tasks[0].dram_source: expected one of \"counter\", \"shape\", \"name\", found "
        "\"guess\"");
  CHECK(TaskError(kernel + R"("dram_source": "shape")") ==
        "t.json: tasks[0].dram_source: given without dram_bytes or mem_bound (it says where they "
        "came from)");
  CHECK(TaskError(kernel + R"("priority": 0.5)") ==
        "t.json: tasks[0].priority: expected an integer, found 0.5");
  CHECK(TaskError(kernel + R"("sm_count": 0)") ==
        "t.json: tasks[0].sm_count: expected a positive integer, found 0");
  CHECK(TaskError(base + R"("kind": "memcpy", "stream": 1, "dir": "h2g")") ==
        "t.json: tasks[0].dir: expected one of \"h2d\", \"d2h\", \"d2d\", \"h2h\", \"p2p\", found "
        "\"h2g\"; did you mean \"h2d\"?");
  CHECK(TaskError(base + R"("kind": "sync", "thread": 1, "scope": "context")") ==
        "t.json: tasks[0].scope: expected one of \"stream\", \"device\", \"event\", found "
        "\"context\"");
}

TEST_CASE("trace: kind-specific required fields", "[formats]") {
  const std::string base = R"("id": 1, "start_ns": 0, "dur_ns": 10, )";
  const auto needs = [](const std::string& field, const std::string& kind) {
    return "t.json: tasks[0]." + field + ": missing required field (a \"" + kind +
           "\" task needs it)";
  };
  CHECK(TaskError(base + R"("kind": "kernel")") == needs("stream", "kernel"));
  CHECK(TaskError(base + R"("kind": "memset", "thread": 1)") == needs("stream", "memset"));
  CHECK(TaskError(base + R"("kind": "memcpy", "stream": 1)") == needs("dir", "memcpy"));
  CHECK(TaskError(base + R"("kind": "memcpy", "dir": "d2h")") == needs("stream", "memcpy"));
  CHECK(TaskError(base + R"("kind": "launch", "correlation": 1)") == needs("thread", "launch"));
  CHECK(TaskError(base + R"("kind": "cpu")") == needs("thread", "cpu"));
  CHECK(TaskError(base + R"("kind": "sync", "scope": "device")") == needs("thread", "sync"));
  CHECK(TaskError(base + R"("kind": "sync", "thread": 1)") == needs("scope", "sync"));
  CHECK(TaskError(base + R"("kind": "event_record", "thread": 1, "stream": 1)") ==
        needs("event", "event_record"));
  CHECK(TaskError(base + R"("kind": "event_record", "thread": 1, "event": 1)") ==
        needs("stream", "event_record"));
  CHECK(TaskError(base + R"("kind": "stream_wait", "thread": 1, "event": 1)") ==
        needs("stream", "stream_wait"));
  CHECK(TaskError(base + R"("kind": "sync", "thread": 1, "scope": "stream")") ==
        "t.json: tasks[0].stream: missing required field (a sync of scope \"stream\" needs it)");
  CHECK(TaskError(base + R"("kind": "sync", "thread": 1, "scope": "event")") ==
        "t.json: tasks[0].event: missing required field (a sync of scope \"event\" needs it)");
}

TEST_CASE("trace: reference errors", "[formats]") {
  // Explicit dependencies must name tasks of the trace.
  const std::string k1 =
      R"({"id": 1, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 100})";
  CHECK(
      TraceError(TraceText(
          k1 +
          R"(, {"id": 2, "kind": "kernel", "stream": 7, "start_ns": 100, "dur_ns": 100, "after": [1, 42]})")) ==
      "t.json: tasks[1].after[1]: dangling task id 42");
  CHECK(
      TraceError(TraceText(
          k1 +
          R"(, {"id": 2, "kind": "kernel", "stream": 7, "start_ns": 100, "dur_ns": 100, "after": 1})")) ==
      "t.json: tasks[1].after: expected an array of task ids, found 1");
  CHECK(
      TraceError(TraceText(
          k1 +
          R"(, {"id": 2, "kind": "kernel", "stream": 7, "start_ns": 100, "dur_ns": 100, "after": [-1]})")) ==
      "t.json: tasks[1].after[0]: expected a non-negative integer, found -1");
  // A later task may be named, but the `after` lists must not form a cycle.
  const std::string a = R"({"id": 1, "kind": "kernel", "stream": 7, "start_ns": 0, "dur_ns": 1)";
  const std::string b = R"({"id": 2, "kind": "kernel", "stream": 9, "start_ns": 0, "dur_ns": 1)";
  const std::string c = R"({"id": 3, "kind": "kernel", "stream": 11, "start_ns": 0, "dur_ns": 1)";
  CHECK(ParseTrace(TraceText(a + R"(, "after": [2]}, )" + b + "}"), "t.json").tasks[0].after ==
        std::vector<int64_t>{2});
  CHECK(TraceError(TraceText(a + "}, " + b + R"(, "after": [3]}, )" + c + R"(, "after": [2]})")) ==
        "t.json: dependency cycle: task 2 -> task 3 -> task 2");
  CHECK(TraceError(TraceText(a + R"(, "after": [3]}, )" + b + R"(, "after": [1]}, )" + c +
                             R"(, "after": [2]})")) ==
        "t.json: dependency cycle: task 1 -> task 3 -> task 2 -> task 1");
  CHECK(TraceError(TraceText(a + R"(, "after": [1]})")) ==
        "t.json: dependency cycle: task 1 -> task 1");
  // A diamond is not a cycle.
  CHECK(ParseTrace(TraceText(a + "}, " + b + R"(, "after": [1]}, )" + c + R"(, "after": [1, 2]})"),
                   "t.json")
            .tasks.size() == 3);
  const std::string record =
      R"({"id": 1, "kind": "event_record", "thread": 1, "stream": 7, "event": 3, "start_ns": 10, "dur_ns": 1})";
  // The event_record starts later.
  CHECK(
      TraceError(TraceText(
          R"({"id": 2, "kind": "sync", "thread": 1, "scope": "event", "event": 3, "start_ns": 5, "dur_ns": 1}, )" +
          record)) ==
      "t.json: tasks[0].event: dangling event 3: no event_record of it starts before this task");
  // Same start, but later in the file.
  CHECK(
      TraceError(TraceText(
          R"({"id": 2, "kind": "stream_wait", "thread": 1, "stream": 9, "event": 3, "start_ns": 10, "dur_ns": 1}, )" +
          record)) ==
      "t.json: tasks[0].event: dangling event 3: no event_record of it starts before this task");
  // A different event.
  CHECK(
      TraceError(TraceText(
          record +
          R"(, {"id": 2, "kind": "stream_wait", "thread": 1, "stream": 9, "event": 4, "start_ns": 20, "dur_ns": 1})")) ==
      "t.json: tasks[1].event: dangling event 4: no event_record of it starts before this task");
  // An earlier record of the same event anywhere in the file is enough.
  CHECK(
      ParseTrace(
          TraceText(
              R"({"id": 2, "kind": "stream_wait", "thread": 1, "stream": 9, "event": 3, "start_ns": 20, "dur_ns": 1}, )" +
              record),
          "t.json")
          .tasks.size() == 2);
}

// ---------------------------------------------------------------- GPU specs

TEST_CASE("gpu spec: good file, round trip", "[formats]") {
  const GpuSpec s = ReadGpuSpec(kFormats + "/gpu_good.json");
  CHECK(s.key == "test-h100");
  CHECK(s.name == "Test H100 SXM5 80GB (fixture)");
  CHECK(s.arch == "hopper");
  CHECK(s.compute_capability == 90);
  CHECK(s.sm_count == 132);
  CHECK(s.sm.max_threads == 2048);
  CHECK(s.sm.registers == 65536);
  CHECK(s.sm.smem_reserved_per_block == 1024);
  CHECK(s.sm.warp_size == 32);
  CHECK(s.clock_mhz == 1980.0);
  CHECK(s.tensor_tflops == 989.4);
  CHECK(s.dram_bytes == 85899345920LL);
  CHECK(s.l2_bytes == 52428800.0);
  CHECK(s.hw_queues == 32);
  CHECK(s.sm_partition_granularity == 8);
  CHECK(s.sm_partition_min == 8);
  CHECK(s.model.dram_efficiency == 0.9);
  CHECK(s.model.launch_latency_ns == 3000);
  CHECK_FALSE(s.model.calibrated);
  CHECK(s.model.source == "test fixture, not measured");
  CHECK(s.sources["sm_count"] == "test fixture");
  CHECK(s.EffectiveDramBytesPerNs() == Approx(3015.0));

  const json j = GpuSpecToJson(s);
  CHECK(j == ReadJsonFile(kFormats + "/gpu_good.json"));
  CHECK(GpuSpecToJson(GpuSpecFromJson(j, "rt.json")) == j);
}

TEST_CASE("gpu spec: the bundled A100 40GB is the 80GB part with its own memory", "[formats]") {
  const GpuSpec a40 = LoadGpuSpec("a100-sxm4-40g");
  CHECK(a40.key == "a100-sxm4-40g");
  CHECK(a40.name == "NVIDIA A100 SXM4 40GB");
  CHECK(a40.dram_gbps == 1555.0);
  CHECK(a40.dram_bytes == 40LL << 30);
  // Everything else (and every source but those and the device names) as in
  // a100-sxm4-80g.
  json j40 = GpuSpecToJson(a40), j80 = GpuSpecToJson(LoadGpuSpec("a100-sxm4-80g"));
  for (json* j : {&j40, &j80}) {
    for (const char* key : {"key", "name", "dram_gbps", "dram_bytes", "device_names"})
      j->erase(key);
    (*j)["sources"].erase("dram_gbps");
    (*j)["sources"].erase("dram_bytes");
    (*j)["sources"].erase("device_names");
  }
  CHECK(j40 == j80);
}

TEST_CASE("gpu spec: the co-run contention parameters are optional", "[formats]") {
  json j = ReadJsonFile(kFormats + "/gpu_good.json");
  j["model"]["l2_corun_traffic"] = 0.2;
  j["model"]["host_corun_slowdown"] = 0.025;
  GpuSpec s = GpuSpecFromJson(j, "g.json");
  CHECK(s.model.l2_corun_traffic == 0.2);
  CHECK(s.model.host_corun_slowdown == 0.025);
  CHECK(GpuSpecToJson(s)["model"] == j["model"]);  // written back
  // Absent (every spec written before they existed): 0, no effect.
  j["model"].erase("l2_corun_traffic");
  j["model"].erase("host_corun_slowdown");
  s = GpuSpecFromJson(j, "g.json");
  CHECK(s.model.l2_corun_traffic == 0.0);
  CHECK(s.model.host_corun_slowdown == 0.0);
  // Every bundled spec still reads.
  for (const std::string& key : ListGpuSpecs()) {
    INFO(key);
    CHECK(LoadGpuSpec(key).model.host_corun_slowdown == 0.0);
  }
}

TEST_CASE("gpu spec: errors", "[formats]") {
  const json good = ReadJsonFile(kFormats + "/gpu_good.json");
  const auto error = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return ErrorOf([&] { GpuSpecFromJson(j, "g.json"); });
  };
  CHECK(error([](json& j) { j["schema"] = "cotenant.gpu/2"; }) ==
        "g.json: schema: expected \"cotenant.gpu/1\", found \"cotenant.gpu/2\"");
  CHECK(error([](json& j) { j["compute_capability"] = "9"; }) ==
        "g.json: compute_capability: expected a version like \"9.0\", found \"9\"");
  CHECK(error([](json& j) { j["compute_capability"] = 9.0; }) ==
        "g.json: compute_capability: expected a string, found 9.0");
  CHECK(error([](json& j) { j["sm_count"] = 0; }) ==
        "g.json: sm_count: expected a positive integer, found 0");
  CHECK(error([](json& j) { j["dram_gbps"] = -1; }) ==
        "g.json: dram_gbps: expected a positive number, found -1");
  CHECK(error([](json& j) { j["sm"]["max_thread"] = 1; }) ==
        "g.json: sm.max_thread: unknown key; did you mean \"max_threads\"?");
  CHECK(error([](json& j) { j["sm"].erase("warp_size"); }) ==
        "g.json: sm.warp_size: missing required field");
  CHECK(error([](json& j) { j["sm"]["max_smem_per_block"] = 300000; }) ==
        "g.json: sm.max_smem_per_block: expected at most smem_bytes (233472), found 300000");
  CHECK(error([](json& j) { j.erase("model"); }) == "g.json: model: missing required field");
  CHECK(error([](json& j) { j["model"]["dram_efficiency"] = 1.5; }) ==
        "g.json: model.dram_efficiency: expected a number in (0, 1], found 1.5");
  CHECK(error([](json& j) { j["model"]["corun_slowdown"] = -0.1; }) ==
        "g.json: model.corun_slowdown: expected a non-negative number, found -0.1");
  CHECK(error([](json& j) { j["model"]["l2_corun_traffic"] = -0.5; }) ==
        "g.json: model.l2_corun_traffic: expected a non-negative number, found -0.5");
  CHECK(error([](json& j) { j["model"]["l2_corun_traffic"] = "0.2"; }) ==
        "g.json: model.l2_corun_traffic: expected a number, found a string");
  CHECK(error([](json& j) { j["model"]["host_corun_slowdown"] = -1; }) ==
        "g.json: model.host_corun_slowdown: expected a non-negative number, found -1");
  CHECK(error([](json& j) { j["model"]["host_corun_slowdown"] = nullptr; }) ==
        "g.json: model.host_corun_slowdown: expected a number, found null");
  CHECK(error([](json& j) {
          j["model"]["l2_corun_traffic"] = std::numeric_limits<double>::infinity();
        }) == "g.json: model.l2_corun_traffic: expected a non-negative number, found null");
  CHECK(error([](json& j) { j["model"]["host_corun_slowdow"] = 0.1; }) ==
        "g.json: model.host_corun_slowdow: unknown key; did you mean \"host_corun_slowdown\"?");
  CHECK(error([](json& j) { j["sm_partition"]["granularity"] = -8; }) ==
        "g.json: sm_partition.granularity: expected a non-negative integer, found -8");
  CHECK(error([](json& j) { j["sm_partition"]["granularity"] = 0; }) == "<no error>");
  CHECK(error([](json& j) { j["sources"] = 1; }) == "g.json: sources: expected an object, found 1");
  CHECK(error([](json& j) { j["tflops"] = 1; }) == "g.json: tflops: unknown key");
}

TEST_CASE("gpu spec: lookup by key and by path", "[formats]") {
  TempDir tmp;
  GpuSpec a = ReadGpuSpec(kFormats + "/gpu_good.json");
  GpuSpec b = a;
  b.key = "test-a100";
  b.sm_count = 108;
  fs::create_directories(tmp.path / "gpus");
  WriteFileAtomic(tmp / "gpus/test-h100.json", GpuSpecToJson(a).dump(2));
  WriteFileAtomic(tmp / "gpus/test-a100.json", GpuSpecToJson(b).dump(2));
  WriteFileAtomic(tmp / "gpus/README.md", "not a spec");

  const char* old = std::getenv("COTENANT_GPU_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("COTENANT_GPU_DIR", (tmp / "gpus").c_str(), 1);
  CHECK(GpuSpecDir() == tmp / "gpus");
  CHECK(ListGpuSpecs() == std::vector<std::string>{"test-a100", "test-h100"});
  CHECK(LoadGpuSpec("test-a100").sm_count == 108);
  CHECK(LoadGpuSpec(kFormats + "/gpu_good.json").sm_count == 132);
  CHECK(ErrorOf([] { LoadGpuSpec("test-h10"); }) ==
        "gpu spec \"test-h10\": no such GPU; known: test-a100, test-h100; did you mean "
        "\"test-h100\"?");
  CHECK(ErrorOf([] { LoadGpuSpec("h99"); }) ==
        "gpu spec \"h99\": no such GPU; known: test-a100, test-h100");
  CHECK(ErrorOf([&] { LoadGpuSpec(tmp / "gpus/none.json"); }) ==
        tmp / "gpus/none.json" + ": cannot open: No such file or directory");
  setenv("COTENANT_GPU_DIR", (tmp / "empty").c_str(), 1);
  CHECK(ListGpuSpecs().empty());
  CHECK(ErrorOf([] { LoadGpuSpec("h100-sxm"); }) ==
        "gpu spec \"h100-sxm\": no such GPU; known: none (no specs in " + tmp / "empty" + ")");
  if (old != nullptr) {
    setenv("COTENANT_GPU_DIR", saved.c_str(), 1);
  } else {
    unsetenv("COTENANT_GPU_DIR");
    CHECK(GpuSpecDir() == std::string(COTENANT_SOURCE_DIR) + "/configs/gpus");
  }
  CHECK(IsGpuSpecPath("x.json"));
  CHECK(IsGpuSpecPath("dir/x"));
  CHECK_FALSE(IsGpuSpecPath("h100-sxm"));
}

// ---------------------------------------------------------------- workloads

TEST_CASE("workload: good file, resolved paths, round trip", "[formats]") {
  const Workload w = ReadWorkload(kFormats + "/workload_good.json");
  CHECK(w.file == kFormats + "/workload_good.json");
  CHECK(w.gpu == "test-h100");
  CHECK(w.objective == Objective::kP99Latency);
  REQUIRE(w.tenants.size() == 4);
  const TenantSpec& r = w.tenants[0];
  CHECK(r.name == "resnet50");
  CHECK(r.trace_path == kFormats + "/trace_good.json");
  CHECK(r.traces_by_batch == std::map<int64_t, std::string>{{4, kFormats + "/trace_good.json"},
                                                            {8, kFormats + "/trace_good.json.gz"}});
  CHECK(r.requests == 5);
  CHECK(r.arrival.kind == ArrivalKind::kPoisson);
  CHECK(r.arrival.rate_hz == 400.0);
  CHECK(r.arrival.seed == 7);
  CHECK(r.slo_ns == 10000000);
  CHECK(r.weight == 2.0);
  CHECK(w.tenants[1].arrival.kind == ArrivalKind::kPeriodic);
  CHECK(w.tenants[1].arrival.period_ns == 2000000);
  CHECK(w.tenants[2].trace_path == kFormats + "/trace_good.json");  // "../formats/" normalised
  CHECK(w.tenants[2].arrival.times_ns == std::vector<TimeNs>{0, 1500, 1500});
  CHECK(w.tenants[3].requests == 1);
  CHECK(w.tenants[3].arrival.kind == ArrivalKind::kClosed);
  CHECK(w.tenants[3].slo_ns == 0);
  CHECK(w.tenants[3].weight == 1.0);
  CHECK(w.FindTenant("vgg16") == 2);
  CHECK(w.FindTenant("nobody") == -1);

  const json j = WorkloadToJson(w);
  const Workload back = WorkloadFromJson(j, "rt.json", "");
  CHECK(WorkloadToJson(back) == j);
  CHECK(back.tenants[0].traces_by_batch == r.traces_by_batch);
  // Every trace it names is readable.
  for (const TenantSpec& t : w.tenants) CHECK(ReadTrace(t.trace_path).tasks.size() == 13);
}

TEST_CASE("workload: arrival times", "[formats]") {
  Arrival closed;
  CHECK(ArrivalTimes(closed, 3) == std::vector<TimeNs>{0, 0, 0});
  CHECK(ArrivalTimes(closed, 0).empty());
  Arrival periodic;
  periodic.kind = ArrivalKind::kPeriodic;
  periodic.period_ns = 2000000;
  CHECK(ArrivalTimes(periodic, 4) == std::vector<TimeNs>{0, 2000000, 4000000, 6000000});
  Arrival traced;
  traced.kind = ArrivalKind::kTrace;
  traced.times_ns = {5, 7, 7, 100};
  CHECK(ArrivalTimes(traced, 3) == std::vector<TimeNs>{5, 7, 7});

  Arrival poisson;
  poisson.kind = ArrivalKind::kPoisson;
  poisson.rate_hz = 1000.0;
  poisson.seed = 7;
  const std::vector<TimeNs> a = ArrivalTimes(poisson, 100000);
  CHECK(a == ArrivalTimes(poisson, 100000));  // deterministic
  CHECK(a[0] == 0);
  CHECK(std::is_sorted(a.begin(), a.end()));
  // Mean gap 1 ms at 1000 Hz (the sample mean of 99999 exponential gaps).
  CHECK(static_cast<double>(a.back()) / (a.size() - 1) == Approx(1e6).epsilon(0.01));
  // A prefix of a longer sequence is the shorter sequence.
  const std::vector<TimeNs> b = ArrivalTimes(poisson, 4);
  CHECK(std::equal(b.begin(), b.end(), a.begin()));
  poisson.seed = 8;
  CHECK(ArrivalTimes(poisson, 4) != b);
}

TEST_CASE("workload: errors", "[formats]") {
  const auto error = [](const std::string& tenants, const std::string& extra = "") {
    const std::string text =
        R"({"schema": "cotenant.workload/1", "tenants": [)" + tenants + "]" + extra + "}";
    return ErrorOf([&] { WorkloadFromJson(ParseJsonText(text, "w.json"), "w.json", "d"); });
  };
  const std::string a = R"({"name": "a", "trace": "a.json")";
  CHECK(error("") == "w.json: tenants: expected at least one tenant, found none");
  CHECK(error(R"({"trace": "a.json"})") == "w.json: tenants[0].name: missing required field");
  CHECK(error(R"({"name": "", "trace": "a.json"})") ==
        "w.json: tenants[0].name: expected a non-empty string, found a string");
  CHECK(error(R"({"name": "a"})") == "w.json: tenants[0].trace: missing required field");
  CHECK(error(a + "}, " + a + "}") ==
        "w.json: tenants[1].name: duplicate tenant name \"a\" (also tenants[0])");
  CHECK(error(a + R"(, "requests": 0})") ==
        "w.json: tenants[0].requests: expected a positive integer, found 0");
  CHECK(error(a + R"(, "weight": 0})") ==
        "w.json: tenants[0].weight: expected a positive number, found 0");
  CHECK(error(a + R"(, "slo_ns": -1})") ==
        "w.json: tenants[0].slo_ns: expected a non-negative integer, found -1");
  CHECK(error(a + R"(, "reqests": 2})") ==
        "w.json: tenants[0].reqests: unknown key; did you mean \"requests\"?");
  CHECK(error(a + R"(, "traces_by_batch": {"x": "b.json"}})") ==
        "w.json: tenants[0].traces_by_batch.x: expected a positive integer batch size as the key");
  CHECK(error(a + R"(, "traces_by_batch": {"0": "b.json"}})") ==
        "w.json: tenants[0].traces_by_batch.0: expected a positive integer batch size as the key");
  CHECK(error(a + R"(, "traces_by_batch": {"4": 4}})") ==
        "w.json: tenants[0].traces_by_batch.4: expected a non-empty string, found 4");
  CHECK(error(a + R"(, "arrival": {"kind": "poison"}})") ==
        "w.json: tenants[0].arrival.kind: expected one of \"closed\", \"poisson\", \"periodic\", "
        "\"trace\", \"gamma\", found \"poison\"; did you mean \"poisson\"?");
  CHECK(error(a + R"(, "arrival": {"kind": "poisson"}})") ==
        "w.json: tenants[0].arrival.rate_hz: missing required field");
  CHECK(error(a + R"(, "arrival": {"kind": "poisson", "rate_hz": 0}})") ==
        "w.json: tenants[0].arrival.rate_hz: expected a positive number, found 0");
  CHECK(error(a + R"(, "arrival": {"kind": "periodic", "rate_hz": 5}})") ==
        "w.json: tenants[0].arrival.rate_hz: not used by arrival kind \"periodic\"");
  CHECK(error(a + R"(, "arrival": {"kind": "periodic", "period_ns": 0}})") ==
        "w.json: tenants[0].arrival.period_ns: expected a positive integer, found 0");
  CHECK(
      error(
          a +
          R"(, "requests": 3, "arrival": {"kind": "periodic", "period_ns": 5000000000000000000}})") ==
      "w.json: tenants[0].arrival.period_ns: period_ns x requests overflows 64-bit nanoseconds");
  CHECK(
      error(a + R"(, "requests": 3, "arrival": {"kind": "trace", "times_ns": [0, 5]}})") ==
      "w.json: tenants[0].arrival.times_ns: expected at least 3 times (one per request), found 2");
  CHECK(error(a + R"(, "arrival": {"kind": "trace", "times_ns": [0, 5, 4]}})") ==
        "w.json: tenants[0].arrival.times_ns[2]: expected a time >= 5 (times must not decrease), "
        "found 4");
  CHECK(error(a + R"(, "arrival": {"kind": "trace", "times_ns": [-1]}})") ==
        "w.json: tenants[0].arrival.times_ns[0]: expected a non-negative integer, found -1");
  CHECK(error(a + "}", R"(, "objective": "p99_latncy")") ==
        "w.json: objective: expected one of \"makespan\", \"throughput\", \"mean_latency\", "
        "\"p99_latency\", \"slo\", found \"p99_latncy\"; did you mean \"p99_latency\"?");
  CHECK(error(a + "}", R"(, "objective": "slo")") ==
        "w.json: objective: \"slo\" needs slo_ns on a trace tenant or an slo on an llm tenant, found none");
  CHECK(error(a + "}", R"(, "gpu": "")") ==
        "w.json: gpu: expected a non-empty string, found a string");
  CHECK(error(a + "}", R"(, "gpu": "specs/x.json")") == "<no error>");
  CHECK(WorkloadFromJson(ParseJsonText(R"({"schema": "cotenant.workload/1", "gpu": "specs/x.json",
                                           "tenants": [{"name": "a", "trace": "/abs/a.json"}]})",
                                       "w.json"),
                         "w.json", "d")
            .gpu == "d/specs/x.json");
  CHECK(ErrorOf([&] { ReadWorkload(kData + "/bad/workload_duplicate_tenant.json"); }) ==
        kData +
            "/bad/workload_duplicate_tenant.json: tenants[1].name: duplicate tenant name "
            "\"resnet50\" (also tenants[0])");
}

TEST_CASE("trace file stems name tenants", "[formats]") {
  CHECK(TraceFileStem("traces/resnet50.json") == "resnet50");
  CHECK(TraceFileStem("resnet50_trace.json.gz") == "resnet50_trace");
  CHECK(TraceFileStem("a/b.c/bert.gz") == "bert");
  CHECK(TraceFileStem("bert.trace.json") == "bert");
  CHECK(TraceFileStem("bert.pt.trace.json") == "bert");
  // PyTorch's tensorboard_trace_handler: <worker>.<ms since the epoch>.pt.trace.json.
  CHECK(TraceFileStem("logs/node3_4242.1700000000123.pt.trace.json.gz") == "node3_4242");
  CHECK(TraceFileStem("node3_4242.1700000000123.json") == "node3_4242.1700000000123");
  CHECK(TraceFileStem("bert.v2.pt.trace.json") == "bert.v2");
  CHECK(TraceFileStem("run.123.pt.trace.json") == "run.123");  // not a timestamp
  CHECK(TraceFileStem("model") == "model");
  CHECK(TraceFileStem(".json") == ".json");
  CHECK(TraceFileStem("dir/") == "");
}

TEST_CASE("workload: from traces", "[formats]") {
  Trace named;
  named.tenant = "bert";
  const Trace anonymous;
  const Workload w =
      WorkloadFromTraces({"x/bert.json", "y/resnet.json.gz", "z/bert.json", "q/a.json",
                          "h_1.1700000000123.pt.trace.json", "h_1.1700000000456.pt.trace.json"},
                         {named, anonymous, named, anonymous, anonymous, anonymous}, "h200");
  CHECK(w.gpu == "h200");
  REQUIRE(w.tenants.size() == 6);
  CHECK(w.tenants[4].name == "h_1");
  CHECK(w.tenants[5].name == "h_1-2");
  CHECK(w.tenants[0].name == "bert");
  CHECK(w.tenants[1].name == "resnet");
  CHECK(w.tenants[2].name == "bert-2");
  CHECK(w.tenants[3].name == "a");
  CHECK(w.tenants[1].trace_path == "y/resnet.json.gz");
  CHECK(w.tenants[1].requests == 1);
  CHECK(w.tenants[1].arrival.kind == ArrivalKind::kClosed);
  CHECK(WorkloadFromTraces({"a.json"}, {anonymous}, "").gpu.empty());
  CHECK(ErrorOf([] { WorkloadFromTraces({}, {}, "h200"); }) == "no trace files given");
}

// ---------------------------------------------------------------- plans

TEST_CASE("plan: empty plan means native multi-stream", "[formats]") {
  const Plan p =
      PlanFromJson(ParseJsonText(R"({"schema": "cotenant.plan/1"})", "p.json"), "p.json");
  CHECK(p.max_connections == 8);
  CHECK(p.groups.empty());
  CHECK(p.tenants.empty());
  CHECK(p.stages.empty());
  const TenantPlan t = p.For("anyone");
  CHECK(t.priority == 0);
  CHECK(t.sm_count == -1);
  CHECK(t.batch_split == 1);
  CHECK(t.offset_ns == 0);
  CHECK(PlanToJson(p) == json::parse(R"({"schema": "cotenant.plan/1", "max_connections": 8})"));
}

TEST_CASE("plan: good file, round trip, checked against a workload", "[formats]") {
  const Plan p = ReadPlan(kFormats + "/plan_good.json");
  CHECK(p.max_connections == 8);
  CHECK(p.groups == std::vector<std::vector<std::string>>{{"resnet50", "bert"}, {"vgg16", "gpt2"}});
  CHECK(p.For("resnet50").priority == -1);
  CHECK(p.For("resnet50").sm_count == 64);
  CHECK(p.For("resnet50").batch_split == 2);
  CHECK(p.For("bert").sm_count == -1);
  CHECK(p.For("bert").offset_ns == 500000);
  CHECK(p.For("vgg16").sm_count == 32);
  CHECK(p.For("vgg16").batch_split == 1);
  CHECK(p.stages.at("resnet50") == std::vector<int64_t>{12, 40});
  CHECK(p.stages.at("bert") == std::vector<int64_t>{30});

  const json j = PlanToJson(p);
  CHECK(PlanToJson(PlanFromJson(j, "rt.json")) == j);
  CHECK(j["tenants"]["bert"]["sm_count"].is_null());

  const Workload w = ReadWorkload(kFormats + "/workload_good.json");
  const GpuSpec spec = ReadGpuSpec(kFormats + "/gpu_good.json");
  CheckPlanAgainst(p, w, spec);
}

TEST_CASE("plan: syntax errors", "[formats]") {
  const auto error = [](const std::string& fields) {
    const std::string text = R"({"schema": "cotenant.plan/1", )" + fields + "}";
    return ErrorOf([&] { PlanFromJson(ParseJsonText(text, "p.json"), "p.json"); });
  };
  CHECK(error(R"("max_connections": 0)") ==
        "p.json: max_connections: expected an integer in 1..32, found 0");
  CHECK(error(R"("max_connections": 33)") ==
        "p.json: max_connections: expected an integer in 1..32, found 33");
  CHECK(error(R"("groups": [["a"], []])") ==
        "p.json: groups[1]: expected at least one tenant, found none");
  CHECK(error(R"("groups": ["a"])") ==
        "p.json: groups[0]: expected an array of tenant names, found a string");
  CHECK(error(R"("groups": [["a", 1]])") ==
        "p.json: groups[0][1]: expected a tenant name, found 1");
  CHECK(error(R"("groups": [["a", "b"], ["a"]])") ==
        "p.json: groups[1][0]: tenant \"a\" appears twice (also groups[0][0])");
  CHECK(error(R"("groups": {})") ==
        "p.json: groups: expected an array of arrays of tenant names, found an object");
  CHECK(error(R"("tenants": {"a": {"sm_cnt": 8}})") ==
        "p.json: tenants.a.sm_cnt: unknown key; did you mean \"sm_count\"?");
  CHECK(error(R"("tenants": {"a": {"sm_count": 0}})") ==
        "p.json: tenants.a.sm_count: expected a positive integer, found 0");
  CHECK(error(R"("tenants": {"a": {"batch_split": 0}})") ==
        "p.json: tenants.a.batch_split: expected a positive integer, found 0");
  CHECK(error(R"("tenants": {"a": {"offset_ns": -3}})") ==
        "p.json: tenants.a.offset_ns: expected a non-negative integer, found -3");
  CHECK(error(R"("tenants": {"a": {"priority": "high"}})") ==
        "p.json: tenants.a.priority: expected an integer, found a string");
  CHECK(error(R"("tenants": {"a": 1})") == "p.json: tenants.a: expected an object, found 1");
  CHECK(error(R"("stages": {"a": [12, 12]})") ==
        "p.json: stages.a[1]: expected an integer >= 13 (cut points must increase), found 12");
  CHECK(error(R"("stages": {"a": [-1]})") ==
        "p.json: stages.a[0]: expected a non-negative integer, found -1");
  CHECK(error(R"("stages": {"a": 3})") ==
        "p.json: stages.a: expected an array of increasing operator indices, found 3");
  CHECK(error(R"("stage": {})") == "p.json: stage: unknown key; did you mean \"stages\"?");
  CHECK(ErrorOf([] { PlanFromJson(json::parse(R"({"schema": "cotenant.plan/0"})"), "p.json"); }) ==
        "p.json: schema: expected \"cotenant.plan/1\", found \"cotenant.plan/0\"");
}

TEST_CASE("plan: checked against workload and GPU", "[formats]") {
  const Workload w = ReadWorkload(kData + "/bad/plan_workload.json");
  const GpuSpec spec = LoadGpuSpec(w.gpu);  // a path, resolved against the workload's folder
  CHECK(spec.key == "test-h100");
  const auto error = [&](const std::string& fields, const GpuSpec& gpu) {
    const std::string text = R"({"schema": "cotenant.plan/1")" + fields + "}";
    const Plan p = PlanFromJson(ParseJsonText(text, "p.json"), "p.json");
    return ErrorOf([&] { CheckPlanAgainst(p, w, gpu); });
  };
  CHECK(error("", spec) == "<no error>");
  CHECK(error(R"(, "tenants": {"bret": {}})", spec) ==
        "p.json: tenants.bret: unknown tenant \"bret\"; did you mean \"bert\"?");
  CHECK(error(R"(, "groups": [["bert", "gpt3"]])", spec) ==
        "p.json: groups[0][1]: unknown tenant \"gpt3\"");
  CHECK(error(R"(, "stages": {"vgg": [1]})", spec) ==
        "p.json: stages.vgg: unknown tenant \"vgg\"; did you mean \"vgg16\"?");
  CHECK(error(R"(, "groups": [["bert", "resnet50"]])", spec) ==
        "p.json: groups: tenant \"vgg16\" is in no group (groups must hold every tenant once)");
  CHECK(error(R"(, "groups": [["bert"], ["resnet50"], ["vgg16"]])", spec) == "<no error>");
  CHECK(error(R"(, "tenants": {"bert": {"sm_count": 60}})", spec) ==
        "p.json: tenants.bert.sm_count: expected a multiple of 8 SMs (the partition granularity "
        "of test-h100), found 60");
  CHECK(error(R"(, "tenants": {"bert": {"sm_count": 4}})", spec) ==
        "p.json: tenants.bert.sm_count: expected at least 8 SMs (the smallest partition of "
        "test-h100), found 4");
  CHECK(error(R"(, "tenants": {"bert": {"sm_count": 136}})", spec) ==
        "p.json: tenants.bert.sm_count: expected at most 132 SMs (test-h100 has 132), found 136");
  CHECK(error(R"(, "tenants": {"bert": {"sm_count": 64}, "vgg16": {"sm_count": 72}})", spec) ==
        "p.json: tenants: SM partitions add up to 136 SMs, more than the 132 of test-h100");
  CHECK(error(R"(, "tenants": {"bert": {"sm_count": 64}, "vgg16": {"sm_count": 64}})", spec) ==
        "<no error>");
  CHECK(error(R"(, "tenants": {"bert": {"batch_split": 65}})", spec) ==
        "p.json: tenants.bert.batch_split: expected an integer in 1..64, found 65");
  GpuSpec small = spec;
  small.hw_queues = 4;
  CHECK(error(R"(, "max_connections": 8)", small) ==
        "p.json: max_connections: expected at most 4 (the hardware queues of test-h100), found 8");
  GpuSpec volta = spec;
  volta.key = "v100-sxm2";
  volta.sm_partition_granularity = 0;
  volta.sm_partition_min = 0;
  CHECK(
      error(R"(, "tenants": {"bert": {"sm_count": 40}})", volta) ==
      "p.json: tenants.bert.sm_count: expected null (v100-sxm2 has no SM partitioning), found 40");
}

TEST_CASE("plan: bad files give exact messages", "[formats]") {
  const std::string bad = kData + "/bad/";
  const Workload w = ReadWorkload(bad + "plan_workload.json");
  const GpuSpec spec = LoadGpuSpec(w.gpu);
  const auto check = [&](const std::string& name) {
    return ErrorOf([&] { CheckPlanAgainst(ReadPlan(bad + name), w, spec); });
  };
  CHECK(check("plan_unknown_tenant.json") ==
        bad +
            "plan_unknown_tenant.json: tenants.bret: unknown tenant \"bret\"; did you mean "
            "\"bert\"?");
  CHECK(check("plan_partition_too_big.json") ==
        bad +
            "plan_partition_too_big.json: tenants: SM partitions add up to 160 SMs, more than "
            "the 132 of test-h100");
  CHECK(check("plan_partition_not_multiple.json") ==
        bad +
            "plan_partition_not_multiple.json: tenants.resnet50.sm_count: expected a multiple "
            "of 8 SMs (the partition granularity of test-h100), found 60");
  CHECK(check("plan_group_missing.json") ==
        bad +
            "plan_group_missing.json: groups: tenant \"vgg16\" is in no group (groups must "
            "hold every tenant once)");
}

}  // namespace cotenant
