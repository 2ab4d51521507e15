// What `replay`, `validate` and `calibrate` share: their GPU options
// (including the fake GPU of the tests) and turning them into the replay
// library's runner and options.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "tools/replay/fake_runner.h"
#include "tools/replay/runner.h"

namespace cotenant::cli {

struct ReplayCliOptions {
  int repeat = 1;  ///< the command's default, before parsing
  int device = 0;
  int sizing_iterations = 4;
  double sizing_tolerance_pct = 1.0;
  std::string timing = "auto";
  std::string inject;
  std::string runner = "cuda";  ///< "cuda", or "fake" (testing aid: tools/replay/README.md)
  replay::FakeGpu fake;
  std::string fake_flag;  ///< the first --fake-* option given ("" = none)
};

/// Adds --repeat, --device, --sizing-iterations, --sizing-tolerance,
/// --timing and --inject, the old name --calibration-iterations (noted as
/// renamed), and the hidden testing options --runner and --fake-*.
void AddReplayOptions(CLI::App* sub, ReplayCliOptions* o);

/// Adds `old_name` as a hidden alias of an option renamed `new_name`,
/// writing to `value`; using it prints a one-line note on stderr.
template <typename T>
void AddRenamedOption(CLI::App* sub, const std::string& old_name, const std::string& new_name,
                      T* value) {
  sub->add_option(old_name, *value, "Renamed " + new_name)
      ->group("")
      ->each([old_name, new_name](const std::string&) {
        std::fprintf(stderr, "cotenant: note: %s was renamed %s\n", old_name.c_str(),
                     new_name.c_str());
      });
}

/// The runner's options (max_connections is the plan's, set per plan).
/// Resolves the injection library for --timing auto (none found: stamps)
/// and cupti (none found: an InputError); the fake runner needs none.
replay::ReplayOptions MakeReplayOptions(const ReplayCliOptions& o,
                                        std::function<void(const std::string&)> log);

/// The runner the options name. `command` names the subcommand in the
/// error of a build without the CUDA runner. A --fake-* option without
/// --runner fake is an InputError.
std::unique_ptr<replay::Runner> MakeRunner(const ReplayCliOptions& o, const std::string& command);

}  // namespace cotenant::cli
