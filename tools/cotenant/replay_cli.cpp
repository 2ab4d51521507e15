#include "tools/cotenant/replay_cli.h"

#include <utility>

#include "sim/error.h"
#include "tools/cotenant/inject_lib.h"
#include "tools/cotenant/table.h"

namespace cotenant::cli {

void AddReplayOptions(CLI::App* sub, ReplayCliOptions* o) {
  sub->add_option("--repeat", o->repeat,
                  "Measured runs of the whole workload; the run of median makespan is used")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--device", o->device, "CUDA device ordinal")->check(CLI::NonNegativeNumber);
  sub->add_option("--sizing-iterations", o->sizing_iterations,
                  "Kernel sizing: work refinements per distinct kernel")
      ->check(CLI::Range(0, 50))
      ->capture_default_str();
  AddRenamedOption(sub, "--calibration-iterations", "--sizing-iterations", &o->sizing_iterations);
  sub->add_option("--sizing-tolerance", o->sizing_tolerance_pct,
                  "Kernel sizing: stop refining a kernel at this |error|, percent")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  sub->add_option("--timing", o->timing,
                  "Where GPU times come from: cupti (the project's profiler, "
                  "libcotenant_inject.so), stamps (%globaltimer in the replay kernel), auto "
                  "(cupti when available)")
      ->check(CLI::IsMember({"auto", "cupti", "stamps"}))
      ->capture_default_str();
  sub->add_option("--inject", o->inject,
                  "Path of libcotenant_inject.so for CUPTI timing (default: $COTENANT_INJECT_LIB, "
                  "else next to cotenant)");
  // Testing aid, hidden from --help (tools/replay/README.md): a fake GPU
  // built on the simulator instead of the CUDA runner.
  // (Checked in MakeRunner: CLI11 leaves a hidden option's name out of its messages.)
  sub->add_option("--runner", o->runner, "cuda, or fake (the simulator as a GPU, for tests)")
      ->group("");
  auto fake = [sub, o](const std::string& name, auto* value) {
    sub->add_option(name, *value)->group("")->each([o, name](const std::string&) {
      if (o->fake_flag.empty()) o->fake_flag = name;
    });
  };
  fake("--fake-corun-slowdown", &o->fake.corun_slowdown);
  fake("--fake-bias", &o->fake.bias);
  fake("--fake-noise", &o->fake.noise);
  fake("--fake-seed", &o->fake.seed);
}

replay::ReplayOptions MakeReplayOptions(const ReplayCliOptions& o,
                                        std::function<void(const std::string&)> log) {
  replay::ReplayOptions ro;
  ro.device = o.device;
  ro.repeat = o.repeat;
  ro.sizing_iterations = o.sizing_iterations;
  ro.sizing_tolerance_pct = o.sizing_tolerance_pct;
  ro.log = std::move(log);
  ro.timing = o.timing == "cupti"    ? replay::Timing::kCupti
              : o.timing == "stamps" ? replay::Timing::kStamps
                                     : replay::Timing::kAuto;
  if (ro.timing == replay::Timing::kStamps || o.runner == "fake") return ro;
  if (!kHaveCupti) {
    if (ro.timing == replay::Timing::kCupti)
      throw InputError("--timing cupti: this cotenant was built without CUPTI");
    return ro;
  }
  if (ro.timing == replay::Timing::kCupti || !o.inject.empty()) {
    ro.inject_library = FindInjectLibrary(o.inject);
  } else {
    try {
      ro.inject_library = FindInjectLibrary("");
    } catch (const InputError&) {
      // auto: stamps, and the runner says so
    }
  }
  return ro;
}

std::unique_ptr<replay::Runner> MakeRunner(const ReplayCliOptions& o, const std::string& command) {
  auto bad = [](const char* flag, const std::string& expected, double found) {
    throw InputError(std::string(flag) + ": expected " + expected + ", found " +
                     FormatFixed(found, 3));
  };
  if (o.runner == "fake") {
    if (o.fake.corun_slowdown != -1.0 && !(o.fake.corun_slowdown >= 0.0))
      bad("--fake-corun-slowdown", "a number >= 0", o.fake.corun_slowdown);
    if (!(o.fake.bias > -1.0 && o.fake.bias <= 10.0))
      bad("--fake-bias", "a number in (-1, 10]", o.fake.bias);
    if (!(o.fake.noise >= 0.0 && o.fake.noise <= 1.0))
      bad("--fake-noise", "a number in [0, 1]", o.fake.noise);
    return std::make_unique<replay::FakeRunner>(o.fake);
  }
  if (o.runner != "cuda") throw InputError("--runner: expected cuda or fake, found " + o.runner);
  if (!o.fake_flag.empty()) throw InputError(o.fake_flag + ": needs --runner fake");
  return replay::MakeCudaRunner(command);
}

}  // namespace cotenant::cli
