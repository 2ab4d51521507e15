#include "profiler/counters.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <unordered_map>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

constexpr const char* kSchema = "cotenant.counters/1";
constexpr size_t kMaxMismatchLines = 5;

double Percent(const JsonFields& f, const char* key) {
  if (!f.Has(key)) return -1.0;
  const double v = f.Number(key);
  if (!(v >= 0.0 && v <= 1000.0)) f.Expected(key, "a percentage in 0..1000");
  return v;
}

}  // namespace

std::string CountersToJsonText(const CounterSet& counters) {
  nlohmann::json kernels = nlohmann::json::array();
  for (const KernelCounters& k : counters.kernels) {
    nlohmann::json j = {{"index", k.index}, {"name", k.name}};
    if (k.dram_bytes >= 0) j["dram_bytes"] = k.dram_bytes;
    if (k.dram_pct >= 0) j["dram_pct"] = k.dram_pct;
    if (k.sm_pct >= 0) j["sm_pct"] = k.sm_pct;
    kernels.push_back(std::move(j));
  }
  nlohmann::json doc = {{"schema", kSchema}, {"meta", counters.meta}, {"kernels", kernels}};
  return JsonText(doc) + "\n";
}

void WriteCounters(const CounterSet& counters, const std::string& path) {
  WriteFileAtomic(path, CountersToJsonText(counters));
}

CounterSet ParseCounters(const std::string& text, const std::string& file) {
  const nlohmann::json j = ParseJsonText(text, file);
  CheckSchema(j, file, kSchema);
  const JsonFields top(j, file, "", {"schema", "meta", "kernels"});
  CounterSet out;
  if (top.Has("meta")) {
    if (!top.Get("meta").is_object()) top.Expected("meta", "an object");
    out.meta = top.Get("meta");
  }
  const nlohmann::json& kernels = top.Get("kernels");
  if (!kernels.is_array()) top.Expected("kernels", "an array");
  out.kernels.reserve(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    const JsonFields f(kernels[i], file, "kernels[" + std::to_string(i) + "]",
                       {"index", "name", "dram_bytes", "dram_pct", "sm_pct"});
    KernelCounters k;
    k.index = f.NonNegInt("index");
    if (k.index != static_cast<int64_t>(i)) {
      f.Fail("index", "expected " + std::to_string(i) + " (kernels in launch order), found " +
                          std::to_string(k.index));
    }
    k.name = f.String("name");
    k.dram_bytes = f.NonNegInt("dram_bytes", kAbsent);
    k.dram_pct = Percent(f, "dram_pct");
    k.sm_pct = Percent(f, "sm_pct");
    out.kernels.push_back(std::move(k));
  }
  return out;
}

CounterSet ReadCounters(const std::string& path) { return ParseCounters(ReadFileText(path), path); }

std::vector<size_t> KernelsInLaunchOrder(const Trace& trace) {
  std::unordered_map<int64_t, TimeNs> launch_start;
  for (const Task& t : trace.tasks) {
    if (t.kind == TaskKind::kLaunch && t.correlation != kAbsent) {
      launch_start.emplace(t.correlation, t.start_ns);
    }
  }
  struct Key {
    TimeNs when;
    int64_t correlation;
    int64_t id;
    size_t index;
  };
  std::vector<Key> keys;
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    if (t.kind != TaskKind::kKernel) continue;
    const auto l = t.correlation == kAbsent ? launch_start.end() : launch_start.find(t.correlation);
    keys.push_back({l == launch_start.end() ? t.start_ns : l->second, t.correlation, t.id, i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return std::tie(a.when, a.correlation, a.id) < std::tie(b.when, b.correlation, b.id);
  });
  std::vector<size_t> out;
  out.reserve(keys.size());
  for (const Key& k : keys) out.push_back(k.index);
  return out;
}

CounterMergeReport MergeCounters(const CounterSet& counters, Trace* trace, int64_t offset) {
  CounterMergeReport r;
  const std::vector<size_t> order = KernelsInLaunchOrder(*trace);
  const auto& ck = counters.kernels;
  r.trace_kernels = static_cast<int64_t>(order.size());
  r.counter_kernels = static_cast<int64_t>(ck.size());

  auto matches_at = [&](size_t o) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (trace->Name(trace->tasks[order[i]]) != ck[o + i].name) return false;
    }
    return true;
  };
  if (offset < 0) {
    offset = 0;
    if (ck.size() > order.size()) {
      for (size_t o = 0; o + order.size() <= ck.size(); ++o) {
        if (matches_at(o)) {
          offset = static_cast<int64_t>(o);
          break;
        }
      }
    }
  }
  r.offset = offset;

  for (size_t i = 0; i < order.size(); ++i) {
    Task& t = trace->tasks[order[i]];
    const size_t c = static_cast<size_t>(offset) + i;
    if (c >= ck.size()) {
      ++r.missing;
      continue;
    }
    const KernelCounters& k = ck[c];
    const std::string& name = trace->Name(t);
    if (name != k.name) {
      ++r.mismatched;
      if (r.problems.size() < kMaxMismatchLines) {
        r.problems.push_back("kernel " + std::to_string(i) + " (task " + std::to_string(t.id) +
                             ") is \"" + name + "\" but counter kernel " + std::to_string(c) +
                             " is \"" + k.name + "\"");
      }
      continue;
    }
    if (k.dram_bytes < 0 && k.dram_pct < 0) {
      ++r.missing;
      continue;
    }
    if (k.dram_bytes >= 0) t.dram_bytes = k.dram_bytes;
    if (k.dram_pct >= 0) t.mem_bound = std::clamp(k.dram_pct / 100.0, 0.0, 1.0);
    ++r.merged;
  }
  if (r.mismatched > static_cast<int64_t>(r.problems.size())) {
    r.problems.push_back(std::to_string(r.mismatched - static_cast<int64_t>(r.problems.size())) +
                         " more mismatched kernels");
  }
  if (r.trace_kernels != r.counter_kernels) {
    r.problems.insert(r.problems.begin(),
                      "the trace has " + std::to_string(r.trace_kernels) +
                          " kernels, the counter pass " + std::to_string(r.counter_kernels) +
                          "; counters start at counter kernel " + std::to_string(r.offset));
  }
  nlohmann::json m = {{"merged", r.merged},
                      {"mismatched", r.mismatched},
                      {"missing", r.missing},
                      {"offset", r.offset},
                      {"trace_kernels", r.trace_kernels},
                      {"counter_kernels", r.counter_kernels}};
  if (!r.problems.empty()) m["problems"] = r.problems;
  trace->meta["counters"] = std::move(m);
  return r;
}

}  // namespace cotenant::profiler
