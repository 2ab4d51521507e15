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
// counters are merged into the trace. The environment, the per-process files,
// the child process and the counter merge are the profiler library's
// (profiler/profile_run.h, profiler/child_process.h); this file is the
// command line: flags, progress lines, the summary table, exit status.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/counters.h"
#include "profiler/profile_run.h"
#include "sim/error.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/inject_lib.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

using profiler::ProcessFile;
using profiler::TraceSummary;

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
    t.AddRow(SummaryRow(files[i].Who(), profiler::SummariseTrace(traces[i])));
  }
  const TraceSummary total = profiler::SummariseTrace(merged);
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

/// What the injection library is told in one pass.
profiler::InjectionSettings PassSettings(const Options& o, const std::string& inject,
                                         const std::string& cupti, const std::string& tenant,
                                         const std::string& trace_out,
                                         const std::string& counters_out) {
  profiler::InjectionSettings s;
  s.inject_library = inject;
  s.cupti_library = cupti;
  s.tenant = tenant;
  s.trace_out = trace_out;
  s.counters_out = counters_out;
  s.window = o.window;
  s.nvtx = o.nvtx;
  return s;
}

/// The summary lines of the counter pass: which process got whose counters.
std::vector<std::string> CounterLines(const profiler::CounterPassOutcome& outcome) {
  std::vector<std::string> lines;
  for (const profiler::CounterMatch& m : outcome.matches) {
    if (!m.matched) {
      lines.push_back("counters: " + m.who + ": no counter-pass process matches its kernels");
      continue;
    }
    const profiler::CounterMergeReport& r = m.report;
    std::string line = "counters: " + m.who + ": " + FormatCount(r.merged) + " of " +
                       FormatCount(r.trace_kernels) + " kernels";
    if (m.counter_pid >= 0) line += " (counter pass pid " + std::to_string(m.counter_pid) + ")";
    if (r.mismatched > 0 || r.missing > 0) {
      line += "; " + FormatCount(r.mismatched) + " with another name, " + FormatCount(r.missing) +
              " without values";
    }
    lines.push_back(line);
  }
  return lines;
}

/// The one-line reason when no process wrote a trace.
std::string NoTraceMessage(const std::string& command, const profiler::ChildStatus& status,
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
  profiler::CheckOutputPath(o.output);
  profiler::ResolveProgram(o.command.front());
  if (!kHaveCupti) {
    throw InputError(
        "profile: this cotenant was built without CUPTI (the CUDA toolkit was not found at "
        "build time), so the injection library libcotenant_inject.so does not exist; rebuild "
        "with the CUDA toolkit, or capture with the PyTorch profiler and use cotenant import "
        "kineto");
  }
  const std::string inject = FindInjectLibrary(o.inject);
  const std::string cupti = o.nvtx ? FindCuptiLibrary() : "";
  const std::string tenant = o.tenant.empty() ? profiler::TenantFromOutput(o.output) : o.tenant;
  const std::string command = profiler::ShellText(o.command);

  profiler::ScratchDir tmp;
  std::printf("profile: running %s (trace pass%s)\n", command.c_str(),
              o.nvtx ? ", NVTX ranges" : "");
  const profiler::ChildStatus status = profiler::RunChild(
      o.command, profiler::InjectionEnvironment(
                     PassSettings(o, inject, cupti, tenant, tmp.path() + "/trace.%p.json", "")));
  const std::vector<ProcessFile> files = profiler::FindProcessFiles(tmp.path(), "trace");
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
  std::vector<std::string> counter_lines;
  std::string counter_failure;
  if (o.counters && status.Ok()) {
    Options pass2 = o;
    pass2.nvtx = false;  // the counter pass reads no NVTX ranges
    std::printf(
        "counter pass: running %s again under the CUPTI range profiler; every kernel is replayed "
        "to read its DRAM and SM counters, so this run is much slower than the first\n",
        command.c_str());
    const profiler::ChildStatus pass_status = profiler::RunChild(
        o.command, profiler::InjectionEnvironment(PassSettings(pass2, inject, "", tenant, "",
                                                               tmp.path() + "/counters.%p.json")));
    const profiler::CounterPassOutcome outcome =
        profiler::MergeCounterPass(pass_status, command, tmp.path(), files, &traces);
    counter_lines = CounterLines(outcome);
    counter_failure = outcome.failure;
  } else if (o.counters) {
    counter_lines.push_back("counter pass: skipped, the trace pass failed");
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
  if (status.signal != 0) merged.meta["exit_signal"] = profiler::SignalName(status.signal);
  merged.meta["nvtx"] = o.nvtx;
  // Kernels the counter pass gave no DRAM figures (or all, without
  // --counters) get estimates from their names' classes; counters win.
  const profiler::MemoryReport memory = profiler::EstimateImportedMemory(merged, "", {}, {});

  WriteTrace(merged, o.output);
  PrintSummary(files, traces, merged, o.output, stdout);
  std::printf("DRAM figures: %s\n", DramFiguresText(memory).c_str());
  for (const std::string& line : counter_lines) std::printf("%s\n", line.c_str());
  if (!status.Ok()) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "cotenant: error: `%s` %s; the trace of what it ran is in %s (meta.exit_status "
                 "= %d)\n",
                 command.c_str(), status.Describe().c_str(), o.output.c_str(),
                 status.ShellStatus());
    return status.ShellStatus();
  }
  if (!counter_failure.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "cotenant: error: %s\n", counter_failure.c_str());
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
