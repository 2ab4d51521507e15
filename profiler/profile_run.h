// One `cotenant profile` run, the parts that are not the command line: the
// environment that makes the CUDA driver load the injection library
// (profiler/cupti/) into the profiled program, the scratch folder where each
// CUDA process writes its own trace or counters (`PREFIX.<pid>.json`), the
// counter pass's merge of per-kernel counters into those traces, and the
// summary of a trace that the CLI prints. Nothing here includes <cupti.h>.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/child_process.h"
#include "profiler/counters.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// A temporary folder under $TMPDIR (else /tmp), removed with everything in
/// it when the object goes out of scope unless Keep() was called. Throws
/// InputError when it cannot be created.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  /// Leave the folder behind (to keep what it holds for a bug report).
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

/// One process's output file in the scratch folder.
struct ProcessFile {
  std::string path;
  int64_t pid = -1;  ///< from the file name; -1 when it is not a number

  /// "pid N", or the path when the pid is unknown.
  std::string Who() const;
};

/// Files `PREFIX.<pid>.json` in `dir` (what `PREFIX.%p.json` expanded to),
/// by pid, then path. Temporary files of an unfinished atomic write are
/// skipped.
std::vector<ProcessFile> FindProcessFiles(const std::string& dir, const std::string& prefix);

/// Throws InputError (`PATH: cannot write: REASON`) when the output file
/// cannot be written: its folder is missing or not a folder, or the path is
/// a folder. Checked before the program runs.
void CheckOutputPath(const std::string& path);

/// The output file's name without folder, `.gz` and `.json`: the default
/// tenant name ("tenant" when nothing is left).
std::string TenantFromOutput(const std::string& path);

/// The command as a shell would show it (arguments with odd characters quoted).
std::string ShellText(const std::vector<std::string>& argv);

/// What the injection library is told for one pass. An empty string leaves
/// the variable unset.
struct InjectionSettings {
  std::string inject_library;  ///< CUDA_INJECTION64_PATH
  std::string cupti_library;   ///< NVTX_INJECTION64_PATH, with `nvtx` only
  std::string tenant;          ///< COTENANT_TENANT
  std::string trace_out;       ///< COTENANT_TRACE_OUT (`%p` = pid); "" in the counter pass
  std::string counters_out;    ///< COTENANT_COUNTERS (`%p` = pid); "" in the trace pass
  std::string window;          ///< COTENANT_WINDOW (a --window spec)
  bool nvtx = false;           ///< COTENANT_NVTX=1
};

/// The environment of one pass: every variable the injection library reads
/// is set or unset, so nothing leaks in from the caller's environment.
std::vector<EnvChange> InjectionEnvironment(const InjectionSettings& s);

/// How one trace-pass process got its counters.
struct CounterMatch {
  std::string who;            ///< the trace-pass process (ProcessFile::Who)
  bool matched = false;       ///< false: no counter-pass process matches its kernels
  int64_t counter_pid = -1;   ///< the counter-pass process it got them from; -1 = unknown
  CounterMergeReport report;  ///< of the merge, when matched
};

/// What the counter pass did.
struct CounterPassOutcome {
  std::vector<CounterMatch> matches;  ///< one per trace, in order
  std::string failure;                ///< why it failed; "" when it worked
};

/// After the counter pass (the program run again with COTENANT_COUNTERS =
/// `dir`/counters.%p.json, which `status` reports on): gives each trace
/// (of `trace_files`, same order) the counters of the counter-pass process
/// whose kernels match it best (pids differ between the two runs). Each
/// counter-pass process is used once. `command` (ShellText) is for messages.
CounterPassOutcome MergeCounterPass(const ChildStatus& status, const std::string& command,
                                    const std::string& dir,
                                    const std::vector<ProcessFile>& trace_files,
                                    std::vector<Trace>* traces);

/// What the profile summary shows of one trace.
struct TraceSummary {
  int64_t tasks = 0, kernels = 0, memcpys = 0, memsets = 0;
  int64_t streams = 0;  ///< streams with GPU work or markers (not syncs)
  int64_t threads = 0;
  TimeNs gpu_busy_ns = 0;  ///< union of GPU task intervals, ns
  TimeNs span_ns = 0;      ///< first task start to last task end, ns
  int64_t unlabelled = 0;  ///< kernels without an operator label
  int64_t dropped = 0;     ///< meta.dropped_records
};

TraceSummary SummariseTrace(const Trace& trace);

}  // namespace cotenant::profiler
