#include "profiler/profile_run.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "sim/error.h"
#include "sim/intervals.h"
#include "sim/json_util.h"

namespace cotenant::profiler {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
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

ScratchDir::~ScratchDir() {
  if (keep_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ProcessFile::Who() const { return pid >= 0 ? "pid " + std::to_string(pid) : path; }

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

std::string TenantFromOutput(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".json")) name.resize(name.size() - 5);
  return name.empty() ? "tenant" : name;
}

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

std::vector<EnvChange> InjectionEnvironment(const InjectionSettings& s) {
  std::vector<EnvChange> env;
  auto set_or_unset = [&env](const char* name, const std::string& value) {
    env.emplace_back(name, value.empty() ? std::nullopt : std::optional<std::string>(value));
  };
  set_or_unset("CUDA_INJECTION64_PATH", s.inject_library);
  set_or_unset("COTENANT_TRACE_OUT", s.trace_out);
  set_or_unset("COTENANT_COUNTERS", s.counters_out);
  set_or_unset("COTENANT_TENANT", s.tenant);
  set_or_unset("COTENANT_WINDOW", s.window);
  set_or_unset("COTENANT_NVTX", s.nvtx ? "1" : "");
  if (s.nvtx) set_or_unset("NVTX_INJECTION64_PATH", s.cupti_library);
  return env;
}

CounterPassOutcome MergeCounterPass(const ChildStatus& status, const std::string& command,
                                    const std::string& dir,
                                    const std::vector<ProcessFile>& trace_files,
                                    std::vector<Trace>* traces) {
  CounterPassOutcome out;
  const std::vector<ProcessFile> files = FindProcessFiles(dir, "counters");
  if (files.empty()) {
    out.failure = "counter pass: `" + command + "` " + status.Describe() +
                  " and no process wrote counters; the trace was written without them";
    return out;
  }
  std::vector<CounterSet> sets;
  for (const ProcessFile& f : files) {
    try {
      sets.push_back(ReadCounters(f.path));
    } catch (const InputError& e) {
      out.failure =
          std::string("counter pass: ") + e.what() + "; this process's kernels got no counters";
      sets.emplace_back();
    }
  }
  std::vector<bool> used(sets.size(), false);
  for (size_t i = 0; i < traces->size(); ++i) {
    CounterMatch match;
    match.who = trace_files[i].Who();
    size_t best = sets.size();
    Trace best_trace;
    CounterMergeReport best_report;
    for (size_t j = 0; j < sets.size(); ++j) {
      if (used[j] || sets[j].kernels.empty()) continue;
      Trace candidate = (*traces)[i];
      const CounterMergeReport r = MergeCounters(sets[j], &candidate);
      if (r.merged > 0 && (best == sets.size() || r.merged > best_report.merged)) {
        best = j;
        best_trace = std::move(candidate);
        best_report = r;
      }
    }
    if (best < sets.size()) {
      used[best] = true;
      (*traces)[i] = std::move(best_trace);
      match.matched = true;
      match.counter_pid = files[best].pid;
      match.report = best_report;
    }
    out.matches.push_back(std::move(match));
  }
  if (!status.Ok() && out.failure.empty()) {
    out.failure = "counter pass: `" + command + "` " + status.Describe() +
                  "; counters were merged for the kernels it reached";
  }
  return out;
}

TraceSummary SummariseTrace(const Trace& trace) {
  TraceSummary s;
  std::set<int64_t> streams, threads;
  std::vector<Interval> busy;
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
  s.gpu_busy_ns = UnionLengthNs(std::move(busy));
  s.span_ns = first == kNever ? 0 : last - first;
  s.streams = static_cast<int64_t>(streams.size());
  s.threads = static_cast<int64_t>(threads.size());
  if (const auto d = trace.meta.find("dropped_records");
      d != trace.meta.end() && d->is_number_integer()) {
    s.dropped = d->get<int64_t>();
  }
  return s;
}

}  // namespace cotenant::profiler
