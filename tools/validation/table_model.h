// The model behind measured-table predictions: what a calibration fitted
// from a measured table holds (`cotenant.model-calibration/1`, the file
// `calibrate --measured` writes and `--calibration` reads), how it is applied
// to a workload, and how one table row (a group of models started together)
// is predicted with the simulator.
//
// A row's prediction: every member's trace (a zoo model through the trace
// source the caller injects, `synth` in the CLI, or a trace file), its host
// side scaled by the model's host scale and its kernels by its GPU scale
// (sim/trace_scale.h), all members one closed request each, started together
// under the native plan on the table's GPU with the calibrated contention
// parameters; the row's latency is the simulated makespan plus the
// harness cost (the measurement's own fixed cost: start signal, barrier,
// result collection).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tools/validation/measured_table.h"

namespace cotenant::validation {

/// Per-model time scales: how much longer than its trace a model's host
/// side (framework and launch calls) and its kernels take.
struct ModelScales {
  double host = 1.0;  ///< factor on host time and CPU gaps, > 0
  double gpu = 1.0;   ///< factor on kernel durations at batch `batch_ref`, > 0
  /// How the GPU factor changes with batch beyond what the trace shows:
  /// gpu * (batch / batch_ref)^gpu_batch_exponent (the library's efficiency
  /// curve over batch sizes, which synth only estimates). 0 = none.
  double gpu_batch_exponent = 0.0;
  int64_t batch_ref = 0;  ///< reference batch of the exponent; 0 = no batch term
  /// What the scales correct: "synth:<framework>" (zoo traces synthesized
  /// with that host-cost profile) or "trace" (trace files). Applied only to
  /// traces of the same basis; "" = any.
  std::string basis;
  /// The factor on kernel durations of a trace at `batch` (<= 0: not known,
  /// the batch term is left out).
  double GpuFactor(int64_t batch) const;
};

/// Contention parameters a measured-table calibration fits (fields of the
/// GPU spec's `model` block, by name).
std::vector<std::string> TableContentionParameters();
/// Reads / writes one of them in `m` (name from TableContentionParameters).
double GetContention(const ModelParams& m, const std::string& name);
void SetContention(ModelParams* m, const std::string& name, double value);

/// A calibration fitted from a measured table.
struct TableCalibration {
  std::string gpu;        ///< GPU spec key of the table
  std::string source;     ///< the table it was fitted on (path as given)
  std::string date;       ///< YYYY-MM-DD
  std::string framework;  ///< host-cost profile of the zoo traces it was fitted with ("" = default)
  std::string sim_model = "fluid";  ///< contention model it was fitted with
  /// Contention parameters (only those named by TableContentionParameters()
  /// are applied; the rest stay the spec's).
  ModelParams contention;
  TimeNs harness_ns = 0;                          ///< fixed cost of one measurement, ns
  std::map<std::string, ModelScales> models;      ///< by member model name
  nlohmann::json fit = nlohmann::json::object();  ///< the fit report, kept in the file
};

/// A calibration that changes nothing: the spec's contention parameters,
/// no harness cost, no scales.
TableCalibration IdentityCalibration(const GpuSpec& spec);

/// `cotenant.model-calibration/1` (docs/formats.md).
nlohmann::json TableCalibrationToJson(const TableCalibration& c);
TableCalibration TableCalibrationFromJson(const nlohmann::json& j, const std::string& file);
TableCalibration ReadTableCalibration(const std::string& path);

/// `spec` with the calibration's contention parameters. Throws InputError
/// when the calibration was fitted on another GPU (`what` names the input
/// that brought the spec, for the message).
GpuSpec ApplyContention(const GpuSpec& spec, const TableCalibration& c, const std::string& file,
                        const std::string& what);

/// What applying a calibration to a workload did, one line per tenant.
struct AppliedCalibration {
  std::vector<std::string> lines;  ///< "resnet50: host x4.10, GPU x2.31" / "...: not calibrated"
};

/// Applies `c` to a loaded workload: the contention parameters to its GPU
/// (ApplyContention) and each tenant's model scales to its traces (every
/// batch variant too). A tenant's model is the trace's `meta.model`, else
/// the tenant's name, else the trace's `tenant` field; tenants of models the
/// calibration does not know keep their traces (and are listed), and so do
/// tenants whose trace is of another basis than the model's scales (a
/// captured trace against scales fitted on synth traces, or synth traces of
/// another framework profile).
AppliedCalibration ApplyTableCalibration(LoadedWorkload* lw, const TableCalibration& c,
                                         const std::string& file);

/// Makes a member's trace for `dtype` on `spec` (zoo models: synth in the
/// CLI; tests inject their own). Throws InputError for an unknown model.
using TraceSource = std::function<Trace(const MeasuredMember& member, const std::string& dtype,
                                        const GpuSpec& spec)>;

/// The basis of a trace (ModelScales::basis): "synth:<meta.framework>" for
/// a trace whose meta says "synthetic": true, else "trace".
std::string TraceBasis(const Trace& t);

/// Reads trace members from their files and hands zoo models to `zoo`.
TraceSource WithTraceFiles(TraceSource zoo);

/// Predicts the rows of one table. Builds every member's trace once; the
/// prediction calls are const and may run on several threads at once.
class TablePredictor {
 public:
  /// `spec`: the table's GPU (all rows must name it; InputError otherwise).
  /// Member traces come from `source`; an error there is reported as
  /// "table:line: models: ...". `sim_model`: "fluid" or "block".
  TablePredictor(const MeasuredTable& table, const GpuSpec& spec, const TraceSource& source,
                 std::string sim_model = "fluid");

  const MeasuredTable& table() const { return table_; }
  const GpuSpec& spec() const { return spec_; }
  /// Model names of the table's members, sorted.
  std::vector<std::string> Models() const;

  /// Predicted latency of `members` started together, ns.
  double Group(const std::vector<MeasuredMember>& members, const std::string& dtype,
               const TableCalibration& c) const;
  /// Predicted latency of row `i`, ns.
  double Row(size_t i, const TableCalibration& c) const;

 private:
  const Trace& TraceOf(const MeasuredMember& m, const std::string& dtype) const;

  const MeasuredTable& table_;
  GpuSpec spec_;
  std::string sim_model_;
  std::map<std::string, Trace> traces_;  ///< key: dtype|model|batch|seq|path
};

/// Runs `f(i)` for i in [0, n) on `threads` threads (1 = this thread);
/// the first exception is rethrown after all have stopped.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& f);

}  // namespace cotenant::validation
