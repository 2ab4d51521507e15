// Tests of sim/json_stream (the streaming JSON reader) and sim/byte_source:
// the same values and errors as nlohmann's parser, whatever the chunk
// boundaries; paths for messages; containers received whole.
#include "sim/json_stream.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "sim/error.h"
#include "sim/json_util.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using nlohmann::json;
using testing::ErrorOf;
using testing::TempDir;

/// Text in chunks of `size` bytes (1 cuts every token).
class ChunkedSource : public ByteSource {
 public:
  ChunkedSource(std::string text, size_t size) : text_(std::move(text)), size_(size) {}
  std::string_view Next() override {
    const size_t n = std::min(size_, text_.size() - at_);
    const std::string_view chunk(text_.data() + at_, n);
    at_ += n;
    return chunk;
  }
  std::string WholeText() override { return text_; }

 private:
  std::string text_;
  size_t size_;
  size_t at_ = 0;
};

std::string Show(const json& v) { return v.dump() + ":" + JsonTypeName(v); }

/// Writes every event as a line "PATH EVENT"; containers whose path is in
/// `whole` are received whole.
class Recorder : public JsonHandler {
 public:
  std::string log;
  std::vector<std::string> whole;

  bool Begin(JsonReader& r, JsonType type) override {
    const bool walk = std::find(whole.begin(), whole.end(), r.Path()) == whole.end();
    if (walk) log += r.Path() + (type == JsonType::kObject ? " {\n" : " [\n");
    return walk;
  }
  void End(JsonReader& r, JsonType type) override {
    log += r.Path() + (type == JsonType::kObject ? " }\n" : " ]\n");
  }
  void Value(JsonReader& r, const JsonValue& v) override {
    log += r.Path() + " = " + Show(v.ToJson()) + "\n";
  }
};

/// The same lines from nlohmann's SAX parser (no paths: compare with
/// StripPaths of a Recorder's log).
class NlohmannRecorder : public nlohmann::json_sax<json> {
 public:
  std::string log;
  bool null() override { return Add(json(nullptr)); }
  bool boolean(bool v) override { return Add(json(v)); }
  bool number_integer(number_integer_t v) override { return Add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Add(json(v)); }
  bool string(string_t& v) override { return Add(json(v)); }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Line("{"); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return Line("}"); }
  bool start_array(std::size_t) override { return Line("["); }
  bool end_array() override { return Line("]"); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    log += "error\n";
    return false;
  }

 private:
  bool Add(const json& v) { return Line("= " + Show(v)); }
  bool Line(const std::string& s) {
    log += s + "\n";
    return true;
  }
};

std::string StripPaths(const std::string& log) {
  std::string out;
  size_t at = 0;
  while (at < log.size()) {
    const size_t nl = log.find('\n', at);
    const std::string line = log.substr(at, nl - at);
    // "PATH = v", "PATH {": the event starts after the last space before it.
    size_t ev = line.find(" = ");
    ev = ev != std::string::npos ? ev + 1 : line.rfind(' ') + 1;
    out += line.substr(ev) + "\n";
    at = nl + 1;
  }
  return out;
}

/// Reads `text` in chunks of `chunk` bytes; the log, then "error\n" if it
/// was rejected as malformed.
std::string ReadLog(const std::string& text, size_t chunk, std::string* message = nullptr) {
  ChunkedSource source(text, chunk);
  JsonReader reader(source, "t.json");
  Recorder rec;
  try {
    reader.Read(rec);
  } catch (const InputError& e) {
    if (message != nullptr) *message = e.what();
    return StripPaths(rec.log) + "error\n";
  }
  return StripPaths(rec.log);
}

std::string NlohmannLog(const std::string& text) {
  NlohmannRecorder rec;
  json::sax_parse(text, &rec);
  return rec.log;
}

}  // namespace

TEST_CASE("JsonReader: values and paths, walked and received whole", "[json_stream]") {
  const std::string text =
      R"({"a": [1, -2, 3.5, "x\u00e9\n", true, null, {"b": []}], "c": {"d": {"e": [7]}}, "":0})";
  Recorder rec;
  rec.whole = {"c.d"};
  TextSource source(text);
  JsonReader reader(source, "t.json");
  reader.Read(rec);
  CHECK(rec.log ==
        " {\n"
        "a [\n"
        "a[0] = 1:an integer\n"
        "a[1] = -2:an integer\n"
        "a[2] = 3.5:a number\n"
        "a[3] = \"xé\\n\":a string\n"
        "a[4] = true:a boolean\n"
        "a[5] = null:null\n"
        "a[6] {\n"
        "a[6].b [\n"
        "a[6].b ]\n"
        "a[6] }\n"
        "a ]\n"
        "c {\n"
        "c.d = {\"e\":[7]}:an object\n"
        "c }\n"
        " = 0:an integer\n"
        " }\n");
}

TEST_CASE("JsonReader: numbers as nlohmann reads them", "[json_stream]") {
  struct Case {
    const char* text;
    JsonType type;
  };
  const Case cases[] = {
      {"0", JsonType::kUnsigned},
      {"-0", JsonType::kInteger},
      {"9223372036854775807", JsonType::kUnsigned},
      {"-9223372036854775808", JsonType::kInteger},
      {"-9223372036854775809", JsonType::kFloat},  // below int64
      {"18446744073709551615", JsonType::kUnsigned},
      {"18446744073709551616", JsonType::kFloat},  // above uint64
      {"1690000000000000.123", JsonType::kFloat},
      {"-1.5E-3", JsonType::kFloat},
  };
  for (const Case& c : cases) {
    for (size_t chunk : {1, 3, 100}) {
      ChunkedSource source(c.text, chunk);
      JsonReader reader(source, "t.json");
      struct : JsonHandler {
        JsonValue got;
        std::string text;
        json value;
        bool Begin(JsonReader&, JsonType) override { return true; }
        void End(JsonReader&, JsonType) override {}
        void Value(JsonReader&, const JsonValue& v) override {
          got = v;
          text = std::string(v.text);
          value = v.ToJson();
        }
      } h;
      reader.Read(h);
      INFO(c.text << " in chunks of " << chunk);
      CHECK(h.got.type == c.type);
      CHECK(h.text == c.text);  // the number as written, for exact conversions
      CHECK(h.value == json::parse(c.text));
      CHECK(h.value.type() == json::parse(c.text).type());
    }
  }
}

TEST_CASE("JsonReader: exact messages for malformed and truncated text", "[json_stream]") {
  const auto error = [](const std::string& text) {
    std::string message;
    ReadLog(text, 2, &message);
    return message;
  };
  CHECK(error("{\"a\": [1, 2,]}") ==
        "t.json:1:13: malformed JSON: unexpected ']'; expected '[', '{', or a literal");
  CHECK(error("{\"traceEvents\": [") ==
        "t.json:1:18: malformed JSON: unexpected end of input; expected '[', '{', or a literal");
  CHECK(error("") ==
        "t.json:1:1: malformed JSON: unexpected end of input; expected '[', '{', or a literal");
  CHECK(error("{\"a\":\n tru}") ==
        R"(t.json:2:5: malformed JSON: invalid literal; last read: '"a":<U+000A> tru}')");
  CHECK(error("[1] 2") ==
        "t.json:1:5: malformed JSON: unexpected number literal; expected end of input");
  CHECK(error("[\"a\nb\"]") ==
        "t.json:1:4: malformed JSON: invalid string: control character U+000A (LF) must be "
        "escaped to \\u000A or \\n; last read: '\"a<U+000A>'");
  // nlohmann stops at a NUL byte and accepts what comes before; this reader
  // rejects the document and says where (found by the kineto fuzz target).
  CHECK(error(std::string("{\"a\": 1}\0\0 x", 12)) ==
        "t.json:1:9: malformed JSON: unexpected NUL byte");
  // (Inside a value nlohmann itself stops there, and words it as the end.)
  CHECK(error(std::string("{\"a\":\n [1,\0]}", 14)) ==
        "t.json:2:5: malformed JSON: unexpected end of input; expected '[', '{', or a literal");
}

TEST_CASE("JsonReader: accepts and rejects what nlohmann does, event for event", "[json_stream]") {
  const std::vector<std::string> seeds = {
      R"({"traceEvents": [{"ph": "X", "cat": "kernel", "ts": 1001.5, "dur": 2e1,
         "args": {"grid": [1, 2, 3], "External id": 12, "name": "a\"b\\c\/\u00e9\ud83d\ude00"}},
         {"ph": "i", "s": "g", "pid": -1, "tid": "stream 7", "x": [true, false, null, {}]}],
         "deviceProperties": [{"id": 0, "name": "H100"}], "baseTimeNanoseconds": 18446744073709551615})",
      "[0, -0, 0.5, -0.0e+1, 1E-2, \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", [[[]]], {\"\": {}}]",
  };
  const std::string alphabet = "{}[],:\"\\ \n01-.eE+tfnulrsa/\xef\xbb\xbf\xc3\xa9\xed\xa0\x80\x7f";
  std::mt19937 rng(12);
  int rejected = 0, total = 0;
  for (const std::string& seed : seeds) {
    for (int i = 0; i < 3000; ++i) {
      std::string text = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % text.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0:
            text[at] = c;
            break;
          case 1:
            text.insert(at, 1, c);
            break;
          default:
            text.erase(at, 1 + rng() % 4);
        }
        if (text.empty()) text = "x";
      }
      if (i % 10 == 0) text = seed.substr(0, rng() % seed.size());  // truncated
      const std::string want = NlohmannLog(text);
      const size_t chunk = 1 + rng() % 7;
      INFO(text << " in chunks of " << chunk);
      REQUIRE(ReadLog(text, chunk) == want);
      rejected += want.size() >= 6 && want.compare(want.size() - 6, 6, "error\n") == 0;
      ++total;
    }
  }
  // Both kinds of text were tried.
  CHECK(rejected > total / 4);
  CHECK(total - rejected > total / 20);
}

TEST_CASE("JsonReader: deep nesting, a byte order mark, big documents", "[json_stream]") {
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  CHECK(ReadLog(deep, 4096) == NlohmannLog(deep));
  CHECK(ReadLog("\xef\xbb\xbf{}", 1) == "{\n}\n");
  std::string message;
  ReadLog("\xef\xbb{}", 1, &message);
  CHECK(message ==
        "t.json:1:3: malformed JSON: invalid BOM; must be 0xEF 0xBB 0xBF if given; "
        "last read: '\xef\xbb{'");
  std::string big = "[";
  for (int i = 0; i < 20000; ++i) big += (i ? "," : "") + std::to_string(i) + ".25";
  big += "]";
  CHECK(ReadLog(big, 1000) == NlohmannLog(big));
}

TEST_CASE("JsonReader: a handler's error names the path; the source's comes first",
          "[json_stream]") {
  struct Strict : JsonHandler {
    bool Begin(JsonReader&, JsonType) override { return true; }
    void End(JsonReader&, JsonType) override {}
    void Value(JsonReader& r, const JsonValue& v) override {
      if (v.type == JsonType::kString) {
        FailAt(r.file(), r.Path(), "expected a number, found \"" + std::string(v.text) + "\"");
      }
    }
  } strict;
  TextSource text(R"({"tasks": [{"id": 1}, {"id": "x"}]})");
  JsonReader reader(text, "t.json");
  CHECK(ErrorOf([&] { reader.Read(strict); }) ==
        "t.json: tasks[1].id: expected a number, found \"x\"");

  // A gzip file cut short: its own error, though the handler's comes earlier
  // in the text.
  TempDir dir("cotenant_json_stream");
  std::string doc = R"({"tasks": [{"id": "x"})";
  for (int i = 0; i < 100000; ++i) doc += ", {\"id\": " + std::to_string(i) + "}";
  doc += "]}";
  WriteFileAtomic(dir / "t.json.gz", doc);
  std::string packed = ReadFileText(dir / "t.json.gz");
  CHECK(packed == doc);
  {
    FileSource whole(dir / "t.json.gz");
    JsonReader r(whole, "t.json.gz");
    CHECK(ErrorOf([&] { r.Read(strict); }) ==
          "t.json.gz: tasks[0].id: expected a number, found \"x\"");
  }
  std::filesystem::resize_file(dir / "t.json.gz",
                               std::filesystem::file_size(dir / "t.json.gz") - 9);
  FileSource cut(dir / "t.json.gz");
  JsonReader r(cut, dir / "t.json.gz");
  CHECK(ErrorOf([&] { r.Read(strict); }) ==
        dir / "t.json.gz" + ": corrupt gzip data: unexpected end of compressed data");
}

TEST_CASE("FileSource: chunks of a plain and a gzip file give the text", "[json_stream]") {
  TempDir dir("cotenant_byte_source");
  std::string text;
  for (int i = 0; i < 300000; ++i) text += std::to_string(int64_t{i} * 7919 % 1000003) + ' ';
  WriteFileAtomic(dir / "a.txt", text);
  WriteFileAtomic(dir / "a.txt.gz", text);
  for (const std::string name : {"a.txt", "a.txt.gz"}) {
    FileSource source(dir / name);
    std::string got;
    size_t chunks = 0;
    for (std::string_view c = source.Next(); !c.empty(); c = source.Next(), ++chunks) got += c;
    CHECK(got == text);
    CHECK(chunks == (text.size() + FileSource::kChunkBytes - 1) / FileSource::kChunkBytes);
    CHECK(source.WholeText() == text);
  }
}

}  // namespace cotenant
