#include "tools/validation/table_run.h"

#include <ctime>

#include "sim/error.h"

namespace cotenant::validation {
namespace {

/// The one GPU a table names (rows name it; one per table).
std::string TableGpu(const MeasuredTable& t) { return t.rows.front().gpu; }

void CheckThreads(int32_t threads) {
  if (threads < 1) throw InputError("threads: expected >= 1, found " + std::to_string(threads));
}

}  // namespace

TraceSource ZooTraceSource(const ZooSynthesizer& zoo, const std::string& framework) {
  return WithTraceFiles([synthesize = zoo.synthesize, fw = framework](const MeasuredMember& m,
                                                                      const std::string& dtype,
                                                                      const GpuSpec& spec) {
    return synthesize(m.model, m.batch, m.seq_len, dtype, fw, spec);
  });
}

nlohmann::json MeasuredValidation::ToJson() const {
  return TableValidationToJson(validation, table, calibration_label);
}

MeasuredValidation ValidateMeasured(const MeasuredValidateOptions& o, const ZooSynthesizer& zoo) {
  if (o.kfold != 0 && (o.kfold < 2 || o.kfold > 1000))
    throw InputError("kfold: expected 0 (none) or 2 to 1000, found " + std::to_string(o.kfold));
  if (o.kfold > 0 && !o.calibration.empty())
    throw InputError("kfold: fits its own calibrations: drop the calibration");
  CheckThreads(o.threads);
  MeasuredValidation out;
  out.table = ReadMeasuredTable(o.table);
  const MeasuredTable& table = out.table;
  const GpuSpec spec = LoadGpuSpec(TableGpu(table));
  TableCalibration cal = IdentityCalibration(spec);
  std::string framework = o.framework;
  if (!o.calibration.empty()) {
    cal = ReadTableCalibration(o.calibration);
    ApplyContention(spec, cal, o.calibration, o.table);  // checks the calibration's GPU
    if (framework.empty()) framework = cal.framework;
  }
  const TablePredictor predictor(table, spec, ZooTraceSource(zoo, framework), o.model);
  if (o.kfold > 0) {
    KFoldOptions ko;
    ko.folds = o.kfold;
    ko.fit.threads = o.threads;
    ko.on_fold = o.on_fold;
    TableCalibration start = IdentityCalibration(spec);
    start.sim_model = o.model;
    start.framework = framework.empty() ? zoo.default_framework : framework;
    out.validation = CrossValidateTable(predictor, start, ko);
    out.calibration_label = std::to_string(o.kfold) + "-fold";
  } else {
    out.validation = ValidateTable(predictor, cal, o.threads);
    out.calibration_label = o.calibration.empty() ? "none" : o.calibration;
  }
  return out;
}

MeasuredCalibration CalibrateMeasured(const MeasuredCalibrateOptions& o,
                                      const ZooSynthesizer& zoo) {
  CheckThreads(o.threads);
  if (o.max_iterations < 1 || o.max_iterations > 1000) {
    throw InputError("max_iterations: expected 1 to 1000, found " +
                     std::to_string(o.max_iterations));
  }
  MeasuredCalibration out;
  out.table = ReadMeasuredTable(o.table);
  out.spec = LoadGpuSpec(TableGpu(out.table));
  const TablePredictor predictor(out.table, out.spec, ZooTraceSource(zoo, o.framework), o.model);
  TableCalibration start = IdentityCalibration(out.spec);
  start.sim_model = o.model;
  start.framework = o.framework.empty() ? zoo.default_framework : o.framework;
  TableFitOptions fo;
  fo.threads = o.threads;
  fo.fixed = o.fix;
  fo.max_iterations = o.max_iterations;
  fo.on_iteration = o.on_iteration;
  out.fit = FitTable(predictor, start, fo);
  for (auto& [model, scales] : out.fit.calibration.models)
    scales.basis = IsTraceMember(model) ? "trace" : "synth:" + start.framework;
  out.fit.calibration.source = o.table;
  out.fit.calibration.date = o.date.empty() ? TodayUtc() : o.date;
  out.fit.calibration.fit = TableFitToJson(out.fit, out.table);
  return out;
}

std::string TodayUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace cotenant::validation
