#include "profiler/cupti/inject_env.h"

#include <fstream>
#include <iterator>

#include "sim/error.h"

namespace cotenant::profiler::cupti {
namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from < s.size()) {
    const size_t nul = s.find('\0', from);
    const size_t to = nul == std::string::npos ? s.size() : nul;
    out.push_back(s.substr(from, to - from));
    from = to + 1;
  }
  return out;
}

std::string Get(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

std::string ExpandPid(const std::string& pattern, int64_t pid) {
  std::string out;
  const std::string p = std::to_string(pid);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'p') {
      out += p;
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

std::string TenantFromCmdline(const std::string& cmdline) {
  const std::vector<std::string> args = SplitNul(cmdline);
  if (args.empty()) return "";
  const std::string program = BaseName(args[0]);
  if (program.rfind("python", 0) != 0) return program;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-m" && i + 1 < args.size()) return args[i + 1];
    if (a == "-c") return program;
    if (a.empty() || a[0] == '-') continue;  // interpreter options
    std::string script = BaseName(a);
    if (script.size() > 3 && script.compare(script.size() - 3, 3, ".py") == 0) {
      script.resize(script.size() - 3);
    }
    return script;
  }
  return program;
}

std::string ReadSelfCmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  if (!in) return "";
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

InjectSettings ReadInjectSettings(const EnvLookup& env, int64_t pid, const std::string& cmdline) {
  InjectSettings s;
  std::string out = Get(env, "COTENANT_TRACE_OUT");
  if (out.empty()) out = kDefaultTraceOut;
  s.trace_out = ExpandPid(out, pid);

  s.tenant = Get(env, "COTENANT_TENANT");
  if (s.tenant.empty()) s.tenant = TenantFromCmdline(cmdline);
  if (s.tenant.empty()) s.tenant = "tenant";

  const std::string window = Get(env, "COTENANT_WINDOW");
  try {
    s.window = ParseWindow(window, "COTENANT_WINDOW");
  } catch (const InputError& e) {
    s.window = Window{};
    s.problems.push_back(std::string(e.what()) + "; the whole run was captured");
  }

  const std::string nvtx = Get(env, "COTENANT_NVTX");
  if (nvtx == "1") {
    s.nvtx = true;
  } else if (!nvtx.empty() && nvtx != "0") {
    s.problems.push_back("COTENANT_NVTX: expected \"0\" or \"1\", found \"" + nvtx +
                         "\"; NVTX ranges were not captured");
  }

  const std::string replay = Get(env, "COTENANT_REPLAY");
  if (replay == "1") {
    s.replay = true;
  } else if (!replay.empty() && replay != "0") {
    s.problems.push_back("COTENANT_REPLAY: expected \"0\" or \"1\", found \"" + replay +
                         "\"; a trace is written instead");
  }

  const std::string counters = Get(env, "COTENANT_COUNTERS");
  if (!counters.empty()) s.counters_out = ExpandPid(counters, pid);
  return s;
}

}  // namespace cotenant::profiler::cupti
