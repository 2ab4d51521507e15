#include "sim/gpu_spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

using nlohmann::json;

constexpr const char* kGpuSchema = "cotenant.gpu/1";
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int32_t PositiveInt32(const JsonFields& f, const char* key) {
  return static_cast<int32_t>(f.IntIn(key, 1, kInt32Max));
}

int32_t NonNegInt32(const JsonFields& f, const char* key) {
  return static_cast<int32_t>(f.IntIn(key, 0, kInt32Max));
}

double PositiveNumber(const JsonFields& f, const char* key) {
  const double v = f.Number(key);
  if (!(v > 0.0) || !std::isfinite(v)) f.Expected(key, "a positive number");
  return v;
}

/// "9.0" -> 90: a major version of one or two digits, a dot, one digit.
int32_t ComputeCapability(const JsonFields& f) {
  const char* key = "compute_capability";
  const std::string s = f.String(key);
  const auto digit = [&s](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  const size_t dot = s.find('.');
  const bool ok =
      (dot == 1 || dot == 2) && digit(0) && digit(dot - 1) && digit(dot + 1) && s.size() == dot + 2;
  if (!ok) f.Fail(key, "expected a version like \"9.0\", found " + JsonText(json(s)));
  return static_cast<int32_t>(std::stoi(s.substr(0, dot)) * 10 + (s[dot + 1] - '0'));
}

SmLimits ReadSmLimits(const JsonFields& f) {
  SmLimits sm;
  sm.max_threads = PositiveInt32(f, "max_threads");
  sm.max_blocks = PositiveInt32(f, "max_blocks");
  sm.max_warps = PositiveInt32(f, "max_warps");
  sm.registers = PositiveInt32(f, "registers");
  sm.max_regs_per_thread = PositiveInt32(f, "max_regs_per_thread");
  sm.reg_alloc_unit = PositiveInt32(f, "reg_alloc_unit");
  sm.smem_bytes = PositiveInt32(f, "smem_bytes");
  sm.max_smem_per_block = PositiveInt32(f, "max_smem_per_block");
  sm.smem_alloc_unit = PositiveInt32(f, "smem_alloc_unit");
  sm.smem_reserved_per_block = NonNegInt32(f, "smem_reserved_per_block");
  sm.warp_size = PositiveInt32(f, "warp_size");
  if (sm.max_smem_per_block > sm.smem_bytes) {
    f.Fail("max_smem_per_block", "expected at most smem_bytes (" + std::to_string(sm.smem_bytes) +
                                     "), found " + std::to_string(sm.max_smem_per_block));
  }
  return sm;
}

/// A required finite number >= 0.
double NonNegNumber(const JsonFields& f, const char* key) {
  const double v = f.Number(key);
  if (!(v >= 0.0) || !std::isfinite(v)) f.Expected(key, "a non-negative number");
  return v;
}

/// An optional finite number >= 0, `fallback` when absent.
double NonNegNumber(const JsonFields& f, const char* key, double fallback) {
  return f.Has(key) ? NonNegNumber(f, key) : fallback;
}

ModelParams ReadModel(const JsonFields& f) {
  ModelParams m;
  m.dram_efficiency = f.Number("dram_efficiency");
  if (!(m.dram_efficiency > 0.0 && m.dram_efficiency <= 1.0)) {
    f.Expected("dram_efficiency", "a number in (0, 1]");
  }
  m.corun_slowdown = NonNegNumber(f, "corun_slowdown");
  m.l2_corun_traffic = NonNegNumber(f, "l2_corun_traffic", 0.0);        // (absent in older specs)
  m.host_corun_slowdown = NonNegNumber(f, "host_corun_slowdown", 0.0);  // (likewise)
  m.launch_latency_ns = f.NonNegInt("launch_latency_ns");
  m.sync_latency_ns = f.NonNegInt("sync_latency_ns");
  m.calibrated = f.Bool("calibrated", false);
  m.source = f.String("source", "");
  return m;
}

/// A device name as compared: lower case, surrounding spaces and an
/// "nvidia " prefix dropped.
std::string DeviceKey(const std::string& name) {
  size_t b = name.find_first_not_of(" \t");
  size_t e = name.find_last_not_of(" \t");
  std::string s = b == std::string::npos ? "" : name.substr(b, e - b + 1);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("nvidia ", 0) == 0) s = s.substr(7);
  return s;
}

/// A double that holds a whole number is written as an integer.
json Number(double v) {
  const std::optional<int64_t> i = DoubleToInt(v);
  return i ? json(*i) : json(v);
}

}  // namespace

GpuSpec GpuSpecFromJson(const json& j, const std::string& file) {
  CheckSchema(j, file, kGpuSchema);
  const JsonFields f(
      j, file, "", {"schema",    "key",          "name",      "arch",         "compute_capability",
                    "sm_count",  "sm",           "clock_mhz", "fp32_tflops",  "tensor_tflops",
                    "dram_gbps", "dram_bytes",   "l2_bytes",  "copy_engines", "pcie_gbps",
                    "hw_queues", "sm_partition", "model",     "sources",      "device_names"});
  GpuSpec spec;
  spec.file = file;
  spec.key = f.String("key");
  if (spec.key.empty()) f.Expected("key", "a non-empty string");
  spec.name = f.String("name");
  spec.arch = f.String("arch");
  if (f.Has("device_names")) {
    const json& names = f.Get("device_names");
    if (!names.is_array()) f.Expected("device_names", "an array of strings");
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i].is_string() || names[i].get<std::string>().empty()) {
        f.Fail("device_names", "expected non-empty strings, found " + JsonText(names[i]) +
                                   " at index " + std::to_string(i));
      }
      spec.device_names.push_back(names[i].get<std::string>());
    }
  }
  spec.compute_capability = ComputeCapability(f);
  spec.sm_count = PositiveInt32(f, "sm_count");
  spec.sm = ReadSmLimits(
      JsonFields(f.Get("sm"), file, "sm",
                 {"max_threads", "max_blocks", "max_warps", "registers", "max_regs_per_thread",
                  "reg_alloc_unit", "smem_bytes", "max_smem_per_block", "smem_alloc_unit",
                  "smem_reserved_per_block", "warp_size"}));
  spec.clock_mhz = PositiveNumber(f, "clock_mhz");
  spec.fp32_tflops = PositiveNumber(f, "fp32_tflops");
  spec.tensor_tflops = PositiveNumber(f, "tensor_tflops");
  spec.dram_gbps = PositiveNumber(f, "dram_gbps");
  spec.dram_bytes = f.IntIn("dram_bytes", 1, kInt64Max);
  spec.l2_bytes = PositiveNumber(f, "l2_bytes");
  spec.copy_engines = PositiveInt32(f, "copy_engines");
  spec.pcie_gbps = PositiveNumber(f, "pcie_gbps");
  spec.hw_queues = PositiveInt32(f, "hw_queues");
  const JsonFields part(f.Get("sm_partition"), file, "sm_partition", {"granularity", "min"});
  spec.sm_partition_granularity = NonNegInt32(part, "granularity");
  spec.sm_partition_min = NonNegInt32(part, "min");
  if (spec.sm_partition_min > spec.sm_count) {
    part.Fail("min", "expected at most sm_count (" + std::to_string(spec.sm_count) + "), found " +
                         std::to_string(spec.sm_partition_min));
  }
  spec.model = ReadModel(
      JsonFields(f.Get("model"), file, "model",
                 {"dram_efficiency", "corun_slowdown", "l2_corun_traffic", "host_corun_slowdown",
                  "launch_latency_ns", "sync_latency_ns", "calibrated", "source"}));
  if (f.Has("sources")) {
    if (!f.Get("sources").is_object()) f.Expected("sources", "an object");
    spec.sources = f.Get("sources");
  }
  return spec;
}

GpuSpec ReadGpuSpec(const std::string& path) { return GpuSpecFromJson(ReadJsonFile(path), path); }

json GpuSpecToJson(const GpuSpec& spec) {
  json j = json::object();
  j["schema"] = kGpuSchema;
  j["key"] = spec.key;
  j["name"] = spec.name;
  j["arch"] = spec.arch;
  if (!spec.device_names.empty()) j["device_names"] = spec.device_names;
  j["compute_capability"] = std::to_string(spec.compute_capability / 10) + "." +
                            std::to_string(spec.compute_capability % 10);
  j["sm_count"] = spec.sm_count;
  j["sm"] = {{"max_threads", spec.sm.max_threads},
             {"max_blocks", spec.sm.max_blocks},
             {"max_warps", spec.sm.max_warps},
             {"registers", spec.sm.registers},
             {"max_regs_per_thread", spec.sm.max_regs_per_thread},
             {"reg_alloc_unit", spec.sm.reg_alloc_unit},
             {"smem_bytes", spec.sm.smem_bytes},
             {"max_smem_per_block", spec.sm.max_smem_per_block},
             {"smem_alloc_unit", spec.sm.smem_alloc_unit},
             {"smem_reserved_per_block", spec.sm.smem_reserved_per_block},
             {"warp_size", spec.sm.warp_size}};
  j["clock_mhz"] = Number(spec.clock_mhz);
  j["fp32_tflops"] = Number(spec.fp32_tflops);
  j["tensor_tflops"] = Number(spec.tensor_tflops);
  j["dram_gbps"] = Number(spec.dram_gbps);
  j["dram_bytes"] = spec.dram_bytes;
  j["l2_bytes"] = Number(spec.l2_bytes);
  j["copy_engines"] = spec.copy_engines;
  j["pcie_gbps"] = Number(spec.pcie_gbps);
  j["hw_queues"] = spec.hw_queues;
  j["sm_partition"] = {{"granularity", spec.sm_partition_granularity},
                       {"min", spec.sm_partition_min}};
  j["model"] = {{"dram_efficiency", spec.model.dram_efficiency},
                {"corun_slowdown", spec.model.corun_slowdown},
                {"l2_corun_traffic", spec.model.l2_corun_traffic},
                {"host_corun_slowdown", spec.model.host_corun_slowdown},
                {"launch_latency_ns", spec.model.launch_latency_ns},
                {"sync_latency_ns", spec.model.sync_latency_ns},
                {"calibrated", spec.model.calibrated},
                {"source", spec.model.source}};
  if (!spec.sources.empty()) j["sources"] = spec.sources;
  return j;
}

std::string GpuSpecDir() {
  const char* env = std::getenv("COTENANT_GPU_DIR");
  if (env != nullptr && *env != '\0') return env;
#ifdef COTENANT_SOURCE_DIR
  return COTENANT_SOURCE_DIR "/configs/gpus";
#else
  return "configs/gpus";
#endif
}

std::vector<std::string> ListGpuSpecs() {
  namespace fs = std::filesystem;
  std::vector<std::string> keys;
  std::error_code ec;
  for (fs::directory_iterator it(GpuSpecDir(), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".json" && it->is_regular_file(ec)) keys.push_back(p.stem().string());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool IsGpuSpecPath(const std::string& key_or_path) {
  return EndsWith(key_or_path, ".json") || EndsWith(key_or_path, ".json.gz") ||
         key_or_path.find('/') != std::string::npos;
}

GpuSpec LoadGpuSpec(const std::string& key_or_path) {
  if (IsGpuSpecPath(key_or_path)) return ReadGpuSpec(key_or_path);
  const std::string dir = GpuSpecDir();
  const std::string path = dir + "/" + key_or_path + ".json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return ReadGpuSpec(path);
  const std::vector<std::string> known = ListGpuSpecs();
  std::string list;
  for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
  if (known.empty()) list = "none (no specs in " + dir + ")";
  throw InputError("gpu spec \"" + key_or_path + "\": no such GPU; known: " + list +
                   DidYouMean(key_or_path, known));
}

std::optional<std::string> SpecKeyForDevice(const std::string& device_name) {
  const std::string want = DeviceKey(device_name);
  if (want.empty()) return std::nullopt;
  for (const std::string& key : ListGpuSpecs()) {
    const GpuSpec spec = LoadGpuSpec(key);
    if (DeviceKey(spec.name) == want) return key;
    for (const std::string& n : spec.device_names) {
      if (DeviceKey(n) == want) return key;
    }
  }
  return std::nullopt;
}

std::string UnknownDeviceMessage(const std::string& device_name) {
  const std::string want = DeviceKey(device_name);
  struct Near {
    size_t distance;
    std::string key, name;
  };
  std::vector<Near> near;
  for (const std::string& key : ListGpuSpecs()) {
    const GpuSpec spec = LoadGpuSpec(key);
    Near best{EditDistance(want, DeviceKey(spec.name)), key, spec.name};
    for (const std::string& n : spec.device_names) {
      const size_t d = EditDistance(want, DeviceKey(n));
      if (d < best.distance) best = {d, key, n};
    }
    near.push_back(best);
  }
  std::stable_sort(near.begin(), near.end(),
                   [](const Near& a, const Near& b) { return a.distance < b.distance; });
  std::string list;
  for (size_t i = 0; i < near.size() && i < 3; ++i)
    list += (i == 0 ? "" : ", ") + near[i].key + " (\"" + near[i].name + "\")";
  if (list.empty()) list = "none (no specs in " + GpuSpecDir() + ")";
  return "GPU device \"" + device_name + "\" matches no spec in " + GpuSpecDir() +
         "; nearest: " + list + "; give --gpu KEY";
}

}  // namespace cotenant
