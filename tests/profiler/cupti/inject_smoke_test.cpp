// libcotenant_inject.so itself, loaded the way the driver loads it (dlopen +
// InitializeInjection) in a child process that then exits. Without a GPU
// every CUPTI call fails: the program must still exit normally and leave a
// trace (or counters file) that says it is incomplete.
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "profiler/counters.h"
#include "profiler/cupti/replay_client.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler::cupti {
namespace {

using cotenant::testing::TempDir;
namespace fs = std::filesystem;

/// Runs a child that sets `env`, loads the library, calls
/// InitializeInjection, forks once more when `fork_again` (that grandchild
/// exits without writing) and exits with status 0. Its stderr goes to
/// `stderr_path`. Returns the child's pid and exit status.
std::pair<pid_t, int> RunChild(const std::map<std::string, std::string>& env,
                               const std::string& stderr_path, bool fork_again = false) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (std::freopen(stderr_path.c_str(), "w", stderr) == nullptr) _exit(2);
    for (const char* v : {"COTENANT_TRACE_OUT", "COTENANT_TENANT", "COTENANT_WINDOW",
                          "COTENANT_NVTX", "COTENANT_COUNTERS"}) {
      unsetenv(v);
    }
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    void* lib = dlopen(COTENANT_INJECT_LIB, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) _exit(3);
    auto init = reinterpret_cast<int (*)()>(dlsym(lib, "InitializeInjection"));
    if (init == nullptr) _exit(4);
    if (init() != 1) _exit(5);
    if (fork_again) {
      const pid_t grandchild = fork();
      if (grandchild == 0) std::exit(0);  // runs the inherited exit handler
      int ignored = 0;
      waitpid(grandchild, &ignored, 0);
    }
    std::exit(0);  // runs the library's exit handler
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return {pid, WEXITSTATUS(status)};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("the library exports only its entry point and the replay timing interface", "[inject]") {
  void* lib = dlopen(COTENANT_INJECT_LIB, RTLD_NOW | RTLD_LOCAL);
  REQUIRE(lib != nullptr);
  CHECK(dlsym(lib, "InitializeInjection") != nullptr);
  for (const char* name :
       {kReplayReadySymbol, kPushIdSymbol, kPopIdSymbol, kTimestampSymbol, kCollectSymbol}) {
    CHECK(dlsym(lib, name) != nullptr);
  }
  // Not initialised (no driver called InitializeInjection): not in replay
  // mode, and collecting says so instead of crashing.
  auto ready = reinterpret_cast<CotenantReplayReadyFn>(dlsym(lib, kReplayReadySymbol));
  auto collect = reinterpret_cast<CotenantCollectFn>(dlsym(lib, kCollectSymbol));
  CHECK(ready() == 0);
  CHECK(collect([](void*, uint64_t, uint64_t, uint64_t) {}, nullptr) == -1);
  // Library code is hidden: a profiled program that links cotenant itself
  // keeps its own copy.
  CHECK(dlsym(lib,
              "_ZN8cotenant10WriteTraceERKNS_5TraceERKNSt7__cxx1112basic_stringIcSt11char_"
              "traitsIcESaIcEEE") == nullptr);
  dlclose(lib);
}

TEST_CASE("a failed CUPTI start still exits cleanly and writes an incomplete trace", "[inject]") {
  TempDir dir("cotenant_inject_smoke");
  const auto [pid, status] =
      RunChild({{"COTENANT_TRACE_OUT", dir / "t.%p.json"}, {"COTENANT_TENANT", "smoke"}},
               dir / "stderr.txt", /*fork_again=*/true);
  CHECK(status == 0);
  const std::string path = dir / ("t." + std::to_string(pid) + ".json");
  REQUIRE(fs::exists(path));
  const Trace t = ReadTrace(path);
  CHECK(t.tenant == "smoke");
  CHECK(t.tasks.empty());
  CHECK(t.meta.at("complete") == false);
  CHECK(t.meta.at("pid") == pid);
  CHECK_FALSE(t.meta.at("problems").empty());
  CHECK(Slurp(dir / "stderr.txt").find("cotenant-inject: wrote " + path) != std::string::npos);
  // The forked grandchild wrote nothing: one trace per profiled process.
  int traces = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    traces += e.path().extension() == ".json" ? 1 : 0;
  }
  CHECK(traces == 1);
}

TEST_CASE("replay mode without a GPU exits cleanly and writes no trace", "[inject]") {
  TempDir dir("cotenant_inject_replay");
  const auto [pid, status] = RunChild(
      {{"COTENANT_TRACE_OUT", dir / "t.%p.json"}, {"COTENANT_REPLAY", "1"}}, dir / "stderr.txt");
  CHECK(status == 0);
  CHECK_FALSE(fs::exists(dir / ("t." + std::to_string(pid) + ".json")));
}

TEST_CASE("the counter pass writes its file even when CUPTI refuses", "[inject]") {
  TempDir dir("cotenant_inject_counters");
  const auto [pid, status] =
      RunChild({{"COTENANT_COUNTERS", dir / "c.%p.json"}}, dir / "stderr.txt");
  CHECK(status == 0);
  const std::string path = dir / ("c." + std::to_string(pid) + ".json");
  REQUIRE(fs::exists(path));
  const CounterSet c = ReadCounters(path);
  CHECK(c.kernels.empty());
  CHECK(c.meta.at("pid") == pid);
  CHECK(c.meta.at("replay") == "kernel");
  CHECK(c.meta.at("range") == "auto");
}

}  // namespace
}  // namespace cotenant::profiler::cupti
