// The injection library's environment: output paths, tenant names, windows.
#include "profiler/cupti/inject_env.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

namespace cotenant::profiler::cupti {
namespace {

/// An environment made of `vars`.
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::string Cmdline(std::initializer_list<const char*> args) {
  std::string s;
  for (const char* a : args) {
    s += a;
    s += '\0';
  }
  return s;
}

TEST_CASE("%p in paths becomes the pid", "[cupti]") {
  CHECK(ExpandPid("trace.%p.json", 4242) == "trace.4242.json");
  CHECK(ExpandPid("/d/%p/t.%p.json", 7) == "/d/7/t.7.json");
  CHECK(ExpandPid("no pid.json", 7) == "no pid.json");
  CHECK(ExpandPid("odd%", 7) == "odd%");
}

TEST_CASE("the default tenant is the program's name", "[cupti]") {
  CHECK(TenantFromCmdline(Cmdline({"/usr/bin/resnet_bench", "--batch", "8"})) == "resnet_bench");
  CHECK(TenantFromCmdline(Cmdline({"python3", "-u", "/models/bert_infer.py", "-b", "8"})) ==
        "bert_infer");
  CHECK(TenantFromCmdline(Cmdline({"/usr/bin/python3.11", "-m", "vllm.entrypoints"})) ==
        "vllm.entrypoints");
  CHECK(TenantFromCmdline(Cmdline({"python", "-c", "import torch"})) == "python");
  CHECK(TenantFromCmdline(Cmdline({"python"})) == "python");
  CHECK(TenantFromCmdline("") == "");
}

TEST_CASE("settings default when nothing is set", "[cupti]") {
  const InjectSettings s = ReadInjectSettings(Env({}), 99, Cmdline({"./app"}));
  CHECK(s.trace_out == "cotenant_trace.99.json");
  CHECK(s.tenant == "app");
  CHECK(s.window.kind == Window::Kind::kAll);
  CHECK_FALSE(s.nvtx);
  CHECK(s.counters_out.empty());
  CHECK(s.problems.empty());
  CHECK(ReadInjectSettings(Env({}), 99, "").tenant == "tenant");
}

TEST_CASE("settings come from the COTENANT_ variables", "[cupti]") {
  const InjectSettings s =
      ReadInjectSettings(Env({{"COTENANT_TRACE_OUT", "/tmp/run/trace.%p.json"},
                              {"COTENANT_TENANT", "resnet50"},
                              {"COTENANT_WINDOW", "range:step:3"},
                              {"COTENANT_NVTX", "1"},
                              {"COTENANT_COUNTERS", "/tmp/run/counters.%p.json"}}),
                         1234, Cmdline({"./app"}));
  CHECK(s.trace_out == "/tmp/run/trace.1234.json");
  CHECK(s.tenant == "resnet50");
  CHECK(s.window.kind == Window::Kind::kRange);
  CHECK(s.window.range_name == "step");
  CHECK(s.window.occurrence == 3);
  CHECK(s.nvtx);
  CHECK(s.counters_out == "/tmp/run/counters.1234.json");
  CHECK(s.problems.empty());
  CHECK(ReadInjectSettings(Env({{"COTENANT_WINDOW", "profiler"}}), 1, "").window.kind ==
        Window::Kind::kProfiler);
  CHECK_FALSE(s.replay);
  CHECK(ReadInjectSettings(Env({{"COTENANT_REPLAY", "1"}}), 1, "").replay);
  const InjectSettings bad = ReadInjectSettings(Env({{"COTENANT_REPLAY", "on"}}), 1, "");
  CHECK_FALSE(bad.replay);
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0] ==
        "COTENANT_REPLAY: expected \"0\" or \"1\", found \"on\"; a trace is written instead");
}

TEST_CASE("bad settings become problems, never errors", "[cupti]") {
  const InjectSettings s = ReadInjectSettings(
      Env({{"COTENANT_WINDOW", "range:"}, {"COTENANT_NVTX", "yes"}}), 1, Cmdline({"./app"}));
  CHECK(s.window.kind == Window::Kind::kAll);
  CHECK_FALSE(s.nvtx);
  REQUIRE(s.problems.size() == 2);
  CHECK(s.problems[0] ==
        "COTENANT_WINDOW: expected a range name after \"range:\"; the whole run was captured");
  CHECK(s.problems[1] ==
        "COTENANT_NVTX: expected \"0\" or \"1\", found \"yes\"; NVTX ranges were not captured");
}

}  // namespace
}  // namespace cotenant::profiler::cupti
