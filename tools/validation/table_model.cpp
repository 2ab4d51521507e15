#include "tools/validation/table_model.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/models/contention_model.h"
#include "sim/plan.h"
#include "sim/trace_scale.h"

namespace cotenant::validation {
namespace {

constexpr const char* kCalibrationSchema = "cotenant.model-calibration/1";

struct ContentionField {
  const char* name;
  double ModelParams::*field;
};

const std::vector<ContentionField>& ContentionFields() {
  static const std::vector<ContentionField> fields = {
      {"corun_slowdown", &ModelParams::corun_slowdown},
      {"host_corun_slowdown", &ModelParams::host_corun_slowdown},
      {"l2_corun_traffic", &ModelParams::l2_corun_traffic},
  };
  return fields;
}

const ContentionField& FindField(const std::string& name) {
  for (const ContentionField& f : ContentionFields())
    if (name == f.name) return f;
  COTENANT_CHECK_MSG(false, "unknown contention parameter " + name);
  return ContentionFields().front();
}

std::string TraceKey(const MeasuredMember& m, const std::string& dtype) {
  return dtype + "|" + m.model + "|" + std::to_string(m.batch) + "|" + std::to_string(m.seq_len) +
         "|" + m.trace_path;
}

/// The model a workload's tenant runs, for matching calibration entries.
std::string TenantModel(const LoadedWorkload& lw, size_t i, const TableCalibration& c) {
  const Trace& t = lw.traces[i];
  const auto it = t.meta.find("model");
  if (it != t.meta.end() && it->is_string() && c.models.count(it->get<std::string>()))
    return it->get<std::string>();
  if (c.models.count(lw.workload.tenants[i].name)) return lw.workload.tenants[i].name;
  if (c.models.count(t.tenant)) return t.tenant;
  return "";
}

std::string Times(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "x%.3f", v);
  return buf;
}

/// The batch a trace was taken at (meta.batch), or 0.
int64_t TraceBatch(const Trace& t) {
  const auto it = t.meta.find("batch");
  if (it == t.meta.end() || !it->is_number_integer()) return 0;
  return it->get<int64_t>();
}

}  // namespace

std::string TraceBasis(const Trace& t) {
  const auto syn = t.meta.find("synthetic");
  if (syn == t.meta.end() || !syn->is_boolean() || !syn->get<bool>()) return "trace";
  const auto fw = t.meta.find("framework");
  return "synth:" + (fw != t.meta.end() && fw->is_string() ? fw->get<std::string>() : "");
}

double ModelScales::GpuFactor(int64_t batch) const {
  if (gpu_batch_exponent == 0.0 || batch_ref <= 0 || batch <= 0) return gpu;
  return gpu *
         std::pow(static_cast<double>(batch) / static_cast<double>(batch_ref), gpu_batch_exponent);
}

std::vector<std::string> TableContentionParameters() {
  std::vector<std::string> names;
  for (const ContentionField& f : ContentionFields()) names.push_back(f.name);
  return names;
}

double GetContention(const ModelParams& m, const std::string& name) {
  return m.*(FindField(name).field);
}

void SetContention(ModelParams* m, const std::string& name, double value) {
  m->*(FindField(name).field) = value;
}

TableCalibration IdentityCalibration(const GpuSpec& spec) {
  TableCalibration c;
  c.gpu = spec.key;
  c.contention = spec.model;
  return c;
}

nlohmann::json TableCalibrationToJson(const TableCalibration& c) {
  nlohmann::json j;
  j["schema"] = kCalibrationSchema;
  j["gpu"] = c.gpu;
  j["source"] = c.source;
  j["date"] = c.date;
  j["framework"] = c.framework;
  j["sim_model"] = c.sim_model;
  nlohmann::json cont = nlohmann::json::object();
  for (const std::string& n : TableContentionParameters()) cont[n] = GetContention(c.contention, n);
  j["contention"] = cont;
  j["harness_ns"] = c.harness_ns;
  nlohmann::json models = nlohmann::json::object();
  for (const auto& [name, s] : c.models) {
    models[name] = {{"host_scale", s.host},
                    {"gpu_scale", s.gpu},
                    {"gpu_batch_exponent", s.gpu_batch_exponent},
                    {"batch_ref", s.batch_ref},
                    {"basis", s.basis}};
  }
  j["models"] = models;
  j["fit"] = c.fit;
  return j;
}

TableCalibration TableCalibrationFromJson(const nlohmann::json& j, const std::string& file) {
  CheckSchema(j, file, kCalibrationSchema);
  const JsonFields f(j, file, "",
                     {"schema", "gpu", "source", "date", "framework", "sim_model", "contention",
                      "harness_ns", "models", "fit"});
  TableCalibration c;
  c.gpu = f.String("gpu");
  if (c.gpu.empty()) f.Expected("gpu", "a GPU spec key");
  c.source = f.String("source", "");
  c.date = f.String("date", "");
  c.framework = f.String("framework", "");
  const std::vector<std::string> sims = ContentionModelNames();
  c.sim_model = sims[static_cast<size_t>(f.Choice("sim_model", sims, 0))];
  const nlohmann::json& cont = f.Get("contention");
  if (!cont.is_object()) f.Expected("contention", "an object");
  const std::vector<std::string> names = TableContentionParameters();
  for (const auto& [k, v] : cont.items()) {
    const std::string path = f.PathOf("contention") + "." + k;
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      FailAt(file, path, "unknown contention parameter" + DidYouMean(k, names));
    }
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0.0) {
      FailAt(file, path, "expected a non-negative number, found " + DescribeJson(v));
    }
    SetContention(&c.contention, k, v.get<double>());
  }
  c.harness_ns = f.NonNegInt("harness_ns", 0);
  const nlohmann::json& models = f.Get("models");
  if (!models.is_object()) f.Expected("models", "an object of model name -> scales");
  for (const auto& [name, v] : models.items()) {
    const JsonFields m(v, file, f.PathOf("models") + "." + name,
                       {"host_scale", "gpu_scale", "gpu_batch_exponent", "batch_ref", "basis"});
    ModelScales s;
    s.host = m.Number("host_scale");
    s.gpu = m.Number("gpu_scale");
    if (!(s.host > 0.0 && s.host <= kMaxTraceScale))
      m.Expected("host_scale", "a factor in (0, 1000]");
    if (!(s.gpu > 0.0 && s.gpu <= kMaxTraceScale)) m.Expected("gpu_scale", "a factor in (0, 1000]");
    s.gpu_batch_exponent = m.Number("gpu_batch_exponent", 0.0);
    if (!(std::fabs(s.gpu_batch_exponent) <= 4.0)) {
      m.Expected("gpu_batch_exponent", "a number in [-4, 4]");
    }
    s.batch_ref = m.IntIn("batch_ref", 0, 1 << 20, 0);
    s.basis = m.String("basis", "");
    c.models[name] = s;
  }
  if (f.Has("fit")) c.fit = f.Get("fit");
  return c;
}

TableCalibration ReadTableCalibration(const std::string& path) {
  return TableCalibrationFromJson(ReadJsonFile(path), path);
}

GpuSpec ApplyContention(const GpuSpec& spec, const TableCalibration& c, const std::string& file,
                        const std::string& what) {
  if (spec.key != c.gpu) {
    throw InputError(file + ": gpu: the calibration was fitted on " + c.gpu + ", but " + what +
                     " runs on " + (spec.key.empty() ? spec.name : spec.key) +
                     "; calibrate on that GPU's measurements");
  }
  GpuSpec out = spec;
  for (const std::string& n : TableContentionParameters())
    SetContention(&out.model, n, GetContention(c.contention, n));
  return out;
}

AppliedCalibration ApplyTableCalibration(LoadedWorkload* lw, const TableCalibration& c,
                                         const std::string& file) {
  lw->gpu = ApplyContention(lw->gpu, c, file, "the workload");
  AppliedCalibration out;
  for (size_t i = 0; i < lw->traces.size(); ++i) {
    const std::string& tenant = lw->workload.tenants[i].name;
    const std::string model = TenantModel(*lw, i, c);
    if (model.empty()) {
      out.lines.push_back(tenant + ": not in the calibration, trace unchanged");
      continue;
    }
    const ModelScales& s = c.models.at(model);
    const std::string basis = TraceBasis(lw->traces[i]);
    if (!s.basis.empty() && s.basis != basis) {
      out.lines.push_back(tenant + ": " + model + " scales were fitted on " + s.basis +
                          " traces, this one is " + basis + ": trace unchanged");
      continue;
    }
    const int64_t batch = TraceBatch(lw->traces[i]);
    ScaleTrace(&lw->traces[i], s.host, s.GpuFactor(batch));
    for (auto& [b, t] : lw->by_batch[i]) ScaleTrace(&t, s.host, s.GpuFactor(b));
    std::string line =
        tenant + ": " + model + " host " + Times(s.host) + ", GPU " + Times(s.GpuFactor(batch));
    if (s.gpu_batch_exponent != 0.0 && s.batch_ref > 0 && batch <= 0)
      line += " (the trace's meta.batch is not known: the batch term is left out)";
    out.lines.push_back(line);
  }
  return out;
}

TraceSource WithTraceFiles(TraceSource zoo) {
  return [zoo = std::move(zoo)](const MeasuredMember& m, const std::string& dtype,
                                const GpuSpec& spec) {
    if (m.IsTrace()) return ReadTrace(m.trace_path);
    return zoo(m, dtype, spec);
  };
}

TablePredictor::TablePredictor(const MeasuredTable& table, const GpuSpec& spec,
                               const TraceSource& source, std::string sim_model)
    : table_(table), spec_(spec), sim_model_(std::move(sim_model)) {
  for (const MeasuredRow& r : table_.rows) {
    if (r.gpu != spec_.key) {
      throw InputError(table_.file + ":" + std::to_string(r.line) + ": gpu: expected " + spec_.key +
                       " (one GPU per table), found " + r.gpu);
    }
    for (const MeasuredMember& m : r.members) {
      const std::string key = TraceKey(m, r.dtype);
      if (traces_.count(key)) continue;
      try {
        traces_.emplace(key, source(m, r.dtype, spec_));
      } catch (const InputError& e) {
        throw InputError(table_.file + ":" + std::to_string(r.line) + ": models: " + m.model +
                         ": " + e.what());
      }
    }
  }
}

std::vector<std::string> TablePredictor::Models() const {
  std::vector<std::string> names;
  for (const MeasuredRow& r : table_.rows)
    for (const MeasuredMember& m : r.members) names.push_back(m.model);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

const Trace& TablePredictor::TraceOf(const MeasuredMember& m, const std::string& dtype) const {
  const auto it = traces_.find(TraceKey(m, dtype));
  if (it == traces_.end()) {
    throw InputError(table_.file + ": " + m.Label() + " (" + dtype +
                     ") is not a member of any row of the table");
  }
  return it->second;
}

double TablePredictor::Group(const std::vector<MeasuredMember>& members, const std::string& dtype,
                             const TableCalibration& c) const {
  LoadedWorkload lw;
  lw.gpu = spec_;
  for (const std::string& n : TableContentionParameters())
    SetContention(&lw.gpu.model, n, GetContention(c.contention, n));
  lw.workload.gpu = spec_.key;
  lw.workload.file = table_.file;
  for (size_t i = 0; i < members.size(); ++i) {
    const MeasuredMember& m = members[i];
    Trace t = TraceOf(m, dtype);
    const auto s = c.models.find(m.model);
    if (s != c.models.end()) ScaleTrace(&t, s->second.host, s->second.GpuFactor(m.batch));
    TenantSpec ts;
    ts.name = m.model + "#" + std::to_string(i + 1);
    ts.requests = 1;
    lw.workload.tenants.push_back(ts);
    lw.traces.push_back(std::move(t));
    lw.by_batch.emplace_back();
  }
  SimOptions o;
  o.model = sim_model_;
  o.score_only = true;
  const SimResult r = Simulate(lw, Plan{}, o);
  return static_cast<double>(r.makespan_ns + c.harness_ns);
}

double TablePredictor::Row(size_t i, const TableCalibration& c) const {
  const MeasuredRow& r = table_.rows.at(i);
  return Group(r.members, r.dtype, c);
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& f) {
  const size_t t =
      std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), n));
  if (t <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::mutex mu;
  std::exception_ptr first;
  size_t next = 0;
  auto work = [&]() {
    while (true) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= n || first) return;
        i = next++;
      }
      try {
        f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) first = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t k = 1; k < t; ++k) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace cotenant::validation
