#include "search/space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "search/space_knobs.h"
#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::search {
namespace {

using nlohmann::json;

/// Stirling numbers of the second kind S(m, k) and the number of weak
/// orderings of m items into at most L ranks: sum_k k! S(m, k).
uint64_t WeakOrders(int64_t m, int64_t levels) {
  if (m <= 0) return 1;
  std::vector<std::vector<uint64_t>> s(m + 1, std::vector<uint64_t>(m + 1, 0));
  s[0][0] = 1;
  for (int64_t i = 1; i <= m; ++i) {
    for (int64_t k = 1; k <= i; ++k)
      s[i][k] =
          SaturatingAdd(SaturatingMul(static_cast<uint64_t>(k), s[i - 1][k]), s[i - 1][k - 1]);
  }
  uint64_t total = 0, fact = 1;
  for (int64_t k = 1; k <= std::min(m, levels); ++k) {
    fact = SaturatingMul(fact, static_cast<uint64_t>(k));
    total = SaturatingAdd(total, SaturatingMul(fact, s[m][k]));
  }
  return total;
}

uint64_t Binomial(int64_t n, int64_t k) {
  uint64_t r = 1;
  for (int64_t i = 1; i <= k; ++i) {
    // r * (n - k + i) / i stays exact: r is C(n-k+i-1, i-1).
    const uint64_t num = static_cast<uint64_t>(n - k + i);
    if (r > std::numeric_limits<uint64_t>::max() / num) return std::numeric_limits<uint64_t>::max();
    r = r * num / static_cast<uint64_t>(i);
  }
  return r;
}

std::string ValueText(Knob knob, int64_t v) {
  if (knob == Knob::kSm && v < 0) return "null";
  return std::to_string(v);
}

/// "off" or "64+64" (prefill + decode SMs).
std::string PdText(const std::pair<int64_t, int64_t>& pd) {
  if (pd.first < 0) return "off";
  return std::to_string(pd.first) + "+" + std::to_string(pd.second);
}

std::string CutsText(const std::vector<int64_t>& cuts) {
  std::string s = "[";
  for (size_t i = 0; i < cuts.size(); ++i) s += (i ? ", " : "") + std::to_string(cuts[i]);
  return s + "]";
}

/// "null, 8, 16, ..., 128" (long lists shortened).
std::string DomainText(Knob knob, const std::vector<int64_t>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values.size() > 8 && i == 3) {
      s += ", ...";
      i = values.size() - 2;
      continue;
    }
    s += (i ? ", " : "") + ValueText(knob, values[i]);
  }
  return s;
}

/// The plan field a per-tenant knob sets.
const char* TenantField(Knob k) {
  switch (k) {
    case Knob::kPriority:
      return "priority";
    case Knob::kSm:
      return "sm_count";
    case Knob::kSplit:
      return "batch_split";
    case Knob::kOffset:
      return "offset_ns";
    case Knob::kBudget:
      return "max_num_batched_tokens";
    case Knob::kChunked:
      return "chunked_prefill";
    case Knob::kPd:
      return "prefill_decode_sm";
    default:
      return "";
  }
}

}  // namespace

uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a)
    return std::numeric_limits<uint64_t>::max();
  return a * b;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

// ---------------------------------------------------------------------------
// The space

void PlanSpace::AddDim(Knob knob, int32_t tenant, std::vector<int64_t> values) {
  COTENANT_CHECK(!values.empty());
  dim_of_[static_cast<size_t>(knob) * tenants_ + (tenant < 0 ? 0 : tenant)] =
      static_cast<int32_t>(dims_.size());
  dims_.push_back(Dimension{knob, tenant, std::move(values)});
}

void PlanSpace::AddDims(Knob knob, KnobDomains domains) {
  COTENANT_CHECK(static_cast<int32_t>(domains.size()) == tenants_);
  for (int32_t ti = 0; ti < tenants_; ++ti) AddDim(knob, ti, std::move(domains[ti]));
}

int32_t PlanSpace::Dim(Knob knob, int32_t tenant) const {
  return dim_of_[static_cast<size_t>(knob) * tenants_ + (tenant < 0 ? 0 : tenant)];
}

PlanSpace::PlanSpace(const LoadedWorkload& lw, const SpaceConfig& config) : lw_(lw) {
  const KnobInputs in(lw, config);
  tenants_ = in.tenants();
  traces_ = in.traces();
  names_ = in.names();
  dim_of_.assign(static_cast<size_t>(kKnobCount) * tenants_, -1);

  AddDims(Knob::kGroups, GroupDomains(in));
  canonical_groups_ = !config.groups;
  AddDims(Knob::kPriority, PriorityDomains(in));
  canonical_priorities_ = true;
  for (int32_t ti = 1; ti < tenants_; ++ti) {
    canonical_priorities_ = canonical_priorities_ && dims_[Dim(Knob::kPriority, ti)].values ==
                                                         dims_[Dim(Knob::kPriority, 0)].values;
  }
  AddDims(Knob::kSm, SmDomains(in));
  AddDims(Knob::kSplit, SplitDomains(in));
  cut_options_ = StageOptions(in);
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    std::vector<int64_t> idx(cut_options_[ti].size());
    std::iota(idx.begin(), idx.end(), 0);
    AddDim(Knob::kStages, ti, idx);
  }
  AddDims(Knob::kOffset, OffsetDomains(in));
  AddDim(Knob::kConnections, -1, ConnectionDomain(in));
  // The llm knobs, tenant by tenant.
  {
    KnobDomains budget = BudgetDomains(in), chunked = ChunkedDomains(in);
    pd_options_ = PdOptions(in);
    for (int32_t ti = traces_; ti < tenants_; ++ti) {
      const size_t j = static_cast<size_t>(ti - traces_);
      AddDim(Knob::kBudget, ti, std::move(budget[j]));
      AddDim(Knob::kChunked, ti, std::move(chunked[j]));
      std::vector<int64_t> idx(pd_options_[j].size());
      std::iota(idx.begin(), idx.end(), 0);
      AddDim(Knob::kPd, ti, idx);
    }
  }
  max_streams_ = MaxStreams(lw);

  // The representative of the max_connections values at or above the
  // stream count: the default 8 when it is one of them, else the smallest.
  {
    const std::vector<int64_t>& v = dims_[Dim(Knob::kConnections, -1)].values;
    const auto eight = std::find(v.begin(), v.end(), 8);
    connections_alike_ =
        eight != v.end() && 8 >= max_streams_
            ? static_cast<int32_t>(eight - v.begin())
            : static_cast<int32_t>(std::lower_bound(v.begin(), v.end(), max_streams_) - v.begin());
  }

  raw_size_ = 1;
  for (size_t d = 0; d < dims_.size(); ++d) {
    raw_size_ = SaturatingMul(raw_size_, dims_[d].values.size());
    if (dims_[d].values.size() > 1) ranged_.push_back(static_cast<int32_t>(d));
  }
  size_ = CountCanonical();
}

std::pair<int64_t, int64_t> PlanSpace::Pd(const Candidate& c, int32_t tenant) const {
  if (tenant < traces_) return {-1, -1};
  const int32_t d = Dim(Knob::kPd, tenant);
  return pd_options_[static_cast<size_t>(tenant - traces_)][dims_[d].values[c[d]]];
}

bool PlanSpace::Feasible(const Candidate& c) const {
  // Green contexts are disjoint: the partitions must fit in the GPU (tenants
  // that share may use any SM, idle partitioned ones included).
  int64_t partitioned = 0;
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const int32_t d = Dim(Knob::kSm, ti);
    const int64_t sm = dims_[d].values[c[d]];
    partitioned += std::max<int64_t>(0, sm);
    const auto [prefill, decode] = Pd(c, ti);
    if (prefill > 0) {
      if (sm >= 0) return false;  // the two phases have their own partitions
      partitioned += prefill + decode;
    }
  }
  return partitioned <= lw_.gpu.sm_count;
}

Candidate PlanSpace::Canonical(const Candidate& in) const {
  Candidate c = in;
  const int32_t n = tenants_;
  // Group levels: dense, in order.
  std::vector<int64_t> level(n);
  for (int32_t ti = 0; ti < n; ++ti) {
    const int32_t d = Dim(Knob::kGroups, ti);
    level[ti] = dims_[d].values[c[d]];
  }
  if (canonical_groups_) {
    std::vector<int64_t> used(level);
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (int32_t ti = 0; ti < n; ++ti) {
      const int32_t rank = static_cast<int32_t>(
          std::lower_bound(used.begin(), used.end(), level[ti]) - used.begin());
      c[Dim(Knob::kGroups, ti)] = rank;  // values are 0..k-1: index = level
      level[ti] = rank;
    }
  }
  // Priorities: dense within each group.
  if (canonical_priorities_) {
    std::vector<int32_t> members, used;
    std::vector<bool> done(n, false);
    for (int32_t ti = 0; ti < n; ++ti) {
      if (done[ti]) continue;
      members.clear();
      used.clear();
      for (int32_t tj = ti; tj < n; ++tj) {
        if (level[tj] != level[ti]) continue;
        members.push_back(tj);
        done[tj] = true;
        used.push_back(c[Dim(Knob::kPriority, tj)]);
      }
      std::sort(used.begin(), used.end());
      used.erase(std::unique(used.begin(), used.end()), used.end());
      for (int32_t tj : members) {
        int32_t& p = c[Dim(Knob::kPriority, tj)];
        p = static_cast<int32_t>(std::lower_bound(used.begin(), used.end(), p) - used.begin());
      }
    }
  }
  // max_connections at or above the stream count are all alike.
  {
    const int32_t d = Dim(Knob::kConnections, -1);
    if (dims_[d].values[c[d]] >= max_streams_) c[d] = connections_alike_;
  }
  return c;
}

std::optional<Plan> PlanSpace::ToPlan(const Candidate& c) const {
  COTENANT_CHECK(c.size() == dims_.size());
  if (!Feasible(c)) return std::nullopt;
  Plan plan;
  plan.max_connections = static_cast<int32_t>(
      dims_[Dim(Knob::kConnections, -1)].values[c[Dim(Knob::kConnections, -1)]]);
  std::map<int64_t, std::vector<std::string>> groups;
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const auto value = [&](Knob k) {
      const int32_t d = Dim(k, ti);
      return dims_[d].values[c[d]];
    };
    const std::string& name = names_[ti];
    groups[value(Knob::kGroups)].push_back(name);
    TenantPlan tp;
    tp.priority = static_cast<int32_t>(value(Knob::kPriority));
    tp.sm_count = static_cast<int32_t>(value(Knob::kSm));
    tp.batch_split = static_cast<int32_t>(value(Knob::kSplit));
    tp.offset_ns = value(Knob::kOffset);
    bool llm_set = false;
    if (IsLlm(ti)) {
      // Only values other than the workload's are written.
      const LlmServingSpec& serving = lw_.workload.llm_tenants[ti - traces_].serving;
      if (value(Knob::kBudget) != serving.max_num_batched_tokens)
        tp.max_num_batched_tokens = value(Knob::kBudget);
      if (value(Knob::kChunked) != (serving.chunked_prefill ? 1 : 0))
        tp.chunked_prefill = static_cast<int8_t>(value(Knob::kChunked));
      const auto [prefill, decode] = Pd(c, ti);
      tp.prefill_sm_count = static_cast<int32_t>(prefill);
      tp.decode_sm_count = static_cast<int32_t>(decode);
      llm_set = tp.max_num_batched_tokens > 0 || tp.chunked_prefill >= 0 || prefill > 0;
    }
    if (tp.priority != 0 || tp.sm_count >= 0 || tp.batch_split != 1 || tp.offset_ns != 0 || llm_set)
      plan.tenants[name] = tp;
    const std::vector<int64_t>& cuts = cut_options_[ti][value(Knob::kStages)];
    if (!cuts.empty()) plan.stages[name] = cuts;
  }
  if (groups.size() > 1)
    for (auto& [level, members] : groups) plan.groups.push_back(std::move(members));
  return plan;
}

Candidate PlanSpace::FromPlan(const Plan& plan) const {
  CheckPlanAgainst(plan, lw_.workload, lw_.gpu);
  const std::string file = plan.file.empty() ? std::string("plan") : plan.file;
  Candidate c(dims_.size(), 0);
  const auto outside = [&](const std::string& path, Knob k, const std::vector<int64_t>& domain,
                           const std::string& found) {
    FailAt(
        file, path,
        "outside the search space: expected one of " + DomainText(k, domain) + ", found " + found);
  };
  // Groups: the plan's group index per tenant.
  std::vector<int64_t> level(tenants_, 0);
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    for (const std::string& name : plan.groups[g]) {
      const auto it = std::find(names_.begin(), names_.end(), name);
      level[it - names_.begin()] = static_cast<int64_t>(g);
    }
  }
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const std::vector<int64_t>& v = dims_[Dim(Knob::kGroups, ti)].values;
    const auto it = std::find(v.begin(), v.end(), level[ti]);
    if (it == v.end()) {
      if (canonical_groups_) {
        FailAt(file, "groups",
               "outside the search space: expected at most " + std::to_string(v.size()) + " group" +
                   (v.size() == 1 ? "" : "s") + ", found " + std::to_string(plan.groups.size()));
      }
      FailAt(file, "groups",
             "outside the search space: the space fixes the groups, and " + names_[ti] +
                 " is in group " + std::to_string(level[ti]) + " instead of " +
                 std::to_string(v[0]));
    }
    c[Dim(Knob::kGroups, ti)] = static_cast<int32_t>(it - v.begin());
  }
  // Per-tenant knobs.
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const std::string& name = names_[ti];
    const TenantPlan tp = plan.For(name);
    const std::string path = "tenants." + name + ".";
    for (Knob k : {Knob::kPriority, Knob::kSm, Knob::kSplit, Knob::kOffset}) {
      const int64_t x = k == Knob::kPriority ? tp.priority
                        : k == Knob::kSm     ? tp.sm_count
                        : k == Knob::kSplit  ? tp.batch_split
                                             : tp.offset_ns;
      const int32_t d = Dim(k, ti);
      const std::vector<int64_t>& v = dims_[d].values;
      const auto it = std::find(v.begin(), v.end(), x);
      if (it != v.end()) {
        c[d] = static_cast<int32_t>(it - v.begin());
      } else if (k == Knob::kPriority && canonical_priorities_) {
        c[d] = -1;  // only the order within the group matters: ranked below
      } else {
        outside(path + TenantField(k), k, v, ValueText(k, x));
      }
    }
    const auto sit = plan.stages.find(name);
    const std::vector<int64_t> cuts =
        sit == plan.stages.end() ? std::vector<int64_t>{} : sit->second;
    const auto& options = cut_options_[ti];
    const auto it = std::find(options.begin(), options.end(), cuts);
    if (it == options.end()) {
      std::string domain;
      for (size_t i = 0; i < options.size() && i < 6; ++i)
        domain += (i ? ", " : "") + CutsText(options[i]);
      if (options.size() > 6) domain += ", ...";
      FailAt(file, "stages." + name,
             "outside the search space: expected one of " + domain + ", found " + CutsText(cuts));
    }
    c[Dim(Knob::kStages, ti)] = static_cast<int32_t>(it - options.begin());
    if (!IsLlm(ti)) continue;
    // The llm knobs (-1 = the workload's value).
    const LlmServingSpec& serving = lw_.workload.llm_tenants[ti - traces_].serving;
    for (Knob k : {Knob::kBudget, Knob::kChunked}) {
      const int64_t x =
          k == Knob::kBudget
              ? (tp.max_num_batched_tokens > 0 ? tp.max_num_batched_tokens
                                               : serving.max_num_batched_tokens)
              : (tp.chunked_prefill >= 0 ? tp.chunked_prefill : serving.chunked_prefill);
      const int32_t d = Dim(k, ti);
      const std::vector<int64_t>& v = dims_[d].values;
      const auto vit = std::find(v.begin(), v.end(), x);
      if (vit == v.end()) outside(path + TenantField(k), k, v, std::to_string(x));
      c[d] = static_cast<int32_t>(vit - v.begin());
    }
    const std::pair<int64_t, int64_t> pd =
        tp.Multiplexed() ? std::pair<int64_t, int64_t>{tp.prefill_sm_count, tp.decode_sm_count}
                         : std::pair<int64_t, int64_t>{-1, -1};
    const auto& pds = pd_options_[static_cast<size_t>(ti - traces_)];
    const auto pit = std::find(pds.begin(), pds.end(), pd);
    if (pit == pds.end()) {
      std::string domain;
      for (size_t i = 0; i < pds.size(); ++i) domain += (i ? ", " : "") + PdText(pds[i]);
      FailAt(file, path + "prefill_sm_count",
             "outside the search space: expected prefill+decode SMs of " + domain + ", found " +
                 PdText(pd));
    }
    c[Dim(Knob::kPd, ti)] = static_cast<int32_t>(pit - pds.begin());
  }
  // Priorities outside the domain: rank them within their group.
  if (canonical_priorities_) {
    const std::vector<int64_t>& domain = dims_[Dim(Knob::kPriority, 0)].values;
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      std::vector<int64_t> values;  // distinct priorities of the group, lowest first
      for (int32_t tj = 0; tj < tenants_; ++tj)
        if (level[tj] == level[ti]) values.push_back(plan.For(names_[tj]).priority);
      std::sort(values.begin(), values.end(), std::greater<int64_t>());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      if (values.size() > domain.size()) {
        FailAt(file, "tenants." + names_[ti] + ".priority",
               "outside the search space: expected at most " + std::to_string(domain.size()) +
                   " distinct priorities among tenants that run together, found " +
                   std::to_string(values.size()));
      }
      const int64_t p = plan.For(names_[ti]).priority;
      c[Dim(Knob::kPriority, ti)] =
          static_cast<int32_t>(std::find(values.begin(), values.end(), p) - values.begin());
    }
  }
  // max_connections (values at or above the stream count are alike).
  {
    const int32_t d = Dim(Knob::kConnections, -1);
    const std::vector<int64_t>& v = dims_[d].values;
    const auto it = std::find(v.begin(), v.end(), plan.max_connections);
    if (it != v.end()) {
      c[d] = static_cast<int32_t>(it - v.begin());
    } else if (plan.max_connections >= max_streams_ && v.back() >= max_streams_) {
      c[d] = connections_alike_;
    } else {
      outside("max_connections", Knob::kConnections, v, std::to_string(plan.max_connections));
    }
  }
  return Canonical(c);
}

std::optional<Candidate> PlanSpace::Native() const {
  try {
    return FromPlan(Plan{});
  } catch (const InputError&) {
    return std::nullopt;
  }
}

uint64_t PlanSpace::CountCanonical() const {
  const int32_t n = tenants_;
  // Groups and priorities together.
  uint64_t gp = 0;
  const int64_t levels = static_cast<int64_t>(dims_[Dim(Knob::kPriority, 0)].values.size());
  const auto weight = [&](int64_t m, const std::vector<int32_t>& members) {
    if (canonical_priorities_) return WeakOrders(m, levels);
    uint64_t w = 1;
    for (int32_t ti : members) w = SaturatingMul(w, dims_[Dim(Knob::kPriority, ti)].values.size());
    return w;
  };
  if (canonical_groups_) {
    const int64_t k = static_cast<int64_t>(dims_[Dim(Knob::kGroups, 0)].values.size());
    if (canonical_priorities_) {
      // Ordered partitions of n tenants into at most k blocks, each weighted
      // by its weak orderings: f[b][r] = ways to place r tenants in b blocks.
      std::vector<uint64_t> f(n + 1, 0);
      f[0] = 1;
      for (int64_t b = 1; b <= k; ++b) {
        std::vector<uint64_t> next(n + 1, 0);
        for (int64_t r = 1; r <= n; ++r) {
          for (int64_t m = 1; m <= r; ++m) {
            next[r] = SaturatingAdd(
                next[r],
                SaturatingMul(SaturatingMul(Binomial(r, m), WeakOrders(m, levels)), f[r - m]));
          }
        }
        gp = SaturatingAdd(gp, next[n]);
        f = next;
      }
    } else {
      // Ordered partitions into at most k blocks, times every priority choice.
      std::vector<uint64_t> f(n + 1, 0);
      f[0] = 1;
      for (int64_t b = 1; b <= k; ++b) {
        std::vector<uint64_t> next(n + 1, 0);
        for (int64_t r = 1; r <= n; ++r)
          for (int64_t m = 1; m <= r; ++m)
            next[r] = SaturatingAdd(next[r], SaturatingMul(Binomial(r, m), f[r - m]));
        gp = SaturatingAdd(gp, next[n]);
        f = next;
      }
      for (int32_t ti = 0; ti < n; ++ti)
        gp = SaturatingMul(gp, dims_[Dim(Knob::kPriority, ti)].values.size());
    }
    if (n == 0) gp = 1;
  } else {
    // Fixed groups.
    std::map<int64_t, std::vector<int32_t>> groups;
    for (int32_t ti = 0; ti < n; ++ti)
      groups[dims_[Dim(Knob::kGroups, ti)].values[0]].push_back(ti);
    gp = 1;
    for (const auto& [level, members] : groups)
      gp = SaturatingMul(gp, weight(static_cast<int64_t>(members.size()), members));
  }
  // SM partitions (with llm tenants' prefill/decode partitions): combinations
  // that fit in the GPU, by SMs partitioned.
  const int64_t sms = lw_.gpu.sm_count;
  std::vector<uint64_t> ways(sms + 1, 0);
  ways[0] = 1;
  for (int32_t ti = 0; ti < n; ++ti) {
    std::vector<uint64_t> next(sms + 1, 0);
    const std::vector<std::pair<int64_t, int64_t>> off = {{-1, -1}};
    const auto& pds = IsLlm(ti) ? pd_options_[static_cast<size_t>(ti - traces_)] : off;
    for (int64_t v : dims_[Dim(Knob::kSm, ti)].values) {
      for (const auto& [prefill, decode] : pds) {
        if (prefill > 0 && v >= 0) continue;  // infeasible: both
        const int64_t add = std::max<int64_t>(0, v) + (prefill > 0 ? prefill + decode : 0);
        for (int64_t s = 0; s + add <= sms; ++s)
          next[s + add] = SaturatingAdd(next[s + add], ways[s]);
      }
    }
    ways = next;
  }
  uint64_t sm = 0;
  for (int64_t s = 0; s <= sms; ++s) sm = SaturatingAdd(sm, ways[s]);
  uint64_t total = SaturatingMul(gp, sm);
  for (const Dimension& d : dims_) {
    if (d.knob == Knob::kSplit || d.knob == Knob::kStages || d.knob == Knob::kOffset ||
        d.knob == Knob::kBudget || d.knob == Knob::kChunked)
      total = SaturatingMul(total, d.values.size());
  }
  // max_connections: values below the stream count, plus one for the rest.
  const std::vector<int64_t>& mc = dims_[Dim(Knob::kConnections, -1)].values;
  uint64_t distinct = 0;
  bool high = false;
  for (int64_t v : mc) {
    if (v < max_streams_) {
      ++distinct;
    } else {
      high = true;
    }
  }
  return SaturatingMul(total, distinct + (high ? 1 : 0));
}

json PlanSpace::ToJson() const {
  json j = {{"schema", kSpaceSchema}};
  json knobs = json::array();
  const bool groups_ranged = canonical_groups_ && dims_[Dim(Knob::kGroups, 0)].values.size() > 1;
  if (groups_ranged) knobs.push_back("groups");
  j["knobs"] = knobs;
  if (canonical_groups_) {
    j["max_groups"] = dims_[Dim(Knob::kGroups, 0)].values.size();
  } else {
    std::map<int64_t, std::vector<std::string>> groups;
    for (int32_t ti = 0; ti < tenants_; ++ti)
      groups[dims_[Dim(Knob::kGroups, ti)].values[0]].push_back(names_[ti]);
    json g = json::array();
    for (const auto& [level, members] : groups) g.push_back(members);
    j["groups"] = g;
  }
  json tenants = json::object();
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    json t = json::object();
    const std::vector<Knob> knobs =
        IsLlm(ti) ? std::vector<Knob>{Knob::kPriority, Knob::kSm, Knob::kBudget, Knob::kChunked}
                  : std::vector<Knob>{Knob::kPriority, Knob::kSm, Knob::kSplit, Knob::kOffset};
    for (Knob k : knobs) {
      json values = json::array();
      for (int64_t v : dims_[Dim(k, ti)].values)
        values.push_back(k == Knob::kSm && v < 0 ? json(nullptr) : json(v));
      t[TenantField(k)] = values;
    }
    if (IsLlm(ti)) {
      json pds = json::array();
      for (const auto& [prefill, decode] : pd_options_[static_cast<size_t>(ti - traces_)])
        pds.push_back(prefill < 0 ? json(nullptr) : json::array({prefill, decode}));
      t["prefill_decode_sm"] = pds;
    } else {
      t["stages"] = cut_options_[ti];
    }
    tenants[names_[ti]] = t;
  }
  j["tenants"] = tenants;
  j["max_connections"] = dims_[Dim(Knob::kConnections, -1)].values;
  return j;
}

std::vector<std::string> PlanSpace::Describe() const {
  std::vector<std::string> lines;
  for (const Dimension& d : dims_) {
    if (d.values.size() <= 1) continue;
    std::string line;
    if (d.knob == Knob::kConnections) {
      line = "max_connections: " + DomainText(d.knob, d.values);
    } else {
      const std::string& name = names_[d.tenant];
      if (d.knob == Knob::kPd) {
        line = name + ".prefill_decode_sm: ";
        const auto& pds = pd_options_[static_cast<size_t>(d.tenant - traces_)];
        for (size_t i = 0; i < pds.size(); ++i) line += (i ? ", " : "") + PdText(pds[i]);
      } else if (d.knob == Knob::kGroups) {
        line = name + ".group: levels 0.." + std::to_string(d.values.size() - 1);
      } else if (d.knob == Knob::kStages) {
        line = name + ".stages: ";
        const auto& options = cut_options_[d.tenant];
        for (size_t i = 0; i < options.size() && i < 6; ++i)
          line += (i ? ", " : "") + CutsText(options[i]);
        if (options.size() > 6) line += ", ...";
      } else {
        line = name + "." + TenantField(d.knob) + ": " + DomainText(d.knob, d.values);
      }
    }
    lines.push_back(line + " (" + std::to_string(d.values.size()) + ")");
  }
  return lines;
}

}  // namespace cotenant::search
