// cotenant replay: run a workload under a plan on a real GPU with synthetic
// kernels shaped like the traced ones, and write what really happened.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "sim/error.h"
#include "sim/graph.h"
#include "sim/simulate.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/replay_cli.h"
#include "tools/cotenant/table.h"
#include "tools/replay/measured.h"
#include "tools/replay/program.h"
#include "tools/replay/replay_measurer.h"
#include "tools/replay/report_json.h"
#include "tools/replay/runner.h"

namespace cotenant::cli {
namespace {

/// --dry-run: what the replay would do, without a GPU.
void PrintDryRun(const LoadedWorkload& lw, const Plan& plan, const TaskGraph& g,
                 const replay::ReplayProgram& p, std::FILE* out) {
  std::fprintf(out, "replay program: %zu host thread(s), %zu stream(s), max_connections %d\n\n",
               p.threads.size(), g.streams.size(), plan.max_connections);
  Table t({{"thread", Align::kRight},
           {"tenant"},
           {"host calls", Align::kRight},
           {"GPU tasks", Align::kRight},
           {"syncs", Align::kRight},
           {"cross-thread waits", Align::kRight},
           {"side-stream kernels", Align::kRight}});
  const std::vector<replay::ThreadSummary> rows = replay::SummarizeProgram(g, p);
  for (size_t i = 0; i < rows.size(); ++i) {
    const replay::ThreadSummary& r = rows[i];
    t.AddRow({std::to_string(i), r.tenant + (r.issuer ? " (issuer)" : ""),
              std::to_string(r.host_calls), std::to_string(r.gpu_tasks), std::to_string(r.syncs),
              std::to_string(r.waits), std::to_string(r.side_launches)});
  }
  t.Print(out);
  std::fprintf(out, "\n");
  Table s({{"tenant"}, {"streams", Align::kRight}, {"priority", Align::kRight}, {"SMs"}});
  for (size_t ti = 0; ti < lw.workload.tenants.size(); ++ti) {
    const int32_t part = g.tenant_partition[ti];
    s.AddRow({lw.workload.tenants[ti].name, std::to_string(g.tenant_stream_count[ti]),
              std::to_string(g.tenant_priority[ti]),
              part < 0 ? "all (shared)"
                       : std::to_string(g.partitions.sm_counts[part]) + " (green context " +
                             std::to_string(part) + ")"});
  }
  s.Print(out);
  for (const replay::SideStream& side : p.side_streams) {
    std::fprintf(out, "side stream of stream %d: priority %d, %s\n", side.stream, side.priority,
                 side.partition < 0
                     ? "all SMs"
                     : (std::to_string(g.partitions.sm_counts[side.partition]) + " SMs").c_str());
  }
  std::fprintf(out, "%lld GPU and %lld host dependencies across threads\n",
               static_cast<long long>(p.gpu_waits), static_cast<long long>(p.host_waits));
}

}  // namespace

RunFn AddReplay(CLI::App* sub) {
  struct Options {
    std::string workload, plan, gpu, out, timeline, traces, sizing_report;
    ReplayCliOptions replay;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)")->required();
  sub->add_option("-p,--plan", o->plan, "Plan file (cotenant.plan/1); default: native");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file; overrides the workload's");
  auto* output = sub->add_option("-o,--output", o->out,
                                 "Write the measured result (cotenant.result/1), - = stdout");
  sub->add_flag("--dry-run", o->dry_run,
                "Print the replay program (threads, streams, partitions, side streams) and exit; "
                "needs no GPU");
  AddReplayOptions(sub, &o->replay);
  sub->add_option(
      "--timeline", o->timeline,
      "Write the measured Perfetto/Chrome timeline (lines up with simulate --timeline)");
  sub->add_option("--traces", o->traces,
                  "Write the measured timeline as one cotenant.trace/1 per tenant: "
                  "<prefix>-<tenant>.json");
  sub->add_option("--sizing-report", o->sizing_report,
                  "Write the per-kernel sizing residuals and DRAM bytes (JSON)");
  AddRenamedOption(sub, "--calibration", "--sizing-report", &o->sizing_report);
  sub->footer(
      "Each replay runs in its own process, so that the plan's CUDA_DEVICE_MAX_CONNECTIONS\n"
      "and the profiler's CUDA_INJECTION64_PATH take effect.\n\n"
      "Example:\n"
      "  cotenant replay --workload configs/workloads/vision3.json --plan P.json -o measured.json");
  // -o is required unless --dry-run: checked while parsing, a usage error.
  sub->parse_complete_callback([o, output]() {
    if (!o->dry_run && output->count() == 0) throw CLI::RequiredError("--output");
  });
  return [o]() {
    if (o->dry_run) {
      const LoadedWorkload lw = LoadWorkload(o->workload, o->gpu, nullptr, "replay");
      const Plan plan = LoadPlanOrNative(o->plan == "native" ? "" : o->plan);
      const TaskGraph g = BuildTaskGraph(lw, plan);
      PrintDryRun(lw, plan, g, replay::BuildReplayProgram(g), stdout);
      return 0;
    }
    const std::unique_ptr<replay::Runner> runner = MakeRunner(o->replay, "replay");
    const LoadedWorkload lw = LoadWorkload(o->workload, o->gpu, nullptr, "replay");
    const Plan plan = LoadPlanOrNative(o->plan == "native" ? "" : o->plan);
    const TaskGraph g = BuildTaskGraph(lw, plan);
    replay::ReplayOptions ro = MakeReplayOptions(o->replay, [](const std::string& line) {
      std::fprintf(stderr, "replay: %s\n", line.c_str());
    });
    ro.max_connections = plan.max_connections;
    const replay::MeasuredPlan m = replay::MeasurePlan(*runner, lw, g, ro, !o->timeline.empty());
    const replay::ReplayReport& rep = m.report;
    const SimResult& r = m.results[m.median];
    WriteOutput(o->out, replay::MeasuredResultToJson(m).dump(2) + "\n");
    if (!o->timeline.empty()) WriteOutput(o->timeline, TimelineToJsonText(r));
    if (!o->traces.empty()) {
      std::string stem = o->traces;
      if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
        stem.resize(stem.size() - 5);
      for (const Trace& t : replay::MeasuredTraces(lw, g, rep.runs[m.median]))
        WriteTrace(t, stem + "-" + t.tenant + ".json");
    }
    if (!o->sizing_report.empty())
      WriteOutput(o->sizing_report, replay::SizingReportToJson(rep).dump(2) + "\n");
    if (o->out != "-") PrintResult(r, lw, stdout);
    for (const std::string& note : rep.notes)
      std::fprintf(stderr, "replay: note: %s\n", note.c_str());
    std::fprintf(stderr,
                 "replay: %s, driver %d, runtime %d, timing %s; calibration error |%%| median "
                 "%.2f, p90 %.2f, max %.2f over %lld kernels\n",
                 rep.device_name.c_str(), rep.driver_version, rep.runtime_version,
                 rep.timing.c_str(), rep.sizing.median_pct, rep.sizing.p90_pct, rep.sizing.max_pct,
                 static_cast<long long>(rep.sizing.count));
    return 0;
  };
}

}  // namespace cotenant::cli
