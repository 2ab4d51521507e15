// cotenant calibrate: run the built-in co-location micro-benchmarks on the
// GPU, fit the contention model's parameters, write them into a GPU spec.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/graph.h"
#include "sim/json_util.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/measured_cli.h"
#include "tools/cotenant/replay_cli.h"
#include "tools/cotenant/table.h"
#include "tools/replay/replay_measurer.h"
#include "tools/replay/runner.h"
#include "tools/validation/calibration.h"

namespace cotenant::cli {
namespace {

void PrintFit(const validation::FitReport& r, std::FILE* out) {
  Table p({{"parameter"}, {"before", Align::kRight}, {"after", Align::kRight}});
  p.AddRow({"dram_efficiency", FormatFixed(r.before.dram_efficiency, 4),
            FormatFixed(r.after.dram_efficiency, 4)});
  p.AddRow({"corun_slowdown", FormatFixed(r.before.corun_slowdown, 4),
            FormatFixed(r.after.corun_slowdown, 4)});
  p.AddRow({"launch_latency_ns", std::to_string(r.before.launch_latency_ns),
            std::to_string(r.after.launch_latency_ns)});
  p.Print(out);
  std::fprintf(out, "\n");
  Table e({{"co-run time |error|"},
           {"kernels", Align::kRight},
           {"mean before", Align::kRight},
           {"mean after", Align::kRight},
           {"max before", Align::kRight},
           {"max after", Align::kRight}});
  auto row = [&](const char* name, const validation::FitError& b, const validation::FitError& a) {
    e.AddRow({name, std::to_string(a.count), FormatFixed(b.mean_abs_pct, 2) + "%",
              FormatFixed(a.mean_abs_pct, 2) + "%", FormatFixed(b.max_abs_pct, 2) + "%",
              FormatFixed(a.max_abs_pct, 2) + "%"});
  };
  row("fitted", r.train_before, r.train_after);
  row("held out", r.held_out_before, r.held_out_after);
  e.Print(out);
  std::fprintf(out, "%lld benchmarks (%lld fitted, %lld held out), %d iterations%s\n",
               static_cast<long long>(r.benchmarks), static_cast<long long>(r.fitted),
               static_cast<long long>(r.held_out), r.iterations,
               r.converged ? "" : ", not converged");
}

}  // namespace

RunFn AddCalibrate(CLI::App* sub) {
  struct Options {
    std::string gpu, out, report, date;
    std::vector<std::string> fix;
    int32_t every = 1;
    ReplayCliOptions replay;
    MeasuredCliOptions measured;
  };
  auto o = std::make_shared<Options>();
  o->replay.repeat = 3;
  sub->add_option("-g,--gpu", o->gpu, "GPU micro-benchmarks: GPU spec key or file to start from");
  sub->add_option("-o,--output", o->out,
                  "Write the calibrated GPU spec (cotenant.gpu/1), or with --measured the "
                  "calibration (cotenant.model-calibration/1)")
      ->required();
  sub->add_option("--measured", o->measured.table,
                  "Fit from a measured table (CSV: gpu,dtype,models,batch,seq_len,latency_us) "
                  "instead of running micro-benchmarks on a GPU");
  sub->add_option("--max-iterations", o->measured.max_iterations,
                  "With --measured: iterations per fitting stage")
      ->check(CLI::Range(1, 1000));
  AddMeasuredOptions(sub, &o->measured, true);
  sub->add_option("--report", o->report, "Write the fit report (cotenant.calibration/1)");
  sub->add_option("--fix", o->fix,
                  "Keep a parameter at its start value (repeatable). Micro-benchmarks: "
                  "dram_efficiency, corun_slowdown, launch_latency_ns; --measured: harness_ns, "
                  "a contention parameter, MODEL.host_scale, MODEL.gpu_scale or MODEL.*");
  sub->add_option("--every", o->every,
                  "Micro-benchmarks: measure only every N-th of the built-in set (1 = all "
                  "147 on a GPU with partitions), to fit a time budget")
      ->check(CLI::Range(1, 1000));
  AddReplayOptions(sub, &o->replay);
  sub->add_option("--date", o->date, "Date recorded in the spec (default: today, UTC)");
  sub->footer(
      "Example:\n"
      "  cotenant calibrate --gpu h100-sxm -o configs/gpus/h100-sxm.json --report fit.json\n"
      "  cotenant calibrate --measured pairs.csv -o cal.json");
  return [o]() {
    if (!o->measured.table.empty()) {
      if (!o->gpu.empty())
        throw InputError("calibrate: --measured takes the GPU from the table: drop --gpu");
      if (!o->report.empty())
        throw InputError("calibrate: --measured writes its fit into -o: drop --report");
      if (o->every != 1)
        throw InputError(
            "calibrate: --every thins the GPU micro-benchmarks: drop it with --measured");
      o->measured.out = o->out;
      o->measured.date = o->date;
      o->measured.fix = o->fix;
      return RunCalibrateMeasured(o->measured);
    }
    if (o->gpu.empty())
      throw InputError("calibrate: give --gpu (micro-benchmarks on a GPU) or --measured (a table)");
    static const std::vector<std::string> kMicroFix = {"dram_efficiency", "corun_slowdown",
                                                       "launch_latency_ns"};
    for (const std::string& f : o->fix) {
      if (std::find(kMicroFix.begin(), kMicroFix.end(), f) == kMicroFix.end())
        throw InputError("calibrate: --fix " + f + ": expected one of " + QuotedList(kMicroFix));
    }
    const std::unique_ptr<replay::Runner> runner = MakeRunner(o->replay, "calibrate");
    const GpuSpec spec = LoadGpuSpec(o->gpu);
    validation::FitOptions fo;
    for (const std::string& f : o->fix) {
      if (f == "dram_efficiency") fo.fit_dram_efficiency = false;
      if (f == "corun_slowdown") fo.fit_corun_slowdown = false;
      if (f == "launch_latency_ns") fo.fit_launch_latency = false;
    }
    replay::ReplayMeasurer measurer(*runner, MakeReplayOptions(o->replay, nullptr), nullptr);
    validation::MicroSetOptions so;
    so.keep_every = o->every;
    const validation::Calibration c = validation::Calibrate(
        spec, measurer, o->date.empty() ? validation::TodayUtc() : o->date, fo, so,
        [](const validation::MicroBenchmark& b, size_t i, size_t count,
           const validation::Measurement& m) {
          std::fprintf(stderr, "calibrate: %zu/%zu %s (%s timing)\n", i + 1, count, b.name.c_str(),
                       m.timing.c_str());
        });
    WriteOutput(o->out, GpuSpecToJson(c.spec).dump(2) + "\n");
    if (!o->report.empty()) {
      WriteOutput(
          o->report,
          validation::CalibrationReportToJson(c.fit, c.provenance, spec.key).dump(2) + "\n");
    }
    PrintFit(c.fit, stdout);
    return 0;
  };
}

}  // namespace cotenant::cli
