#include "sim/llm_workload.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "sim/error.h"
#include "sim/rng.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
/// Largest request length accepted, tokens: far above any model's context window, so
/// that the context check names the model.
constexpr int64_t kMaxLength = int64_t{1} << 30;

std::string Resolve(const std::string& base_dir, const std::string& path) {
  namespace fs = std::filesystem;
  if (base_dir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

LengthDist ReadLength(const JsonFields& parent, const char* key, const std::string& base_dir) {
  const JsonFields f(parent.Get(key), parent.file(), parent.PathOf(key),
                     {"kind", "value", "min", "max", "seed", "path", "column"});
  static const std::vector<std::string> kKinds = {"fixed", "uniform", "csv"};
  static const std::vector<std::vector<std::string>> kParams = {
      {"value"}, {"min", "max", "seed"}, {"path", "column"}};
  LengthDist d;
  d.field = parent.PathOf(key);
  d.kind = static_cast<LengthDist::Kind>(f.Choice("kind", kKinds));
  const std::vector<std::string>& params = kParams[static_cast<size_t>(d.kind)];
  for (auto it = f.json().begin(); it != f.json().end(); ++it) {
    if (it.key() == "kind" || std::find(params.begin(), params.end(), it.key()) != params.end())
      continue;
    f.Fail(it.key().c_str(),
           "not used by length kind \"" + kKinds[static_cast<size_t>(d.kind)] + "\"");
  }
  switch (d.kind) {
    case LengthDist::Kind::kFixed:
      d.value = f.IntIn("value", 1, kMaxLength);
      break;
    case LengthDist::Kind::kUniform:
      d.min = f.IntIn("min", 1, kMaxLength);
      d.max = f.IntIn("max", d.min, kMaxLength);
      d.seed = static_cast<uint64_t>(f.NonNegInt("seed", 1));
      break;
    case LengthDist::Kind::kCsv: {
      const std::string p = f.String("path");
      if (p.empty()) f.Expected("path", "a non-empty string");
      d.path = Resolve(base_dir, p);
      d.column = f.String("column", key);
      break;
    }
  }
  return d;
}

json LengthToJson(const LengthDist& d) {
  switch (d.kind) {
    case LengthDist::Kind::kFixed:
      return {{"kind", "fixed"}, {"value", d.value}};
    case LengthDist::Kind::kUniform:
      return {{"kind", "uniform"}, {"min", d.min}, {"max", d.max}, {"seed", d.seed}};
    case LengthDist::Kind::kCsv:
      return {{"kind", "csv"}, {"path", d.path}, {"column", d.column}};
  }
  return {};
}

/// The column `d.column` of the CSV `d.path` (a header line, then one row per request).
std::vector<int64_t> ReadCsvColumn(const LengthDist& d, const std::string& file) {
  const std::string where = file + ": " + d.field + ".path: ";
  std::vector<int64_t> values;
  ForEachCsvCell(d.path, d.column, where, [&](int64_t no, const std::string& cell) {
    const bool digits = !cell.empty() && cell.size() <= 10 &&
                        cell.find_first_not_of("0123456789") == std::string::npos;
    const int64_t v = digits ? std::stoll(cell) : 0;
    if (v < 1 || v > kMaxLength) {
      throw InputError(where + d.path + ":" + std::to_string(no) + ": " + d.column +
                       ": expected a positive integer, found \"" + cell + "\"");
    }
    values.push_back(v);
    return true;
  });
  if (values.empty()) throw InputError(where + d.path + " has no rows after its header");
  return values;
}

std::vector<int64_t> Lengths(const LengthDist& d, int64_t n, const std::string& file) {
  std::vector<int64_t> out(static_cast<size_t>(n), d.value);
  switch (d.kind) {
    case LengthDist::Kind::kFixed:
      break;
    case LengthDist::Kind::kUniform: {
      SplitMix64 rng(d.seed);
      for (int64_t& v : out) v = rng.Uniform(d.min, d.max);
      break;
    }
    case LengthDist::Kind::kCsv: {
      const std::vector<int64_t> rows = ReadCsvColumn(d, file);
      for (int64_t i = 0; i < n; ++i) out[i] = rows[static_cast<size_t>(i) % rows.size()];
      break;
    }
  }
  return out;
}

}  // namespace

void ForEachCsvCell(const std::string& path, const std::string& column, const std::string& where,
                    const std::function<bool(int64_t line, const std::string& cell)>& cell) {
  std::ifstream in(path);
  if (!in) throw InputError(where + "cannot open " + path);
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) {
      while (!c.empty() && (c.back() == '\r' || c.back() == ' ')) c.pop_back();
      while (!c.empty() && c.front() == ' ') c.erase(0, 1);
      cells.push_back(c);
    }
    return cells;
  };
  std::string line;
  if (!std::getline(in, line)) throw InputError(where + path + " is empty (expected a header)");
  const std::vector<std::string> header = split(line);
  const auto col = std::find(header.begin(), header.end(), column);
  if (col == header.end()) {
    throw InputError(where + path + ":1: expected a column \"" + column + "\" in the header" +
                     DidYouMean(column, header));
  }
  const size_t c = static_cast<size_t>(col - header.begin());
  for (int64_t no = 2; std::getline(in, line); ++no) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> cells = split(line);
    if (!cell(no, c < cells.size() ? cells[c] : "")) return;
  }
}

LlmTenantSpec ReadLlmTenant(const json& j, const std::string& file, const std::string& path,
                            const std::string& base_dir) {
  const JsonFields f(j, file, path,
                     {"name", "kind", "model", "dtype", "requests", "arrival", "prompt_tokens",
                      "output_tokens", "slo", "serving", "weight"});
  LlmTenantSpec t;
  t.at = path;
  t.name = f.String("name");
  if (t.name.empty()) f.Expected("name", "a non-empty string");
  t.model = f.String("model");
  if (t.model.empty()) f.Expected("model", "a non-empty string");
  t.dtype = f.String("dtype", "bf16");
  t.requests = f.IntIn("requests", 1, 10000000, 1);
  {
    // A CSV of arrival times is checked here and read by LlmRequests.
    const Arrival a = ReadArrival(f.Get("arrival"), file, f.PathOf("arrival"), t.requests, base_dir,
                                  /*read_csv=*/false);
    if (a.kind == ArrivalKind::kClosed) {
      FailAt(file, f.PathOf("arrival") + ".kind",
             "expected \"poisson\", \"gamma\", \"periodic\" or \"trace\" for an llm tenant (a "
             "serving engine takes requests as they arrive), found \"closed\"");
    }
    t.arrival = ArrivalToJson(a);
  }
  t.weight = f.Number("weight", 1.0);
  if (!(t.weight > 0.0) || !std::isfinite(t.weight)) f.Expected("weight", "a positive number");
  t.prompt = ReadLength(f, "prompt_tokens", base_dir);
  t.output = ReadLength(f, "output_tokens", base_dir);
  if (f.Has("slo")) {
    const JsonFields sf(f.Get("slo"), file, f.PathOf("slo"), {"ttft_ms", "tpot_ms"});
    auto ms = [&sf](const char* key) -> TimeNs {
      if (!sf.Has(key)) return 0;
      const double v = sf.Number(key);
      if (!(v > 0.0) || v > 1e9) sf.Expected(key, "a positive number of milliseconds");
      return static_cast<TimeNs>(std::llround(v * 1e6));
    };
    t.slo.ttft_ns = ms("ttft_ms");
    t.slo.tpot_ns = ms("tpot_ms");
  }
  if (f.Has("serving")) {
    const JsonFields sf(f.Get("serving"), file, f.PathOf("serving"),
                        {"max_num_batched_tokens", "max_num_seqs", "chunked_prefill",
                         "gpu_memory_utilization", "block_size"});
    LlmServingSpec& s = t.serving;
    s.max_num_batched_tokens =
        sf.IntIn("max_num_batched_tokens", 1, 1 << 20, s.max_num_batched_tokens);
    s.max_num_seqs = sf.IntIn("max_num_seqs", 1, 1024, s.max_num_seqs);
    s.chunked_prefill = sf.Bool("chunked_prefill", s.chunked_prefill);
    s.gpu_memory_utilization = sf.Number("gpu_memory_utilization", s.gpu_memory_utilization);
    if (!(s.gpu_memory_utilization > 0.0 && s.gpu_memory_utilization <= 1.0))
      sf.Expected("gpu_memory_utilization", "a number in (0, 1]");
    s.block_size = sf.IntIn("block_size", 1, 1024, s.block_size);
  }
  return t;
}

json LlmTenantToJson(const LlmTenantSpec& t) {
  json j = {{"name", t.name},
            {"kind", "llm"},
            {"model", t.model},
            {"dtype", t.dtype},
            {"requests", t.requests},
            {"arrival", t.arrival},
            {"prompt_tokens", LengthToJson(t.prompt)},
            {"output_tokens", LengthToJson(t.output)}};
  json slo = json::object();
  if (t.slo.ttft_ns > 0) slo["ttft_ms"] = static_cast<double>(t.slo.ttft_ns) / 1e6;
  if (t.slo.tpot_ns > 0) slo["tpot_ms"] = static_cast<double>(t.slo.tpot_ns) / 1e6;
  j["slo"] = slo;
  if (t.weight != 1.0) j["weight"] = t.weight;
  j["serving"] = {{"max_num_batched_tokens", t.serving.max_num_batched_tokens},
                  {"max_num_seqs", t.serving.max_num_seqs},
                  {"chunked_prefill", t.serving.chunked_prefill},
                  {"gpu_memory_utilization", t.serving.gpu_memory_utilization},
                  {"block_size", t.serving.block_size}};
  return j;
}

std::vector<LlmRequest> LlmRequests(const LlmTenantSpec& t, const std::string& file) {
  const std::vector<int64_t> prompt = Lengths(t.prompt, t.requests, file);
  const std::vector<int64_t> output = Lengths(t.output, t.requests, file);
  const std::vector<TimeNs> arrivals =
      ArrivalTimes(ReadArrival(t.arrival, file, t.at + ".arrival", t.requests, "",
                               /*read_csv=*/true),
                   t.requests);
  std::vector<LlmRequest> out(static_cast<size_t>(t.requests));
  for (int64_t i = 0; i < t.requests; ++i) out[i] = {i, arrivals[i], prompt[i], output[i]};
  return out;
}

}  // namespace cotenant
