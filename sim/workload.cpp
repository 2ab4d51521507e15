#include "sim/workload.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/rng.h"

namespace cotenant {
namespace {

using nlohmann::json;

constexpr const char* kWorkloadSchema = "cotenant.workload/1";
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

const std::vector<std::string>& ArrivalNames() {
  static const std::vector<std::string> names = {"closed", "poisson", "periodic", "trace"};
  return names;
}

const std::vector<std::string>& ObjectiveNames() {
  static const std::vector<std::string> names = {"makespan", "throughput", "mean_latency",
                                                 "p99_latency", "slo"};
  return names;
}

/// `path` relative to `base_dir` (unless absolute or base_dir is empty).
std::string Resolve(const std::string& base_dir, const std::string& path) {
  namespace fs = std::filesystem;
  if (base_dir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

std::string NonEmptyString(const JsonFields& f, const char* key) {
  const std::string s = f.String(key);
  if (s.empty()) f.Expected(key, "a non-empty string");
  return s;
}

}  // namespace

Arrival ReadArrival(const JsonFields& f, int64_t requests) {
  Arrival a;
  a.kind = static_cast<ArrivalKind>(f.Choice("kind", ArrivalNames()));
  // The parameters each kind takes, in ArrivalKind order.
  static const std::vector<std::vector<std::string>> kParams = {
      {}, {"rate_hz", "seed"}, {"period_ns"}, {"times_ns"}};
  const std::vector<std::string>& params = kParams[static_cast<size_t>(a.kind)];
  for (auto it = f.json().begin(); it != f.json().end(); ++it) {
    if (it.key() == "kind" || std::find(params.begin(), params.end(), it.key()) != params.end()) {
      continue;
    }
    f.Fail(it.key().c_str(),
           std::string("not used by arrival kind \"") + ArrivalKindName(a.kind) + "\"");
  }
  switch (a.kind) {
    case ArrivalKind::kClosed:
      break;
    case ArrivalKind::kPoisson:
      a.rate_hz = f.Number("rate_hz");
      if (!(a.rate_hz > 0.0) || !std::isfinite(a.rate_hz))
        f.Expected("rate_hz", "a positive number");
      a.seed = static_cast<uint64_t>(f.NonNegInt("seed", 1));
      break;
    case ArrivalKind::kPeriodic:
      a.period_ns = f.IntIn("period_ns", 1, kInt64Max);
      if (requests > 1 && a.period_ns > kInt64Max / (requests - 1)) {
        f.Fail("period_ns", "period_ns x requests overflows 64-bit nanoseconds");
      }
      break;
    case ArrivalKind::kTrace: {
      const json& times = f.Get("times_ns");
      if (!times.is_array()) f.Expected("times_ns", "an array of non-negative integers");
      const std::string path = f.PathOf("times_ns");
      for (size_t i = 0; i < times.size(); ++i) {
        const std::optional<int64_t> t = JsonToInt(times[i]);
        const std::string at = IndexPath(path, i);
        if (!t || *t < 0) {
          FailAt(f.file(), at, "expected a non-negative integer, found " + DescribeJson(times[i]));
        }
        if (!a.times_ns.empty() && *t < a.times_ns.back()) {
          FailAt(f.file(), at,
                 "expected a time >= " + std::to_string(a.times_ns.back()) +
                     " (times must not decrease), found " + std::to_string(*t));
        }
        a.times_ns.push_back(*t);
      }
      if (static_cast<int64_t>(a.times_ns.size()) < requests) {
        f.Fail("times_ns", "expected at least " + std::to_string(requests) +
                               " times (one per request), found " +
                               std::to_string(a.times_ns.size()));
      }
      break;
    }
  }
  return a;
}

namespace {

TenantSpec ReadTenant(const json& j, const std::string& file, const std::string& path,
                      const std::string& base_dir) {
  const JsonFields f(
      j, file, path,
      {"name", "kind", "trace", "traces_by_batch", "requests", "arrival", "slo_ns", "weight"});
  TenantSpec t;
  t.name = NonEmptyString(f, "name");
  t.trace_path = Resolve(base_dir, NonEmptyString(f, "trace"));
  if (f.Has("traces_by_batch")) {
    const json& by = f.Get("traces_by_batch");
    if (!by.is_object()) f.Expected("traces_by_batch", "an object of \"batch\": path");
    const std::string by_path = f.PathOf("traces_by_batch");
    for (auto it = by.begin(); it != by.end(); ++it) {
      const std::string& key = it.key();
      const std::string at = by_path + "." + key;
      const bool digits = !key.empty() && key.size() <= 18 &&
                          key.find_first_not_of("0123456789") == std::string::npos;
      const int64_t batch = digits ? std::stoll(key) : 0;
      if (batch <= 0) FailAt(file, at, "expected a positive integer batch size as the key");
      if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
        FailAt(file, at, "expected a non-empty string, found " + DescribeJson(*it));
      }
      t.traces_by_batch[batch] = Resolve(base_dir, it->get<std::string>());
    }
  }
  t.requests = f.IntIn("requests", 1, kInt64Max, 1);
  if (f.Has("arrival")) {
    t.arrival = ReadArrival(JsonFields(f.Get("arrival"), file, f.PathOf("arrival"),
                                       {"kind", "rate_hz", "seed", "period_ns", "times_ns"}),
                            t.requests);
  }
  t.slo_ns = f.NonNegInt("slo_ns", 0);
  t.weight = f.Number("weight", 1.0);
  if (!(t.weight > 0.0) || !std::isfinite(t.weight)) f.Expected("weight", "a positive number");
  return t;
}

}  // namespace

json ArrivalToJson(const Arrival& a) {
  json j = {{"kind", ArrivalKindName(a.kind)}};
  switch (a.kind) {
    case ArrivalKind::kClosed:
      break;
    case ArrivalKind::kPoisson:
      j["rate_hz"] = a.rate_hz;
      j["seed"] = a.seed;
      break;
    case ArrivalKind::kPeriodic:
      j["period_ns"] = a.period_ns;
      break;
    case ArrivalKind::kTrace:
      j["times_ns"] = a.times_ns;
      break;
  }
  return j;
}

const char* ArrivalKindName(ArrivalKind k) {
  return ArrivalNames()[static_cast<size_t>(k)].c_str();
}

const char* ObjectiveName(Objective o) { return ObjectiveNames()[static_cast<size_t>(o)].c_str(); }

std::vector<TimeNs> ArrivalTimes(const Arrival& arrival, int64_t requests) {
  COTENANT_CHECK(requests >= 0);
  std::vector<TimeNs> times(static_cast<size_t>(requests), 0);
  switch (arrival.kind) {
    case ArrivalKind::kClosed:
      break;
    case ArrivalKind::kPeriodic:
      COTENANT_CHECK(arrival.period_ns > 0);
      for (int64_t i = 1; i < requests; ++i) {
        times[i] = i <= kInt64Max / arrival.period_ns ? i * arrival.period_ns : kNever;
      }
      break;
    case ArrivalKind::kTrace:
      COTENANT_CHECK(static_cast<int64_t>(arrival.times_ns.size()) >= requests);
      std::copy(arrival.times_ns.begin(), arrival.times_ns.begin() + requests, times.begin());
      break;
    case ArrivalKind::kPoisson: {
      COTENANT_CHECK(arrival.rate_hz > 0.0);
      // Exponential gaps by inversion of splitmix64 uniforms; the first
      // request arrives at 0 and times are rounded to the nearest ns.
      SplitMix64 rng(arrival.seed);
      double now_ns = 0.0;
      for (int64_t i = 1; i < requests; ++i) {
        const double u = rng.Unit();  // [0, 1)
        now_ns += -std::log1p(-u) / arrival.rate_hz * 1e9;
        times[i] = now_ns < 9.0e18 ? static_cast<TimeNs>(std::llround(now_ns)) : kNever;
      }
      break;
    }
  }
  return times;
}

int Workload::FindTenant(const std::string& name) const {
  for (size_t i = 0; i < tenants.size(); ++i) {
    if (tenants[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Workload WorkloadFromJson(const json& j, const std::string& file, const std::string& base_dir) {
  CheckSchema(j, file, kWorkloadSchema);
  const JsonFields f(j, file, "", {"schema", "gpu", "tenants", "objective"});
  Workload w;
  w.file = file;
  w.gpu = f.Has("gpu") ? NonEmptyString(f, "gpu") : w.gpu;
  if (IsGpuSpecPath(w.gpu)) w.gpu = Resolve(base_dir, w.gpu);
  const json& tenants = f.Get("tenants");
  if (!tenants.is_array()) f.Expected("tenants", "an array");
  if (tenants.empty()) f.Fail("tenants", "expected at least one tenant, found none");
  for (size_t i = 0; i < tenants.size(); ++i) {
    const std::string path = IndexPath("tenants", i);
    if (tenants[i].is_object() && tenants[i].contains("kind")) {
      static const std::vector<std::string> kKinds = {"trace", "llm"};
      const json& k = tenants[i]["kind"];
      const int kind = IndexOf(k, kKinds);
      if (kind < 0) FailAt(file, path + ".kind", ExpectedOneOf(k, kKinds));
      if (kind == 1) {
        if (!w.tenants.empty() || !w.llm_tenants.empty()) {
          FailAt(file, path,
                 "an llm tenant must be the workload's only tenant: co-location of LLM tenants "
                 "with other tenants is not built yet");
        }
        w.llm_tenants.push_back(ReadLlmTenant(tenants[i], file, path, base_dir));
        continue;
      }
    }
    if (!w.llm_tenants.empty()) {
      FailAt(file, path,
             "an llm tenant must be the workload's only tenant: co-location of LLM tenants with "
             "other tenants is not built yet");
    }
    TenantSpec t = ReadTenant(tenants[i], file, path, base_dir);
    const int other = w.FindTenant(t.name);
    if (other >= 0) {
      FailAt(
          file, path + ".name",
          "duplicate tenant name \"" + t.name + "\" (also tenants[" + std::to_string(other) + "])");
    }
    w.tenants.push_back(std::move(t));
  }
  w.objective = static_cast<Objective>(f.Choice("objective", ObjectiveNames(), 0));
  if (w.objective == Objective::kSlo) {
    bool any_slo = false;
    for (const TenantSpec& t : w.tenants) any_slo = any_slo || t.slo_ns > 0;
    if (!any_slo) f.Fail("objective", "\"slo\" needs slo_ns on at least one tenant");
  }
  return w;
}

Workload ReadWorkload(const std::string& path) {
  return WorkloadFromJson(ReadJsonFile(path), path,
                          std::filesystem::path(path).parent_path().string());
}

json WorkloadToJson(const Workload& w) {
  json tenants = json::array();
  for (const TenantSpec& t : w.tenants) {
    json jt = {{"name", t.name}, {"trace", t.trace_path}};
    if (!t.traces_by_batch.empty()) {
      json by = json::object();
      for (const auto& [batch, path] : t.traces_by_batch) by[std::to_string(batch)] = path;
      jt["traces_by_batch"] = by;
    }
    jt["requests"] = t.requests;
    jt["arrival"] = ArrivalToJson(t.arrival);
    jt["slo_ns"] = t.slo_ns;
    jt["weight"] = t.weight;
    tenants.push_back(std::move(jt));
  }
  for (const LlmTenantSpec& t : w.llm_tenants) tenants.push_back(LlmTenantToJson(t));
  nlohmann::json j = {{"schema", kWorkloadSchema}};
  if (!w.gpu.empty()) j["gpu"] = w.gpu;
  j["tenants"] = std::move(tenants);
  j["objective"] = ObjectiveName(w.objective);
  return j;
}

Workload WorkloadFromTraces(const std::vector<std::string>& trace_paths,
                            const std::vector<Trace>& traces, const std::string& gpu) {
  COTENANT_CHECK(trace_paths.size() == traces.size());
  if (trace_paths.empty()) throw InputError("no trace files given");
  Workload w;
  w.gpu = gpu;
  std::set<std::string> taken;
  for (size_t i = 0; i < traces.size(); ++i) {
    std::string base = traces[i].tenant.empty() ? TraceFileStem(trace_paths[i]) : traces[i].tenant;
    if (base.empty()) base = "tenant";
    std::string name = base;
    for (int n = 2; taken.count(name) != 0; ++n) name = base + "-" + std::to_string(n);
    taken.insert(name);
    TenantSpec t;
    t.name = name;
    t.trace_path = trace_paths[i];
    w.tenants.push_back(std::move(t));
  }
  return w;
}

}  // namespace cotenant
