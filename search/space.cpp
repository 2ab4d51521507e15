#include "search/space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/template.h"

namespace cotenant::search {
namespace {

using nlohmann::json;

constexpr const char* kSpaceSchema = "cotenant.searchspace/1";
constexpr int64_t kMaxPriorityLevels = 6;  ///< CUDA stream priorities on Volta and later: 0..-5
constexpr int64_t kMaxDomain = 4096;       ///< values one knob may range over
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

const char* const kKnobNames[kKnobCount] = {"groups", "priority", "sm",         "split",
                                            "stages", "offset",   "connections"};

/// The per-tenant keys of a searchspace file.
const char* const kTenantKeys[] = {"priority", "sm_count", "batch_split", "offset_ns", "stages"};

/// A list of integers (null = -1 where `allow_null`), a single integer, or a
/// range {"min", "max", "step"}, each in [lo, hi].
ConfiguredValues ReadValues(const json& j, const std::string& file, const std::string& path,
                            int64_t lo, int64_t hi, bool allow_null, int64_t default_step) {
  ConfiguredValues out;
  out.file = file;
  out.path = path;
  const std::string what = IntRangeName(lo, hi) + (allow_null ? " or null" : "");
  auto one = [&](const json& v, const std::string& at) {
    if (allow_null && v.is_null()) return int64_t{-1};
    const std::optional<int64_t> x = JsonToInt(v);
    if (!x || *x < lo || *x > hi)
      FailAt(file, at, "expected " + what + ", found " + DescribeJson(v));
    return *x;
  };
  if (j.is_array()) {
    if (j.empty()) FailAt(file, path, "expected at least one value, found an empty array");
    for (size_t i = 0; i < j.size(); ++i) out.values.push_back(one(j[i], IndexPath(path, i)));
  } else if (j.is_object()) {
    const JsonFields f(j, file, path, {"min", "max", "step"});
    const int64_t mn = f.IntIn("min", lo, hi);
    const int64_t mx = f.IntIn("max", lo, hi);
    const int64_t step = f.IntIn("step", 1, kInt64Max, default_step);
    if (mx < mn) f.Expected("max", "an integer >= min (" + std::to_string(mn) + ")");
    if ((mx - mn) / step + 1 > kMaxDomain) {
      FailAt(file, path,
             "expected at most " + std::to_string(kMaxDomain) + " values, found a range of " +
                 std::to_string((mx - mn) / step + 1));
    }
    for (int64_t v = mn; v <= mx; v += step) out.values.push_back(v);
  } else {
    out.values.push_back(one(j, path));
  }
  std::set<int64_t> seen;
  for (size_t i = 0; i < out.values.size(); ++i) {
    if (!seen.insert(out.values[i]).second) {
      FailAt(file, j.is_array() ? IndexPath(path, i) : path,
             "value " +
                 (out.values[i] == -1 && allow_null ? std::string("null")
                                                    : std::to_string(out.values[i])) +
                 " appears twice");
    }
  }
  return out;
}

ConfiguredCuts ReadCutOptions(const json& j, const std::string& file, const std::string& path) {
  ConfiguredCuts out;
  out.file = file;
  out.path = path;
  if (!j.is_array() || j.empty()) {
    FailAt(file, path,
           "expected a non-empty array of cut-point lists (e.g. [[], [12], [12, 40]]), found " +
               DescribeJson(j));
  }
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = IndexPath(path, i);
    if (!j[i].is_array()) {
      FailAt(file, at,
             "expected an array of increasing operator indices, found " + DescribeJson(j[i]));
    }
    std::vector<int64_t> cuts;
    for (size_t k = 0; k < j[i].size(); ++k) {
      const std::optional<int64_t> c = JsonToInt(j[i][k]);
      const int64_t lo = cuts.empty() ? 1 : cuts.back() + 1;
      if (!c || *c < lo) {
        FailAt(file, IndexPath(at, k),
               "expected " +
                   (cuts.empty()
                        ? IntRangeName(1, kInt64Max)
                        : "an integer >= " + std::to_string(lo) + " (cut points must increase)") +
                   ", found " + DescribeJson(j[i][k]));
      }
      cuts.push_back(*c);
    }
    if (std::find(out.options.begin(), out.options.end(), cuts) != out.options.end())
      FailAt(file, at, "this cut-point list appears twice");
    out.options.push_back(std::move(cuts));
  }
  return out;
}

std::vector<Knob> ReadKnobs(const json& j, const std::string& file, const std::string& path) {
  if (!j.is_array())
    FailAt(file, path, "expected an array of knob names, found " + DescribeJson(j));
  std::vector<Knob> knobs;
  const std::vector<std::string> names = KnobNames();
  for (size_t i = 0; i < j.size(); ++i) {
    const int k = IndexOf(j[i], names);
    if (k < 0) FailAt(file, IndexPath(path, i), ExpectedOneOf(j[i], names));
    if (std::find(knobs.begin(), knobs.end(), static_cast<Knob>(k)) != knobs.end())
      FailAt(file, IndexPath(path, i), "knob \"" + names[k] + "\" appears twice");
    knobs.push_back(static_cast<Knob>(k));
  }
  return knobs;
}

std::vector<std::vector<std::string>> ReadGroups(const json& j, const std::string& file,
                                                 const std::string& path) {
  if (!j.is_array() || j.empty()) {
    FailAt(file, path, "expected an array of arrays of tenant names, found " + DescribeJson(j));
  }
  std::vector<std::vector<std::string>> out;
  std::map<std::string, std::string> seen;
  for (size_t g = 0; g < j.size(); ++g) {
    const std::string gpath = IndexPath(path, g);
    if (!j[g].is_array() || j[g].empty())
      FailAt(file, gpath,
             "expected a non-empty array of tenant names, found " + DescribeJson(j[g]));
    out.emplace_back();
    for (size_t t = 0; t < j[g].size(); ++t) {
      const std::string tpath = IndexPath(gpath, t);
      if (!j[g][t].is_string() || j[g][t].get_ref<const std::string&>().empty())
        FailAt(file, tpath, "expected a tenant name, found " + DescribeJson(j[g][t]));
      const std::string& name = j[g][t].get_ref<const std::string&>();
      const auto first = seen.emplace(name, tpath);
      if (!first.second) {
        FailAt(file, tpath,
               "tenant \"" + name + "\" appears twice (also " + first.first->second + ")");
      }
      out.back().push_back(name);
    }
  }
  return out;
}

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

/// Distinct stream ids of a trace.
int64_t StreamCount(const Trace& t) {
  std::set<int64_t> ids;
  for (const Task& task : t.tasks)
    if (task.stream != kAbsent) ids.insert(task.stream);
  return static_cast<int64_t>(ids.size());
}

/// Isolated span of one request: last end - first start, ns.
TimeNs Span(const Trace& t) {
  if (t.tasks.empty()) return 0;
  TimeNs lo = kNever, hi = 0;
  for (const Task& task : t.tasks) {
    lo = std::min(lo, task.start_ns);
    hi = std::max(hi, task.end_ns());
  }
  return hi - lo;
}

/// The batch of a trace from meta.batch, or -1.
int64_t TraceBatch(const Trace& t) {
  if (t.meta.is_object() && t.meta.contains("batch") && t.meta["batch"].is_number_integer())
    return t.meta["batch"].get<int64_t>();
  return -1;
}

std::string ValueText(Knob knob, int64_t v) {
  if (knob == Knob::kSm && v < 0) return "null";
  return std::to_string(v);
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

const char* KnobName(Knob k) { return kKnobNames[static_cast<int>(k)]; }

std::vector<std::string> KnobNames() { return {std::begin(kKnobNames), std::end(kKnobNames)}; }

// ---------------------------------------------------------------------------
// Configuration

void SpaceConfig::MergeFrom(const SpaceConfig& later) {
  if (later.knobs) knobs = later.knobs;
  if (later.sm_step) sm_step = later.sm_step;
  if (later.priority_levels) priority_levels = later.priority_levels;
  if (later.max_groups) max_groups = later.max_groups;
  if (later.max_cuts) max_cuts = later.max_cuts;
  if (later.cut_grid) cut_grid = later.cut_grid;
  if (later.offset_fractions) offset_fractions = later.offset_fractions;
  if (later.groups) {
    groups = later.groups;
    groups_file = later.groups_file;
    groups_path = later.groups_path;
  }
  if (later.max_connections) max_connections = later.max_connections;
  for (const auto& [name, t] : later.tenants) {
    Tenant& mine = tenants[name];
    if (t.priority) mine.priority = t.priority;
    if (t.sm_count) mine.sm_count = t.sm_count;
    if (t.batch_split) mine.batch_split = t.batch_split;
    if (t.offset_ns) mine.offset_ns = t.offset_ns;
    if (t.stages) mine.stages = t.stages;
  }
  for (const auto& [key, file] : later.origins) origins[key] = file;
}

SpaceConfig SpaceConfigFromJson(const json& j, const std::string& file) {
  CheckSchema(j, file, kSpaceSchema);
  const JsonFields f(j, file, "",
                     {"schema", "knobs", "sm_step", "priority_levels", "max_groups", "max_cuts",
                      "cut_grid", "offset_fractions", "groups", "max_connections", "tenants"});
  SpaceConfig c;
  c.file = file;
  for (auto it = j.begin(); it != j.end(); ++it) c.origins[it.key()] = file;
  if (f.Has("knobs")) c.knobs = ReadKnobs(f.Get("knobs"), file, "knobs");
  if (f.Has("sm_step")) c.sm_step = f.IntIn("sm_step", 1, kInt32Max);
  if (f.Has("priority_levels"))
    c.priority_levels = f.IntIn("priority_levels", 1, kMaxPriorityLevels);
  if (f.Has("max_groups")) c.max_groups = f.IntIn("max_groups", 1, kInt32Max);
  if (f.Has("max_cuts")) c.max_cuts = f.IntIn("max_cuts", 0, 8);
  if (f.Has("cut_grid")) c.cut_grid = f.IntIn("cut_grid", 2, 64);
  if (f.Has("offset_fractions")) {
    const json& a = f.Get("offset_fractions");
    if (!a.is_array()) f.Expected("offset_fractions", "an array of numbers in (0, 4]");
    std::vector<double> fr;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number() || a[i].get<double>() <= 0.0 || a[i].get<double>() > 4.0) {
        FailAt(file, IndexPath("offset_fractions", i),
               "expected a number in (0, 4], found " + DescribeJson(a[i]));
      }
      fr.push_back(a[i].get<double>());
    }
    c.offset_fractions = fr;
  }
  if (f.Has("groups")) {
    c.groups = ReadGroups(f.Get("groups"), file, "groups");
    c.groups_file = file;
    c.groups_path = "groups";
  }
  if (f.Has("max_connections")) {
    c.max_connections =
        ReadValues(f.Get("max_connections"), file, "max_connections", 1, kMaxConnections, false, 1);
  }
  if (f.Has("tenants")) {
    const json& tenants = f.Get("tenants");
    if (!tenants.is_object()) f.Expected("tenants", "an object of tenant name: knob domains");
    for (auto it = tenants.begin(); it != tenants.end(); ++it) {
      const std::string path = "tenants." + it.key();
      if (it.key().empty()) FailAt(file, path, "expected a tenant name as the key, found \"\"");
      const JsonFields tf(
          it.value(), file, path,
          {kTenantKeys[0], kTenantKeys[1], kTenantKeys[2], kTenantKeys[3], kTenantKeys[4]});
      SpaceConfig::Tenant t;
      if (tf.Has("priority"))
        t.priority = ReadValues(tf.Get("priority"), file, tf.PathOf("priority"), kInt32Min,
                                kInt32Max, false, 1);
      if (tf.Has("sm_count"))
        t.sm_count =
            ReadValues(tf.Get("sm_count"), file, tf.PathOf("sm_count"), 1, kInt32Max, true, 8);
      if (tf.Has("batch_split"))
        t.batch_split = ReadValues(tf.Get("batch_split"), file, tf.PathOf("batch_split"), 1,
                                   kMaxBatchSplit, false, 1);
      if (tf.Has("offset_ns"))
        t.offset_ns =
            ReadValues(tf.Get("offset_ns"), file, tf.PathOf("offset_ns"), 0, kInt64Max, false, 1);
      if (tf.Has("stages")) t.stages = ReadCutOptions(tf.Get("stages"), file, tf.PathOf("stages"));
      c.tenants[it.key()] = std::move(t);
    }
  }
  return c;
}

SpaceConfig ReadSpaceConfig(const std::string& path) {
  return SpaceConfigFromJson(ReadJsonFile(path), path);
}

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

/// A command-line integer ("-3", "128"), or nullopt.
std::optional<int64_t> ParseInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
  if (s.size() - i > 18) return std::nullopt;
  return std::stoll(s);
}

}  // namespace

SpaceConfig SpaceConfigFromSetting(const std::string& setting) {
  const std::string where = "--set " + setting;
  const size_t eq = setting.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == setting.size())
    throw InputError(where + ": expected KEY=VALUES (e.g. bert.sm_count=null,64,96)");
  const std::string key = setting.substr(0, eq);
  const std::string text = setting.substr(eq + 1);
  const auto fail = [&](const std::string& msg) { throw InputError(where + ": " + msg); };
  // VALUES: v | v1,v2,... | lo:hi[:step], integers (and null) -> JSON.
  const auto ints = [&](bool allow_null) {
    const std::vector<std::string> parts = Split(text, ',');
    if (parts.size() == 1 && text.find(':') != std::string::npos) {
      const std::vector<std::string> r = Split(text, ':');
      json range = json::object();
      const char* names[] = {"min", "max", "step"};
      if (r.size() > 3) fail("expected lo:hi or lo:hi:step, found \"" + text + "\"");
      for (size_t i = 0; i < r.size(); ++i) {
        const std::optional<int64_t> v = ParseInt(r[i]);
        if (!v) fail("expected an integer in lo:hi[:step], found \"" + r[i] + "\"");
        range[names[i]] = *v;
      }
      if (r.size() < 2) fail("expected lo:hi or lo:hi:step, found \"" + text + "\"");
      return range;
    }
    json list = json::array();
    for (const std::string& p : parts) {
      if (allow_null && p == "null") {
        list.push_back(nullptr);
        continue;
      }
      const std::optional<int64_t> v = ParseInt(p);
      if (!v) {
        fail(std::string("expected an integer") + (allow_null ? ", null" : "") +
             " or lo:hi[:step], found \"" + p + "\"");
      }
      list.push_back(*v);
    }
    return list.size() == 1 ? list[0] : list;
  };
  json doc = {{"schema", kSpaceSchema}};
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos) {
    if (key == "groups") {
      json groups = json::array();
      for (const std::string& g : Split(text, ',')) groups.push_back(Split(g, '+'));
      doc["groups"] = groups;
    } else if (key == "knobs") {
      json knobs = json::array();
      if (text != "none")
        for (const std::string& k : Split(text, ',')) knobs.push_back(k);
      doc["knobs"] = knobs;
    } else if (key == "offset_fractions") {
      json fr = json::array();
      for (const std::string& p : Split(text, ',')) {
        char* end = nullptr;
        const double v = std::strtod(p.c_str(), &end);
        if (p.empty() || end != p.c_str() + p.size())
          fail("expected a number, found \"" + p + "\"");
        fr.push_back(v);
      }
      doc["offset_fractions"] = fr;
    } else if (key == "max_connections") {
      doc[key] = ints(false);
    } else if (key == "sm_step" || key == "priority_levels" || key == "max_groups" ||
               key == "max_cuts" || key == "cut_grid") {
      const std::optional<int64_t> v = ParseInt(text);
      if (!v) fail("expected an integer, found \"" + text + "\"");
      doc[key] = *v;
    } else {
      const std::vector<std::string> keys = {"groups",          "knobs",    "offset_fractions",
                                             "max_connections", "sm_step",  "priority_levels",
                                             "max_groups",      "max_cuts", "cut_grid"};
      fail("unknown key \"" + key + "\"" + DidYouMean(key, keys) +
           " (per-tenant knobs are TENANT.priority, .sm_count, .batch_split, .offset_ns, "
           ".stages)");
    }
  } else {
    const std::string tenant = key.substr(0, dot);
    const std::string knob = key.substr(dot + 1);
    json value;
    if (knob == "stages") {
      value = json::array();
      for (const std::string& option : Split(text, ',')) {
        json cuts = json::array();
        if (option != "none" && option != "[]") {
          for (const std::string& c : Split(option, '/')) {
            const std::optional<int64_t> v = ParseInt(c);
            if (!v) fail("expected cut points like 12/40 or none, found \"" + option + "\"");
            cuts.push_back(*v);
          }
        }
        value.push_back(cuts);
      }
    } else if (knob == "priority" || knob == "sm_count" || knob == "batch_split" ||
               knob == "offset_ns") {
      value = ints(knob == "sm_count");
    } else {
      const std::vector<std::string> knobs(std::begin(kTenantKeys), std::end(kTenantKeys));
      fail("unknown tenant knob \"" + knob + "\"" + DidYouMean(knob, knobs) + " (expected one of " +
           QuotedList(knobs) + ")");
    }
    doc["tenants"] = {{tenant, {{knob, value}}}};
  }
  return SpaceConfigFromJson(doc, where);
}

SpaceConfig SpaceConfigFromKnobList(const std::string& list) {
  SpaceConfig c;
  c.file = "--knobs";
  c.origins["knobs"] = "--knobs";
  std::vector<Knob> knobs;
  if (list == "all") {
    for (int k = 0; k < kKnobCount; ++k) knobs.push_back(static_cast<Knob>(k));
  } else if (!list.empty() && list != "none") {
    const std::vector<std::string> names = KnobNames();
    for (const std::string& name : Split(list, ',')) {
      const int k = IndexOf(json(name), names);
      if (k < 0) throw InputError("--knobs: " + ExpectedOneOf(json(name), names));
      if (std::find(knobs.begin(), knobs.end(), static_cast<Knob>(k)) == knobs.end())
        knobs.push_back(static_cast<Knob>(k));
    }
  }
  c.knobs = knobs;
  return c;
}

// ---------------------------------------------------------------------------
// Operators

std::vector<TimeNs> OperatorTimes(const Trace& trace, const GpuSpec& spec) {
  // The operator numbering of BuildTemplate: kernels in issue order (their
  // launch's start, else their own; ties by template order), a new operator
  // at each change of label (unlabelled kernels are one operator each).
  const TenantTemplate t = BuildTemplate(trace, spec, {}, "", "");
  std::vector<TimeNs> issue(t.nodes.size(), -1);
  for (const TemplateEdge& e : t.edges) {
    if (e.kind == EdgeKind::kLaunch) issue[e.to] = trace.tasks[t.nodes[e.from].task].start_ns;
  }
  std::vector<int32_t> kernels;
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (issue[v] < 0) issue[v] = trace.tasks[t.nodes[v].task].start_ns;
    if (t.nodes[v].kind == NodeKind::kKernel) kernels.push_back(v);
  }
  std::sort(kernels.begin(), kernels.end(), [&](int32_t a, int32_t b) {
    return issue[a] != issue[b] ? issue[a] < issue[b] : a < b;
  });
  std::vector<TimeNs> ops;
  int32_t prev = -2;
  for (int32_t v : kernels) {
    const int32_t label = trace.tasks[t.nodes[v].task].op;
    if (label < 0 || label != prev) ops.push_back(0);
    prev = label;
    ops.back() += t.nodes[v].dur_ns;
  }
  COTENANT_CHECK(static_cast<int32_t>(ops.size()) == t.operators);
  return ops;
}

// ---------------------------------------------------------------------------
// The space

void PlanSpace::AddDim(Knob knob, int32_t tenant, std::vector<int64_t> values) {
  COTENANT_CHECK(!values.empty());
  dim_of_[static_cast<size_t>(knob) * tenants_ + (tenant < 0 ? 0 : tenant)] =
      static_cast<int32_t>(dims_.size());
  dims_.push_back(Dimension{knob, tenant, std::move(values)});
}

int32_t PlanSpace::Dim(Knob knob, int32_t tenant) const {
  return dim_of_[static_cast<size_t>(knob) * tenants_ + (tenant < 0 ? 0 : tenant)];
}

PlanSpace::PlanSpace(const LoadedWorkload& lw, const SpaceConfig& config) : lw_(lw) {
  const Workload& w = lw.workload;
  const GpuSpec& gpu = lw.gpu;
  tenants_ = static_cast<int32_t>(w.tenants.size());
  const int32_t n = tenants_;
  dim_of_.assign(static_cast<size_t>(kKnobCount) * n, -1);
  std::vector<std::string> names;
  for (const TenantSpec& t : w.tenants) names.push_back(t.name);
  const auto origin = [&](const char* key) {
    const auto it = config.origins.find(key);
    return it == config.origins.end() ? config.file : it->second;
  };
  for (const auto& [name, t] : config.tenants) {
    if (w.FindTenant(name) < 0) {
      std::string file = config.file;
      for (const auto* v : {&t.priority, &t.sm_count, &t.batch_split, &t.offset_ns})
        if (*v) file = (*v)->file;
      if (t.stages) file = t.stages->file;
      FailAt(file, "tenants." + name, "unknown tenant \"" + name + "\"" + DidYouMean(name, names));
    }
  }
  std::vector<bool> ranged(kKnobCount, !config.knobs.has_value());
  if (config.knobs)
    for (Knob k : *config.knobs) ranged[static_cast<int>(k)] = true;
  const auto tenant_config = [&](int32_t ti) -> const SpaceConfig::Tenant* {
    const auto it = config.tenants.find(names[ti]);
    return it == config.tenants.end() ? nullptr : &it->second;
  };
  const auto fail_value = [](const ConfiguredValues& cv, size_t i, const std::string& msg) {
    FailAt(cv.file, cv.values.size() > 1 ? IndexPath(cv.path, i) : cv.path, msg);
  };

  // Groups: a level per tenant; groups run in level order.
  if (config.groups) {
    std::vector<int64_t> level(n, -1);
    for (size_t g = 0; g < config.groups->size(); ++g) {
      for (size_t k = 0; k < (*config.groups)[g].size(); ++k) {
        const std::string& name = (*config.groups)[g][k];
        const int ti = w.FindTenant(name);
        if (ti < 0) {
          FailAt(config.groups_file, IndexPath(IndexPath(config.groups_path, g), k),
                 "unknown tenant \"" + name + "\"" + DidYouMean(name, names));
        }
        level[ti] = static_cast<int64_t>(g);
      }
    }
    for (int32_t ti = 0; ti < n; ++ti) {
      if (level[ti] < 0) {
        FailAt(config.groups_file, config.groups_path,
               "tenant \"" + names[ti] + "\" is in no group (groups must hold every tenant once)");
      }
      AddDim(Knob::kGroups, ti, {level[ti]});
    }
  } else {
    const int64_t k = ranged[static_cast<int>(Knob::kGroups)]
                          ? std::min<int64_t>(n, config.max_groups.value_or(n))
                          : 1;
    std::vector<int64_t> levels(static_cast<size_t>(k));
    std::iota(levels.begin(), levels.end(), 0);
    for (int32_t ti = 0; ti < n; ++ti) AddDim(Knob::kGroups, ti, levels);
    canonical_groups_ = true;
  }

  // Priorities, lowest priority first (0, -1, -2, ...).
  for (int32_t ti = 0; ti < n; ++ti) {
    const SpaceConfig::Tenant* tc = tenant_config(ti);
    std::vector<int64_t> values;
    if (tc != nullptr && tc->priority) {
      values = tc->priority->values;
    } else if (ranged[static_cast<int>(Knob::kPriority)] && n > 1) {
      const int64_t levels =
          std::min<int64_t>(n, config.priority_levels.value_or(kMaxPriorityLevels));
      for (int64_t p = 0; p < levels; ++p) values.push_back(-p);
    } else {
      values = {0};
    }
    std::sort(values.begin(), values.end(), std::greater<int64_t>());
    AddDim(Knob::kPriority, ti, values);
  }
  canonical_priorities_ = true;
  for (int32_t ti = 1; ti < n; ++ti) {
    canonical_priorities_ = canonical_priorities_ && dims_[Dim(Knob::kPriority, ti)].values ==
                                                         dims_[Dim(Knob::kPriority, 0)].values;
  }

  // SM partitions: -1 (share) first, then increasing counts.
  const int64_t g = gpu.sm_partition_granularity;
  int64_t step = g;
  if (config.sm_step) {
    step = *config.sm_step;
    if (g == 0 || step % g != 0) {
      FailAt(origin("sm_step"), "sm_step",
             g == 0 ? "expected no sm_step (" + gpu.key + " has no SM partitioning), found " +
                          std::to_string(step)
                    : "expected a multiple of " + std::to_string(g) +
                          " SMs (the partition granularity of " + gpu.key + "), found " +
                          std::to_string(step));
    }
  }
  for (int32_t ti = 0; ti < n; ++ti) {
    const SpaceConfig::Tenant* tc = tenant_config(ti);
    std::vector<int64_t> values;
    if (tc != nullptr && tc->sm_count) {
      const ConfiguredValues& cv = *tc->sm_count;
      for (size_t i = 0; i < cv.values.size(); ++i) {
        if (cv.values[i] < 0) continue;
        CheckSmPartition(cv.values[i], gpu, cv.file,
                         cv.values.size() > 1 ? IndexPath(cv.path, i) : cv.path);
      }
      values = cv.values;
    } else if (ranged[static_cast<int>(Knob::kSm)] && g > 0) {
      values.push_back(-1);
      const int64_t first =
          std::max<int64_t>(step, (gpu.sm_partition_min + step - 1) / step * step);
      for (int64_t v = first; v <= gpu.sm_count; v += step) values.push_back(v);
    } else {
      values = {-1};
    }
    std::sort(values.begin(), values.end());
    AddDim(Knob::kSm, ti, values);
  }

  // Batch splits: the measured sub-batches (traces_by_batch), else what-if splits.
  for (int32_t ti = 0; ti < n; ++ti) {
    const SpaceConfig::Tenant* tc = tenant_config(ti);
    std::vector<int64_t> values;
    if (tc != nullptr && tc->batch_split) {
      values = tc->batch_split->values;
    } else if (ranged[static_cast<int>(Knob::kSplit)]) {
      values = {1};
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
    } else {
      values = {1};
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    AddDim(Knob::kSplit, ti, values);
  }

  // Stage cut points: an index into the tenant's cut options.
  cut_options_.resize(n);
  const int64_t max_cuts = config.max_cuts.value_or(1);
  const int64_t grid = config.cut_grid.value_or(4);
  for (int32_t ti = 0; ti < n; ++ti) {
    const SpaceConfig::Tenant* tc = tenant_config(ti);
    std::vector<std::vector<int64_t>>& options = cut_options_[ti];
    if (tc != nullptr && tc->stages) {
      const int64_t ops = static_cast<int64_t>(OperatorTimes(lw.traces[ti], gpu).size());
      const ConfiguredCuts& cc = *tc->stages;
      for (size_t i = 0; i < cc.options.size(); ++i) {
        for (size_t k = 0; k < cc.options[i].size(); ++k) {
          if (ops < 2) {
            FailAt(cc.file, IndexPath(IndexPath(cc.path, i), k),
                   "no cut point is possible: " + names[ti] + " has " + std::to_string(ops) +
                       " operator" + (ops == 1 ? "" : "s"));
          }
          if (cc.options[i][k] >= ops) {
            FailAt(cc.file, IndexPath(IndexPath(cc.path, i), k),
                   "expected a cut point in 1.." + std::to_string(ops - 1) + " (" + names[ti] +
                       " has " + std::to_string(ops) + " operators), found " +
                       std::to_string(cc.options[i][k]));
          }
        }
      }
      options = cc.options;
    } else {
      options.push_back({});
      if (ranged[static_cast<int>(Knob::kStages)] && max_cuts > 0) {
        // Grid points: the operator boundary nearest k/grid of the kernel time.
        const std::vector<TimeNs> ops = OperatorTimes(lw.traces[ti], gpu);
        std::vector<int64_t> points;
        if (ops.size() >= 2) {
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
        }
        // Every increasing choice of 1..max_cuts grid points, fewer cuts first.
        for (int64_t m = 1; m <= max_cuts && m <= static_cast<int64_t>(points.size()); ++m) {
          std::vector<int64_t> pick(static_cast<size_t>(m));
          std::iota(pick.begin(), pick.end(), 0);
          while (true) {
            std::vector<int64_t> cuts;
            for (int64_t p : pick) cuts.push_back(points[p]);
            options.push_back(cuts);
            int64_t i = m - 1;
            while (i >= 0 && pick[i] == static_cast<int64_t>(points.size()) - m + i) --i;
            if (i < 0) break;
            ++pick[i];
            for (int64_t k = i + 1; k < m; ++k) pick[k] = pick[k - 1] + 1;
          }
          if (options.size() > static_cast<size_t>(kMaxDomain)) break;
        }
      }
    }
    std::vector<int64_t> idx(options.size());
    std::iota(idx.begin(), idx.end(), 0);
    AddDim(Knob::kStages, ti, idx);
  }

  // Start offsets: 0 and fractions of the tenant's isolated request time (µs).
  for (int32_t ti = 0; ti < n; ++ti) {
    const SpaceConfig::Tenant* tc = tenant_config(ti);
    std::vector<int64_t> values;
    if (tc != nullptr && tc->offset_ns) {
      values = tc->offset_ns->values;
    } else if (ranged[static_cast<int>(Knob::kOffset)]) {
      values = {0};
      const TimeNs span = Span(lw.traces[ti]);
      const double unit = span >= 1000000 ? 1000.0 : 1.0;  // whole µs from 1 ms up
      for (double f : config.offset_fractions.value_or(std::vector<double>{0.25, 0.5})) {
        const int64_t v = static_cast<int64_t>(std::llround(f * span / unit) * unit);
        if (v > 0) values.push_back(v);
      }
    } else {
      values = {0};
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    AddDim(Knob::kOffset, ti, values);
  }

  // max_connections.
  {
    std::vector<int64_t> values;
    const int64_t hw = std::min<int64_t>(kMaxConnections, gpu.hw_queues);
    if (config.max_connections) {
      const ConfiguredValues& cv = *config.max_connections;
      for (size_t i = 0; i < cv.values.size(); ++i) {
        if (cv.values[i] > hw) {
          fail_value(cv, i,
                     "expected at most " + std::to_string(hw) + " (the hardware queues of " +
                         gpu.key + "), found " + std::to_string(cv.values[i]));
        }
      }
      values = cv.values;
    } else if (ranged[static_cast<int>(Knob::kConnections)]) {
      for (int64_t v = 1; v <= hw; v *= 2) values.push_back(v);
    } else {
      values = {std::min<int64_t>(8, hw)};
    }
    std::sort(values.begin(), values.end());
    AddDim(Knob::kConnections, -1, values);
  }
  for (int32_t ti = 0; ti < n; ++ti) {
    int64_t streams = StreamCount(lw.traces[ti]);
    for (const auto& [b, trace] : lw.by_batch[ti]) streams = std::max(streams, StreamCount(trace));
    max_streams_ += streams;
  }

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

bool PlanSpace::Feasible(const Candidate& c) const {
  // Green contexts are disjoint: the partitions must fit in the GPU (tenants
  // that share may use any SM, idle partitioned ones included).
  int64_t partitioned = 0;
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const int32_t d = Dim(Knob::kSm, ti);
    partitioned += std::max<int64_t>(0, dims_[d].values[c[d]]);
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
  const Workload& w = lw_.workload;
  Plan plan;
  plan.max_connections = static_cast<int32_t>(
      dims_[Dim(Knob::kConnections, -1)].values[c[Dim(Knob::kConnections, -1)]]);
  std::map<int64_t, std::vector<std::string>> groups;
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const auto value = [&](Knob k) {
      const int32_t d = Dim(k, ti);
      return dims_[d].values[c[d]];
    };
    const std::string& name = w.tenants[ti].name;
    groups[value(Knob::kGroups)].push_back(name);
    TenantPlan tp;
    tp.priority = static_cast<int32_t>(value(Knob::kPriority));
    tp.sm_count = static_cast<int32_t>(value(Knob::kSm));
    tp.batch_split = static_cast<int32_t>(value(Knob::kSplit));
    tp.offset_ns = value(Knob::kOffset);
    if (tp.priority != 0 || tp.sm_count >= 0 || tp.batch_split != 1 || tp.offset_ns != 0)
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
  const Workload& w = lw_.workload;
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
  for (size_t g = 0; g < plan.groups.size(); ++g)
    for (const std::string& name : plan.groups[g])
      level[w.FindTenant(name)] = static_cast<int64_t>(g);
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
             "outside the search space: the space fixes the groups, and " + w.tenants[ti].name +
                 " is in group " + std::to_string(level[ti]) + " instead of " +
                 std::to_string(v[0]));
    }
    c[Dim(Knob::kGroups, ti)] = static_cast<int32_t>(it - v.begin());
  }
  // Per-tenant knobs.
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    const std::string& name = w.tenants[ti].name;
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
  }
  // Priorities outside the domain: rank them within their group.
  if (canonical_priorities_) {
    const std::vector<int64_t>& domain = dims_[Dim(Knob::kPriority, 0)].values;
    for (int32_t ti = 0; ti < tenants_; ++ti) {
      std::vector<int64_t> values;  // distinct priorities of the group, lowest first
      for (int32_t tj = 0; tj < tenants_; ++tj)
        if (level[tj] == level[ti]) values.push_back(plan.For(w.tenants[tj].name).priority);
      std::sort(values.begin(), values.end(), std::greater<int64_t>());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      if (values.size() > domain.size()) {
        FailAt(file, "tenants." + w.tenants[ti].name + ".priority",
               "outside the search space: expected at most " + std::to_string(domain.size()) +
                   " distinct priorities among tenants that run together, found " +
                   std::to_string(values.size()));
      }
      const int64_t p = plan.For(w.tenants[ti].name).priority;
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
  // SM partitions: combinations that fit in the GPU, by SMs partitioned.
  const int64_t sms = lw_.gpu.sm_count;
  std::vector<uint64_t> ways(sms + 1, 0);
  ways[0] = 1;
  for (int32_t ti = 0; ti < n; ++ti) {
    std::vector<uint64_t> next(sms + 1, 0);
    for (int64_t v : dims_[Dim(Knob::kSm, ti)].values) {
      const int64_t add = std::max<int64_t>(0, v);
      for (int64_t s = 0; s + add <= sms; ++s)
        next[s + add] = SaturatingAdd(next[s + add], ways[s]);
    }
    ways = next;
  }
  uint64_t sm = 0;
  for (int64_t s = 0; s <= sms; ++s) sm = SaturatingAdd(sm, ways[s]);
  uint64_t total = SaturatingMul(gp, sm);
  for (const Dimension& d : dims_) {
    if (d.knob == Knob::kSplit || d.knob == Knob::kStages || d.knob == Knob::kOffset)
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
      groups[dims_[Dim(Knob::kGroups, ti)].values[0]].push_back(lw_.workload.tenants[ti].name);
    json g = json::array();
    for (const auto& [level, members] : groups) g.push_back(members);
    j["groups"] = g;
  }
  json tenants = json::object();
  for (int32_t ti = 0; ti < tenants_; ++ti) {
    json t = json::object();
    for (Knob k : {Knob::kPriority, Knob::kSm, Knob::kSplit, Knob::kOffset}) {
      json values = json::array();
      for (int64_t v : dims_[Dim(k, ti)].values)
        values.push_back(k == Knob::kSm && v < 0 ? json(nullptr) : json(v));
      t[TenantField(k)] = values;
    }
    t["stages"] = cut_options_[ti];
    tenants[lw_.workload.tenants[ti].name] = t;
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
      const std::string& name = lw_.workload.tenants[d.tenant].name;
      if (d.knob == Knob::kGroups) {
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
