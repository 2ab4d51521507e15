#include "sim/json_stream.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

using nlohmann::json;

bool IsDigit(int c) { return c >= '0' && c <= '9'; }

/// A SAX handler that only reports nlohmann's syntax error, worded as
/// MalformedJsonMessage words it.
class SyntaxOnly : public PassThroughSax {
 public:
  SyntaxOnly(const std::string& text, const std::string& file) : text_(text), file_(file) {}
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    throw InputError(MalformedJsonMessage(text_, file_, position, e.what()));
  }

 private:
  const std::string& text_;
  const std::string& file_;
};

}  // namespace

double JsonValue::Number() const {
  switch (type) {
    case JsonType::kInteger:
      return static_cast<double>(integer);
    case JsonType::kUnsigned:
      return static_cast<double>(uinteger);
    case JsonType::kFloat:
      // As nlohmann: strtod of the number's text (NUL-terminated here).
      return std::strtod(std::string(text).c_str(), nullptr);
    default:
      return 0.0;
  }
}

json JsonValue::ToJson() const {
  switch (type) {
    case JsonType::kNull:
      return json(nullptr);
    case JsonType::kBool:
      return json(boolean);
    case JsonType::kInteger:
      return json(integer);
    case JsonType::kUnsigned:
      return json(uinteger);
    case JsonType::kFloat:
      return json(Number());
    case JsonType::kString:
      return json(std::string(text));
    case JsonType::kObject:
    case JsonType::kArray:
      return tree != nullptr ? *tree : json();
  }
  return json();
}

void JsonValue::AssignTo(json& slot) const {
  if (type == JsonType::kString && slot.is_string()) {
    slot.get_ref<std::string&>().assign(text.data(), text.size());
  } else {
    slot = ToJson();
  }
}

JsonReader::JsonReader(ByteSource& source, std::string file)
    : source_(source), file_(std::move(file)) {}

std::string_view JsonReader::key() const {
  return frames_.empty() || frames_.back().array ? std::string_view() : frames_.back().key;
}

size_t JsonReader::index() const {
  return frames_.empty() || !frames_.back().array ? 0 : frames_.back().index;
}

std::string JsonReader::Path() const {
  std::string path;
  for (const Frame& f : frames_) {
    if (f.array) {
      path += "[" + std::to_string(f.index) + "]";
    } else {
      if (!path.empty()) path += '.';
      path += f.key;
    }
  }
  return path;
}

void JsonReader::FailSyntax() {
  const std::string text = source_.WholeText();
  SyntaxOnly sax(text, file_);
  json::sax_parse(text, &sax);
  // nlohmann takes a NUL byte for the end of the input, and so accepts a
  // document with anything after one; this reader does not.
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    throw InputError(MalformedJsonMessage(text, file_, nul + 1, "unexpected NUL byte"));
  COTENANT_CHECK_MSG(false, file_ + ": the JSON reader rejected a document nlohmann accepts");
  std::abort();
}

bool JsonReader::Refill() {
  while (!at_end_) {
    std::string_view chunk;
    try {
      chunk = source_.Next();
    } catch (const InputError&) {
      source_failed_ = true;
      throw;
    }
    if (chunk.empty()) {
      at_end_ = true;
      break;
    }
    p_ = chunk.data();
    end_ = p_ + chunk.size();
    consumed_ += static_cast<int64_t>(chunk.size());
    return true;
  }
  p_ = end_ = nullptr;
  return false;
}

int JsonReader::Get() {
  if (p_ == end_ && !Refill()) return -1;
  return static_cast<unsigned char>(*p_++);
}

int JsonReader::SkipSpace() {
  for (;;) {
    while (p_ != end_) {
      const char c = *p_;
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return static_cast<unsigned char>(c);
      ++p_;
    }
    if (!Refill()) return -1;
  }
}

void JsonReader::Literal(const char* word) {
  for (const char* w = word; *w != '\0'; ++w) {
    if (Get() != static_cast<unsigned char>(*w)) throw SyntaxError{};
  }
}

unsigned JsonReader::Hex4() {
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    const int c = Get();
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<unsigned>(c - 'A' + 10);
    } else {
      throw SyntaxError{};
    }
  }
  return v;
}

void JsonReader::AppendUtf8(unsigned char lead) {
  // The well-formed sequences of RFC 3629 (those nlohmann's lexer takes):
  // the second byte's range depends on the lead byte.
  int more = 0;
  int lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    more = 1;
  } else if (lead == 0xE0) {
    more = 2, lo = 0xA0;
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    more = 2;
  } else if (lead == 0xED) {
    more = 2, hi = 0x9F;
  } else if (lead == 0xF0) {
    more = 3, lo = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    more = 3;
  } else if (lead == 0xF4) {
    more = 3, hi = 0x8F;
  } else {
    throw SyntaxError{};
  }
  scratch_ += static_cast<char>(lead);
  for (int i = 0; i < more; ++i) {
    const int c = Get();
    if (c < lo || c > hi) throw SyntaxError{};
    scratch_ += static_cast<char>(c);
    lo = 0x80, hi = 0xBF;
  }
}

std::string_view JsonReader::String() {
  ++p_;  // the opening quote
  // Fast path: plain ASCII up to the closing quote within this chunk.
  const char* start = p_;
  while (p_ != end_) {
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') return std::string_view(start, static_cast<size_t>(p_++ - start));
    if (c == '\\' || c < 0x20 || c >= 0x80) break;
    ++p_;
  }
  scratch_.assign(start, p_);
  for (;;) {
    // Runs of plain bytes, copied at once.
    start = p_;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++p_;
    }
    scratch_.append(start, p_);
    if (p_ == end_) {
      if (!Refill()) throw SyntaxError{};  // the text ends inside the string
      continue;
    }
    const auto c = static_cast<unsigned char>(*p_++);
    if (c == '"') return scratch_;
    if (c < 0x20) throw SyntaxError{};  // a control character
    if (c >= 0x80) {
      AppendUtf8(static_cast<unsigned char>(c));
      continue;
    }
    // c == '\\'
    switch (Get()) {
      case '"':
        scratch_ += '"';
        break;
      case '\\':
        scratch_ += '\\';
        break;
      case '/':
        scratch_ += '/';
        break;
      case 'b':
        scratch_ += '\b';
        break;
      case 'f':
        scratch_ += '\f';
        break;
      case 'n':
        scratch_ += '\n';
        break;
      case 'r':
        scratch_ += '\r';
        break;
      case 't':
        scratch_ += '\t';
        break;
      case 'u': {
        unsigned cp = Hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) throw SyntaxError{};
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (Get() != '\\' || Get() != 'u') throw SyntaxError{};
          const unsigned low = Hex4();
          if (low < 0xDC00 || low > 0xDFFF) throw SyntaxError{};
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) {
          scratch_ += static_cast<char>(cp);
        } else if (cp < 0x800) {
          scratch_ += static_cast<char>(0xC0 | (cp >> 6));
          scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          scratch_ += static_cast<char>(0xE0 | (cp >> 12));
          scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          scratch_ += static_cast<char>(0xF0 | (cp >> 18));
          scratch_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        throw SyntaxError{};
    }
  }
}

void JsonReader::Number(JsonValue* v) {
  // nlohmann's number automaton: the token ends at the first byte that
  // cannot continue it; a byte missing where one is required is an error.
  enum State { kStart, kMinus, kZero, kInt, kDot, kFrac, kE, kSign, kExp };
  State s = kStart;
  bool is_float = false;
  bool has_exponent = false;
  int int_digits = 0;
  const char* start = p_;
  bool spilled = false;  // the token crossed a chunk boundary: it is in scratch_
  for (;;) {
    if (p_ == end_) {
      if (!spilled) scratch_.clear();
      scratch_.append(start, p_);
      spilled = true;
      Refill();
      start = p_;
    }
    const int c = p_ == end_ ? -1 : static_cast<unsigned char>(*p_);
    State next = s;
    switch (s) {
      case kStart:
        next = c == '-' ? kMinus : c == '0' ? kZero : kInt;  // the caller saw '-' or a digit
        break;
      case kMinus:
        if (!IsDigit(c)) throw SyntaxError{};
        next = c == '0' ? kZero : kInt;
        break;
      case kZero:
      case kInt:
      case kFrac:
        if (s == kInt && IsDigit(c)) {
          next = kInt;
        } else if (s == kFrac && IsDigit(c)) {
          next = kFrac;
        } else if (s != kFrac && c == '.') {
          next = kDot;
        } else if (c == 'e' || c == 'E') {
          next = kE;
        } else {
          goto done;
        }
        break;
      case kDot:
        if (!IsDigit(c)) throw SyntaxError{};
        next = kFrac;
        break;
      case kE:
        if (c == '+' || c == '-') {
          next = kSign;
        } else if (IsDigit(c)) {
          next = kExp;
        } else {
          throw SyntaxError{};
        }
        break;
      case kSign:
        if (!IsDigit(c)) throw SyntaxError{};
        next = kExp;
        break;
      case kExp:
        if (!IsDigit(c)) goto done;
        next = kExp;
        break;
    }
    if (next == kDot || next == kE) is_float = true;
    if (next == kE) has_exponent = true;
    if (next == kInt) ++int_digits;
    s = next;
    ++p_;
  }
done:
  if (spilled) {
    scratch_.append(start, p_);
    v->text = scratch_;
  } else {
    v->text = std::string_view(start, static_cast<size_t>(p_ - start));
  }
  if (!is_float) {
    // As nlohmann: strtoll / strtoull, and a double when out of range.
    char buf[32];
    if (v->text.size() < sizeof buf) {
      std::memcpy(buf, v->text.data(), v->text.size());
      buf[v->text.size()] = '\0';
      errno = 0;
      if (buf[0] == '-') {
        const long long x = std::strtoll(buf, nullptr, 10);
        if (errno == 0) {
          v->type = JsonType::kInteger;
          v->integer = x;
          return;
        }
      } else {
        const unsigned long long x = std::strtoull(buf, nullptr, 10);
        if (errno == 0) {
          v->type = JsonType::kUnsigned;
          v->uinteger = x;
          return;
        }
      }
    }
  }
  v->type = JsonType::kFloat;
  // nlohmann rejects a number too large for a double ("number overflow"):
  // only an exponent or more than 300 digits can make one.
  if ((has_exponent || int_digits > 300) && !std::isfinite(v->Number())) throw SyntaxError{};
}

void JsonReader::Key(JsonHandler& handler, std::string_view k) {
  if (capturing_) {
    tree_key_.assign(k.data(), k.size());
  } else {
    frames_.back().key.assign(k.data(), k.size());
    handler.Key(*this);
  }
}

void JsonReader::Open(JsonHandler& handler, JsonType type) {
  if (!capturing_) {
    if (handler.Begin(*this, type)) {
      frames_.push_back(Frame{type == JsonType::kArray, 0, std::string()});
      open_.push_back(type);
      return;
    }
    capturing_ = true;
    capture_base_ = open_.size();
    tree_ = type == JsonType::kObject ? json::object() : json::array();
    tree_stack_.assign(1, &tree_);
    open_.push_back(type);
    return;
  }
  json empty = type == JsonType::kObject ? json::object() : json::array();
  json& top = *tree_stack_.back();
  if (top.is_array()) {
    top.push_back(std::move(empty));
    tree_stack_.push_back(&top.back());
  } else {
    json& slot = top[tree_key_];
    slot = std::move(empty);
    tree_stack_.push_back(&slot);
  }
  open_.push_back(type);
}

void JsonReader::Close(JsonHandler& handler, JsonType type) {
  open_.pop_back();
  if (capturing_) {
    tree_stack_.pop_back();
    if (open_.size() != capture_base_) return;
    capturing_ = false;
    JsonValue v;
    v.type = type;
    v.tree = &tree_;
    handler.Value(*this, v);
    tree_ = json();
    return;
  }
  frames_.pop_back();
  handler.End(*this, type);
}

void JsonReader::Emit(JsonHandler& handler, const JsonValue& v) {
  if (!capturing_) {
    handler.Value(*this, v);
    return;
  }
  json& top = *tree_stack_.back();
  if (top.is_array()) {
    top.push_back(v.ToJson());
  } else {
    top[tree_key_] = v.ToJson();
  }
}

void JsonReader::Parse(JsonHandler& handler) {
  enum class Want { kValue, kValueOrClose, kKey, kKeyOrClose, kNext };
  Want want = Want::kValue;
  Refill();
  // A byte order mark may open the text (nlohmann skips it).
  if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {
    ++p_;
    if (Get() != 0xBB || Get() != 0xBF) throw SyntaxError{};
  }
  for (;;) {
    const int c = SkipSpace();
    switch (want) {
      case Want::kValueOrClose:
        if (c == ']') {
          ++p_;
          Close(handler, JsonType::kArray);
          want = Want::kNext;
          continue;
        }
        [[fallthrough]];
      case Want::kValue: {
        JsonValue v;
        switch (c) {
          case '{':
            ++p_;
            Open(handler, JsonType::kObject);
            want = Want::kKeyOrClose;
            continue;
          case '[':
            ++p_;
            Open(handler, JsonType::kArray);
            want = Want::kValueOrClose;
            continue;
          case '"':
            v.type = JsonType::kString;
            v.text = String();
            break;
          case 't':
            Literal("true");
            v.type = JsonType::kBool;
            v.boolean = true;
            break;
          case 'f':
            Literal("false");
            v.type = JsonType::kBool;
            break;
          case 'n':
            Literal("null");
            break;
          default:
            if (c != '-' && !IsDigit(c)) throw SyntaxError{};
            Number(&v);
        }
        Emit(handler, v);
        want = Want::kNext;
        continue;
      }
      case Want::kKeyOrClose:
        if (c == '}') {
          ++p_;
          Close(handler, JsonType::kObject);
          want = Want::kNext;
          continue;
        }
        [[fallthrough]];
      case Want::kKey:
        if (c != '"') throw SyntaxError{};
        Key(handler, String());
        if (SkipSpace() != ':') throw SyntaxError{};
        ++p_;
        want = Want::kValue;
        continue;
      case Want::kNext:
        if (open_.empty()) {
          if (c != -1) throw SyntaxError{};
          return;
        }
        if (c == ',') {
          ++p_;
          if (open_.back() == JsonType::kObject) {
            want = Want::kKey;
          } else {
            if (!capturing_) ++frames_.back().index;
            want = Want::kValue;
          }
          continue;
        }
        if (c == (open_.back() == JsonType::kObject ? '}' : ']')) {
          ++p_;
          Close(handler, open_.back());
          continue;
        }
        throw SyntaxError{};
    }
  }
}

void JsonReader::Read(JsonHandler& handler) {
  try {
    Parse(handler);
  } catch (const SyntaxError&) {
    FailSyntax();
  } catch (const InputError&) {
    // The source's own errors come first, as when the text was read whole.
    if (!source_failed_) source_.Drain();
    throw;
  }
}

}  // namespace cotenant
