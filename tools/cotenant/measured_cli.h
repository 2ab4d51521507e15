// What `calibrate --measured` and `validate --measured` share: their
// options, the zoo synthesizer (synth), and the printing of the two runs
// (their logic is tools/validation/table_run).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "tools/validation/table_run.h"

namespace cotenant::cli {

struct MeasuredCliOptions {
  std::string table;            ///< --measured
  std::string framework;        ///< --framework ("" = synth's default)
  std::string model = "fluid";  ///< --model
  int32_t threads = 2;          ///< --threads
  // calibrate
  std::string out, date;
  std::vector<std::string> fix;
  int32_t max_iterations = 30;
  // validate
  std::string calibration, json;
  int32_t kfold = 0;
  bool quiet_rows = false;  ///< --summary-only
};

/// Declares --framework, --model (validate has its own) and --threads on `sub`.
void AddMeasuredOptions(CLI::App* sub, MeasuredCliOptions* o, bool with_model);

/// Zoo members through synth: validation's ZooSynthesizer over
/// profiler::SynthesizeZooMember (the Python module wires it the same way).
validation::ZooSynthesizer Zoo();

/// `calibrate --measured`: fit (validation::CalibrateMeasured), print, write o.out.
int RunCalibrateMeasured(const MeasuredCliOptions& o);

/// `validate --measured`: predict every row (validation::ValidateMeasured),
/// print, last line the summary.
int RunValidateMeasured(const MeasuredCliOptions& o);

/// Loads `--calibration FILE` into `lw` (simulate, search, whatif) and says
/// on stderr what it changed. No-op for an empty path.
void ApplyCalibrationFile(const std::string& path, LoadedWorkload* lw, const char* command);

}  // namespace cotenant::cli
