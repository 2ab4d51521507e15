#include "tools/replay/kernel_sizing.h"

#include <algorithm>
#include <cmath>

namespace cotenant::replay {

LinearFit FitLinear(const std::vector<Probe>& probes) {
  LinearFit fit;
  if (probes.empty()) return fit;
  const double n = static_cast<double>(probes.size());
  double sx = 0, sy = 0;
  for (const Probe& p : probes) {
    sx += p.work;
    sy += p.time_ns;
  }
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0;
  for (const Probe& p : probes) {
    sxx += (p.work - mx) * (p.work - mx);
    sxy += (p.work - mx) * (p.time_ns - my);
  }
  if (sxx <= 1e-12 * std::max(1.0, mx * mx)) {
    // One work value: a line through the origin.
    fit.a = 0.0;
    fit.b = mx > 0 ? my / mx : 0.0;
  } else {
    fit.b = sxy / sxx;
    fit.a = my - fit.b * mx;
  }
  fit.ok = fit.b > 0.0 && std::isfinite(fit.a) && std::isfinite(fit.b);
  return fit;
}

double SolveWork(const LinearFit& fit, double target_ns, double min_work, double max_work) {
  if (!fit.ok) return min_work;
  const double w = (target_ns - fit.a) / fit.b;
  return std::min(max_work, std::max(min_work, w));
}

double ErrorPercent(double measured_ns, double target_ns) {
  if (target_ns <= 0.0) return measured_ns <= 0.0 ? 0.0 : 100.0;
  return 100.0 * (measured_ns - target_ns) / target_ns;
}

KernelSizing SizeKernel(double target_ns, double initial_work,
                        const std::function<double(double)>& time_ns,
                        const SizingOptions& options) {
  KernelSizing c;
  c.target_ns = target_ns;
  auto clamp = [&](double w) { return std::min(options.max_work, std::max(options.min_work, w)); };
  auto probe = [&](double w) {
    w = clamp(w);
    c.probes.push_back({w, time_ns(w)});
    return c.probes.back();
  };
  auto best = [&] {
    const Probe* b = &c.probes.front();
    for (const Probe& p : c.probes)
      if (std::fabs(p.time_ns - target_ns) < std::fabs(b->time_ns - target_ns)) b = &p;
    return *b;
  };
  const double w0 = clamp(initial_work > 0 ? initial_work : 1.0);
  probe(w0);
  probe(w0 * 2.0 > w0 ? w0 * 2.0 : w0 + 1.0);
  for (int32_t i = 0; i < options.iterations; ++i) {
    if (std::fabs(ErrorPercent(best().time_ns, target_ns)) <= options.tolerance_pct) break;
    const LinearFit fit = FitLinear(c.probes);
    double w;
    if (fit.ok) {
      w = SolveWork(fit, target_ns, options.min_work, options.max_work);
    } else {
      // No rising line yet (noise, or the fixed cost dominates): scale up.
      w = c.probes.back().work * 4.0;
    }
    probe(w);
  }
  const Probe b = best();
  c.work = b.work;
  c.measured_ns = b.time_ns;
  c.error_pct = ErrorPercent(b.time_ns, target_ns);
  return c;
}

ErrorSummary SummarizeErrors(const std::vector<double>& errors_pct) {
  ErrorSummary s;
  s.count = static_cast<int64_t>(errors_pct.size());
  if (errors_pct.empty()) return s;
  std::vector<double> a;
  a.reserve(errors_pct.size());
  for (double e : errors_pct) a.push_back(std::fabs(e));
  std::sort(a.begin(), a.end());
  // Nearest rank, as the simulator's latency percentiles.
  auto rank = [&](double q) {
    size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(a.size())));
    r = std::min(std::max<size_t>(r, 1), a.size());
    return a[r - 1];
  };
  s.median_pct = rank(0.5);
  s.p90_pct = rank(0.9);
  s.max_pct = a.back();
  return s;
}

KernelWork SplitWork(double work, double mem_bound, double bytes_per_unit) {
  KernelWork k;
  const double m = std::min(1.0, std::max(0.0, mem_bound));
  k.spin_iters = static_cast<int64_t>(std::llround(std::max(0.0, work) * (1.0 - m)));
  k.bytes_per_block =
      static_cast<int64_t>(std::llround(std::max(0.0, work) * m * std::max(0.0, bytes_per_unit)));
  return k;
}

double InitialWork(TimeNs dur_ns, double waves, double clock_mhz, double cycles_per_iter) {
  if (waves <= 0 || clock_mhz <= 0 || cycles_per_iter <= 0) return 1.0;
  const double cycles = static_cast<double>(dur_ns) * clock_mhz * 1e-3 / waves;
  return std::max(1.0, cycles / cycles_per_iter);
}

}  // namespace cotenant::replay
