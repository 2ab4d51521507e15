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
  static const std::vector<std::string> names = {"closed", "poisson", "periodic", "trace", "gamma"};
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

namespace {

/// Seconds written as a decimal number ("12", "0.25", "3.000000001") to ns, exactly,
/// rounding digits beyond the ninth decimal half up; nullopt unless the text is
/// digits with at most one '.' and the value is below 9e9 s (int64 ns).
std::optional<TimeNs> DecimalSecondsToNs(const std::string& text) {
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return s.find_first_not_of("0123456789") == std::string::npos;
  };
  if ((whole.empty() && frac.empty()) || !digits(whole) || !digits(frac)) return std::nullopt;
  const size_t first = whole.find_first_not_of('0');
  const std::string sig = first == std::string::npos ? "" : whole.substr(first);
  if (sig.size() > 10 || (sig.size() == 10 && sig >= "9000000000")) return std::nullopt;
  TimeNs ns = (sig.empty() ? 0 : std::stoll(sig)) * 1000000000;
  TimeNs scale = 100000000;
  for (size_t i = 0; i < frac.size() && i < 9; ++i, scale /= 10) ns += (frac[i] - '0') * scale;
  if (frac.size() > 9 && frac[9] >= '5') ++ns;
  return ns;
}

/// Reads the first `requests` rows of the column of seconds of a "trace" arrival's CSV
/// file into a.times_ns; `field` is "tenants[0].arrival".
void ReadArrivalCsv(Arrival* a, const std::string& file, const std::string& field,
                    int64_t requests) {
  const std::string where = file + ": " + field + ".csv: ";
  a->times_ns.clear();
  std::string previous;
  ForEachCsvCell(a->csv_path, a->csv_column, where, [&](int64_t line, const std::string& cell) {
    if (static_cast<int64_t>(a->times_ns.size()) >= requests) return false;
    const std::string at = where + a->csv_path + ":" + std::to_string(line) + ": " + a->csv_column;
    const std::optional<TimeNs> t = DecimalSecondsToNs(cell);
    if (!t) {
      throw InputError(at +
                       ": expected a non-negative decimal number of seconds "
                       "(like 0.25), found \"" +
                       cell + "\"");
    }
    if (!a->times_ns.empty() && *t < a->times_ns.back()) {
      throw InputError(at + ": expected a time >= " + previous +
                       " s (times must not decrease), found \"" + cell + "\"");
    }
    a->times_ns.push_back(*t);
    previous = cell;
    return true;
  });
  if (static_cast<int64_t>(a->times_ns.size()) < requests) {
    throw InputError(where + a->csv_path + " has " + std::to_string(a->times_ns.size()) +
                     " rows, expected at least " + std::to_string(requests) + " (one per request)");
  }
}

}  // namespace

Arrival ReadArrival(const json& j, const std::string& file, const std::string& path,
                    int64_t requests, const std::string& base_dir, bool read_csv) {
  const JsonFields f(
      j, file, path,
      {"kind", "rate_hz", "burstiness", "seed", "period_ns", "times_ns", "csv", "column"});
  Arrival a;
  a.kind = static_cast<ArrivalKind>(f.Choice("kind", ArrivalNames()));
  // The parameters each kind takes, in ArrivalKind order.
  static const std::vector<std::vector<std::string>> kParams = {{},
                                                                {"rate_hz", "seed"},
                                                                {"period_ns"},
                                                                {"times_ns", "csv", "column"},
                                                                {"rate_hz", "burstiness", "seed"}};
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
    case ArrivalKind::kGamma:
      a.rate_hz = f.Number("rate_hz");
      if (!(a.rate_hz > 0.0) || !std::isfinite(a.rate_hz))
        f.Expected("rate_hz", "a positive number");
      if (a.kind == ArrivalKind::kGamma) {
        a.burstiness = f.Number("burstiness");
        if (!(a.burstiness > 0.0) || !std::isfinite(a.burstiness))
          f.Expected("burstiness", "a positive number (1 = poisson, smaller = burstier)");
      }
      a.seed = static_cast<uint64_t>(f.NonNegInt("seed", 1));
      break;
    case ArrivalKind::kPeriodic:
      a.period_ns = f.IntIn("period_ns", 1, kInt64Max);
      if (requests > 1 && a.period_ns > kInt64Max / (requests - 1)) {
        f.Fail("period_ns", "period_ns x requests overflows 64-bit nanoseconds");
      }
      break;
    case ArrivalKind::kTrace: {
      if (f.Has("csv") && f.Has("times_ns")) {
        f.Fail("csv", "not used with times_ns (the times come from one or the other)");
      }
      if (f.Has("csv")) {
        a.csv_path = Resolve(base_dir, NonEmptyString(f, "csv"));
        a.csv_column = f.String("column", "timestamp_s");
        if (a.csv_column.empty()) f.Expected("column", "a non-empty string");
        if (read_csv) ReadArrivalCsv(&a, file, path, requests);
        break;
      }
      if (f.Has("column")) f.Fail("column", "not used without csv");
      const json& times = f.Get("times_ns");
      if (!times.is_array()) f.Expected("times_ns", "an array of non-negative integers");
      const std::string tpath = f.PathOf("times_ns");
      for (size_t i = 0; i < times.size(); ++i) {
        const std::optional<int64_t> t = JsonToInt(times[i]);
        const std::string at = IndexPath(tpath, i);
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

double GammaDraw(SplitMix64& rng, double shape) {
  COTENANT_CHECK(shape > 0.0);
  if (shape < 1.0) {
    // Gamma(shape) = Gamma(shape + 1) x U^(1/shape) (Marsaglia and Tsang, section 6).
    const double g = GammaDraw(rng, shape + 1.0);
    const double u = 1.0 - rng.Unit();  // (0, 1]
    return g * std::pow(u, 1.0 / shape);
  }
  // Marsaglia and Tsang, "A simple method for generating gamma variables", ACM TOMS
  // 26(3), 2000: d = shape - 1/3, c = 1/sqrt(9d); accept d(1 + cx)^3 for a standard
  // normal x and uniform u by the squeeze, else by the log test. Normals by Box-Muller
  // (the cosine of the pair, two uniforms per normal).
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      const double u1 = 1.0 - rng.Unit();  // (0, 1]: log(u1) is finite
      const double u2 = rng.Unit();
      x = std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - rng.Unit();  // (0, 1]
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return d * v;
  }
}

namespace {

TenantSpec ReadTenant(const json& j, const std::string& file, const std::string& path,
                      const std::string& base_dir) {
  const JsonFields f(j, file, path,
                     {"name", "kind", "trace", "traces_by_batch", "requests", "arrival", "slo_ns",
                      "weight", "memory_bytes"});
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
    t.arrival = ReadArrival(f.Get("arrival"), file, f.PathOf("arrival"), t.requests, base_dir,
                            /*read_csv=*/true);
  }
  t.slo_ns = f.NonNegInt("slo_ns", 0);
  t.weight = f.Number("weight", 1.0);
  if (!(t.weight > 0.0) || !std::isfinite(t.weight)) f.Expected("weight", "a positive number");
  t.memory_bytes = f.NonNegInt("memory_bytes", 0);
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
      if (!a.csv_path.empty()) {
        j["csv"] = a.csv_path;
        j["column"] = a.csv_column;
      } else {
        j["times_ns"] = a.times_ns;
      }
      break;
    case ArrivalKind::kGamma:
      j["rate_hz"] = a.rate_hz;
      j["burstiness"] = a.burstiness;
      j["seed"] = a.seed;
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
    case ArrivalKind::kGamma: {
      COTENANT_CHECK(arrival.rate_hz > 0.0 && arrival.burstiness > 0.0);
      // vLLM's benchmark_serving.py --burstiness: gaps Gamma(shape = burstiness,
      // scale = 1 / (rate_hz x burstiness)) seconds, mean 1/rate_hz, coefficient of
      // variation 1/sqrt(burstiness); the first request at 0, rounded like poisson.
      SplitMix64 rng(arrival.seed);
      double now_ns = 0.0;
      for (int64_t i = 1; i < requests; ++i) {
        now_ns += GammaDraw(rng, arrival.burstiness) / arrival.burstiness / arrival.rate_hz * 1e9;
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
  std::map<std::string, size_t> names;  // name -> index in tenants, across both kinds
  for (size_t i = 0; i < tenants.size(); ++i) {
    const std::string path = IndexPath("tenants", i);
    bool llm = false;
    if (tenants[i].is_object() && tenants[i].contains("kind")) {
      static const std::vector<std::string> kKinds = {"trace", "llm"};
      const json& k = tenants[i]["kind"];
      const int kind = IndexOf(k, kKinds);
      if (kind < 0) FailAt(file, path + ".kind", ExpectedOneOf(k, kKinds));
      llm = kind == 1;
    }
    std::string name;
    if (llm) {
      w.llm_tenants.push_back(ReadLlmTenant(tenants[i], file, path, base_dir));
      name = w.llm_tenants.back().name;
    } else {
      w.tenants.push_back(ReadTenant(tenants[i], file, path, base_dir));
      name = w.tenants.back().name;
    }
    const auto [it, fresh] = names.emplace(name, i);
    if (!fresh) {
      FailAt(file, path + ".name",
             "duplicate tenant name \"" + name + "\" (also tenants[" + std::to_string(it->second) +
                 "])");
    }
  }
  w.objective = static_cast<Objective>(f.Choice("objective", ObjectiveNames(), 0));
  if (w.objective == Objective::kSlo) {
    bool any_slo = false;
    for (const TenantSpec& t : w.tenants) any_slo = any_slo || t.slo_ns > 0;
    for (const LlmTenantSpec& t : w.llm_tenants)
      any_slo = any_slo || t.slo.ttft_ns > 0 || t.slo.tpot_ns > 0;
    if (!any_slo) {
      f.Fail("objective",
             "\"slo\" needs slo_ns on a trace tenant or an slo on an llm tenant, found none");
    }
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
    if (t.memory_bytes != 0) jt["memory_bytes"] = t.memory_bytes;
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
