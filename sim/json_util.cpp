#include "sim/json_util.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "sim/byte_source.h"
#include "sim/error.h"

namespace cotenant {
namespace {

constexpr int64_t kMinInt = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

[[noreturn]] void FailFile(const std::string& path, const std::string& what, int err) {
  throw InputError(path + ": " + what + ": " + std::strerror(err));
}

/// Compresses `data` as one gzip member.
std::string Gzip(const std::string& path, const std::string& data) {
  if (data.size() > std::numeric_limits<uInt>::max()) {
    throw InputError(path + ": cannot compress: more than 4 GiB");
  }
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw InputError(path + ": cannot compress: zlib initialisation failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw InputError(path + ": cannot compress: zlib error " + std::to_string(rc));
  }
  out.resize(produced);
  return out;
}

/// `file: path: message`, leaving out empty parts.
std::string Located(const std::string& file, const std::string& path, const std::string& message) {
  std::string s = file;
  if (!path.empty()) s += (s.empty() ? "" : ": ") + path;
  return s + (s.empty() ? "" : ": ") + message;
}

}  // namespace

int64_t MaxInputBytes() {
  const char* env = std::getenv("COTENANT_MAX_INPUT_BYTES");
  if (env == nullptr || *env == '\0') return kMaxInputBytes;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  return *end == '\0' && v > 0 && v < kMaxInputBytes ? v : kMaxInputBytes;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ReadFileText(const std::string& path) { return FileSource(path).ReadAll(); }

std::string MalformedJsonMessage(const std::string& text, const std::string& file, size_t byte,
                                 const std::string& what) {
  // nlohmann's `byte` is the 1-based position of the last character read.
  const size_t at = std::min(byte > 0 ? byte - 1 : 0, text.size());
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
  const size_t nl = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
  const size_t col = nl == std::string::npos ? at + 1 : at - nl;
  // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax
  // error while parsing value - REASON": keep REASON only. (A number too
  // large for a double: "[json.exception.out_of_range.406] REASON".)
  std::string reason = what;
  const size_t dash = reason.find(" - ");
  const size_t colon = reason.find(": ");
  if (dash != std::string::npos) {
    reason = reason.substr(dash + 3);
  } else if (colon != std::string::npos) {
    reason = reason.substr(colon + 2);
  } else if (reason.rfind("[json.exception.", 0) == 0 && reason.find("] ") != std::string::npos) {
    reason = reason.substr(reason.find("] ") + 2);
  }
  // A file cut short inside a token: say so first.
  const std::string kEnd = "unexpected end of input";
  if (at >= text.size() && reason.compare(0, kEnd.size(), kEnd) != 0) reason = kEnd + "; " + reason;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) +
         ": malformed JSON: " + reason;
}

namespace {

/// A SAX pass that only finds where parsing fails: nlohmann's DOM parser
/// throws a number too large for a double ("1e400", out_of_range 406)
/// without its position.
struct ErrorPosition : PassThroughSax {
  size_t byte = 0;
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    byte = position;
    return false;
  }
};

}  // namespace

nlohmann::json ParseJsonText(const std::string& text, const std::string& file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(MalformedJsonMessage(text, file, e.byte, e.what()));
  } catch (const nlohmann::json::out_of_range& e) {  // a number overflowing a double
    ErrorPosition where;
    nlohmann::json::sax_parse(text, &where);
    throw InputError(MalformedJsonMessage(text, file, where.byte, e.what()));
  }
}

nlohmann::json ReadJsonFile(const std::string& path) {
  return ParseJsonText(ReadFileText(path), path);
}

void WriteFileAtomic(const std::string& path, const std::string& content) {
  // Not a copy of `content` for a plain file (a trace's text can be large).
  const std::string packed = EndsWith(path, ".gz") ? Gzip(path, content) : std::string();
  const std::string& data = EndsWith(path, ".gz") ? packed : content;
  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(getpid()));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) FailFile(path, "cannot write", errno);
  const bool wrote = data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size();
  int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (wrote && !closed) err = errno;
  if (!wrote || !closed) {
    std::remove(tmp.c_str());
    FailFile(path, "cannot write", err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    FailFile(path, "cannot write", err);
  }
}

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JsonTypeName(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a binary value";
  }
}

std::string DescribeJson(const nlohmann::json& j) {
  if (j.is_number() || j.is_boolean() || j.is_null()) return j.dump();
  return JsonTypeName(j);
}

std::optional<int64_t> JsonToInt(const nlohmann::json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j.is_number_float()) return DoubleToInt(j.get<double>());
  return std::nullopt;
}

std::optional<int64_t> DoubleToInt(double d) {
  // 2^63 is exactly representable; anything at or above it does not fit.
  if (!std::isfinite(d) || d != std::floor(d) || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(d);
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = ClosestMatch(word, candidates);
  return best.empty() ? "" : "; did you mean \"" + best + "\"?";
}

std::string QuotedList(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) s += (s.empty() ? "\"" : ", \"") + w + "\"";
  return s;
}

std::string IntRangeName(int64_t lo, int64_t hi) {
  // 32-bit limits are storage limits rather than rules worth naming.
  const bool no_hi = hi == kMaxInt || hi == std::numeric_limits<int32_t>::max();
  const bool no_lo = lo == kMinInt || lo == std::numeric_limits<int32_t>::min();
  if (no_hi) {
    if (no_lo) return "an integer";
    if (lo == 0) return "a non-negative integer";
    if (lo == 1) return "a positive integer";
    return "an integer >= " + std::to_string(lo);
  }
  if (no_lo) return "an integer <= " + std::to_string(hi);
  return "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
}

std::string ExpectedOneOf(const nlohmann::json& found, const std::vector<std::string>& names) {
  const std::string expected = "expected one of " + QuotedList(names) + ", found ";
  if (!found.is_string()) return expected + DescribeJson(found);
  return expected + JsonText(found) + DidYouMean(found.get_ref<const std::string&>(), names);
}

int IndexOf(const nlohmann::json& v, const std::vector<std::string>& names) {
  if (!v.is_string()) return -1;
  const std::string& s = v.get_ref<const std::string&>();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

JsonFields::JsonFields(const nlohmann::json& j, std::string file, std::string path,
                       std::initializer_list<const char*> known)
    : j_(j), file_(std::move(file)), path_(std::move(path)) {
  if (!j_.is_object()) FailAt(file_, path_, "expected an object, found " + DescribeJson(j_));
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    const std::string& key = it.key();
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (found) continue;
    const std::vector<std::string> names(known.begin(), known.end());
    Fail(key.c_str(), "unknown key" + DidYouMean(key, names));
  }
}

bool JsonFields::Has(const char* key) const { return j_.contains(key); }

const nlohmann::json& JsonFields::Get(const char* key) const {
  const auto it = j_.find(key);
  if (it == j_.end()) Fail(key, "missing required field");
  return *it;
}

int64_t JsonFields::Int(const char* key) const { return IntIn(key, kMinInt, kMaxInt); }

int64_t JsonFields::Int(const char* key, int64_t fallback) const {
  return Has(key) ? Int(key) : fallback;
}

int64_t JsonFields::NonNegInt(const char* key) const { return IntIn(key, 0, kMaxInt); }

int64_t JsonFields::NonNegInt(const char* key, int64_t fallback) const {
  return Has(key) ? NonNegInt(key) : fallback;
}

int64_t JsonFields::IntIn(const char* key, int64_t lo, int64_t hi) const {
  const std::optional<int64_t> v = JsonToInt(Get(key));
  if (!v || *v < lo || *v > hi) Expected(key, IntRangeName(lo, hi));
  return *v;
}

int64_t JsonFields::IntIn(const char* key, int64_t lo, int64_t hi, int64_t fallback) const {
  return Has(key) ? IntIn(key, lo, hi) : fallback;
}

double JsonFields::Number(const char* key) const {
  const nlohmann::json& v = Get(key);
  if (!v.is_number()) Expected(key, "a number");
  return v.get<double>();
}

double JsonFields::Number(const char* key, double fallback) const {
  return Has(key) ? Number(key) : fallback;
}

std::string JsonFields::String(const char* key) const {
  const nlohmann::json& v = Get(key);
  if (!v.is_string()) Expected(key, "a string");
  return v.get<std::string>();
}

std::string JsonFields::String(const char* key, const std::string& fallback) const {
  return Has(key) ? String(key) : fallback;
}

bool JsonFields::Bool(const char* key, bool fallback) const {
  if (!Has(key)) return fallback;
  const nlohmann::json& v = Get(key);
  if (!v.is_boolean()) Expected(key, "a boolean");
  return v.get<bool>();
}

int JsonFields::Choice(const char* key, const std::vector<std::string>& names) const {
  const nlohmann::json& v = Get(key);
  const int i = IndexOf(v, names);
  if (i < 0) Fail(key, ExpectedOneOf(v, names));
  return i;
}

int JsonFields::Choice(const char* key, const std::vector<std::string>& names, int fallback) const {
  return Has(key) ? Choice(key, names) : fallback;
}

std::string JsonFields::PathOf(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

void JsonFields::Fail(const char* key, const std::string& message) const {
  FailAt(file_, PathOf(key), message);
}

void JsonFields::Expected(const char* key, const std::string& what) const {
  const auto it = j_.find(key);
  const std::string found = it == j_.end() ? "nothing" : DescribeJson(*it);
  Fail(key, "expected " + what + ", found " + found);
}

std::string IndexPath(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

void FailAt(const std::string& file, const std::string& path, const std::string& message) {
  throw InputError(Located(file, path, message));
}

void CheckSchema(const nlohmann::json& j, const std::string& file, const std::string& expected) {
  if (!j.is_object()) FailAt(file, "", "expected a JSON object, found " + DescribeJson(j));
  const auto it = j.find("schema");
  if (it == j.end())
    FailAt(file, "schema", "missing required field (expected \"" + expected + "\")");
  if (!it->is_string() || it->get_ref<const std::string&>() != expected) {
    const std::string found = it->is_string() ? JsonText(*it) : DescribeJson(*it);
    FailAt(file, "schema", "expected \"" + expected + "\", found " + found);
  }
}

}  // namespace cotenant
