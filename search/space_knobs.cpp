#include "search/space_knobs.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <optional>

#include "search/trace_facts.h"
#include "sim/json_util.h"
#include "sim/plan.h"
#include "sim/trace_stats.h"

namespace cotenant::search {
namespace {

/// `file: path: message` for value `i` of a configured list (the path of a
/// single value is the field's own).
[[noreturn]] void FailValue(const ConfiguredValues& cv, size_t i, const std::string& msg) {
  FailAt(cv.file, cv.PathOf(i), msg);
}

/// Increasing and without repeats.
std::vector<int64_t> SortedUnique(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

/// Per tenant: the configured values of `field`, else `ranged(ti)` when
/// `knob` ranges over its default domain, else {native}.
KnobDomains PerTenant(const KnobInputs& in,
                      std::optional<ConfiguredValues> SpaceConfig::Tenant::*field, Knob knob,
                      int64_t native, const std::function<std::vector<int64_t>(int32_t)>& ranged) {
  KnobDomains out;
  for (int32_t ti = 0; ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    if (tc != nullptr && tc->*field) {
      out.push_back((tc->*field)->values);
    } else if (in.Ranged(knob)) {
      out.push_back(ranged(ti));
    } else {
      out.push_back({native});
    }
  }
  return out;
}

/// The operator boundaries nearest k/grid of the tenant's kernel time, k =
/// 1..grid-1, increasing and distinct.
std::vector<int64_t> GridPoints(const std::vector<TimeNs>& ops, int64_t grid) {
  std::vector<int64_t> points;
  if (ops.size() < 2) return points;
  TimeNs total = 0;
  for (TimeNs t : ops) total += t;
  for (int64_t k = 1; k < grid; ++k) {
    const double target = static_cast<double>(total) * k / grid;
    TimeNs sum = 0;
    int64_t cut = 1;
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      sum += ops[i];
      cut = static_cast<int64_t>(i) + 1;
      if (static_cast<double>(sum) >= target) break;
    }
    if (points.empty() || points.back() != cut) points.push_back(cut);
  }
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

/// Appends every increasing choice of 1..max_cuts of `points`, fewer cuts
/// first, stopping once past kMaxDomain options.
void AddCutChoices(const std::vector<int64_t>& points, int64_t max_cuts,
                   std::vector<std::vector<int64_t>>* options) {
  for (int64_t m = 1; m <= max_cuts && m <= static_cast<int64_t>(points.size()); ++m) {
    std::vector<int64_t> pick(static_cast<size_t>(m));
    std::iota(pick.begin(), pick.end(), 0);
    while (true) {
      std::vector<int64_t> cuts;
      for (int64_t p : pick) cuts.push_back(points[p]);
      options->push_back(cuts);
      int64_t i = m - 1;
      while (i >= 0 && pick[i] == static_cast<int64_t>(points.size()) - m + i) --i;
      if (i < 0) break;
      ++pick[i];
      for (int64_t k = i + 1; k < m; ++k) pick[k] = pick[k - 1] + 1;
    }
    if (options->size() > static_cast<size_t>(kMaxDomain)) break;
  }
}

/// Checks configured stage options against the tenant's operator count.
void CheckCuts(const ConfiguredCuts& cc, const std::string& tenant, int64_t ops) {
  for (size_t i = 0; i < cc.options.size(); ++i) {
    for (size_t k = 0; k < cc.options[i].size(); ++k) {
      const std::string at = IndexPath(IndexPath(cc.path, i), k);
      if (ops < 2) {
        FailAt(cc.file, at,
               "no cut point is possible: " + tenant + " has " + std::to_string(ops) + " operator" +
                   (ops == 1 ? "" : "s"));
      }
      if (cc.options[i][k] >= ops) {
        FailAt(cc.file, at,
               "expected a cut point in 1.." + std::to_string(ops - 1) + " (" + tenant + " has " +
                   std::to_string(ops) + " operators), found " + std::to_string(cc.options[i][k]));
      }
    }
  }
}

}  // namespace

KnobInputs::KnobInputs(const LoadedWorkload& lw, const SpaceConfig& config)
    : lw_(lw), config_(config), ranged_(kKnobCount, !config.knobs.has_value()) {
  for (const TenantSpec& t : lw.workload.tenants) names_.push_back(t.name);
  for (const LlmTenantSpec& t : lw.workload.llm_tenants) names_.push_back(t.name);
  for (const auto& [name, t] : config.tenants) {
    const int32_t ti = Find(name);
    const std::vector<const std::optional<ConfiguredValues>*> trace_only = {&t.batch_split,
                                                                            &t.offset_ns};
    const std::vector<const std::optional<ConfiguredValues>*> llm_only = {&t.max_num_batched_tokens,
                                                                          &t.chunked_prefill};
    if (ti >= 0 && IsLlm(ti)) {
      for (const auto* v : trace_only) {
        if (*v) {
          FailAt((*v)->file, (*v)->path,
                 "an llm tenant has no " + (*v)->path.substr((*v)->path.rfind('.') + 1) +
                     " knob (its iterations follow its serving loop)");
        }
      }
      if (t.stages) {
        FailAt(t.stages->file, t.stages->path,
               "an llm tenant has no stages (its iterations follow its serving loop)");
      }
      continue;
    }
    if (ti >= 0) {
      for (const auto* v : llm_only)
        if (*v)
          FailAt((*v)->file, (*v)->path,
                 "only llm tenants have this knob; \"" + name + "\" is a trace tenant");
      if (t.prefill_decode_sm) {
        FailAt(t.prefill_decode_sm->file, t.prefill_decode_sm->path,
               "only llm tenants have this knob; \"" + name + "\" is a trace tenant");
      }
      continue;
    }
    std::string file = config.file;
    for (const auto* v : {&t.priority, &t.sm_count, &t.batch_split, &t.offset_ns,
                          &t.max_num_batched_tokens, &t.chunked_prefill})
      if (*v) file = (*v)->file;
    if (t.stages) file = t.stages->file;
    if (t.prefill_decode_sm) file = t.prefill_decode_sm->file;
    FailAt(file, "tenants." + name, "unknown tenant \"" + name + "\"" + DidYouMean(name, names_));
  }
  if (config.knobs)
    for (Knob k : *config.knobs) ranged_[static_cast<size_t>(k)] = true;
}

int32_t KnobInputs::Find(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int32_t>(i);
  return -1;
}

const SpaceConfig::Tenant* KnobInputs::Configured(int32_t ti) const {
  const auto it = config_.tenants.find(names_[ti]);
  return it == config_.tenants.end() ? nullptr : &it->second;
}

const std::string& KnobInputs::Origin(const char* key) const {
  const auto it = config_.origins.find(key);
  return it == config_.origins.end() ? config_.file : it->second;
}

KnobDomains GroupDomains(const KnobInputs& in) {
  const SpaceConfig& config = in.config();
  const int32_t n = in.tenants();
  const bool llm = in.traces() < n;
  if (!config.groups) {
    const int64_t k =
        in.Ranged(Knob::kGroups) && !llm ? std::min<int64_t>(n, config.max_groups.value_or(n)) : 1;
    std::vector<int64_t> levels(static_cast<size_t>(k));
    std::iota(levels.begin(), levels.end(), 0);
    return KnobDomains(n, levels);
  }
  std::vector<int64_t> level(n, -1);
  for (size_t g = 0; g < config.groups->size(); ++g) {
    for (size_t k = 0; k < (*config.groups)[g].size(); ++k) {
      const std::string& name = (*config.groups)[g][k];
      const int ti = in.Find(name);
      if (ti < 0) {
        FailAt(config.groups_file, IndexPath(IndexPath(config.groups_path, g), k),
               "unknown tenant \"" + name + "\"" + DidYouMean(name, in.names()));
      }
      level[ti] = static_cast<int64_t>(g);
    }
  }
  if (llm && config.groups->size() > 1) {
    FailAt(config.groups_file, config.groups_path,
           "expected one group with llm tenants (an llm tenant serves its requests as they "
           "arrive; it cannot wait for a group before it), found " +
               std::to_string(config.groups->size()));
  }
  KnobDomains out;
  for (int32_t ti = 0; ti < n; ++ti) {
    if (level[ti] < 0) {
      FailAt(
          config.groups_file, config.groups_path,
          "tenant \"" + in.names()[ti] + "\" is in no group (groups must hold every tenant once)");
    }
    out.push_back({level[ti]});
  }
  return out;
}

KnobDomains PriorityDomains(const KnobInputs& in) {
  const int64_t levels =
      std::min<int64_t>(in.tenants(), in.config().priority_levels.value_or(kMaxPriorityLevels));
  KnobDomains out = PerTenant(in, &SpaceConfig::Tenant::priority, Knob::kPriority, 0, [&](int32_t) {
    std::vector<int64_t> values;
    for (int64_t p = 0; p < levels; ++p) values.push_back(-p);
    return values;
  });
  for (std::vector<int64_t>& values : out)
    std::sort(values.begin(), values.end(), std::greater<int64_t>());
  return out;
}

int64_t SmStep(const KnobInputs& in) {
  const GpuSpec& gpu = in.gpu();
  const int64_t g = gpu.sm_partition_granularity;
  if (!in.config().sm_step) return g;
  const int64_t step = *in.config().sm_step;
  if (g == 0) {
    FailAt(in.Origin("sm_step"), "sm_step",
           "expected no sm_step (" + gpu.key + " has no SM partitioning), found " +
               std::to_string(step));
  }
  if (step % g != 0) {
    FailAt(in.Origin("sm_step"), "sm_step",
           "expected a multiple of " + std::to_string(g) + " SMs (the partition granularity of " +
               gpu.key + "), found " + std::to_string(step));
  }
  return step;
}

KnobDomains SmDomains(const KnobInputs& in) {
  const GpuSpec& gpu = in.gpu();
  const int64_t step = SmStep(in);
  for (int32_t ti = 0; ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    if (tc == nullptr || !tc->sm_count) continue;
    const ConfiguredValues& cv = *tc->sm_count;
    for (size_t i = 0; i < cv.values.size(); ++i)
      if (cv.values[i] >= 0) CheckSmPartition(cv.values[i], gpu, cv.file, cv.PathOf(i));
  }
  KnobDomains out = PerTenant(in, &SpaceConfig::Tenant::sm_count, Knob::kSm, -1, [&](int32_t) {
    std::vector<int64_t> values = {-1};
    if (step == 0) return values;  // no partitioning
    const int64_t first = std::max<int64_t>(step, (gpu.sm_partition_min + step - 1) / step * step);
    for (int64_t v = first; v <= gpu.sm_count; v += step) values.push_back(v);
    return values;
  });
  for (std::vector<int64_t>& values : out) std::sort(values.begin(), values.end());
  return out;
}

KnobDomains SplitDomains(const KnobInputs& in) {
  const LoadedWorkload& lw = in.lw();
  KnobDomains out =
      PerTenant(in, &SpaceConfig::Tenant::batch_split, Knob::kSplit, 1, [&](int32_t ti) {
        std::vector<int64_t> values = {1};
        if (in.IsLlm(ti)) return values;
        const int64_t batch = TraceBatch(lw.traces[ti]);
        bool measured = false;
        if (batch > 0) {
          for (const auto& [b, trace] : lw.by_batch[ti]) {
            if (b < batch && batch % b == 0 && batch / b <= kMaxBatchSplit) {
              values.push_back(batch / b);
              measured = true;
            }
          }
        }
        if (!measured) {
          for (int64_t k : {2, 4}) {
            if (batch < 0 || (batch % k == 0 && k <= batch)) values.push_back(k);
          }
        }
        return values;
      });
  for (std::vector<int64_t>& values : out) values = SortedUnique(std::move(values));
  return out;
}

std::vector<std::vector<std::vector<int64_t>>> StageOptions(const KnobInputs& in) {
  const int64_t max_cuts = in.config().max_cuts.value_or(1);
  const int64_t grid = in.config().cut_grid.value_or(4);
  std::vector<std::vector<std::vector<int64_t>>> out(in.tenants());
  for (int32_t ti = 0; ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    std::vector<std::vector<int64_t>>& options = out[ti];
    if (tc != nullptr && tc->stages) {
      const std::vector<TimeNs> ops = OperatorTimes(in.lw().traces[ti], in.gpu());
      CheckCuts(*tc->stages, in.names()[ti], static_cast<int64_t>(ops.size()));
      options = tc->stages->options;
    } else {
      options.push_back({});
      if (in.Ranged(Knob::kStages) && max_cuts > 0 && !in.IsLlm(ti)) {
        const std::vector<TimeNs> ops = OperatorTimes(in.lw().traces[ti], in.gpu());
        AddCutChoices(GridPoints(ops, grid), max_cuts, &options);
      }
    }
  }
  return out;
}

KnobDomains OffsetDomains(const KnobInputs& in) {
  const std::vector<double> fractions =
      in.config().offset_fractions.value_or(std::vector<double>{0.25, 0.5});
  KnobDomains out =
      PerTenant(in, &SpaceConfig::Tenant::offset_ns, Knob::kOffset, 0, [&](int32_t ti) {
        std::vector<int64_t> values = {0};
        if (in.IsLlm(ti)) return values;
        const TimeNs span = RequestSpanNs(in.lw().traces[ti]);
        const double unit = span >= 1000000 ? 1000.0 : 1.0;  // whole µs from 1 ms up
        for (double f : fractions) {
          const int64_t v = static_cast<int64_t>(std::llround(f * span / unit) * unit);
          if (v > 0) values.push_back(v);
        }
        return values;
      });
  for (std::vector<int64_t>& values : out) values = SortedUnique(std::move(values));
  return out;
}

std::vector<int64_t> ConnectionDomain(const KnobInputs& in) {
  const GpuSpec& gpu = in.gpu();
  const int64_t hw = std::min<int64_t>(kMaxConnections, gpu.hw_queues);
  std::vector<int64_t> values;
  if (in.config().max_connections) {
    const ConfiguredValues& cv = *in.config().max_connections;
    for (size_t i = 0; i < cv.values.size(); ++i) {
      if (cv.values[i] > hw) {
        FailValue(cv, i,
                  "expected at most " + std::to_string(hw) + " (the hardware queues of " + gpu.key +
                      "), found " + std::to_string(cv.values[i]));
      }
    }
    values = cv.values;
  } else if (in.Ranged(Knob::kConnections)) {
    for (int64_t v = 1; v <= hw; v *= 2) values.push_back(v);
  } else {
    values = {std::min<int64_t>(8, hw)};
  }
  std::sort(values.begin(), values.end());
  return values;
}

KnobDomains BudgetDomains(const KnobInputs& in) {
  KnobDomains out;
  for (int32_t ti = in.traces(); ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    const int64_t native = in.Llm(ti).serving.max_num_batched_tokens;
    std::vector<int64_t> values = {native};
    if (tc != nullptr && tc->max_num_batched_tokens) {
      values = tc->max_num_batched_tokens->values;
    } else if (in.Ranged(Knob::kBudget)) {
      for (int64_t v : {2048, 512})
        if (v < native) values.push_back(v);
    }
    out.push_back(SortedUnique(std::move(values)));
  }
  return out;
}

KnobDomains ChunkedDomains(const KnobInputs& in) {
  KnobDomains out;
  for (int32_t ti = in.traces(); ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    if (tc != nullptr && tc->chunked_prefill) {
      out.push_back(SortedUnique(tc->chunked_prefill->values));
    } else {
      out.push_back({in.Llm(ti).serving.chunked_prefill ? 1 : 0});
    }
  }
  return out;
}

std::vector<std::vector<std::pair<int64_t, int64_t>>> PdOptions(const KnobInputs& in) {
  const GpuSpec& gpu = in.gpu();
  std::vector<std::vector<std::pair<int64_t, int64_t>>> out;
  for (int32_t ti = in.traces(); ti < in.tenants(); ++ti) {
    const SpaceConfig::Tenant* tc = in.Configured(ti);
    std::vector<std::pair<int64_t, int64_t>> options = {{-1, -1}};
    if (tc != nullptr && tc->prefill_decode_sm) {
      const ConfiguredPd& cp = *tc->prefill_decode_sm;
      options.clear();
      for (size_t i = 0; i < cp.options.size(); ++i) {
        const auto [p, d] = cp.options[i];
        if (p < 0) {
          options.push_back({-1, -1});
          continue;
        }
        const std::string at = IndexPath(cp.path, i);
        CheckSmPartition(p, gpu, cp.file, IndexPath(at, 0));
        CheckSmPartition(d, gpu, cp.file, IndexPath(at, 1));
        if (p + d > gpu.sm_count) {
          FailAt(cp.file, at,
                 "expected prefill and decode SMs adding up to at most " +
                     std::to_string(gpu.sm_count) + " (the SMs of " + gpu.key + "), found " +
                     std::to_string(p + d));
        }
        options.push_back({p, d});
      }
      // Off first (it is the native value), then the pairs in the order given.
      std::stable_partition(options.begin(), options.end(),
                            [](const std::pair<int64_t, int64_t>& o) { return o.first < 0; });
    } else if (in.Ranged(Knob::kPd) && gpu.sm_partition_granularity > 0) {
      const int64_t g = gpu.sm_partition_granularity;
      const int64_t smallest = std::max<int64_t>(g, (gpu.sm_partition_min + g - 1) / g * g);
      for (int64_t quarter : {1, 2, 3}) {
        int64_t p = std::llround(static_cast<double>(gpu.sm_count) * quarter / 4.0 / g) * g;
        p = std::max(p, smallest);
        const int64_t d = (gpu.sm_count - p) / g * g;
        if (d < smallest) continue;
        if (std::find(options.begin(), options.end(), std::make_pair(p, d)) == options.end())
          options.push_back({p, d});
      }
    }
    out.push_back(std::move(options));
  }
  return out;
}

int64_t MaxStreams(const LoadedWorkload& lw) {
  int64_t total = 2 * static_cast<int64_t>(lw.workload.llm_tenants.size());
  for (size_t ti = 0; ti < lw.workload.tenants.size(); ++ti) {
    int64_t streams = StreamCount(lw.traces[ti]);
    for (const auto& [b, trace] : lw.by_batch[ti]) streams = std::max(streams, StreamCount(trace));
    total += streams;
  }
  return total;
}

}  // namespace cotenant::search
