// cotenant calibrate: run the built-in co-location micro-benchmarks on the
// GPU, fit the contention model's parameters, write them into a GPU spec.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/graph.h"
#include "tools/cotenant/commands.h"
#include "tools/cotenant/common.h"
#include "tools/cotenant/replay_cli.h"
#include "tools/cotenant/table.h"
#include "tools/replay/replay_measurer.h"
#include "tools/replay/runner.h"
#include "tools/validation/calibration.h"

namespace cotenant::cli {
namespace {

std::string Today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

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
    ReplayCliOptions replay;
  };
  auto o = std::make_shared<Options>();
  o->replay.repeat = 3;
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file to start from")->required();
  sub->add_option("-o,--output", o->out,
                  "Write the calibrated GPU spec (cotenant.gpu/1), e.g. configs/gpus/KEY.json")
      ->required();
  sub->add_option("--report", o->report, "Write the fit report (cotenant.calibration/1)");
  sub->add_option("--fix", o->fix, "Keep a parameter at the spec's value (repeatable)")
      ->check(CLI::IsMember({"dram_efficiency", "corun_slowdown", "launch_latency_ns"}));
  AddReplayOptions(sub, &o->replay);
  sub->add_option("--date", o->date, "Date recorded in the spec (default: today, UTC)");
  sub->footer(
      "Example:\n"
      "  cotenant calibrate --gpu h100-sxm -o configs/gpus/h100-sxm.json --report fit.json");
  return [o]() {
    const std::unique_ptr<replay::Runner> runner = MakeRunner(o->replay, "calibrate");
    const GpuSpec spec = LoadGpuSpec(o->gpu);
    validation::FitOptions fo;
    for (const std::string& f : o->fix) {
      if (f == "dram_efficiency") fo.fit_dram_efficiency = false;
      if (f == "corun_slowdown") fo.fit_corun_slowdown = false;
      if (f == "launch_latency_ns") fo.fit_launch_latency = false;
    }
    replay::ReplayMeasurer measurer(*runner, MakeReplayOptions(o->replay, nullptr), nullptr);
    const validation::Calibration c =
        validation::Calibrate(spec, measurer, o->date.empty() ? Today() : o->date, fo, {},
                              [](const validation::MicroBenchmark& b, size_t i, size_t count,
                                 const validation::Measurement& m) {
                                std::fprintf(stderr, "calibrate: %zu/%zu %s (%s timing)\n", i + 1,
                                             count, b.name.c_str(), m.timing.c_str());
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
