// The injection library's settings, read from the environment that
// `cotenant profile` sets (see profiler/cupti/README.md). No CUPTI here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "profiler/capture.h"

namespace cotenant::profiler::cupti {

/// Default output when COTENANT_TRACE_OUT is unset or empty.
constexpr const char* kDefaultTraceOut = "cotenant_trace.%p.json";

struct InjectSettings {
  std::string trace_out;     ///< trace path, "%p" already replaced by the pid
  std::string tenant;        ///< trace tenant name
  Window window;             ///< which part of the run becomes the trace
  bool nvtx = false;         ///< enable NVTX marker records
  std::string counters_out;  ///< counter pass output ("%p" replaced); "" = trace instead
  /// COTENANT_REPLAY=1: timing for the replay harness (replay_client.h):
  /// only kernels, copies, memsets, runtime calls and external correlations
  /// are recorded, handed over in-process, and no trace is written.
  bool replay = false;
  /// Settings that could not be used, one line each; each makes the output
  /// incomplete.
  std::vector<std::string> problems;
};

/// Looks up an environment variable; nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

/// Reads COTENANT_TRACE_OUT, COTENANT_TENANT, COTENANT_WINDOW, COTENANT_NVTX,
/// COTENANT_COUNTERS and COTENANT_REPLAY through `env`. `pid` replaces "%p" in paths;
/// `cmdline` is the NUL-separated command line (/proc/self/cmdline) that
/// names the default tenant. A bad COTENANT_WINDOW becomes a problem and the
/// window "all"; nothing throws.
InjectSettings ReadInjectSettings(const EnvLookup& env, int64_t pid, const std::string& cmdline);

/// `pattern` with every "%p" replaced by `pid`.
std::string ExpandPid(const std::string& pattern, int64_t pid);

/// The program's name from a NUL-separated command line: the base name of
/// argv[0]; for a Python interpreter the script's base name without ".py",
/// or the module of "-m MODULE"; "" for an empty command line.
std::string TenantFromCmdline(const std::string& cmdline);

/// The contents of /proc/self/cmdline, or "" when it cannot be read.
std::string ReadSelfCmdline();

}  // namespace cotenant::profiler::cupti
