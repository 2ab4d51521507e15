// cotenant whatif: apply what-if changes to a workload's traces
// (sim/workload_whatif.h, on the primitives of sim/whatif.h), simulate the
// baseline and the changed workload under the same plan and print them side
// by side.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/error.h"
#include "sim/simulate.h"
#include "sim/whatif.h"
#include "sim/workload_whatif.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/measured_cli.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {
namespace {

constexpr const char* kDefaultSelector = "kind=kernel";

/// One row of the comparison table: a time metric.
void TimeRow(Table& t, const std::string& metric, TimeNs before, TimeNs after) {
  t.AddRow({metric, FormatNs(before), FormatNs(after), FormatSignedNs(after - before),
            FormatChange(static_cast<double>(before), static_cast<double>(after))});
}

/// One row of the comparison table: a fraction, its change in points.
void FractionRow(Table& t, const std::string& metric, double before, double after) {
  char pts[64];
  std::snprintf(pts, sizeof(pts), "%+.1f pts", (after - before) * 100.0);
  t.AddRow({metric, FormatPercent(before), FormatPercent(after), pts, FormatChange(before, after)});
}

}  // namespace

RunFn AddWhatif(CLI::App* sub) {
  struct Options {
    std::string calibration, workload, plan, gpu, model = "fluid", json, timeline, select, swap_gpu;
    std::vector<std::string> traces;
    double scale = 1.0;
    bool remove = false, keep_launch = false, split_parallel = false;
    int32_t split = 0;
    int64_t move_stream = 0;
    int32_t move_priority = 0, move_sm_count = 0;
    int64_t insert_after = 0, insert_dur = 0, insert_stream = 0;
    std::vector<int32_t> insert_grid, insert_block;
    std::string insert_name = "whatif_inserted_kernel";
    int32_t insert_regs = 32, insert_smem = 0;
  };
  auto o = std::make_shared<Options>();
  sub->add_option("traces", o->traces, "Trace files, one tenant each (instead of --workload)");
  sub->add_option("-w,--workload", o->workload, "Workload file (cotenant.workload/1)");
  sub->add_option("-p,--plan", o->plan,
                  "Plan file (cotenant.plan/1) for both runs; default: native multi-stream");
  sub->add_option("-g,--gpu", o->gpu,
                  "GPU spec key or file of the baseline; overrides the workload's");
  sub->add_option("--calibration", o->calibration,
                  "Calibration from measured tables (cotenant.model-calibration/1, written by "
                  "calibrate --measured): its contention parameters and per-model time scales");
  sub->add_option("-m,--model", o->model, "Contention model: fluid (default) or block");
  sub->add_option("-s,--select", o->select,
                  "Tasks to change: key=value[,key=value...] with keys tenant (exact), name and op "
                  "(ECMAScript regexes, searched; prefix (?i) to ignore case) and kind (launch, "
                  "kernel, memcpy, memset, cpu, event_record, stream_wait, sync). Default: "
                  "kind=kernel of every tenant");
  CLI::Option* scale =
      sub->add_option("--scale", o->scale, "Multiply the selected tasks' durations");
  sub->add_flag("--remove", o->remove,
                "Remove the selected tasks (with the launches left without GPU work and the waits "
                "on removed event records)");
  CLI::Option* keep =
      sub->add_flag("--keep-launch", o->keep_launch,
                    "With --remove: keep the CPU cost of removed GPU tasks' launches");
  CLI::Option* split =
      sub->add_option("--split", o->split, "Split each selected kernel into K pieces");
  CLI::Option* split_parallel =
      sub->add_flag("--split-parallel", o->split_parallel,
                    "With --split: run the pieces on K new streams, forked and joined with events");
  CLI::Option* move_stream =
      sub->add_option("--move-stream", o->move_stream, "Move the selected GPU tasks to stream S");
  CLI::Option* move_priority = sub->add_option("--move-priority", o->move_priority,
                                               "Give the selected GPU tasks stream priority P");
  CLI::Option* move_sm = sub->add_option("--move-sm-count", o->move_sm_count,
                                         "Cap the selected GPU tasks to N SMs (a partition)");
  CLI::Option* swap = sub->add_option(
      "--swap-gpu", o->swap_gpu,
      "Rescale every tenant's GPU work from the baseline GPU to this one (roofline) and "
      "simulate the change on it");
  CLI::Option* insert_after = sub->add_option("--insert-after", o->insert_after,
                                              "Insert a kernel after the task with this id");
  CLI::Option* insert_dur = sub->add_option("--insert-dur", o->insert_dur,
                                            "Isolated duration of the inserted kernel, ns");
  CLI::Option* insert_grid = sub->add_option("--insert-grid", o->insert_grid,
                                             "Grid of the inserted kernel, X[,Y[,Z]] (default: "
                                             "no launch shape, fills the GPU)")
                                 ->delimiter(',')
                                 ->allow_extra_args(false);
  CLI::Option* insert_block =
      sub->add_option("--insert-block", o->insert_block, "Block of the inserted kernel, X[,Y[,Z]]")
          ->delimiter(',')
          ->allow_extra_args(false);
  CLI::Option* insert_stream = sub->add_option(
      "--insert-stream", o->insert_stream,
      "Stream of the inserted kernel (default: the stream of --insert-after's task)");
  CLI::Option* insert_name =
      sub->add_option("--insert-name", o->insert_name, "Name of the inserted kernel");
  CLI::Option* insert_regs = sub->add_option("--insert-regs", o->insert_regs,
                                             "Registers per thread of the inserted kernel");
  CLI::Option* insert_smem = sub->add_option(
      "--insert-smem", o->insert_smem, "Shared memory per block of the inserted kernel, bytes");
  sub->add_option("--json", o->json,
                  "Write {baseline, whatif, changes} (cotenant.whatif/1) to this file, - = stdout");
  sub->add_option("--timeline", o->timeline,
                  "Write the what-if run's Perfetto/Chrome trace-event timeline");
  sub->footer(
      "Changes apply in this order: --swap-gpu (all tenants), --scale, --move-*, --split,\n"
      "--remove, --insert-*. --select picks the tasks of the per-task changes.\n"
      "Examples:\n"
      "  cotenant whatif --workload W.json --select name=gemm --scale 0.5\n"
      "  cotenant whatif T1.json T2.json --select tenant=bert,op=attention --split 4 "
      "--split-parallel\n"
      "  cotenant whatif --workload W.json --swap-gpu a100-sxm4-80g --json out.json");

  return [=]() {
    const bool moving = move_stream->count() || move_priority->count() || move_sm->count();
    const bool inserting = insert_after->count() > 0;
    const bool per_task = scale->count() || o->remove || split->count() || moving;
    if (o->remove && (scale->count() || split->count() || moving)) {
      throw InputError("--remove cannot be combined with --scale, --split or --move-*");
    }
    if (keep->count() && !o->remove) throw InputError("--keep-launch needs --remove");
    if (split_parallel->count() && !split->count())
      throw InputError("--split-parallel needs --split");
    for (const CLI::Option* opt : {insert_dur, insert_grid, insert_block, insert_stream,
                                   insert_name, insert_regs, insert_smem}) {
      if (opt->count() && !inserting) {
        throw InputError(opt->get_name() + " needs --insert-after");
      }
    }
    if (inserting && !insert_dur->count()) throw InputError("--insert-after needs --insert-dur");
    if ((insert_grid->count() > 0) != (insert_block->count() > 0)) {
      throw InputError("--insert-grid and --insert-block go together");
    }
    if (!per_task && !inserting && !swap->count()) {
      throw InputError(
          "nothing to change: give --scale, --remove, --split, --move-stream, --move-priority, "
          "--move-sm-count, --swap-gpu or --insert-after");
    }

    LoadedWorkload base = LoadInputs(o->workload, o->traces, o->gpu, "whatif");
    ApplyCalibrationFile(o->calibration, &base, "whatif");
    const Plan plan = LoadPlanOrNative(o->plan);
    WorkloadChanges wc;
    wc.select = ParseSelector(o->select.empty() ? kDefaultSelector : o->select, "--select");
    wc.default_select = o->select.empty();
    if (swap->count()) wc.swap_gpu = o->swap_gpu;
    if (scale->count()) wc.scale = o->scale;
    if (moving) {
      MoveTo to;
      if (move_stream->count()) to.stream = o->move_stream;
      if (move_priority->count()) to.priority = o->move_priority;
      if (move_sm->count()) to.sm_count = o->move_sm_count;
      wc.move = to;
    }
    if (split->count()) wc.split = o->split;
    wc.split_parallel = o->split_parallel;
    if (o->remove) {
      RemoveOptions ro;
      ro.keep_launch = o->keep_launch;
      wc.remove = ro;
    }
    if (inserting) {
      InsertChange in;
      in.after_id = o->insert_after;
      if (insert_stream->count()) in.stream = o->insert_stream;
      in.name = o->insert_name;
      in.dur_ns = o->insert_dur;
      if (insert_grid->count()) {
        in.grid = o->insert_grid;
        in.block = o->insert_block;
      }
      in.regs = o->insert_regs;
      in.smem = o->insert_smem;
      wc.insert = in;
    }
    const ChangedWorkload cw = ApplyWorkloadChanges(base, wc);
    const LoadedWorkload& changed = cw.workload;

    SimOptions options;
    options.model = o->model;
    const SimResult before = Simulate(base, plan, options);
    options.record_timeline = !o->timeline.empty();
    const SimResult after = Simulate(changed, plan, options);

    if (o->json != "-") {
      std::printf("changes:\n");
      for (const AppliedChange& c : cw.changes) {
        std::printf("  %s: %s\n", c.tenant.c_str(), c.description.c_str());
      }
      std::printf("\n");
      Table t({{"metric"},
               {"baseline", Align::kRight},
               {"what-if", Align::kRight},
               {"change", Align::kRight},
               {"%", Align::kRight}});
      TimeRow(t, "makespan", before.makespan_ns, after.makespan_ns);
      for (size_t i = 0; i < before.tenants.size() && i < after.tenants.size(); ++i) {
        const TenantResult& b = before.tenants[i];
        const TenantResult& a = after.tenants[i];
        TimeRow(t, b.name + " mean latency", b.latency.mean, a.latency.mean);
        TimeRow(t, b.name + " p99 latency", b.latency.p99, a.latency.p99);
      }
      FractionRow(t, "GPU SM busy", before.gpu.sm_busy_fraction, after.gpu.sm_busy_fraction);
      FractionRow(t, "mean SM occupancy", before.gpu.mean_sm_occupancy,
                  after.gpu.mean_sm_occupancy);
      t.Print(stdout);
      std::printf("model %s; baseline on %s, what-if on %s\n", before.model.c_str(),
                  base.gpu.key.c_str(), changed.gpu.key.c_str());
    }
    if (!o->json.empty()) {
      const nlohmann::json j =
          WhatifToJson(before, after, cw.changes, wc.select, base.gpu.key, changed.gpu.key);
      WriteOutput(o->json, j.dump(2) + "\n");
    }
    if (!o->timeline.empty()) {
      WriteOutput(o->timeline, TimelineToJsonText(after));
      if (o->json != "-") {
        std::printf("timeline: %s (what-if run; open in https://ui.perfetto.dev)\n",
                    o->timeline.c_str());
      }
    }
    std::fflush(stdout);
    NoteGpuChoice("whatif", base, stderr);
    return 0;
  };
}

}  // namespace cotenant::cli
