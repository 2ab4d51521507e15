#include "sim/plan.h"

#include <limits>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

using nlohmann::json;

constexpr const char* kPlanSchema = "cotenant.plan/1";
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::vector<std::vector<std::string>> ReadGroups(const JsonFields& f) {
  const json& groups = f.Get("groups");
  const char* what = "an array of arrays of tenant names";
  if (!groups.is_array()) f.Expected("groups", what);
  std::vector<std::vector<std::string>> out;
  std::map<std::string, std::string> seen;  // tenant -> where it appeared first
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string gpath = IndexPath("groups", g);
    const json& group = groups[g];
    if (!group.is_array()) {
      FailAt(f.file(), gpath, "expected an array of tenant names, found " + DescribeJson(group));
    }
    if (group.empty()) FailAt(f.file(), gpath, "expected at least one tenant, found none");
    out.emplace_back();
    for (size_t t = 0; t < group.size(); ++t) {
      const std::string tpath = IndexPath(gpath, t);
      if (!group[t].is_string() || group[t].get_ref<const std::string&>().empty()) {
        FailAt(f.file(), tpath, "expected a tenant name, found " + DescribeJson(group[t]));
      }
      const std::string& name = group[t].get_ref<const std::string&>();
      const auto first = seen.emplace(name, tpath);
      if (!first.second) {
        FailAt(f.file(), tpath,
               "tenant \"" + name + "\" appears twice (also " + first.first->second + ")");
      }
      out.back().push_back(name);
    }
  }
  return out;
}

TenantPlan ReadTenantPlan(const json& j, const std::string& file, const std::string& path) {
  const JsonFields f(j, file, path,
                     {"priority", "sm_count", "batch_split", "offset_ns", "max_num_batched_tokens",
                      "chunked_prefill", "prefill_sm_count", "decode_sm_count", "prefill_priority",
                      "decode_priority"});
  TenantPlan t;
  t.priority = static_cast<int32_t>(f.IntIn("priority", kInt32Min, kInt32Max, 0));
  const auto partition = [&f](const char* key) {
    if (!f.Has(key) || f.Get(key).is_null()) return int32_t{-1};
    return static_cast<int32_t>(f.IntIn(key, 1, kInt32Max));
  };
  t.sm_count = partition("sm_count");
  t.batch_split = static_cast<int32_t>(f.IntIn("batch_split", 1, kInt32Max, 1));
  t.offset_ns = f.NonNegInt("offset_ns", 0);
  if (f.Has("max_num_batched_tokens"))
    t.max_num_batched_tokens = f.IntIn("max_num_batched_tokens", 1, kInt64Max);
  if (f.Has("chunked_prefill")) t.chunked_prefill = f.Bool("chunked_prefill", false) ? 1 : 0;
  t.prefill_sm_count = partition("prefill_sm_count");
  t.decode_sm_count = partition("decode_sm_count");
  if ((t.prefill_sm_count > 0) != (t.decode_sm_count > 0)) {
    const char* given = t.prefill_sm_count > 0 ? "prefill_sm_count" : "decode_sm_count";
    const char* missing = t.prefill_sm_count > 0 ? "decode_sm_count" : "prefill_sm_count";
    FailAt(file, path + "." + missing,
           std::string("expected an SM count beside ") + given +
               " (prefill and decode are multiplexed on two partitions), found none");
  }
  if (f.Has("prefill_priority"))
    t.prefill_priority =
        static_cast<int32_t>(f.IntIn("prefill_priority", kInt32Min + 1, kInt32Max));
  if (f.Has("decode_priority"))
    t.decode_priority = static_cast<int32_t>(f.IntIn("decode_priority", kInt32Min + 1, kInt32Max));
  return t;
}

/// True when `t` sets a knob only LLM tenants have.
bool HasLlmKnobs(const TenantPlan& t) {
  return t.max_num_batched_tokens > 0 || t.chunked_prefill >= 0 || t.prefill_sm_count > 0 ||
         t.decode_sm_count > 0 || t.prefill_priority != INT32_MIN || t.decode_priority != INT32_MIN;
}

}  // namespace

TenantPlan Plan::For(const std::string& tenant) const {
  const auto it = tenants.find(tenant);
  return it == tenants.end() ? TenantPlan{} : it->second;
}

Plan PlanFromJson(const json& j, const std::string& file) {
  CheckSchema(j, file, kPlanSchema);
  const JsonFields f(j, file, "", {"schema", "max_connections", "groups", "tenants", "stages"});
  Plan plan;
  plan.file = file;
  plan.max_connections =
      static_cast<int32_t>(f.IntIn("max_connections", 1, kMaxConnections, plan.max_connections));
  if (f.Has("groups")) plan.groups = ReadGroups(f);
  if (f.Has("tenants")) {
    const json& tenants = f.Get("tenants");
    if (!tenants.is_object()) f.Expected("tenants", "an object of tenant name: knobs");
    for (auto it = tenants.begin(); it != tenants.end(); ++it) {
      const std::string path = "tenants." + it.key();
      if (it.key().empty()) FailAt(file, path, "expected a tenant name as the key, found \"\"");
      plan.tenants[it.key()] = ReadTenantPlan(it.value(), file, path);
    }
  }
  if (f.Has("stages")) {
    const json& stages = f.Get("stages");
    if (!stages.is_object()) f.Expected("stages", "an object of tenant name: cut points");
    for (auto it = stages.begin(); it != stages.end(); ++it) {
      const std::string path = "stages." + it.key();
      if (it.key().empty()) FailAt(file, path, "expected a tenant name as the key, found \"\"");
      plan.stages[it.key()] = CutPointsFromJson(it.value(), file, path, 0);
    }
  }
  return plan;
}

std::vector<int64_t> CutPointsFromJson(const json& j, const std::string& file,
                                       const std::string& path, int64_t first) {
  if (!j.is_array()) {
    FailAt(file, path,
           "expected an array of increasing operator indices, found " + DescribeJson(j));
  }
  std::vector<int64_t> cuts;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::optional<int64_t> c = JsonToInt(j[i]);
    const int64_t lo = cuts.empty() ? first : cuts.back() + 1;
    if (!c || *c < lo) {
      const std::string what =
          cuts.empty() ? IntRangeName(first, kInt64Max)
                       : "an integer >= " + std::to_string(lo) + " (cut points must increase)";
      FailAt(file, IndexPath(path, i), "expected " + what + ", found " + DescribeJson(j[i]));
    }
    cuts.push_back(*c);
  }
  return cuts;
}

Plan ReadPlan(const std::string& path) { return PlanFromJson(ReadJsonFile(path), path); }

json PlanToJson(const Plan& plan) {
  json j = {{"schema", kPlanSchema}, {"max_connections", plan.max_connections}};
  if (!plan.groups.empty()) j["groups"] = plan.groups;
  if (!plan.tenants.empty()) {
    json tenants = json::object();
    for (const auto& [name, t] : plan.tenants) {
      json& jt = tenants[name];
      jt = {{"priority", t.priority},
            {"sm_count", t.sm_count < 0 ? json(nullptr) : json(t.sm_count)},
            {"batch_split", t.batch_split},
            {"offset_ns", t.offset_ns}};
      if (t.max_num_batched_tokens > 0) jt["max_num_batched_tokens"] = t.max_num_batched_tokens;
      if (t.chunked_prefill >= 0) jt["chunked_prefill"] = t.chunked_prefill == 1;
      if (t.Multiplexed()) {
        jt["prefill_sm_count"] = t.prefill_sm_count;
        jt["decode_sm_count"] = t.decode_sm_count;
      }
      if (t.prefill_priority != INT32_MIN) jt["prefill_priority"] = t.prefill_priority;
      if (t.decode_priority != INT32_MIN) jt["decode_priority"] = t.decode_priority;
    }
    j["tenants"] = std::move(tenants);
  }
  if (!plan.stages.empty()) j["stages"] = plan.stages;
  return j;
}

void CheckSmPartition(int64_t sm_count, const GpuSpec& spec, const std::string& file,
                      const std::string& path) {
  const std::string found = ", found " + std::to_string(sm_count);
  const int32_t g = spec.sm_partition_granularity;
  if (g == 0) FailAt(file, path, "expected null (" + spec.key + " has no SM partitioning)" + found);
  if (sm_count < spec.sm_partition_min) {
    FailAt(file, path,
           "expected at least " + std::to_string(spec.sm_partition_min) +
               " SMs (the smallest partition of " + spec.key + ")" + found);
  }
  if (sm_count % g != 0) {
    FailAt(file, path,
           "expected a multiple of " + std::to_string(g) + " SMs (the partition granularity of " +
               spec.key + ")" + found);
  }
  if (sm_count > spec.sm_count) {
    FailAt(file, path,
           "expected at most " + std::to_string(spec.sm_count) + " SMs (" + spec.key + " has " +
               std::to_string(spec.sm_count) + ")" + found);
  }
}

void CheckPlanAgainst(const Plan& plan, const Workload& workload, const GpuSpec& spec) {
  const std::string& file = plan.file;
  std::vector<std::string> names;
  for (const TenantSpec& t : workload.tenants) names.push_back(t.name);
  for (const LlmTenantSpec& t : workload.llm_tenants) names.push_back(t.name);
  const auto is_llm = [&](const std::string& name) {
    for (const LlmTenantSpec& t : workload.llm_tenants)
      if (t.name == name) return true;
    return false;
  };
  const auto known = [&](const std::string& path, const std::string& name) {
    if (workload.FindTenant(name) < 0 && !is_llm(name)) {
      FailAt(file, path, "unknown tenant \"" + name + "\"" + DidYouMean(name, names));
    }
  };

  if (plan.max_connections > spec.hw_queues) {
    FailAt(file, "max_connections",
           "expected at most " + std::to_string(spec.hw_queues) + " (the hardware queues of " +
               spec.key + "), found " + std::to_string(plan.max_connections));
  }
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    for (size_t t = 0; t < plan.groups[g].size(); ++t) {
      known(IndexPath(IndexPath("groups", g), t), plan.groups[g][t]);
    }
  }
  if (!plan.groups.empty()) {
    for (const std::string& name : names) {
      bool found = false;
      for (const auto& group : plan.groups) {
        for (const std::string& member : group) found = found || member == name;
      }
      if (!found) {
        FailAt(file, "groups",
               "tenant \"" + name + "\" is in no group (groups must hold every tenant once)");
      }
    }
  }
  int64_t partitioned = 0;
  for (const auto& [name, t] : plan.tenants) {
    const std::string path = "tenants." + name;
    known(path, name);
    if (t.batch_split > kMaxBatchSplit) {
      FailAt(file, path + ".batch_split",
             "expected " + IntRangeName(1, kMaxBatchSplit) + ", found " +
                 std::to_string(t.batch_split));
    }
    if (is_llm(name)) {
      // An LLM tenant is one serving loop (or two): no sub-batches, no start delay.
      if (t.batch_split != 1) {
        FailAt(file, path + ".batch_split",
               "expected 1 (an llm tenant's iterations are not split), found " +
                   std::to_string(t.batch_split));
      }
      if (t.offset_ns != 0) {
        FailAt(file, path + ".offset_ns",
               "expected 0 (an llm tenant's requests arrive when its arrival process says), "
               "found " +
                   std::to_string(t.offset_ns));
      }
      if (t.Multiplexed()) {
        if (t.sm_count > 0) {
          FailAt(file, path + ".sm_count",
                 "expected null beside prefill_sm_count and decode_sm_count (the two phases "
                 "have their own partitions), found " +
                     std::to_string(t.sm_count));
        }
        CheckSmPartition(t.prefill_sm_count, spec, file, path + ".prefill_sm_count");
        CheckSmPartition(t.decode_sm_count, spec, file, path + ".decode_sm_count");
        partitioned += t.prefill_sm_count + t.decode_sm_count;
      }
    } else if (HasLlmKnobs(t)) {
      const char* key = t.max_num_batched_tokens > 0      ? "max_num_batched_tokens"
                        : t.chunked_prefill >= 0          ? "chunked_prefill"
                        : t.prefill_sm_count > 0          ? "prefill_sm_count"
                        : t.decode_sm_count > 0           ? "decode_sm_count"
                        : t.prefill_priority != INT32_MIN ? "prefill_priority"
                                                          : "decode_priority";
      FailAt(file, path + "." + key,
             std::string("only llm tenants have this knob; \"") + name + "\" is a trace tenant");
    }
    if (t.sm_count < 0) continue;
    CheckSmPartition(t.sm_count, spec, file, path + ".sm_count");
    partitioned += t.sm_count;
  }
  if (partitioned > spec.sm_count) {
    FailAt(file, "tenants",
           "SM partitions add up to " + std::to_string(partitioned) + " SMs, more than the " +
               std::to_string(spec.sm_count) + " of " + spec.key);
  }
  for (const auto& [name, cuts] : plan.stages) {
    known("stages." + name, name);
    if (is_llm(name)) {
      FailAt(file, "stages." + name,
             "an llm tenant has no stages (its iterations follow its serving loop)");
    }
  }
  if (!workload.llm_tenants.empty() && plan.groups.size() > 1) {
    FailAt(file, "groups",
           "expected one group with llm tenants (an llm tenant serves its requests as they "
           "arrive; it cannot wait for a group before it), found " +
               std::to_string(plan.groups.size()));
  }
}

}  // namespace cotenant
