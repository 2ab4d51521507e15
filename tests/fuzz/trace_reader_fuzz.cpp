// libFuzzer target: the trace reader (`cotenant.trace/1`), through
// ReadTrace(path) as `cotenant inspect` and `simulate` call it. Bytes that
// start with the gzip magic are read as FILE.json.gz (corrupt streams,
// several members, trailing garbage), the rest as FILE.json.
// Checks: the reader returns a trace or throws InputError naming the file;
// plain bytes gzipped read the same (same trace or same message); the DOM
// reader TraceFromJson accepts what the streaming one accepts, and reads
// the same trace (unless an object repeats a key, which only the streaming
// reader can see); an
// accepted trace survives read -> TraceToJsonText -> read unchanged, and
// WriteTrace to .json.gz -> ReadTrace too.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/json_util.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

/// True when some object of the JSON text has a key twice: the streaming
/// reader rejects it ("duplicate key"), a DOM keeps the last value, so the
/// two readers cannot be compared on it.
bool HasDuplicateKey(const std::string& text) {
  struct Keys : PassThroughSax {
    std::vector<std::set<std::string>> open;
    bool duplicate = false;
    bool start_object(std::size_t) override {
      open.emplace_back();
      return true;
    }
    bool key(string_t& k) override {
      duplicate = duplicate || !open.back().insert(k).second;
      return !duplicate;
    }
    bool end_object() override {
      open.pop_back();
      return true;
    }
  } keys;
  nlohmann::json::sax_parse(text, &keys);
  return keys.duplicate;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const std::string path = fuzz::WriteScratch(gz ? "in.json.gz" : "in.json", data, size);
  Trace trace;
  const std::optional<std::string> error = fuzz::ErrorOf(path, [&] { trace = ReadTrace(path); });
  std::string first;
  if (!error) fuzz::MustWork("TraceToJsonText", [&] { first = TraceToJsonText(trace); });
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!gz) {  // the same bytes gzipped read the same
    const std::string gz_path = fuzz::ScratchDir() + "/again.json.gz";
    fuzz::MustWork("gzip the input", [&] { WriteFileAtomic(gz_path, text); });
    Trace unzipped;
    const std::optional<std::string> gz_error =
        fuzz::ErrorOf(gz_path, [&] { unzipped = ReadTrace(gz_path); });
    if (gz_error != error) {
      fuzz::Finding("plain and gzipped input read differently:\n  plain: " +
                    error.value_or("(read)") + "\n  gz:    " + gz_error.value_or("(read)"));
    }
    if (!error) fuzz::SameText("trace (input gzipped)", first, TraceToJsonText(unzipped));
  }
  if (!gz && !HasDuplicateKey(text)) {  // the DOM reader (TraceFromJson) agrees
    Trace dom;
    const std::optional<std::string> dom_error =
        fuzz::ErrorOf(path, [&] { dom = TraceFromJson(ParseJsonText(text, path), path); });
    // (Only whether they accept: with several errors in one object they may
    // name different ones first, the DOM reader visiting keys sorted, the
    // streaming one in file order.)
    if (dom_error.has_value() != error.has_value()) {
      fuzz::Finding("ParseTrace and TraceFromJson disagree:\n  sax: " + error.value_or("(read)") +
                    "\n  dom: " + dom_error.value_or("(read)"));
    }
    if (!error) fuzz::SameText("trace (TraceFromJson)", first, TraceToJsonText(dom));
  }
  if (error) return 0;
  // Round trip: write, read again, write again.
  const std::string out = fuzz::WriteScratch("out.json", first);
  fuzz::MustWork("reading the written trace",
                 [&] { fuzz::SameText("trace", first, TraceToJsonText(ReadTrace(out))); });
  const std::string gz_out = fuzz::ScratchDir() + "/out.json.gz";
  fuzz::MustWork("WriteTrace .gz", [&] { WriteTrace(trace, gz_out); });
  fuzz::MustWork("reading the gzipped trace",
                 [&] { fuzz::SameText("trace (.gz)", first, TraceToJsonText(ReadTrace(gz_out))); });
  return 0;
}
