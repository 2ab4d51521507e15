// The measured-table runs behind `validate --measured` and `calibrate
// --measured`, without their printing: read the table, build its predictor
// with zoo traces from an injected synthesizer, validate (optionally k-fold)
// or fit, and fill the documents. The CLI (tools/cotenant/measured_cli.cpp)
// prints what they return; the Python module returns their JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "tools/validation/measured_table.h"
#include "tools/validation/table_fit.h"
#include "tools/validation/table_model.h"
#include "tools/validation/table_validate.h"

namespace cotenant::validation {

/// Where zoo members' traces come from, in plain values, so that this
/// library need not know synth: callers pass
/// {profiler::SynthesizeZooMember, profiler::SynthFrameworks().front()}
/// (tests their own).
struct ZooSynthesizer {
  /// (model, batch, seq_len, dtype, framework, spec) -> trace; throws
  /// InputError for what it cannot build. `framework` "" = its default.
  std::function<Trace(const std::string& model, int64_t batch, int64_t seq_len,
                      const std::string& dtype, const std::string& framework, const GpuSpec& spec)>
      synthesize;
  std::string default_framework;  ///< the framework "" stands for, recorded in calibrations
};

/// Zoo members through `zoo` with `framework` (passed as it is, "" too),
/// trace members from their files (WithTraceFiles).
TraceSource ZooTraceSource(const ZooSynthesizer& zoo, const std::string& framework);

/// What `validate --measured` takes.
struct MeasuredValidateOptions {
  std::string table;            ///< the measured table (CSV)
  std::string calibration;      ///< a cotenant.model-calibration/1 file; "" = none
  int32_t kfold = 0;            ///< 0: no cross-validation; else 2..1000 folds, no calibration
  std::string model = "fluid";  ///< contention model
  std::string framework;        ///< zoo host costs; "" = the calibration's, else the default
  int32_t threads = 2;          ///< simulation threads, >= 1
  /// Called when a fold starts: (fold, folds).
  std::function<void(int32_t, int32_t)> on_fold;
};

/// A validated table.
struct MeasuredValidation {
  MeasuredTable table;
  TableValidation validation;
  std::string calibration_label;  ///< "none", the calibration file, or "K-fold"
  /// `cotenant.table-validation/1` (TableValidationToJson).
  nlohmann::json ToJson() const;
};

/// Predicts every row of o.table (with o.calibration, or k-fold), as
/// `validate --measured`. Throws InputError for bad options ("kfold: ...",
/// "threads: ..."), a bad table or calibration, and what `zoo` refuses.
MeasuredValidation ValidateMeasured(const MeasuredValidateOptions& o, const ZooSynthesizer& zoo);

/// What `calibrate --measured` takes.
struct MeasuredCalibrateOptions {
  std::string table;             ///< the measured table (CSV)
  std::string model = "fluid";   ///< contention model
  std::string framework;         ///< zoo host costs; "" = zoo.default_framework
  int32_t threads = 2;           ///< simulation threads, >= 1
  int32_t max_iterations = 30;   ///< per fitting stage, 1..1000
  std::vector<std::string> fix;  ///< parameters held at their start value (--fix)
  std::string date;              ///< recorded in the calibration; "" = today, UTC
  /// Progress: (stage, iteration, max iterations, cost).
  std::function<void(const std::string&, int32_t, int32_t, double)> on_iteration;
};

/// A calibration fitted on a table.
struct MeasuredCalibration {
  MeasuredTable table;
  GpuSpec spec;  ///< the table's GPU
  /// The fit; fit.calibration is complete (model bases, source, date, and
  /// the fit report in its `fit`).
  TableFit fit;
};

/// Fits a calibration to o.table, as `calibrate --measured`. Throws
/// InputError for bad options, a bad table and what `zoo` refuses.
MeasuredCalibration CalibrateMeasured(const MeasuredCalibrateOptions& o, const ZooSynthesizer& zoo);

/// Today's date, UTC, YYYY-MM-DD.
std::string TodayUtc();

}  // namespace cotenant::validation
