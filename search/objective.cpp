#include "search/objective.h"

#include <cmath>
#include <cstdio>

#include "sim/error.h"

namespace cotenant::search {
std::string FormatDurationNs(double ns) {
  char buf[64];
  const double a = std::fabs(ns);
  if (a < 1e3) {
    std::snprintf(buf, sizeof(buf), "%.0f ns", ns);
  } else if (a < 1e6) {
    std::snprintf(buf, sizeof(buf), "%#.4g µs", ns / 1e3);
  } else if (a < 1e9) {
    std::snprintf(buf, sizeof(buf), "%#.4g ms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%#.4g s", ns / 1e9);
  }
  return buf;
}

double TenantWeight(const Workload& w, size_t i) {
  const size_t traces = w.tenants.size();
  return i < traces ? w.tenants[i].weight : w.llm_tenants[i - traces].weight;
}

Score ScoreOf(const SimResult& r, const Workload& w) {
  COTENANT_CHECK(r.tenants.size() == w.tenants.size() + w.llm_tenants.size());
  Score s;
  double weights = 0.0;
  for (size_t i = 0; i < r.tenants.size(); ++i) weights += TenantWeight(w, i);
  switch (w.objective) {
    case Objective::kMakespan:
      s.value = static_cast<double>(r.makespan_ns);
      break;
    case Objective::kThroughput:
      for (size_t i = 0; i < r.tenants.size(); ++i)
        s.value -= TenantWeight(w, i) * r.tenants[i].throughput_rps;
      break;
    case Objective::kMeanLatency:
    case Objective::kP99Latency:
      for (size_t i = 0; i < r.tenants.size(); ++i) {
        const LatencyStats& l = r.tenants[i].latency;
        s.value += TenantWeight(w, i) *
                   static_cast<double>(w.objective == Objective::kMeanLatency ? l.mean : l.p99);
      }
      s.value /= weights;
      break;
    case Objective::kSlo:
      for (size_t i = 0; i < r.tenants.size(); ++i)
        s.value += TenantWeight(w, i) * static_cast<double>(r.tenants[i].slo_violations);
      s.tie = static_cast<double>(r.makespan_ns);
      break;
  }
  return s;
}

std::string FormatScore(const Score& s, Objective o) {
  char buf[64];
  switch (o) {
    case Objective::kMakespan:
    case Objective::kMeanLatency:
    case Objective::kP99Latency:
      return FormatDurationNs(s.value);
    case Objective::kThroughput:
      std::snprintf(buf, sizeof(buf), "%.1f req/s", -s.value);
      return buf;
    case Objective::kSlo:
      std::snprintf(buf, sizeof(buf), "%.4g SLO misses, %s", s.value,
                    FormatDurationNs(s.tie).c_str());
      return buf;
  }
  return "";
}

std::string ObjectiveLabel(Objective o) {
  switch (o) {
    case Objective::kMakespan:
      return "makespan";
    case Objective::kThroughput:
      return "weighted throughput";
    case Objective::kMeanLatency:
      return "weighted mean latency";
    case Objective::kP99Latency:
      return "weighted p99 latency";
    case Objective::kSlo:
      return "weighted SLO misses (then makespan)";
  }
  return "";
}

}  // namespace cotenant::search
