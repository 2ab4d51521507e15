// Bounded nonlinear least squares (Levenberg-Marquardt with a Jacobian by
// central differences, Eigen) and what the data says about each parameter:
// its standard error from the Jacobian at the solution, and whether the data
// identify it at all. Used by the measured-table calibration; the residual
// function is an input, so the fit is tested on analytic problems.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cotenant::validation {

struct LsParameter {
  std::string name;
  double value = 0.0;         ///< start
  double lo = 0.0, hi = 0.0;  ///< bounds, lo <= value <= hi
  double step = 1e-3;         ///< finite-difference step (in the parameter's unit)
  /// The data count as identifying it when its standard error is at most
  /// max(max_sd, max_rel_sd * |solution|).
  double max_sd = 1e300;
  double max_rel_sd = 0.0;
};

struct LsOptions {
  int32_t max_iterations = 30;
  double tolerance = 1e-9;  ///< stop when the cost falls by less than this share
  /// When > 0, whether the data identify a parameter is judged with the
  /// fit's residual standard deviation capped at this value, so that a model
  /// that fits the data badly (large residuals) does not make every
  /// parameter look unidentified: the verdict then rests on the
  /// measurements' design (the Jacobian). The reported standard errors stay
  /// the fit's. 0 = no cap.
  double identify_noise = 0.0;
  /// Called after each iteration with (iteration, max_iterations, cost).
  std::function<void(int32_t, int32_t, double)> on_iteration;
};

struct LsResult {
  std::vector<double> x;          ///< the solution, one per parameter
  std::vector<double> residuals;  ///< at x
  double cost = 0.0;              ///< sum of squared residuals at x
  double start_cost = 0.0;        ///< at the start
  int32_t iterations = 0;
  bool converged = false;
  std::vector<double> sd;           ///< standard errors (NaN: not identified)
  std::vector<bool> identified;     ///< per parameter
  std::vector<std::string> why;     ///< why a parameter is not identified ("" if it is)
  std::vector<double> sensitivity;  ///< |column of the Jacobian|, per parameter
};

/// Residuals of one parameter vector (same length every call).
using ResidualFn = std::function<std::vector<double>(const std::vector<double>& x)>;

/// Minimises the sum of squared residuals over `params` (within bounds).
/// Standard errors come from s^2 (J^T J)^+ with s^2 = cost / (rows -
/// identified parameters); a parameter no residual moves (|J column| <
/// 1e-9) or whose standard error exceeds max(max_sd, max_rel_sd * |x|) is
/// reported as not
/// identified. Throws InputError when there are no residuals.
LsResult LeastSquares(const std::vector<LsParameter>& params, const ResidualFn& residuals,
                      const LsOptions& options = {});

}  // namespace cotenant::validation
