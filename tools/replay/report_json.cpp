#include "tools/replay/report_json.h"

#include <limits>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::replay {
namespace {

using nlohmann::json;

constexpr const char* kSchema = "cotenant.replay-report/1";
constexpr const char* kSizingSchema = "cotenant.replay-calibration/1";
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

json SummaryJson(const ErrorSummary& s) {
  return {{"count", s.count}, {"median", s.median_pct}, {"p90", s.p90_pct}, {"max", s.max_pct}};
}

ErrorSummary ReadSummary(const json& j, const std::string& where, const std::string& path) {
  JsonFields f(j, where, path, {"count", "median", "p90", "max"});
  ErrorSummary s;
  s.count = f.NonNegInt("count");
  s.median_pct = f.Number("median");
  s.p90_pct = f.Number("p90");
  s.max_pct = f.Number("max");
  return s;
}

json KernelJson(const KernelReport& k) {
  json probes = json::array();
  for (const Probe& p : k.sizing.probes) probes.push_back({p.work, p.time_ns});
  json j = {{"name", k.name},
            {"launches", k.launches},
            {"target_ns", k.target_ns},
            {"work", k.sizing.work},
            {"measured_ns", k.sizing.measured_ns},
            {"error_pct", k.sizing.error_pct},
            {"probes", probes},
            {"blocks_per_sm", k.occupancy.replay_blocks_per_sm},
            {"traced_blocks_per_sm", k.occupancy.target_blocks_per_sm},
            {"dynamic_smem", k.occupancy.dynamic_smem},
            {"occupancy_exact", k.occupancy.exact},
            {"replay_dram_bytes", k.replay_dram_bytes}};
  if (!k.occupancy.note.empty()) j["occupancy_note"] = k.occupancy.note;
  if (k.traced_dram_bytes != kAbsent) j["traced_dram_bytes"] = k.traced_dram_bytes;
  return j;
}

KernelReport ReadKernel(const json& j, const std::string& where, const std::string& path) {
  JsonFields f(j, where, path,
               {"name", "launches", "target_ns", "work", "measured_ns", "error_pct", "probes",
                "blocks_per_sm", "traced_blocks_per_sm", "dynamic_smem", "occupancy_exact",
                "occupancy_note", "replay_dram_bytes", "traced_dram_bytes"});
  KernelReport k;
  k.name = f.String("name");
  k.launches = f.NonNegInt("launches");
  k.target_ns = f.NonNegInt("target_ns");
  k.sizing.work = f.Number("work");
  k.sizing.measured_ns = f.Number("measured_ns");
  k.sizing.target_ns = static_cast<double>(k.target_ns);
  k.sizing.error_pct = f.Number("error_pct");
  const json& probes = f.Get("probes");
  if (!probes.is_array()) f.Expected("probes", "an array of [work, time_ns] pairs");
  for (const json& p : probes) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      f.Expected("probes", "an array of [work, time_ns] pairs");
    k.sizing.probes.push_back({p[0].get<double>(), p[1].get<double>()});
  }
  k.occupancy.replay_blocks_per_sm = static_cast<int32_t>(f.IntIn("blocks_per_sm", 0, kInt32Max));
  k.occupancy.target_blocks_per_sm =
      static_cast<int32_t>(f.IntIn("traced_blocks_per_sm", 0, kInt32Max));
  k.occupancy.dynamic_smem = static_cast<int32_t>(f.IntIn("dynamic_smem", 0, kInt32Max));
  k.occupancy.exact = f.Bool("occupancy_exact", false);
  k.occupancy.note = f.String("occupancy_note", "");
  k.replay_dram_bytes = f.NonNegInt("replay_dram_bytes");
  k.traced_dram_bytes = f.Has("traced_dram_bytes") ? f.NonNegInt("traced_dram_bytes") : kAbsent;
  return k;
}

std::vector<TimeNs> ReadTimes(const JsonFields& f, const char* key, size_t nodes) {
  const json& a = f.Get(key);
  if (!a.is_array() || a.size() != nodes)
    f.Expected(key, "an array of " + std::to_string(nodes) + " times (one per graph node)");
  std::vector<TimeNs> out;
  out.reserve(nodes);
  for (const json& x : a) {
    const std::optional<int64_t> v = JsonToInt(x);
    if (!v || *v < -1) f.Expected(key, "integers >= -1 (ns, -1 = not measured)");
    out.push_back(*v);
  }
  return out;
}

}  // namespace

json ReplayReportToJson(const ReplayReport& r) {
  json runs = json::array();
  for (const MeasuredRun& run : r.runs)
    runs.push_back({{"start_ns", run.start_ns}, {"end_ns", run.end_ns}});
  json kernels = json::array();
  for (const KernelReport& k : r.kernels) kernels.push_back(KernelJson(k));
  return {{"schema", kSchema},
          {"device", r.device_name},
          {"driver_version", r.driver_version},
          {"runtime_version", r.runtime_version},
          {"timing", r.timing},
          {"max_connections", r.max_connections},
          {"calibration_error_pct", SummaryJson(r.sizing)},
          {"kernels", kernels},
          {"notes", r.notes},
          {"runs", runs}};
}

ReplayReport ReplayReportFromJson(const json& j, size_t graph_nodes, const std::string& where) {
  CheckSchema(j, where, kSchema);
  JsonFields f(j, where, "",
               {"schema", "device", "driver_version", "runtime_version", "timing",
                "max_connections", "calibration_error_pct", "kernels", "notes", "runs"});
  ReplayReport r;
  r.device_name = f.String("device");
  r.driver_version = static_cast<int32_t>(f.IntIn("driver_version", 0, kInt32Max));
  r.runtime_version = static_cast<int32_t>(f.IntIn("runtime_version", 0, kInt32Max));
  r.timing = f.String("timing");
  if (r.timing != "cupti" && r.timing != "stamps" && r.timing != "fake")
    f.Expected("timing", "\"cupti\", \"stamps\" or \"fake\"");
  r.max_connections = static_cast<int32_t>(f.IntIn("max_connections", 1, kInt32Max));
  r.sizing = ReadSummary(f.Get("calibration_error_pct"), where, f.PathOf("calibration_error_pct"));
  const json& kernels = f.Get("kernels");
  if (!kernels.is_array()) f.Expected("kernels", "an array");
  for (size_t i = 0; i < kernels.size(); ++i)
    r.kernels.push_back(
        ReadKernel(kernels[i], where, IndexPath(f.PathOf("kernels"), i)));
  const json& notes = f.Get("notes");
  if (!notes.is_array()) f.Expected("notes", "an array of strings");
  for (const json& n : notes) {
    if (!n.is_string()) f.Expected("notes", "an array of strings");
    r.notes.push_back(n.get<std::string>());
  }
  const json& runs = f.Get("runs");
  if (!runs.is_array() || runs.empty()) f.Expected("runs", "a non-empty array");
  for (size_t i = 0; i < runs.size(); ++i) {
    JsonFields rf(runs[i], where, IndexPath(f.PathOf("runs"), i),
                  {"start_ns", "end_ns"});
    MeasuredRun run;
    run.start_ns = ReadTimes(rf, "start_ns", graph_nodes);
    run.end_ns = ReadTimes(rf, "end_ns", graph_nodes);
    r.runs.push_back(std::move(run));
  }
  return r;
}

json SizingReportToJson(const ReplayReport& report) {
  json j = ReplayReportToJson(report);
  j.erase("runs");
  j["schema"] = kSizingSchema;
  return j;
}

json MeasuredResultToJson(const MeasuredPlan& m) {
  const ReplayReport& rep = m.report;
  json j = ResultToJson(m.results[m.median]);
  j["device"] = rep.device_name;
  j["driver_version"] = rep.driver_version;
  j["runtime_version"] = rep.runtime_version;
  j["timing"] = rep.timing;
  j["calibration_error_pct"] = {
      {"median", rep.sizing.median_pct}, {"p90", rep.sizing.p90_pct}, {"max", rep.sizing.max_pct}};
  json makespans = json::array();
  for (const SimResult& x : m.results) makespans.push_back(x.makespan_ns);
  j["run_makespans_ns"] = makespans;
  return j;
}

}  // namespace cotenant::replay
