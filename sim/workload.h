// A multi-tenant workload (`cotenant.workload/1`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/llm_workload.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

/// How a tenant's requests arrive.
enum class ArrivalKind : uint8_t {
  kClosed,    ///< the next request starts when the previous one completes
  kPoisson,   ///< exponential inter-arrival times, rate_hz, seed
  kPeriodic,  ///< one every period_ns
  kTrace,     ///< explicit arrival times
};
const char* ArrivalKindName(ArrivalKind k);

struct Arrival {
  ArrivalKind kind = ArrivalKind::kClosed;
  double rate_hz = 0.0;          ///< poisson
  uint64_t seed = 1;             ///< poisson
  TimeNs period_ns = 0;          ///< periodic
  std::vector<TimeNs> times_ns;  ///< trace (non-decreasing, >= 0)
};

/// Reads an arrival object (`f`) for `requests` requests. Throws InputError naming the
/// field.
Arrival ReadArrival(const JsonFields& f, int64_t requests);
nlohmann::json ArrivalToJson(const Arrival& a);

/// The arrival time of each of `requests` requests for an open arrival
/// process, starting at 0 (closed: all 0, gated at run time). Deterministic.
std::vector<TimeNs> ArrivalTimes(const Arrival& arrival, int64_t requests);

enum class Objective : uint8_t { kMakespan, kThroughput, kMeanLatency, kP99Latency, kSlo };
const char* ObjectiveName(Objective o);

struct TenantSpec {
  std::string name;
  std::string trace_path;                          ///< resolved against the workload's folder
  std::map<int64_t, std::string> traces_by_batch;  ///< batch -> resolved path
  int64_t requests = 1;
  Arrival arrival;
  TimeNs slo_ns = 0;  ///< 0 = no SLO
  double weight = 1.0;
};

struct Workload {
  std::string file;
  /// GPU spec key, or a path (resolved like trace paths); "" = not given:
  /// LoadWorkload takes the GPU the traces were captured on (else h100-sxm).
  std::string gpu;
  std::vector<TenantSpec> tenants;  ///< trace tenants
  /// "kind": "llm" tenants. For now a workload holds either trace tenants or one LLM
  /// tenant (co-location of LLM tenants is not built yet; the reader refuses others).
  std::vector<LlmTenantSpec> llm_tenants;
  Objective objective = Objective::kMakespan;

  /// Index of the tenant called `name`, or -1.
  int FindTenant(const std::string& name) const;
};

/// Reads and validates a workload file; trace paths (and a GPU given as a
/// path) are resolved relative to the workload's folder (the traces
/// themselves are not read).
Workload ReadWorkload(const std::string& path);
Workload WorkloadFromJson(const nlohmann::json& j, const std::string& file,
                          const std::string& base_dir);
nlohmann::json WorkloadToJson(const Workload& w);

/// A workload with one tenant per trace file (closed arrivals, 1 request),
/// tenants named after the traces (Trace::tenant, else TraceFileStem() of the
/// path, else "tenant"; made unique with "-2", "-3", ...). `gpu` may be
/// empty (not given).
Workload WorkloadFromTraces(const std::vector<std::string>& trace_paths,
                            const std::vector<Trace>& traces, const std::string& gpu);

}  // namespace cotenant
