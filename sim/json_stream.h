// One streaming JSON reader for the large documents cotenant reads (its own
// traces, Kineto Chrome traces): a tokenizer over a ByteSource that reports
// values to a handler in document order, keeps the path of the value being
// read for messages (`traceEvents[3].args.grid`), and builds a JSON tree
// only for the containers a handler asks to receive whole.
//
// It accepts exactly the JSON that nlohmann::json accepts (RFC 8259, UTF-8
// checked, an optional byte order mark) and reports values in the order of
// nlohmann's SAX events. A syntax error is reported with nlohmann's own
// message, `file:LINE:COL: malformed JSON: REASON` (MalformedJsonMessage):
// the text is then read again and parsed by nlohmann to word it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/byte_source.h"

namespace cotenant {

/// The type of a JSON value, split as nlohmann splits numbers.
enum class JsonType : uint8_t {
  kNull,
  kBool,
  kInteger,   ///< a negative integer that fits in int64
  kUnsigned,  ///< a non-negative integer that fits in uint64
  kFloat,     ///< any other number (a fraction, an exponent, out of range)
  kString,
  kObject,
  kArray,
};

/// A value as the reader hands it to its handler; valid during the call.
struct JsonValue {
  JsonType type = JsonType::kNull;
  bool boolean = false;   ///< kBool
  int64_t integer = 0;    ///< kInteger
  uint64_t uinteger = 0;  ///< kUnsigned
  /// kString: the string, unescaped. Numbers: the number as written.
  std::string_view text;
  /// kObject, kArray: the whole container (a handler's Begin() said no).
  const nlohmann::json* tree = nullptr;

  bool IsNumber() const {
    return type == JsonType::kInteger || type == JsonType::kUnsigned || type == JsonType::kFloat;
  }
  /// The value of a number as nlohmann reads it (strtod of the text for kFloat).
  double Number() const;
  /// The value as nlohmann's parser builds it (same type, same number).
  nlohmann::json ToJson() const;
  /// `slot` = ToJson(), reusing the slot's string buffer for a string.
  void AssignTo(nlohmann::json& slot) const;
};

class JsonReader;

/// Receives a document's values from a JsonReader. During each call the
/// reader's depth(), key(), index() and Path() describe the value
/// concerned. Handlers throw InputError to reject the document.
class JsonHandler {
 public:
  virtual ~JsonHandler() = default;
  /// An object or array begins. True: its members follow (key by key),
  /// then End(). False: the reader builds it whole and hands it to Value().
  virtual bool Begin(JsonReader& reader, JsonType type) = 0;
  /// A container whose Begin() returned true ends.
  virtual void End(JsonReader& reader, JsonType type) = 0;
  /// A scalar, or a container received whole.
  virtual void Value(JsonReader& reader, const JsonValue& value) = 0;
  /// A key of an object being walked was read (reader.key()), before its
  /// value: where nlohmann reports it, so that a check of the key comes
  /// before an error in its value.
  virtual void Key(JsonReader& reader) {}
};

/// Reads one JSON document from a ByteSource and reports it to a handler.
class JsonReader {
 public:
  /// `file` names the document in messages.
  JsonReader(ByteSource& source, std::string file);

  /// Reads the whole document (one value, then only whitespace). Throws
  /// InputError: the handler's, the source's (read before the handler's
  /// so that a corrupt gzip file says so), or a syntax error's.
  void Read(JsonHandler& handler);

  /// Containers open around the current value (0: the document itself).
  size_t depth() const { return frames_.size(); }
  /// Key of the current value in its object; "" in an array or at the top.
  std::string_view key() const;
  /// Index of the current value in its array; 0 in an object or at the top.
  size_t index() const;
  /// True when the current value is an element of an array.
  bool in_array() const { return !frames_.empty() && frames_.back().array; }
  /// Path of the current value for messages: "tasks[3].grid", "" at the top.
  std::string Path() const;
  const std::string& file() const { return file_; }
  /// Bytes of the document read so far.
  int64_t offset() const { return consumed_ - (end_ - p_); }
  /// The document's size when the source knows it, else -1.
  int64_t size_hint() const { return source_.SizeHint(); }

 private:
  struct Frame {
    bool array = false;
    size_t index = 0;  ///< arrays: index of the current element
    std::string key;   ///< objects: key of the current member
  };
  struct SyntaxError {};

  void Parse(JsonHandler& handler);
  /// The message of the syntax error the tokenizer met, from nlohmann.
  [[noreturn]] void FailSyntax();
  bool Refill();
  /// The next non-whitespace byte (not consumed), or -1 at the end.
  int SkipSpace();
  std::string_view String();
  void Number(JsonValue* v);
  void Literal(const char* word);
  void AppendUtf8(unsigned char lead);
  unsigned Hex4();
  int Get();

  void Open(JsonHandler& handler, JsonType type);
  void Close(JsonHandler& handler, JsonType type);
  void Emit(JsonHandler& handler, const JsonValue& v);
  void Key(JsonHandler& handler, std::string_view k);

  ByteSource& source_;
  std::string file_;
  const char* p_ = nullptr;    ///< next unread byte of the chunk
  const char* end_ = nullptr;  ///< end of the chunk
  bool at_end_ = false;        ///< the source has no more chunks
  bool source_failed_ = false;
  int64_t consumed_ = 0;        ///< bytes of every chunk so far
  std::vector<Frame> frames_;   ///< containers being walked, innermost last
  std::vector<JsonType> open_;  ///< every open container, innermost last
  size_t capture_base_ = 0;     ///< open_.size() where the capture began
  bool capturing_ = false;      ///< building a container for Value()
  std::vector<nlohmann::json*> tree_stack_;
  nlohmann::json tree_;
  std::string tree_key_;
  std::string scratch_;  ///< a string or number cut by a chunk boundary, or unescaped
};

}  // namespace cotenant
