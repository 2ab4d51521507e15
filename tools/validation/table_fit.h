// Calibration from a measured table (`cotenant calibrate --measured`): fits,
// from the table alone and with no GPU,
//   1. each model's host and GPU time scales and the harness cost, on the
//      solo rows (a model's solo latencies at several batch sizes separate
//      the batch-independent host time from the batch-dependent GPU time);
//   2. the contention parameters, on the co-run rows, with the scales fixed;
// each stage a bounded least-squares fit of the rows' relative latency
// errors (least_squares.h), and reports every parameter with its standard
// error and whether the data identify it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/validation/table_model.h"

namespace cotenant::validation {

/// One fitted parameter.
struct FittedParameter {
  std::string name;   ///< "resnet50.host_scale", "harness_ns", "corun_slowdown"
  std::string stage;  ///< "solo" or "co-run"
  double before = 0.0, after = 0.0;
  double sd = 0.0;          ///< standard error; NaN when not identified
  bool identified = false;  ///< the data pin it down
  bool fitted = true;       ///< false: held fixed (--fix)
  std::string why;          ///< why not identified
};

/// One row's latency before and after the fit.
struct RowFit {
  size_t row = 0;     ///< index into the table's rows
  bool used = false;  ///< in the fit (false: held out)
  double measured_ns = 0.0;
  double before_ns = 0.0, after_ns = 0.0;
};

struct TableFitOptions {
  int32_t threads = 2;
  int32_t max_iterations = 30;
  /// Parameters held at their start value: "harness_ns", a contention
  /// parameter name, "MODEL.host_scale" / "MODEL.gpu_scale", or "MODEL.*".
  std::vector<std::string> fixed;
  /// Rows the fit may use (empty = all); the others are only predicted.
  std::vector<bool> train;
  /// Progress: (stage, iteration, max iterations, cost).
  std::function<void(const std::string&, int32_t, int32_t, double)> on_iteration;
};

struct TableFit {
  TableCalibration calibration;  ///< the result
  std::vector<FittedParameter> parameters;
  std::vector<RowFit> rows;  ///< every row of the table
  int32_t iterations = 0;    ///< over both stages
  bool converged = false;
};

/// Default harness cost a fit starts from, ns: 0 (tables say nothing of
/// their harness; the fit finds it where the solo rows allow).
inline constexpr TimeNs kStartHarnessNs = 0;

/// Fits a calibration to the table of `predictor`, starting from `start`.
/// A model without solo rows keeps its start scales (reported as not
/// identified); without co-run rows stage 2 is skipped. Throws InputError
/// when no row is left to fit.
TableFit FitTable(const TablePredictor& predictor, const TableCalibration& start,
                  const TableFitOptions& options = {});

/// The fit as JSON (the `fit` member of cotenant.model-calibration/1).
nlohmann::json TableFitToJson(const TableFit& fit, const MeasuredTable& table);

}  // namespace cotenant::validation
