#include "search/space_file.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <set>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/plan.h"

namespace cotenant::search {
namespace {

using nlohmann::json;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

/// The per-tenant keys of a searchspace file.
const char* const kTenantKeys[] = {"priority",        "sm_count",         "batch_split",
                                   "offset_ns",       "stages",           "max_num_batched_tokens",
                                   "chunked_prefill", "prefill_decode_sm"};

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
    std::vector<int64_t> cuts = CutPointsFromJson(j[i], file, at, 1);
    if (std::find(out.options.begin(), out.options.end(), cuts) != out.options.end())
      FailAt(file, at, "this cut-point list appears twice");
    out.options.push_back(std::move(cuts));
  }
  return out;
}

/// [null, [prefill, decode], ...]: SM pairs of prefill/decode multiplexing, null = off.
ConfiguredPd ReadPdOptions(const json& j, const std::string& file, const std::string& path) {
  ConfiguredPd out;
  out.file = file;
  out.path = path;
  if (!j.is_array() || j.empty()) {
    FailAt(file, path,
           "expected a non-empty array of null (off) or [prefill SMs, decode SMs] pairs (e.g. "
           "[null, [32, 96]]), found " +
               DescribeJson(j));
  }
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = IndexPath(path, i);
    std::pair<int64_t, int64_t> pd{-1, -1};
    if (!j[i].is_null()) {
      const std::optional<int64_t> p =
          j[i].is_array() && j[i].size() == 2 ? JsonToInt(j[i][0]) : std::optional<int64_t>();
      const std::optional<int64_t> d =
          j[i].is_array() && j[i].size() == 2 ? JsonToInt(j[i][1]) : std::optional<int64_t>();
      if (!p || !d || *p < 1 || *d < 1 || *p > kInt32Max || *d > kInt32Max) {
        FailAt(file, at,
               "expected null or a pair [prefill SMs, decode SMs] of integers >= 1, found " +
                   DescribeJson(j[i]));
      }
      pd = {*p, *d};
    }
    if (std::find(out.options.begin(), out.options.end(), pd) != out.options.end())
      FailAt(file, at, "this option appears twice");
    out.options.push_back(pd);
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

std::string ConfiguredValues::PathOf(size_t i) const {
  return values.size() > 1 ? IndexPath(path, i) : path;
}

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
    if (t.max_num_batched_tokens) mine.max_num_batched_tokens = t.max_num_batched_tokens;
    if (t.chunked_prefill) mine.chunked_prefill = t.chunked_prefill;
    if (t.prefill_decode_sm) mine.prefill_decode_sm = t.prefill_decode_sm;
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
      const JsonFields tf(it.value(), file, path,
                          {kTenantKeys[0], kTenantKeys[1], kTenantKeys[2], kTenantKeys[3],
                           kTenantKeys[4], kTenantKeys[5], kTenantKeys[6], kTenantKeys[7]});
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
      if (tf.Has("max_num_batched_tokens"))
        t.max_num_batched_tokens =
            ReadValues(tf.Get("max_num_batched_tokens"), file, tf.PathOf("max_num_batched_tokens"),
                       1, kInt32Max, false, 512);
      if (tf.Has("chunked_prefill")) {
        // true / false as 1 / 0.
        json v = tf.Get("chunked_prefill");
        if (v.is_boolean()) v = v.get<bool>() ? 1 : 0;
        if (v.is_array())
          for (json& x : v)
            if (x.is_boolean()) x = x.get<bool>() ? 1 : 0;
        t.chunked_prefill = ReadValues(v, file, tf.PathOf("chunked_prefill"), 0, 1, false, 1);
      }
      if (tf.Has("prefill_decode_sm"))
        t.prefill_decode_sm =
            ReadPdOptions(tf.Get("prefill_decode_sm"), file, tf.PathOf("prefill_decode_sm"));
      c.tenants[it.key()] = std::move(t);
    }
  }
  return c;
}

SpaceConfig ReadSpaceConfig(const std::string& path) {
  return SpaceConfigFromJson(ReadJsonFile(path), path);
}

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
           ".stages, .max_num_batched_tokens, .chunked_prefill, .prefill_decode_sm)");
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
    } else if (knob == "prefill_decode_sm") {
      value = json::array();
      for (const std::string& option : Split(text, ',')) {
        if (option == "none" || option == "null" || option == "off") {
          value.push_back(nullptr);
          continue;
        }
        const std::vector<std::string> pd = Split(option, '/');
        const std::optional<int64_t> p = pd.size() == 2 ? ParseInt(pd[0]) : std::nullopt;
        const std::optional<int64_t> d = pd.size() == 2 ? ParseInt(pd[1]) : std::nullopt;
        if (!p || !d)
          fail("expected prefill/decode SM pairs like 64/64 or off, found \"" + option + "\"");
        value.push_back(json::array({*p, *d}));
      }
    } else if (knob == "priority" || knob == "sm_count" || knob == "batch_split" ||
               knob == "offset_ns" || knob == "max_num_batched_tokens" ||
               knob == "chunked_prefill") {
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

}  // namespace cotenant::search
