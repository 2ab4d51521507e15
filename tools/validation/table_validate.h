// Validation against a measured table (`cotenant validate --measured`):
// every row predicted and compared with its measurement, next to the naive
// baselines, and the same with k-fold cross-validation of the calibration
// (fit on some groups, predict the others).
//
// Definitions (docs/VALIDATION.md):
//  - latency error of a group: (predicted - measured) / measured;
//  - slowdown of a group: its latency over the largest solo latency of its
//    members; predicted slowdown uses predicted solos, measured slowdown the
//    table's solo rows (absent when a member has no solo row);
//  - "worst" is the largest |latency error|;
//  - baselines: "no interference" predicts the largest measured member solo
//    (slowdown 1), "serial" the sum of the measured member solos.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/validation/table_fit.h"
#include "tools/validation/table_model.h"

namespace cotenant::validation {

/// One co-run row, predicted.
struct GroupComparison {
  size_t row = 0;  ///< index into the table's rows
  double measured_ns = 0.0, predicted_ns = 0.0;
  /// Slowdowns; absent when a member has no measured solo.
  std::optional<double> measured_slowdown, predicted_slowdown;
  std::optional<double> no_interference_ns, serial_ns;  ///< baselines (need measured solos)
  int32_t fold = -1;  ///< cross-validation fold that predicted it (-1: none)
};

/// Mean and worst |error| of one predictor over the groups, percent.
struct ErrorSummary {
  int64_t count = 0;
  double mape = 0.0;    ///< mean |relative error| x 100
  double median = 0.0;  ///< median |relative error| x 100
  double worst = 0.0;   ///< largest |relative error| x 100
};

/// Count, mean, median and largest of |errors| given in percent.
ErrorSummary SummarizeAbsPct(std::vector<double> abs_pct);

struct TableValidation {
  std::vector<GroupComparison> groups;  ///< co-run rows, in table order
  std::vector<RowFit> solos;            ///< solo rows: measured vs predicted (after = predicted)
  ErrorSummary latency, slowdown;       ///< the model
  ErrorSummary solo;                    ///< the model on solo rows
  ErrorSummary no_interference_latency, no_interference_slowdown;
  ErrorSummary serial_latency, serial_slowdown;
  int32_t folds = 0;  ///< 0: one calibration for all rows
};

/// Predicts every row of the table with calibration `c` and compares.
TableValidation ValidateTable(const TablePredictor& predictor, const TableCalibration& c,
                              int32_t threads = 2);

/// Options of cross-validation.
struct KFoldOptions {
  int32_t folds = 5;
  TableFitOptions fit;  ///< `train` is set per fold
  /// Called when a fold starts: (fold, folds).
  std::function<void(int32_t, int32_t)> on_fold;
};

/// k-fold cross-validation: the co-run rows are split into `folds` parts by
/// their model combination (all rows of "resnet50+vgg16" fall in one part,
/// combinations dealt round-robin in sorted order), so a fold predicts
/// combinations it has never seen; each part is predicted by a calibration
/// fitted (from `start`) on the solo rows and the other parts. Throws
/// InputError when there are fewer combinations than folds.
TableValidation CrossValidateTable(const TablePredictor& predictor, const TableCalibration& start,
                                   const KFoldOptions& options);

/// The last line `validate --measured` prints:
/// "N groups: latency MAPE X%, slowdown MAPE Y%, worst Z%".
std::string SummaryLine(const TableValidation& v);

/// `cotenant.table-validation/1` (docs/formats.md).
nlohmann::json TableValidationToJson(const TableValidation& v, const MeasuredTable& table,
                                     const std::string& calibration);

}  // namespace cotenant::validation
