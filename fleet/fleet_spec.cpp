#include "fleet/fleet_spec.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/workload.h"

namespace cotenant::fleet {

using nlohmann::json;

const char* ModelKindName(ModelKind k) {
  switch (k) {
    case ModelKind::kTrace:
      return "trace";
    case ModelKind::kZoo:
      return "zoo";
    case ModelKind::kLlm:
      return "llm";
  }
  return "?";
}

int32_t FleetSpec::TotalGpus() const {
  int32_t n = 0;
  for (const FleetGpu& g : gpus) n += g.count;
  return n;
}

namespace {

/// The keys a fleet model has besides an llm tenant's own.
constexpr const char* kFleetKeys[] = {"rate_hz", "burstiness", "memory_gib", "max_replicas"};

double PositiveNumber(const JsonFields& f, const char* key, double fallback, double max) {
  if (!f.Has(key)) return fallback;
  const double v = f.Number(key);
  if (!(v > 0.0) || !(v <= max)) f.Expected(key, "a positive number up to " + JsonText(max));
  return v;
}

/// memory_gib as bytes (0 when absent).
int64_t MemoryBytes(const JsonFields& f) {
  if (!f.Has("memory_gib")) return 0;
  const double v = f.Number("memory_gib");
  if (!(v > 0.0) || !(v <= 1 << 20)) f.Expected("memory_gib", "a positive number of GiB");
  return static_cast<int64_t>(std::llround(v * static_cast<double>(1LL << 30)));
}

FleetModel ReadModel(const json& j, const std::string& file, const std::string& at,
                     const std::string& base_dir, int32_t total_gpus) {
  FleetModel m;
  m.at = at;
  const bool llm = j.is_object() && j.contains("kind") && j["kind"] == "llm";
  if (llm) {
    // The llm tenant's own keys are read by the workload's reader, with the
    // arrival and request count fleet placement sets for each evaluation.
    json tenant = j;
    for (const char* k : kFleetKeys) tenant.erase(k);
    if (tenant.contains("requests") || tenant.contains("arrival")) {
      FailAt(file, at + (tenant.contains("requests") ? ".requests" : ".arrival"),
             "not a fleet key: placement sets each replica's requests and Poisson arrivals "
             "from rate_hz (and burstiness)");
    }
    tenant["arrival"] = {{"kind", "poisson"}, {"rate_hz", 1.0}};
    m.llm = ReadLlmTenant(tenant, file, at, base_dir);
    m.name = m.llm.name;
    m.kind = ModelKind::kLlm;
    json fleet_keys = json::object();
    for (const char* k : kFleetKeys)
      if (j.contains(k)) fleet_keys[k] = j[k];
    const JsonFields f(fleet_keys, file, at,
                       {"rate_hz", "burstiness", "memory_gib", "max_replicas"});
    if (!f.Has("rate_hz")) f.Fail("rate_hz", "required");
    m.rate_hz = PositiveNumber(f, "rate_hz", 0.0, 1e7);
    m.burstiness = PositiveNumber(f, "burstiness", 1.0, 1e3);
    if (!f.Has("memory_gib"))
      f.Fail("memory_gib",
             "required for an llm model: the memory its engine takes (weights and KV cache)");
    m.memory_bytes = MemoryBytes(f);
    m.max_replicas = static_cast<int32_t>(f.IntIn("max_replicas", 1, total_gpus, 0));
    if (m.llm.slo.ttft_ns == 0 && m.llm.slo.tpot_ns == 0)
      FailAt(file, at + ".slo", "required: ttft_ms and/or tpot_ms (placement meets SLOs)");
    return m;
  }
  const JsonFields f(j, file, at,
                     {"name", "kind", "trace", "zoo", "batch", "seq", "dtype", "rate_hz",
                      "burstiness", "slo_ms", "memory_gib", "max_replicas"});
  m.name = f.String("name");
  if (m.name.empty()) f.Expected("name", "a non-empty string");
  const bool trace = f.Has("trace"), zoo = f.Has("zoo");
  if (f.Has("kind")) {
    const int k = f.Choice("kind", {"trace", "zoo", "llm"});
    if ((k == 0 && !trace) || (k == 1 && !zoo))
      f.Fail(k == 0 ? "trace" : "zoo",
             std::string("required for kind \"") + (k == 0 ? "trace" : "zoo") + "\"");
  }
  if (trace == zoo)
    f.Fail(trace ? "zoo" : "trace",
           trace ? "give either trace or zoo, not both"
                 : "required: a trace file, a zoo model, or \"kind\": \"llm\"");
  if (trace) {
    m.kind = ModelKind::kTrace;
    const std::string p = f.String("trace");
    if (p.empty()) f.Expected("trace", "a non-empty string");
    namespace fs = std::filesystem;
    m.trace_path = base_dir.empty() || fs::path(p).is_absolute()
                       ? p
                       : (fs::path(base_dir) / p).lexically_normal().string();
    for (const char* k : {"batch", "seq", "dtype"})
      if (f.Has(k)) f.Fail(k, "only for a zoo model (a trace is of one batch)");
  } else {
    m.kind = ModelKind::kZoo;
    m.zoo = f.String("zoo");
    if (m.zoo.empty()) f.Expected("zoo", "a non-empty string");
    m.batch = static_cast<int>(f.IntIn("batch", 1, 1024, 1));
    m.seq = static_cast<int>(f.IntIn("seq", 1, 512, 0));
    m.dtype = f.String("dtype", "");
  }
  if (!f.Has("rate_hz")) f.Fail("rate_hz", "required");
  m.rate_hz = PositiveNumber(f, "rate_hz", 0.0, 1e7);
  m.burstiness = PositiveNumber(f, "burstiness", 1.0, 1e3);
  if (!f.Has("slo_ms")) f.Fail("slo_ms", "required (placement meets SLOs)");
  m.slo_ns = static_cast<TimeNs>(std::llround(PositiveNumber(f, "slo_ms", 0.0, 1e9) * 1e6));
  m.memory_bytes = MemoryBytes(f);
  m.max_replicas = static_cast<int32_t>(f.IntIn("max_replicas", 1, total_gpus, 0));
  return m;
}

}  // namespace

FleetSpec FleetFromJson(const json& j, const std::string& file, const std::string& base_dir) {
  CheckSchema(j, file, "cotenant.fleet/1");
  const JsonFields f(j, file, "",
                     {"schema", "gpus", "models", "window_s", "min_requests", "attainment",
                      "search_budget", "candidates", "batch", "util_cap", "model", "seed"});
  FleetSpec s;
  s.file = file;
  const json& gpus = f.Get("gpus");
  if (!gpus.is_array() || gpus.empty()) f.Expected("gpus", "a non-empty array");
  std::map<std::string, size_t> seen_gpu;
  for (size_t i = 0; i < gpus.size(); ++i) {
    const std::string at = IndexPath("gpus", i);
    const JsonFields g(gpus[i], file, at, {"gpu", "count"});
    FleetGpu fg;
    fg.key = g.String("gpu");
    if (fg.key.empty()) g.Expected("gpu", "a non-empty string");
    fg.count = static_cast<int32_t>(g.IntIn("count", 1, 100000));
    try {
      fg.spec = LoadGpuSpec(fg.key);
    } catch (const InputError& e) {
      FailAt(file, at + ".gpu", e.what());
    }
    if (auto [it, fresh] = seen_gpu.emplace(fg.spec.key, i); !fresh)
      FailAt(file, at + ".gpu",
             "GPU " + fg.spec.key + " listed twice (also " + IndexPath("gpus", it->second) + ")");
    s.gpus.push_back(std::move(fg));
  }
  if (s.TotalGpus() > 100000) f.Fail("gpus", "more than 100000 GPUs in all");
  const json& models = f.Get("models");
  if (!models.is_array() || models.empty()) f.Expected("models", "a non-empty array");
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < models.size(); ++i) {
    FleetModel m = ReadModel(models[i], file, IndexPath("models", i), base_dir, s.TotalGpus());
    if (auto [it, fresh] = names.emplace(m.name, i); !fresh)
      FailAt(
          file, m.at + ".name",
          "duplicate model name \"" + m.name + "\" (also " + IndexPath("models", it->second) + ")");
    s.models.push_back(std::move(m));
  }
  s.window_s = PositiveNumber(f, "window_s", s.window_s, 3600.0);
  s.min_requests = f.IntIn("min_requests", 1, 1000000, s.min_requests);
  if (f.Has("attainment")) {
    s.attainment = f.Number("attainment");
    if (!(s.attainment > 0.0 && s.attainment <= 1.0)) f.Expected("attainment", "a share in (0, 1]");
  }
  s.search_budget = f.IntIn("search_budget", 0, 100000, s.search_budget);
  s.candidates = static_cast<int32_t>(f.IntIn("candidates", 1, 1024, s.candidates));
  s.batch = static_cast<int32_t>(f.IntIn("batch", 1, 1024, s.batch));
  s.util_cap = PositiveNumber(f, "util_cap", s.util_cap, 1.0);
  if (f.Has("model")) s.model = f.Choice("model", {"fluid", "block"}) == 0 ? "fluid" : "block";
  s.seed = static_cast<uint64_t>(f.NonNegInt("seed", 1));
  return s;
}

FleetSpec ReadFleet(const std::string& path) {
  return FleetFromJson(ReadJsonFile(path), path,
                       std::filesystem::path(path).parent_path().string());
}

}  // namespace cotenant::fleet
