// The counter pass's file (`cotenant.counters/1`) and how it joins a trace.
#include "profiler/counters.h"

#include <catch2/catch.hpp>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using cotenant::testing::ErrorOf;
using cotenant::testing::TempDir;

KernelCounters K(int64_t index, const std::string& name, int64_t bytes, double dram, double sm) {
  KernelCounters k;
  k.index = index;
  k.name = name;
  k.dram_bytes = bytes;
  k.dram_pct = dram;
  k.sm_pct = sm;
  return k;
}

/// A trace with one launch + kernel per name; launches in `names` order,
/// kernels on two streams and written out of launch order.
Trace TraceOf(const std::vector<std::string>& names) {
  Trace t;
  t.tenant = "t";
  int64_t id = 1;
  for (size_t i = 0; i < names.size(); ++i) {
    Task l;
    l.id = id++;
    l.kind = TaskKind::kLaunch;
    l.thread = 1;
    l.start_ns = 1000 * static_cast<int64_t>(i);
    l.dur_ns = 500;
    l.correlation = 100 + static_cast<int64_t>(i);
    l.name = t.Intern("cudaLaunchKernel");
    t.tasks.push_back(l);
  }
  for (size_t j = names.size(); j-- > 0;) {  // kernels in reverse launch order
    Task k;
    k.id = id++;
    k.kind = TaskKind::kKernel;
    k.stream = 7 + static_cast<int64_t>(j % 2);
    k.start_ns = 100000 - 1000 * static_cast<int64_t>(j);
    k.dur_ns = 900;
    k.correlation = 100 + static_cast<int64_t>(j);
    k.name = t.Intern(names[j]);
    t.tasks.push_back(k);
  }
  return t;
}

const Task& KernelNamed(const Trace& t, const std::string& name) {
  for (const Task& task : t.tasks) {
    if (task.kind == TaskKind::kKernel && t.Name(task) == name) return task;
  }
  FAIL("no kernel " << name);
  return t.tasks.front();
}

TEST_CASE("counters round-trip through their file", "[counters]") {
  TempDir dir("cotenant_counters");
  CounterSet set;
  set.kernels.push_back(K(0, "_Z4gemmPf", 41943040, 61.25, 80.5));
  set.kernels.push_back(K(1, "relu", kAbsent, -1, -1));  // launched, no values
  set.meta["pid"] = 7;
  WriteCounters(set, dir / "c.json");
  const CounterSet back = ReadCounters(dir / "c.json");
  REQUIRE(back.kernels.size() == 2);
  CHECK(back.kernels[0].index == 0);
  CHECK(back.kernels[0].name == "_Z4gemmPf");
  CHECK(back.kernels[0].dram_bytes == 41943040);
  CHECK(back.kernels[0].dram_pct == 61.25);
  CHECK(back.kernels[0].sm_pct == 80.5);
  CHECK(back.kernels[1].dram_bytes == kAbsent);
  CHECK(back.kernels[1].dram_pct < 0);
  CHECK(back.kernels[1].sm_pct < 0);
  CHECK(back.meta.at("pid") == 7);
  CHECK(CountersToJsonText(back) == CountersToJsonText(set));
  const nlohmann::json j = nlohmann::json::parse(CountersToJsonText(set));
  CHECK(j.at("schema") == "cotenant.counters/1");
  CHECK(j.at("kernels")[1].size() == 2);  // index and name only
}

TEST_CASE("bad counter files are refused with the field named", "[counters]") {
  auto parse = [](const std::string& text) { return [text] { ParseCounters(text, "c.json"); }; };
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/1","kernels":[{"index":1,"name":"k"}]})")) ==
        "c.json: kernels[0].index: expected 0 (kernels in launch order), found 1");
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/1","kernels":[{"index":0,"name":"k",
        "dram_pct":-3}]})")) ==
        "c.json: kernels[0].dram_pct: expected a percentage in 0..1000, found -3");
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/1","kernels":[{"index":0,"name":"k",
        "dram_bytes":1.5}]})")) ==
        "c.json: kernels[0].dram_bytes: expected a non-negative integer, found 1.5");
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/1","kernels":[{"index":0,"nme":"k"}]})"))
            .find("c.json: kernels[0].nme: unknown key; did you mean \"name\"?") == 0);
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/2","kernels":[]})")).find("c.json: schema") ==
        0);
  CHECK(ErrorOf(parse(R"({"schema":"cotenant.counters/1","kernels":{}})")) ==
        "c.json: kernels: expected an array, found an object");
}

TEST_CASE("kernels are ordered by their launches", "[counters]") {
  const Trace t = TraceOf({"a", "b", "c"});
  const std::vector<size_t> order = KernelsInLaunchOrder(t);
  REQUIRE(order.size() == 3);
  CHECK(t.Name(t.tasks[order[0]]) == "a");
  CHECK(t.Name(t.tasks[order[1]]) == "b");
  CHECK(t.Name(t.tasks[order[2]]) == "c");
}

TEST_CASE("the i-th counter kernel gives the i-th trace kernel its counters", "[counters]") {
  Trace t = TraceOf({"gemm", "relu", "copy_kernel"});
  CounterSet set;
  set.kernels = {K(0, "gemm", 1000000, 25.0, 90.0), K(1, "relu", 2000000, 150.0, 10.0),
                 K(2, "copy_kernel", 4096, 0.0, 1.0)};
  const CounterMergeReport r = MergeCounters(set, &t);
  CHECK(r.merged == 3);
  CHECK(r.mismatched == 0);
  CHECK(r.missing == 0);
  CHECK(r.offset == 0);
  CHECK(r.problems.empty());
  CHECK(KernelNamed(t, "gemm").dram_bytes == 1000000);
  CHECK(KernelNamed(t, "gemm").mem_bound == 0.25);
  CHECK(KernelNamed(t, "relu").mem_bound == 1.0);  // clamped
  CHECK(KernelNamed(t, "copy_kernel").mem_bound == 0.0);
  CHECK(t.meta.at("counters").at("merged") == 3);

  // The counters survive the trace file.
  TempDir dir("cotenant_counters_merge");
  WriteTrace(t, dir / "t.json");
  const Trace back = ReadTrace(dir / "t.json");
  CHECK(KernelNamed(back, "relu").dram_bytes == 2000000);
  CHECK(KernelNamed(back, "relu").mem_bound == 1.0);
}

TEST_CASE("a name that differs is a mismatch and gets nothing", "[counters]") {
  Trace t = TraceOf({"gemm", "relu"});
  CounterSet set;
  set.kernels = {K(0, "gemm", 10, 50.0, 1.0), K(1, "softmax", 20, 60.0, 1.0)};
  const CounterMergeReport r = MergeCounters(set, &t);
  CHECK(r.merged == 1);
  CHECK(r.mismatched == 1);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0] == "kernel 1 (task 3) is \"relu\" but counter kernel 1 is \"softmax\"");
  CHECK(KernelNamed(t, "relu").dram_bytes == kAbsent);
  CHECK(KernelNamed(t, "relu").mem_bound < 0);
  CHECK(t.meta.at("counters").at("mismatched") == 1);
}

TEST_CASE("a windowed trace finds its place in the counter pass", "[counters]") {
  Trace t = TraceOf({"fwd", "bwd"});
  CounterSet set;
  set.kernels = {K(0, "init", 1, 1.0, 1.0), K(1, "fwd", 100, 10.0, 1.0),
                 K(2, "bwd", 200, 20.0, 1.0), K(3, "fwd", 300, 30.0, 1.0),
                 K(4, "bwd", 400, 40.0, 1.0)};
  const CounterMergeReport r = MergeCounters(set, &t);
  CHECK(r.offset == 1);  // the first place where every name matches
  CHECK(r.merged == 2);
  CHECK(KernelNamed(t, "fwd").dram_bytes == 100);
  CHECK(KernelNamed(t, "bwd").dram_bytes == 200);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0] ==
        "the trace has 2 kernels, the counter pass 5; counters start at counter kernel 1");

  Trace u = TraceOf({"fwd", "bwd"});
  CHECK(MergeCounters(set, &u, 3).merged == 2);  // an explicit offset
  CHECK(KernelNamed(u, "fwd").dram_bytes == 300);
}

TEST_CASE("kernels past the counter pass or without values are missing", "[counters]") {
  Trace t = TraceOf({"a", "b", "c"});
  CounterSet set;
  set.kernels = {K(0, "a", 5, 5.0, 5.0), K(1, "b", kAbsent, -1, -1)};
  const CounterMergeReport r = MergeCounters(set, &t);
  CHECK(r.merged == 1);
  CHECK(r.missing == 2);
  CHECK(r.mismatched == 0);
}

}  // namespace
}  // namespace cotenant::profiler
