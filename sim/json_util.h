// Reading and writing JSON files: size limits, .gz, strict field access with
// messages of the form `file: path.to.field: expected X, found Y`, unknown-key
// detection with "did you mean", and atomic writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cotenant {

/// A SAX handler that accepts every value and stops at the first syntax
/// error: the base of the passes over a document that look for one thing
/// only (where it fails, how to word that, repeated keys). Override what
/// matters.
struct PassThroughSax : nlohmann::json_sax<nlohmann::json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

/// Largest input file accepted (after decompression), bytes.
constexpr int64_t kMaxInputBytes = int64_t{4} << 30;

/// The input size limit in force: kMaxInputBytes, or $COTENANT_MAX_INPUT_BYTES
/// when that is set to a smaller positive integer (used by tests).
int64_t MaxInputBytes();

/// True when `s` ends with `suffix` (".gz", ".json").
bool EndsWith(const std::string& s, const std::string& suffix);

/// Reads a whole file; `.gz` files are decompressed. Throws InputError for a
/// missing/unreadable file, a corrupt gzip stream or a file over the limit.
std::string ReadFileText(const std::string& path);

/// Parses JSON text; a syntax error becomes `file:LINE:COL: malformed JSON: ...`.
nlohmann::json ParseJsonText(const std::string& text, const std::string& file);

/// The message of a syntax error: `file:LINE:COL: malformed JSON: REASON`, where
/// `byte` is nlohmann's 1-based position of the last character read (line and
/// column are computed from it) and `what` is nlohmann's message. REASON
/// starts with "unexpected end of input" when the text ends inside a value.
std::string MalformedJsonMessage(const std::string& text, const std::string& file, size_t byte,
                                 const std::string& what);

/// ReadFileText + ParseJsonText.
nlohmann::json ReadJsonFile(const std::string& path);

/// Writes `content` to `path` through a temporary file (`path.tmp.<pid>`) in
/// the same folder and a rename, so readers never see a half-written file.
/// A `.gz` path is gzip-compressed. Throws InputError naming `path`.
void WriteFileAtomic(const std::string& path, const std::string& content);

/// Compact JSON text of `j` (like dump()), with invalid UTF-8 in strings
/// replaced by U+FFFD instead of throwing.
std::string JsonText(const nlohmann::json& j);

/// A short description of a JSON value's type for messages ("a string", "null").
std::string JsonTypeName(const nlohmann::json& j);

/// A value for "found X" in messages: numbers, booleans and null as written
/// ("-5", "1.5", "null"), other types by name ("a string", "an array").
std::string DescribeJson(const nlohmann::json& j);

/// The value of a JSON number that is a whole number in the int64 range
/// (3 and 3.0, not 1.5 or 2^63); nullopt for anything else.
std::optional<int64_t> JsonToInt(const nlohmann::json& j);

/// `d` as int64 when it is a whole number in range, else nullopt.
std::optional<int64_t> DoubleToInt(double d);

/// Levenshtein distance between two strings (bytes).
size_t EditDistance(const std::string& a, const std::string& b);

/// The closest of `candidates` to `word` by edit distance, or "" if none is
/// within max(2, len(word)/3). Ties go to the earlier candidate.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

/// `; did you mean "X"?` for the closest candidate, or "" when none is close.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

/// `"a", "b", "c"`: words quoted and joined by ", ".
std::string QuotedList(const std::vector<std::string>& words);

/// How messages name the integers in [lo, hi]: "an integer", "a
/// non-negative integer", "a positive integer", "an integer >= 3" or "an
/// integer in 1..255". The int64 and int32 limits count as unbounded.
std::string IntRangeName(int64_t lo, int64_t hi);

/// The message for a value that is not one of `names`:
/// `expected one of "a", "b", found "c"; did you mean "a"?`.
std::string ExpectedOneOf(const nlohmann::json& found, const std::vector<std::string>& names);

/// The index of the string `v` in `names`, or -1 (also when `v` is not a string).
int IndexOf(const nlohmann::json& v, const std::vector<std::string>& names);

/// Strict access to the fields of one JSON object. Every accessor names the
/// file and the dotted path of the field in its error.
class JsonFields {
 public:
  /// Throws unless `j` is an object; then rejects keys not in `known`, with a
  /// "did you mean" hint.
  JsonFields(const nlohmann::json& j, std::string file, std::string path,
             std::initializer_list<const char*> known);

  bool Has(const char* key) const;
  const nlohmann::json& Get(const char* key) const;  ///< required, any type

  int64_t Int(const char* key) const;                          ///< required integer
  int64_t Int(const char* key, int64_t fallback) const;        ///< optional integer
  int64_t NonNegInt(const char* key) const;                    ///< required, >= 0
  int64_t NonNegInt(const char* key, int64_t fallback) const;  ///< optional, >= 0
  /// Required integer in [lo, hi]; the message names the range.
  int64_t IntIn(const char* key, int64_t lo, int64_t hi) const;
  /// Optional integer in [lo, hi].
  int64_t IntIn(const char* key, int64_t lo, int64_t hi, int64_t fallback) const;
  double Number(const char* key) const;
  double Number(const char* key, double fallback) const;
  std::string String(const char* key) const;
  std::string String(const char* key, const std::string& fallback) const;
  bool Bool(const char* key, bool fallback) const;
  /// Required string that must be one of `names`; returns its index.
  int Choice(const char* key, const std::vector<std::string>& names) const;
  /// Optional string that must be one of `names`; returns its index.
  int Choice(const char* key, const std::vector<std::string>& names, int fallback) const;

  /// The dotted path of a field, for messages and nested readers.
  std::string PathOf(const char* key) const;
  /// `file: path.key: message` as an InputError.
  [[noreturn]] void Fail(const char* key, const std::string& message) const;
  /// `file: path.key: expected WHAT, found <value/type>` as an InputError.
  [[noreturn]] void Expected(const char* key, const std::string& what) const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const nlohmann::json& json() const { return j_; }

 private:
  const nlohmann::json& j_;
  std::string file_;
  std::string path_;
};

/// The path of element `i` of the array at `path`: IndexPath("groups", 2) is
/// "groups[2]".
std::string IndexPath(const std::string& path, size_t i);

/// `file: path: message` as an InputError, for fields outside JsonFields
/// (an empty `file` or `path` is left out with its separator).
[[noreturn]] void FailAt(const std::string& file, const std::string& path,
                         const std::string& message);

/// Checks the "schema" field of a document against `expected`
/// ("cotenant.trace/1"), with a clear message for other versions.
void CheckSchema(const nlohmann::json& j, const std::string& file, const std::string& expected);

}  // namespace cotenant
