// A multi-tenant workload (`cotenant.workload/1`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/llm_workload.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant {

/// How a tenant's requests arrive.
enum class ArrivalKind : uint8_t {
  kClosed,    ///< the next request starts when the previous one completes
  kPoisson,   ///< exponential inter-arrival times, rate_hz, seed
  kPeriodic,  ///< one every period_ns
  kTrace,     ///< explicit arrival times (times_ns, or a CSV column of seconds)
  kGamma,     ///< gamma inter-arrival times (bursty): rate_hz, burstiness, seed
};
const char* ArrivalKindName(ArrivalKind k);

struct Arrival {
  ArrivalKind kind = ArrivalKind::kClosed;
  double rate_hz = 0.0;     ///< poisson, gamma: mean requests per second
  double burstiness = 1.0;  ///< gamma: the gaps' shape (> 0; 1 = poisson, smaller = burstier)
  uint64_t seed = 1;        ///< poisson, gamma
  TimeNs period_ns = 0;     ///< periodic
  /// trace (non-decreasing, >= 0): given inline, or read from csv_path (when read); at
  /// least `requests` long once read.
  std::vector<TimeNs> times_ns;
  std::string csv_path;    ///< trace from a CSV file, resolved; "" = times_ns given inline
  std::string csv_column;  ///< trace from a CSV file: the header of the column of seconds
};

/// Reads the arrival object `j` at `path` ("tenants[0].arrival") of `file` for
/// `requests` requests; a CSV path is resolved against `base_dir` ("" = kept as is).
/// With `read_csv`, a "trace" arrival from a CSV file is read into times_ns (at least
/// `requests` rows; later rows are not read); without it only its fields are checked
/// (LlmRequests reads it later). Throws InputError naming the field, and for CSV
/// files the file and line.
Arrival ReadArrival(const nlohmann::json& j, const std::string& file, const std::string& path,
                    int64_t requests, const std::string& base_dir, bool read_csv);
/// The arrival's JSON object; a trace arrival from a CSV file keeps its `csv` and
/// `column` (not the times).
nlohmann::json ArrivalToJson(const Arrival& a);

/// The arrival time of each of `requests` requests for an open arrival
/// process, starting at 0 (closed: all 0, gated at run time). Deterministic.
/// A trace arrival must hold at least `requests` times (read, for a CSV file).
std::vector<TimeNs> ArrivalTimes(const Arrival& arrival, int64_t requests);

/// One draw of Gamma(shape, 1) from `rng` (Marsaglia and Tsang 2000, with the
/// U^(1/shape) boost for shape < 1); shape > 0. Deterministic for a generator state.
double GammaDraw(SplitMix64& rng, double shape);

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
  /// Device memory the tenant holds while it runs (weights, activations, workspaces),
  /// bytes; co-located llm tenants' KV caches are to leave it free. 0 = not given.
  int64_t memory_bytes = 0;
};

struct Workload {
  std::string file;
  /// GPU spec key, or a path (resolved like trace paths); "" = not given:
  /// LoadWorkload takes the GPU the traces were captured on (else h100-sxm).
  std::string gpu;
  std::vector<TenantSpec> tenants;  ///< trace tenants
  /// "kind": "llm" tenants. A workload holds any number of both kinds, names unique
  /// across both (what runs them decides what it supports: see LoadWorkload).
  std::vector<LlmTenantSpec> llm_tenants;
  Objective objective = Objective::kMakespan;

  /// Index of the trace tenant called `name`, or -1.
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
