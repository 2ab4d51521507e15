// The CUPTI-free side of `cotenant profile`: the injection environment, the
// per-process files, the counter pass without counters, a trace's summary,
// and running a child program.
#include "profiler/profile_run.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "profiler/child_process.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using testing::ErrorOf;

TEST_CASE("profile: the injection environment sets or unsets every variable", "[profile]") {
  InjectionSettings s;
  s.inject_library = "/lib/libcotenant_inject.so";
  s.cupti_library = "/lib/libcupti.so";
  s.tenant = "bert";
  s.trace_out = "/tmp/x/trace.%p.json";
  const std::vector<EnvChange> env = InjectionEnvironment(s);
  REQUIRE(env.size() == 6);  // no NVTX_INJECTION64_PATH without nvtx
  CHECK(env[0] == EnvChange{"CUDA_INJECTION64_PATH", "/lib/libcotenant_inject.so"});
  CHECK(env[1] == EnvChange{"COTENANT_TRACE_OUT", "/tmp/x/trace.%p.json"});
  CHECK(env[2] == EnvChange{"COTENANT_COUNTERS", std::nullopt});
  CHECK(env[3] == EnvChange{"COTENANT_TENANT", "bert"});
  CHECK(env[4] == EnvChange{"COTENANT_WINDOW", std::nullopt});
  CHECK(env[5] == EnvChange{"COTENANT_NVTX", std::nullopt});
  s.nvtx = true;
  const std::vector<EnvChange> nvtx = InjectionEnvironment(s);
  REQUIRE(nvtx.size() == 7);
  CHECK(nvtx[5] == EnvChange{"COTENANT_NVTX", "1"});
  CHECK(nvtx[6] == EnvChange{"NVTX_INJECTION64_PATH", "/lib/libcupti.so"});
}

TEST_CASE("profile: per-process files are found by prefix and ordered by pid", "[profile]") {
  testing::TempDir dir("cotenant_profile_files");
  for (const char* name : {"trace.200.json", "trace.31.json", "trace.x.json", "trace.7.json.tmp.9",
                           "counters.5.json", "trace.json"}) {
    std::ofstream(dir / name) << "{}";
  }
  const std::vector<ProcessFile> files = FindProcessFiles(dir.path.string(), "trace");
  REQUIRE(files.size() == 3);
  CHECK(files[0].pid == -1);  // trace.x.json: no pid, sorts first
  CHECK(files[0].Who() == dir / "trace.x.json");
  CHECK(files[1].pid == 31);
  CHECK(files[1].Who() == "pid 31");
  CHECK(files[2].pid == 200);
  CHECK(FindProcessFiles(dir.path.string(), "counters").size() == 1);
}

TEST_CASE("profile: output names, tenants and shell text", "[profile]") {
  CHECK(TenantFromOutput("out/resnet50_b8.json.gz") == "resnet50_b8");
  CHECK(TenantFromOutput("bert.json") == "bert");
  CHECK(TenantFromOutput(".json") == "tenant");
  CHECK(ShellText({"python3", "run.py", "--model", "a b", "it's"}) ==
        "python3 run.py --model 'a b' 'it'\\''s'");
  testing::TempDir dir("cotenant_profile_out");
  CHECK(ErrorOf([&] { CheckOutputPath(dir / "none/t.json"); }) ==
        dir / "none/t.json" + ": cannot write: No such file or directory");
  CHECK(ErrorOf([&] { CheckOutputPath(dir.path.string()); }) ==
        dir.path.string() + ": cannot write: Is a directory");
  CHECK(ErrorOf([&] { CheckOutputPath(""); }) ==
        "-o: expected an output file, found an empty name");
  CHECK(ErrorOf([&] { CheckOutputPath(dir / "t.json"); }) == "<no error>");
}

TEST_CASE("profile: a counter pass that wrote nothing is a failure, traces unchanged",
          "[profile]") {
  testing::TempDir dir("cotenant_profile_counters");
  std::vector<Trace> traces(1);
  ChildStatus status;
  status.exit_code = 2;
  const CounterPassOutcome out =
      MergeCounterPass(status, "./prog", dir.path.string(), {{"t.json", 12}}, &traces);
  CHECK(out.matches.empty());
  CHECK(out.failure ==
        "counter pass: `./prog` exited with status 2 and no process wrote counters; the trace "
        "was written without them");
}

TEST_CASE("profile: the summary of a trace", "[profile]") {
  // thread 1: two launches; stream 7: kernels [1000,2000) (labelled) and
  // [1500,2500), a memcpy [3000,3100); stream 9: a memset [2400,2600); a
  // stream sync on stream 11 names no stream with work.
  Trace tr;
  auto add = [&tr](TaskKind kind, int64_t thread, int64_t stream, TimeNs start, TimeNs dur) {
    Task t;
    t.id = static_cast<int64_t>(tr.tasks.size()) + 1;
    t.kind = kind;
    t.thread = thread;
    t.stream = stream;
    t.start_ns = start;
    t.dur_ns = dur;
    tr.tasks.push_back(t);
    return &tr.tasks.back();
  };
  add(TaskKind::kLaunch, 1, kAbsent, 0, 100);
  add(TaskKind::kLaunch, 1, kAbsent, 200, 100);
  add(TaskKind::kKernel, kAbsent, 7, 1000, 1000)->op = tr.Intern("aten::mm");
  add(TaskKind::kKernel, kAbsent, 7, 1500, 1000);
  add(TaskKind::kMemcpy, kAbsent, 7, 3000, 100);
  add(TaskKind::kMemset, kAbsent, 9, 2400, 200);
  add(TaskKind::kSync, 2, 11, 3100, 50);
  tr.meta = {{"dropped_records", 3}};
  const TraceSummary s = SummariseTrace(tr);
  CHECK(s.tasks == 7);
  CHECK(s.kernels == 2);
  CHECK(s.memcpys == 1);
  CHECK(s.memsets == 1);
  CHECK(s.streams == 2);
  CHECK(s.threads == 2);
  CHECK(s.gpu_busy_ns == 1600 + 100);  // [1000,2600) + [3000,3100)
  CHECK(s.span_ns == 3150);
  CHECK(s.unlabelled == 1);
  CHECK(s.dropped == 3);
}

TEST_CASE("profile: a child runs with the environment changes, its status is kept", "[profile]") {
  CHECK(RunChild({"sh", "-c", "test \"$COTENANT_X\" = y && test -z \"${HOME+set}\""},
                 {{"COTENANT_X", "y"}, {"HOME", std::nullopt}})
            .Ok());
  const ChildStatus three = RunChild({"sh", "-c", "exit 3"}, {});
  CHECK(three.exit_code == 3);
  CHECK(three.Describe() == "exited with status 3");
  CHECK(three.ShellStatus() == 3);
  const ChildStatus killed = RunChild({"sh", "-c", "kill -TERM $$"}, {});
  CHECK(killed.signal == 15);
  CHECK(killed.Describe() == "was killed by SIGTERM");
  CHECK(killed.ShellStatus() == 143);
  CHECK(ErrorOf([] { ResolveProgram("no-such-program-xyz"); }) ==
        "no-such-program-xyz: command not found (searched $PATH)");
  CHECK(ErrorOf([] { ResolveProgram("./no/such/prog"); }) ==
        "cannot run \"./no/such/prog\": No such file or directory");
}

}  // namespace
}  // namespace cotenant::profiler
