// Tests of sim/json_util: file reading (.gz), JSON syntax errors, atomic
// writes and strict field access with exact messages.
#include "sim/json_util.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "sim/error.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::ErrorOf;
using testing::kData;
using testing::TempDir;

namespace fs = std::filesystem;
using nlohmann::json;

void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("ReadFileText: plain, gzip and errors", "[formats]") {
  const std::string plain = ReadFileText(kData + "/formats/trace_good.json");
  CHECK(plain.substr(0, 30) == "{\"schema\": \"cotenant.trace/1\",");
  CHECK(ReadFileText(kData + "/formats/trace_good.json.gz") == plain);

  CHECK(ErrorOf([] { ReadFileText("/nonexistent/x.json"); }) ==
        "/nonexistent/x.json: cannot open: No such file or directory");
  CHECK(ErrorOf([] { ReadFileText(kData + "/formats"); }) ==
        kData + "/formats: cannot open: Is a directory");
  CHECK(ErrorOf([] { ReadFileText(kData + "/bad/corrupt.json.gz"); }) ==
        kData + "/bad/corrupt.json.gz: corrupt gzip data: incorrect header check");

  TempDir tmp;
  const std::string gz = ReadFileText(kData + "/formats/trace_good.json.gz");  // decompressed
  std::string packed;
  {
    std::ifstream in(kData + "/formats/trace_good.json.gz", std::ios::binary);
    packed.assign(std::istreambuf_iterator<char>(in), {});
  }
  WriteRaw(tmp / "cut.json.gz", packed.substr(0, packed.size() / 2));
  CHECK(ErrorOf([&] { ReadFileText(tmp / "cut.json.gz"); }) ==
        tmp / "cut.json.gz" + ": corrupt gzip data: unexpected end of compressed data");
  // Two concatenated gzip members read as one stream, as gzip -d does.
  WriteRaw(tmp / "two.json.gz", packed + packed);
  CHECK(ReadFileText(tmp / "two.json.gz") == gz + gz);
  WriteRaw(tmp / "empty.json", "");
  CHECK(ReadFileText(tmp / "empty.json").empty());
}

TEST_CASE("ReadFileText: the size limit can be lowered for tests", "[formats]") {
  const std::string plain = kData + "/formats/trace_good.json";
  const std::string gz = kData + "/formats/trace_good.json.gz";
  const size_t size = ReadFileText(plain).size();
  CHECK(MaxInputBytes() == kMaxInputBytes);
  setenv("COTENANT_MAX_INPUT_BYTES", std::to_string(size).c_str(), 1);
  CHECK(MaxInputBytes() == static_cast<int64_t>(size));
  CHECK(ReadFileText(plain).size() == size);  // exactly at the limit
  CHECK(ReadFileText(gz).size() == size);
  setenv("COTENANT_MAX_INPUT_BYTES", std::to_string(size - 1).c_str(), 1);
  const std::string over = ": file too large: over " + std::to_string(size - 1) + " bytes";
  CHECK(ErrorOf([&] { ReadFileText(plain); }) == plain + over);
  CHECK(ErrorOf([&] { ReadFileText(gz); }) == gz + over);
  setenv("COTENANT_MAX_INPUT_BYTES", "junk", 1);
  CHECK(MaxInputBytes() == kMaxInputBytes);
  unsetenv("COTENANT_MAX_INPUT_BYTES");
}

TEST_CASE("ParseJsonText: syntax errors name line and column", "[formats]") {
  CHECK(ParseJsonText("{\"a\": [1, 2]}", "x.json")["a"][1] == 2);
  CHECK(ErrorOf([] { ParseJsonText("{\"a\": 1,\n \"b\": x}", "x.json"); }) ==
        "x.json:2:7: malformed JSON: invalid literal; last read: '\"b\": x'");
  CHECK(ErrorOf([] { ParseJsonText("{\"a\": 1,\n \"b\": [1,2", "x.json"); }) ==
        "x.json:2:11: malformed JSON: unexpected end of input; expected ']'");
  CHECK(ErrorOf([] { ParseJsonText("", "x.json"); }) ==
        "x.json:1:1: malformed JSON: unexpected end of input; expected '[', '{', or a literal");
  CHECK(ErrorOf([] { ParseJsonText("[1,\n2,,3]", "x.json"); }) ==
        "x.json:2:3: malformed JSON: unexpected ','; expected '[', '{', or a literal");
}

TEST_CASE("ParseJsonText: a number too large for a double is malformed JSON", "[formats]") {
  // nlohmann throws out_of_range (406) for it, not parse_error: found by the
  // workload and plan fuzz targets (tests/fuzz/), it escaped as a bare
  // "[json.exception.out_of_range.406] ..." without the file.
  CHECK(ErrorOf([] { ParseJsonText("{\"a\": [1,\n 1e400]}", "x.json"); }) ==
        "x.json:2:6: malformed JSON: number overflow parsing '1e400'");
  CHECK(ErrorOf([] { ParseJsonText("-1e999", "x.json"); }) ==
        "x.json:1:6: malformed JSON: number overflow parsing '-1e999'");
  // The streaming trace reader says the same.
  CHECK(ErrorOf([] { ParseTrace("{\"a\": [1,\n 1e400]}", "x.json"); }) ==
        "x.json:2:6: malformed JSON: number overflow parsing '1e400'");
}

TEST_CASE("MalformedJsonMessage: line and column from the byte offset", "[formats]") {
  const std::string text = "ab\ncd\n\nef";
  CHECK(MalformedJsonMessage(text, "f", 1, "x - why") == "f:1:1: malformed JSON: why");
  CHECK(MalformedJsonMessage(text, "f", 4, "x - why") == "f:2:1: malformed JSON: why");
  CHECK(MalformedJsonMessage(text, "f", 8, "x - why") == "f:4:1: malformed JSON: why");
  CHECK(MalformedJsonMessage(text, "f", 99, "x - why") ==
        "f:4:3: malformed JSON: unexpected end of input; why");
  CHECK(MalformedJsonMessage(text, "f", 99, "x - unexpected end of input") ==
        "f:4:3: malformed JSON: unexpected end of input");
}

TEST_CASE("WriteFileAtomic: writes, compresses .gz, cleans up on failure", "[formats]") {
  TempDir tmp;
  WriteFileAtomic(tmp / "a.json", "{\"x\": 1}\n");
  CHECK(ReadFileText(tmp / "a.json") == "{\"x\": 1}\n");
  WriteFileAtomic(tmp / "a.json", "replaced");
  CHECK(ReadFileText(tmp / "a.json") == "replaced");
  WriteFileAtomic(tmp / "b.json.gz", "compressed text");
  CHECK(ReadFileText(tmp / "b.json.gz") == "compressed text");
  CHECK(ReadFileText(tmp / "b.json.gz").size() != fs::file_size(tmp / "b.json.gz"));

  CHECK(ErrorOf([&] { WriteFileAtomic(tmp / "no/such/dir.json", "x"); }) ==
        tmp / "no/such/dir.json" + ": cannot write: No such file or directory");
  // The target is a directory: the rename fails and the temporary goes away.
  fs::create_directories(tmp / "adir");
  CHECK(ErrorOf([&] { WriteFileAtomic(tmp / "adir", "x"); }) ==
        tmp / "adir" + ": cannot write: Is a directory");
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 2);  // a.json, b.json.gz: no temporaries left
}

TEST_CASE("JsonFields: unknown keys with and without a hint", "[formats]") {
  const json j = json::parse(R"({"strat_ns": 1})");
  CHECK(ErrorOf([&] {
          JsonFields(j, "t.json", "tasks[3]", {"start_ns", "dur_ns"});
        }) == "t.json: tasks[3].strat_ns: unknown key; did you mean \"start_ns\"?");
  const json k = json::parse(R"({"colour": 1})");
  CHECK(ErrorOf([&] {
          JsonFields(k, "t.json", "", {"start_ns", "dur_ns"});
        }) == "t.json: colour: unknown key");
  CHECK(ErrorOf([&] { JsonFields(json::array(), "t.json", "tenants[0]", {}); }) ==
        "t.json: tenants[0]: expected an object, found an array");
}

TEST_CASE("JsonFields: typed access and messages", "[formats]") {
  const json j = json::parse(R"({"neg": -5, "str": "abc", "half": 1.5, "three": 3.0,
      "big": 18446744073709551615, "u": 9223372036854775807, "b": true, "n": null,
      "kind": "kernal", "obj": {"rate_hz": "x"}})");
  const JsonFields f(
      j, "w.json", "",
      {"neg", "str", "half", "three", "big", "u", "b", "n", "kind", "obj", "absent"});
  CHECK(f.Int("neg") == -5);
  CHECK(f.Int("three") == 3);
  CHECK(f.Int("u") == 9223372036854775807LL);
  CHECK(f.Int("absent", 42) == 42);
  CHECK(f.NonNegInt("absent", 7) == 7);
  CHECK(f.Number("half") == 1.5);
  CHECK(f.Number("absent", 2.5) == 2.5);
  CHECK(f.String("str") == "abc");
  CHECK(f.String("absent", "d") == "d");
  CHECK(f.Bool("b", false));
  CHECK(f.Bool("absent", true));
  CHECK(f.Has("n"));
  CHECK_FALSE(f.Has("absent"));

  CHECK(ErrorOf([&] { f.NonNegInt("neg"); }) ==
        "w.json: neg: expected a non-negative integer, found -5");
  CHECK(ErrorOf([&] { f.NonNegInt("str"); }) ==
        "w.json: str: expected a non-negative integer, found a string");
  CHECK(ErrorOf([&] { f.Int("half"); }) == "w.json: half: expected an integer, found 1.5");
  CHECK(ErrorOf([&] { f.Int("big"); }) ==
        "w.json: big: expected an integer, found 18446744073709551615");
  CHECK(ErrorOf([&] { f.Int("n"); }) == "w.json: n: expected an integer, found null");
  CHECK(ErrorOf([&] { f.IntIn("neg", 1, 255); }) ==
        "w.json: neg: expected an integer in 1..255, found -5");
  CHECK(ErrorOf([&] { f.IntIn("neg", 1, std::numeric_limits<int64_t>::max()); }) ==
        "w.json: neg: expected a positive integer, found -5");
  CHECK(ErrorOf([&] { f.Number("str"); }) == "w.json: str: expected a number, found a string");
  CHECK(ErrorOf([&] { f.String("neg"); }) == "w.json: neg: expected a string, found -5");
  CHECK(ErrorOf([&] { f.Bool("str", false); }) ==
        "w.json: str: expected a boolean, found a string");
  CHECK(ErrorOf([&] { f.Get("absent"); }) == "w.json: absent: missing required field");
  CHECK(ErrorOf([&] { f.Int("absent"); }) == "w.json: absent: missing required field");
  CHECK(f.Choice("str", {"x", "abc"}) == 1);
  CHECK(f.Choice("absent", {"x"}, 0) == 0);
  CHECK(ErrorOf([&] {
          f.Choice("kind", {"launch", "kernel"});
        }) ==
        "w.json: kind: expected one of \"launch\", \"kernel\", found \"kernal\"; did you mean "
        "\"kernel\"?");
  CHECK(ErrorOf([&] { f.Choice("neg", {"a"}); }) == "w.json: neg: expected one of \"a\", found -5");

  const JsonFields obj(f.Get("obj"), f.file(), "tenants[0].arrival", {"rate_hz"});
  CHECK(obj.PathOf("rate_hz") == "tenants[0].arrival.rate_hz");
  CHECK(ErrorOf([&] { obj.Number("rate_hz"); }) ==
        "w.json: tenants[0].arrival.rate_hz: expected a number, found a string");
}

TEST_CASE("ClosestMatch and friends", "[formats]") {
  const std::vector<std::string> keys = {"start_ns", "dur_ns", "stream", "correlation"};
  CHECK(ClosestMatch("strat_ns", keys) == "start_ns");
  CHECK(ClosestMatch("dur", keys).empty());  // 3 edits: more than max(2, 3/3)
  CHECK(ClosestMatch("durns", keys) == "dur_ns");
  CHECK(ClosestMatch("corelation", keys) == "correlation");
  CHECK(ClosestMatch("xyz", keys).empty());
  CHECK(ClosestMatch("anything", {}).empty());
  CHECK(DidYouMean("streem", keys) == "; did you mean \"stream\"?");
  CHECK(DidYouMean("zzzzzz", keys).empty());
  CHECK(QuotedList({"a", "b"}) == "\"a\", \"b\"");
  CHECK(IntRangeName(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()) ==
        "an integer");
  CHECK(IntRangeName(0, std::numeric_limits<int64_t>::max()) == "a non-negative integer");
  CHECK(IntRangeName(5, std::numeric_limits<int64_t>::max()) == "an integer >= 5");
  CHECK(JsonToInt(json(3.0)) == 3);
  CHECK_FALSE(JsonToInt(json(1.5)));
  CHECK_FALSE(JsonToInt(json(9.3e18)));
  CHECK_FALSE(JsonToInt(json("3")));
  CHECK(DescribeJson(json("s")) == "a string");
  CHECK(DescribeJson(json(false)) == "false");
  CHECK(DescribeJson(json::object()) == "an object");
  CHECK(EndsWith("a.json.gz", ".gz"));
  CHECK_FALSE(EndsWith("gz", ".gz"));
}

TEST_CASE("CheckSchema", "[formats]") {
  CheckSchema(json::parse(R"({"schema": "cotenant.plan/1"})"), "p.json", "cotenant.plan/1");
  CHECK(ErrorOf([] {
          CheckSchema(json::parse(R"({"schema": "cotenant.plan/2"})"), "p.json", "cotenant.plan/1");
        }) == "p.json: schema: expected \"cotenant.plan/1\", found \"cotenant.plan/2\"");
  CHECK(ErrorOf([] {
          CheckSchema(json::parse(R"({"schema": 1})"), "p.json", "cotenant.plan/1");
        }) == "p.json: schema: expected \"cotenant.plan/1\", found 1");
  CHECK(ErrorOf([] { CheckSchema(json::object(), "p.json", "cotenant.plan/1"); }) ==
        "p.json: schema: missing required field (expected \"cotenant.plan/1\")");
  CHECK(ErrorOf([] { CheckSchema(json::array(), "p.json", "cotenant.plan/1"); }) ==
        "p.json: expected a JSON object, found an array");
}

}  // namespace cotenant
