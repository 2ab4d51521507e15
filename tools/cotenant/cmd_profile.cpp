// cotenant profile: run a program under the CUPTI injection library
// (profiler/cupti/, libcotenant_inject.so) and turn what its CUDA processes
// report into one `cotenant.trace/1`.
//
// The CUDA driver loads the library named by CUDA_INJECTION64_PATH into every
// process that initialises CUDA; each such process writes its own trace to
// COTENANT_TRACE_OUT (`%p` = its pid) in a fresh temporary folder. After the
// program exits, the per-process traces are merged (profiler::MergeTraces)
// and written to -o. With --counters the program runs a second time with
// COTENANT_COUNTERS set, under the CUPTI range profiler, and the per-kernel
// counters are merged into the trace.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "profiler/capture.h"
#include "profiler/counters.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/inject_lib.h"
#include "tools/cotenant/profile_child.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

namespace fs = std::filesystem;

/// A temporary folder, removed with everything in it when the object goes
/// out of scope unless Keep() was called.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    std::error_code ec;
    base = fs::absolute(base, ec).string();
    std::string templ = base + "/cotenant-profile.XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      throw InputError(base + ": cannot create a temporary folder: " + std::strerror(errno));
    }
    path_ = templ;
  }
  ~TempDir() {
    if (keep_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

/// One process's output file in the temporary folder.
struct ProcessFile {
  std::string path;
  int64_t pid = -1;  ///< from the file name; -1 when it is not a number
};

/// Files `PREFIX.<pid>.json` in `dir` (what `PREFIX.%p.json` expanded to),
/// by pid. Temporary files of an unfinished atomic write are skipped.
std::vector<ProcessFile> FindProcessFiles(const std::string& dir, const std::string& prefix) {
  std::vector<ProcessFile> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string head = prefix + ".";
    if (name.size() <= head.size() + 5 || name.compare(0, head.size(), head) != 0 ||
        !EndsWith(name, ".json") || name.find(".tmp") != std::string::npos) {
      continue;
    }
    ProcessFile f;
    f.path = e.path().string();
    const std::string middle = name.substr(head.size(), name.size() - head.size() - 5);
    if (!middle.empty() && middle.size() < 18 &&
        std::all_of(middle.begin(), middle.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      f.pid = std::stoll(middle);
    }
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const ProcessFile& a, const ProcessFile& b) {
    if (a.pid != b.pid) return a.pid < b.pid;
    return a.path < b.path;
  });
  return files;
}

/// Fails early, before the program runs, when -o cannot be written.
void CheckOutputPath(const std::string& path) {
  if (path.empty()) throw InputError("-o: expected an output file, found an empty name");
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  struct stat st;
  if (stat(parent.c_str(), &st) != 0) {
    throw InputError(path + ": cannot write: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw InputError(path + ": cannot write: Not a directory");
  if (fs::is_directory(path)) throw InputError(path + ": cannot write: Is a directory");
}

/// The output file's name without folder, `.gz` and `.json`: the default tenant.
std::string StemOf(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".json")) name.resize(name.size() - 5);
  return name.empty() ? "tenant" : name;
}

/// The command as a shell would show it (arguments with odd characters quoted).
std::string ShellText(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-+=./:,@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

/// What the summary shows of one trace.
struct TraceSummary {
  int64_t kernels = 0, memcpys = 0, memsets = 0, streams = 0, threads = 0;
  TimeNs gpu_busy_ns = 0, span_ns = 0;
  int64_t unlabelled = 0, dropped = 0, tasks = 0;
};

TraceSummary Summarise(const Trace& trace) {
  TraceSummary s;
  std::set<int64_t> streams, threads;
  std::vector<std::pair<TimeNs, TimeNs>> busy;
  TimeNs first = kNever, last = 0;
  for (const Task& t : trace.tasks) {
    ++s.tasks;
    first = std::min(first, t.start_ns);
    last = std::max(last, t.end_ns());
    if (t.thread != kAbsent) threads.insert(t.thread);
    if (t.stream != kAbsent && t.kind != TaskKind::kSync) streams.insert(t.stream);
    if (IsGpuWork(t.kind)) busy.push_back({t.start_ns, t.end_ns()});
    switch (t.kind) {
      case TaskKind::kKernel:
        ++s.kernels;
        s.unlabelled += t.op < 0;
        break;
      case TaskKind::kMemcpy:
        ++s.memcpys;
        break;
      case TaskKind::kMemset:
        ++s.memsets;
        break;
      default:
        break;
    }
  }
  std::sort(busy.begin(), busy.end());
  TimeNs covered_to = 0;
  for (const auto& [b, e] : busy) {
    const TimeNs from = std::max(b, covered_to);
    if (e > from) s.gpu_busy_ns += e - from;
    covered_to = std::max(covered_to, e);
  }
  s.span_ns = first == kNever ? 0 : last - first;
  s.streams = static_cast<int64_t>(streams.size());
  s.threads = static_cast<int64_t>(threads.size());
  if (const auto d = trace.meta.find("dropped_records");
      d != trace.meta.end() && d->is_number_integer()) {
    s.dropped = d->get<int64_t>();
  }
  return s;
}

std::vector<std::string> SummaryRow(const std::string& label, const TraceSummary& s) {
  return {label,
          FormatCount(s.kernels),
          FormatCount(s.memcpys),
          FormatCount(s.memsets),
          FormatCount(s.streams),
          FormatCount(s.threads),
          FormatNs(s.gpu_busy_ns),
          FormatNs(s.span_ns),
          FormatCount(s.unlabelled),
          FormatCount(s.dropped)};
}

void PrintSummary(const std::vector<ProcessFile>& files, const std::vector<Trace>& traces,
                  const Trace& merged, const std::string& output, std::FILE* out) {
  Table t({{"process"},
           {"kernels", Align::kRight},
           {"memcpys", Align::kRight},
           {"memsets", Align::kRight},
           {"streams", Align::kRight},
           {"threads", Align::kRight},
           {"GPU busy", Align::kRight},
           {"span", Align::kRight},
           {"unlabelled", Align::kRight},
           {"dropped", Align::kRight}});
  for (size_t i = 0; i < traces.size(); ++i) {
    const std::string label =
        files[i].pid >= 0 ? "pid " + std::to_string(files[i].pid) : files[i].path;
    t.AddRow(SummaryRow(label, Summarise(traces[i])));
  }
  const TraceSummary total = Summarise(merged);
  if (traces.size() > 1) {
    t.AddRule();
    t.AddRow(SummaryRow("merged", total));
  }
  std::fprintf(out, "\n");
  t.Print(out);
  const std::string processes =
      traces.size() == 1 ? "1 process"
                         : FormatCount(static_cast<int64_t>(traces.size())) + " processes merged";
  std::fprintf(out, "wrote %s: tenant %s, %s tasks from %s\n", output.c_str(),
               merged.tenant.c_str(), FormatCount(total.tasks).c_str(), processes.c_str());
  std::fprintf(out,
               "(GPU busy: union of GPU task intervals; span: first task start to last task end; "
               "unlabelled: kernels without an operator label)\n");
  if (total.dropped > 0) {
    std::fprintf(out,
                 "note: the profiler dropped %s records (buffers full); the trace is "
                 "incomplete (meta.complete = false)\n",
                 FormatCount(total.dropped).c_str());
  }
}

struct Options {
  std::vector<std::string> command;
  std::string output, tenant, window, inject;
  bool nvtx = false, counters = false;
};

/// The environment of one pass: every variable the injection library reads
/// is set or unset, so nothing leaks in from the caller's environment.
std::vector<EnvChange> PassEnvironment(const Options& o, const std::string& inject,
                                       const std::string& cupti, const std::string& tenant,
                                       const std::string& trace_out,
                                       const std::string& counters_out) {
  std::vector<EnvChange> env;
  auto set_or_unset = [&env](const char* name, const std::string& value) {
    env.emplace_back(name, value.empty() ? std::nullopt : std::optional<std::string>(value));
  };
  set_or_unset("CUDA_INJECTION64_PATH", inject);
  set_or_unset("COTENANT_TRACE_OUT", trace_out);
  set_or_unset("COTENANT_COUNTERS", counters_out);
  set_or_unset("COTENANT_TENANT", tenant);
  set_or_unset("COTENANT_WINDOW", o.window);
  set_or_unset("COTENANT_NVTX", o.nvtx ? "1" : "");
  if (o.nvtx) set_or_unset("NVTX_INJECTION64_PATH", cupti);
  return env;
}

/// What the counter pass did: lines for the summary, and why it failed ("" when it worked).
struct CounterOutcome {
  std::vector<std::string> lines;
  std::string failure;
};

/// Runs the program again with COTENANT_COUNTERS set (the injection library
/// then replays every kernel under the CUPTI range profiler instead of
/// tracing) and gives each process's trace the counters of the counter-pass
/// process whose kernels match it best (pids differ between the two runs).
CounterOutcome RunCounterPass(const std::vector<std::string>& argv, const std::string& command,
                              const std::vector<EnvChange>& env, const std::string& dir,
                              const std::vector<ProcessFile>& trace_files,
                              std::vector<Trace>* traces) {
  CounterOutcome out;
  std::printf(
      "counter pass: running %s again under the CUPTI range profiler; every kernel is replayed "
      "to read its DRAM and SM counters, so this run is much slower than the first\n",
      command.c_str());
  const ChildStatus status = RunChild(argv, env);
  const std::vector<ProcessFile> files = FindProcessFiles(dir, "counters");
  if (files.empty()) {
    out.failure = "counter pass: `" + command + "` " + status.Describe() +
                  " and no process wrote counters; the trace was written without them";
    return out;
  }
  std::vector<profiler::CounterSet> sets;
  for (const ProcessFile& f : files) {
    try {
      sets.push_back(profiler::ReadCounters(f.path));
    } catch (const InputError& e) {
      out.failure =
          std::string("counter pass: ") + e.what() + "; this process's kernels got no counters";
      sets.emplace_back();
    }
  }
  std::vector<bool> used(sets.size(), false);
  for (size_t i = 0; i < traces->size(); ++i) {
    const std::string who =
        trace_files[i].pid >= 0 ? "pid " + std::to_string(trace_files[i].pid) : trace_files[i].path;
    size_t best = sets.size();
    Trace best_trace;
    profiler::CounterMergeReport best_report;
    for (size_t j = 0; j < sets.size(); ++j) {
      if (used[j] || sets[j].kernels.empty()) continue;
      Trace candidate = (*traces)[i];
      const profiler::CounterMergeReport r = profiler::MergeCounters(sets[j], &candidate);
      if (r.merged > 0 && (best == sets.size() || r.merged > best_report.merged)) {
        best = j;
        best_trace = std::move(candidate);
        best_report = r;
      }
    }
    if (best == sets.size()) {
      out.lines.push_back("counters: " + who + ": no counter-pass process matches its kernels");
      continue;
    }
    used[best] = true;
    (*traces)[i] = std::move(best_trace);
    std::string line = "counters: " + who + ": " + FormatCount(best_report.merged) + " of " +
                       FormatCount(best_report.trace_kernels) + " kernels";
    if (files[best].pid >= 0) line += " (counter pass pid " + std::to_string(files[best].pid) + ")";
    if (best_report.mismatched > 0 || best_report.missing > 0) {
      line += "; " + FormatCount(best_report.mismatched) + " with another name, " +
              FormatCount(best_report.missing) + " without values";
    }
    out.lines.push_back(line);
  }
  if (!status.Ok() && out.failure.empty()) {
    out.failure = "counter pass: `" + command + "` " + status.Describe() +
                  "; counters were merged for the kernels it reached";
  }
  return out;
}

/// The one-line reason when no process wrote a trace.
std::string NoTraceMessage(const std::string& command, const ChildStatus& status,
                           const Options& o) {
  if (!status.Ok()) return "`" + command + "` " + status.Describe() + " and produced no trace";
  std::string msg = "no trace produced: `" + command +
                    "` exited normally but no process wrote one (it never initialised CUDA, or "
                    "the CUDA driver did not load the injection library";
  if (!o.window.empty()) msg += ", or --window " + o.window + " selected nothing";
  return msg + ")";
}

int RunProfile(const Options& o) {
  if (o.command.empty()) {
    throw InputError(
        "no command to profile: give it after --, e.g. cotenant profile -o T.json -- python3 "
        "run.py");
  }
  if (!o.window.empty()) profiler::ParseWindow(o.window, "--window");
  if (!o.tenant.empty() && o.tenant.find_first_of("\n\r") != std::string::npos) {
    throw InputError("--tenant: expected a name on one line");
  }
  CheckOutputPath(o.output);
  ResolveProgram(o.command.front());
  if (!kHaveCupti) {
    throw InputError(
        "profile: this cotenant was built without CUPTI (the CUDA toolkit was not found at "
        "build time), so the injection library libcotenant_inject.so does not exist; rebuild "
        "with the CUDA toolkit, or capture with the PyTorch profiler and use cotenant import "
        "kineto");
  }
  const std::string inject = FindInjectLibrary(o.inject);
  const std::string cupti = o.nvtx ? FindCuptiLibrary() : "";
  const std::string tenant = o.tenant.empty() ? StemOf(o.output) : o.tenant;
  const std::string command = ShellText(o.command);

  TempDir tmp;
  std::printf("profile: running %s (trace pass%s)\n", command.c_str(),
              o.nvtx ? ", NVTX ranges" : "");
  const ChildStatus status = RunChild(
      o.command, PassEnvironment(o, inject, cupti, tenant, tmp.path() + "/trace.%p.json", ""));
  const std::vector<ProcessFile> files = FindProcessFiles(tmp.path(), "trace");
  if (files.empty()) {
    if (status.Ok()) throw InputError(NoTraceMessage(command, status, o));
    // The program's own failure is the news: report it with its status.
    std::fprintf(stderr, "cotenant: error: %s\n", NoTraceMessage(command, status, o).c_str());
    return status.ShellStatus();
  }

  std::vector<Trace> traces;
  traces.reserve(files.size());
  try {
    for (const ProcessFile& f : files) traces.push_back(ReadTrace(f.path));
  } catch (const InputError& e) {
    tmp.Keep();
    throw InputError(std::string(e.what()) + " (the per-process traces are kept in " + tmp.path() +
                     ")");
  }
  // The counter pass joins each process's kernels before the merge renumbers them.
  CounterOutcome counters;
  if (o.counters && status.Ok()) {
    Options pass2 = o;
    pass2.nvtx = false;  // the counter pass reads no NVTX ranges
    counters = RunCounterPass(
        o.command, command,
        PassEnvironment(pass2, inject, "", tenant, "", tmp.path() + "/counters.%p.json"),
        tmp.path(), files, &traces);
  } else if (o.counters) {
    counters.lines.push_back("counter pass: skipped, the trace pass failed");
  }

  Trace merged;
  if (traces.size() == 1) {
    merged = traces.front();
    merged.tenant = tenant;
  } else {
    merged = profiler::MergeTraces(traces, tenant);
  }
  merged.meta["command"] = o.command;
  merged.meta["exit_status"] = status.ShellStatus();
  if (status.signal != 0) merged.meta["exit_signal"] = SignalName(status.signal);
  merged.meta["nvtx"] = o.nvtx;

  WriteTrace(merged, o.output);
  PrintSummary(files, traces, merged, o.output, stdout);
  for (const std::string& line : counters.lines) std::printf("%s\n", line.c_str());
  if (!status.Ok()) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "cotenant: error: `%s` %s; the trace of what it ran is in %s (meta.exit_status "
                 "= %d)\n",
                 command.c_str(), status.Describe().c_str(), o.output.c_str(),
                 status.ShellStatus());
    return status.ShellStatus();
  }
  if (!counters.failure.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "cotenant: error: %s\n", counters.failure.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

RunFn AddProfile(CLI::App* sub) {
  auto o = std::make_shared<Options>();
  sub->add_option("-o,--output", o->output, "Trace file to write (.json or .json.gz)")->required();
  sub->add_option("--tenant", o->tenant,
                  "Tenant name in the trace (default: the output file name without .json)");
  sub->add_flag("--nvtx", o->nvtx,
                "Label kernels with the innermost NVTX range open at their launch (e.g. "
                "PyTorch's emit_nvtx); sets NVTX_INJECTION64_PATH to libcupti.so");
  sub->add_flag("--counters", o->counters,
                "Run the program a second time under the CUPTI range profiler (kernel replay, "
                "much slower) and add DRAM bytes and mem_bound to every kernel");
  sub->add_option("--window", o->window,
                  "Which part of the run becomes the trace: all (default), profiler "
                  "(cudaProfilerStart..Stop), range:NAME[:N], time:FROM_NS:TO_NS");
  sub->add_option("--inject", o->inject,
                  "Path of libcotenant_inject.so (default: $COTENANT_INJECT_LIB, else next to "
                  "cotenant, in ../lib, or installed)");
  sub->add_option("command", o->command, "The program to profile and its arguments, after --");
  sub->footer(
      "Every process of the program that initialises CUDA writes its own trace; they are\n"
      "merged into one. The program's output goes to the terminal as usual, and cotenant\n"
      "exits with the program's status when it fails (the trace is still written).\n"
      "Examples:\n"
      "  cotenant profile -o two_streams.json -- ./two_streams\n"
      "  cotenant profile --nvtx --window profiler --tenant resnet50 -o resnet50_b8.json -- \\\n"
      "      python3 tools/zoo/run_model.py --model resnet50 --batch 8\n");
  return [o]() { return RunProfile(*o); };
}

}  // namespace cotenant::cli
