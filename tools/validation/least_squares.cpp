#include "tools/validation/least_squares.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/error.h"

namespace cotenant::validation {
namespace {

double Cost(const std::vector<double>& r) {
  double c = 0.0;
  for (double v : r) c += v * v;
  return c;
}

/// Jacobian by central differences (one-sided at a bound).
Eigen::MatrixXd Jacobian(const std::vector<LsParameter>& params, const std::vector<double>& x,
                         size_t rows, const ResidualFn& fn) {
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const LsParameter& p = params[static_cast<size_t>(j)];
    std::vector<double> up = x, down = x;
    up[static_cast<size_t>(j)] = std::min(p.hi, x[static_cast<size_t>(j)] + p.step);
    down[static_cast<size_t>(j)] = std::max(p.lo, x[static_cast<size_t>(j)] - p.step);
    const double h = up[static_cast<size_t>(j)] - down[static_cast<size_t>(j)];
    if (!(h > 0.0)) continue;
    const std::vector<double> ru = fn(up), rd = fn(down);
    COTENANT_CHECK(ru.size() == rows && rd.size() == rows);
    for (size_t i = 0; i < rows; ++i) J(static_cast<Eigen::Index>(i), j) = (ru[i] - rd[i]) / h;
  }
  return J;
}

}  // namespace

LsResult LeastSquares(const std::vector<LsParameter>& params, const ResidualFn& residuals,
                      const LsOptions& options) {
  LsResult res;
  res.x.reserve(params.size());
  for (const LsParameter& p : params) {
    COTENANT_CHECK(p.lo <= p.hi);
    res.x.push_back(std::clamp(p.value, p.lo, p.hi));
  }
  res.residuals = residuals(res.x);
  if (res.residuals.empty()) throw InputError("fit: no measurement to fit");
  const size_t rows = res.residuals.size();
  res.cost = res.start_cost = Cost(res.residuals);
  const Eigen::Index n = static_cast<Eigen::Index>(params.size());
  double lambda = 1e-3;
  Eigen::MatrixXd J;
  for (int32_t it = 0; it < options.max_iterations && n > 0; ++it) {
    res.iterations = it + 1;
    J = Jacobian(params, res.x, rows, residuals);
    const Eigen::VectorXd rv =
        Eigen::Map<const Eigen::VectorXd>(res.residuals.data(), static_cast<Eigen::Index>(rows));
    const Eigen::MatrixXd A = J.transpose() * J;
    const Eigen::VectorXd g = J.transpose() * rv;
    bool improved = false;
    for (int tries = 0; tries < 10 && !improved; ++tries) {
      Eigen::MatrixXd D = A;
      for (Eigen::Index j = 0; j < n; ++j) D(j, j) += lambda * A(j, j) + 1e-12;
      const Eigen::VectorXd delta = D.ldlt().solve(-g);
      std::vector<double> trial = res.x;
      for (Eigen::Index j = 0; j < n; ++j) {
        const LsParameter& p = params[static_cast<size_t>(j)];
        const double d = std::isfinite(delta(j)) ? delta(j) : 0.0;
        trial[static_cast<size_t>(j)] = std::clamp(res.x[static_cast<size_t>(j)] + d, p.lo, p.hi);
      }
      const std::vector<double> rt = residuals(trial);
      const double ct = Cost(rt);
      if (ct < res.cost) {
        const double drop = (res.cost - ct) / std::max(res.cost, 1e-300);
        res.x = trial;
        res.residuals = rt;
        res.cost = ct;
        lambda = std::max(lambda / 3.0, 1e-9);
        improved = true;
        if (drop < options.tolerance) res.converged = true;
      } else {
        lambda *= 4.0;
      }
    }
    if (options.on_iteration)
      options.on_iteration(res.iterations, options.max_iterations, res.cost);
    // No step lowers the cost (a local minimum), or the data are fitted exactly.
    if (!improved || res.cost < 1e-24) res.converged = true;
    if (res.converged) break;
  }
  // What the data say about each parameter, at the solution.
  J = Jacobian(params, res.x, rows, residuals);
  res.sd.assign(params.size(), std::numeric_limits<double>::quiet_NaN());
  res.identified.assign(params.size(), false);
  res.why.assign(params.size(), "");
  res.sensitivity.assign(params.size(), 0.0);
  std::vector<Eigen::Index> live;
  for (Eigen::Index j = 0; j < n; ++j) {
    res.sensitivity[static_cast<size_t>(j)] = J.col(j).norm();
    if (J.col(j).norm() < 1e-9) {
      res.why[static_cast<size_t>(j)] = "no measurement depends on it";
    } else {
      live.push_back(j);
    }
  }
  if (!live.empty()) {
    Eigen::MatrixXd Jl(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(live.size()));
    for (size_t k = 0; k < live.size(); ++k) Jl.col(static_cast<Eigen::Index>(k)) = J.col(live[k]);
    const double dof = static_cast<double>(rows) - static_cast<double>(live.size());
    const double s2 = dof > 0 ? res.cost / dof : std::numeric_limits<double>::infinity();
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(Jl, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd sv = svd.singularValues();
    const double tol = sv.size() ? sv(0) * 1e-9 : 0.0;
    Eigen::VectorXd inv2 = Eigen::VectorXd::Zero(sv.size());
    for (Eigen::Index k = 0; k < sv.size(); ++k)
      inv2(k) = sv(k) > tol ? 1.0 / (sv(k) * sv(k)) : std::numeric_limits<double>::infinity();
    const Eigen::MatrixXd& V = svd.matrixV();
    for (size_t k = 0; k < live.size(); ++k) {
      double var = 0.0;
      for (Eigen::Index m = 0; m < sv.size(); ++m) {
        const double v = V(static_cast<Eigen::Index>(k), m);
        if (v * v > 1e-18) var += v * v * inv2(m);
      }
      const size_t j = static_cast<size_t>(live[k]);
      const double sd = std::sqrt(var * s2);
      if (!std::isfinite(var)) {
        res.why[j] = "the data cannot tell it from the other parameters";
        continue;
      }
      res.sd[j] = sd;
      const double judged =
          options.identify_noise > 0.0
              ? std::sqrt(var * std::min(s2, options.identify_noise * options.identify_noise))
              : sd;
      if (!std::isfinite(judged) ||
          judged > std::max(params[j].max_sd, params[j].max_rel_sd * std::fabs(res.x[j]))) {
        res.why[j] = "standard error larger than the data can use";
      } else {
        res.identified[j] = true;
      }
    }
  }
  return res;
}

}  // namespace cotenant::validation
