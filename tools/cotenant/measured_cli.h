// What `calibrate --measured` and `validate --measured` share: their
// options, the zoo trace source (synth), and the two runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "tools/validation/table_model.h"

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

/// Zoo members through synth with the table's dtype and `framework`.
validation::TraceSource ZooTraceSource(const std::string& framework);

/// `calibrate --measured`: fit, print, write o.out.
int RunCalibrateMeasured(const MeasuredCliOptions& o);

/// `validate --measured`: predict every row, print, last line the summary.
int RunValidateMeasured(const MeasuredCliOptions& o);

/// Loads `--calibration FILE` into `lw` (simulate, search, whatif) and says
/// on stderr what it changed. No-op for an empty path.
void ApplyCalibrationFile(const std::string& path, LoadedWorkload* lw, const char* command);

/// Today's date, UTC, YYYY-MM-DD.
std::string TodayUtc();

}  // namespace cotenant::cli
