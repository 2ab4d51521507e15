// Kineto import speed against the plain JSON parse of the same file: for
// each trace given, MB/s of uncompressed JSON for nlohmann::json::parse,
// nlohmann's SAX parser with a handler that does nothing (json::accept), the project's
// streaming JsonReader with a handler that does nothing, ReadKinetoTrace
// (read and resolve into a capture) and ImportKineto (plus the trace build),
// and the time to write the trace's JSON text. Each is timed on wall clock
// and on the process's CPU clock (the machine may be shared); the file is
// read once first so that it is in the page cache. The parses of nlohmann
// read the text from memory; the others read the file (inflating `.gz`).
//   build/kineto_bench [--repeats N] FILE [FILE...]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "profiler/kineto.h"
#include "sim/byte_source.h"
#include "sim/json_stream.h"
#include "sim/json_util.h"
#include "sim/trace.h"

namespace {

using nlohmann::json;

struct NoopHandler : cotenant::JsonHandler {
  bool Begin(cotenant::JsonReader&, cotenant::JsonType) override { return true; }
  void End(cotenant::JsonReader&, cotenant::JsonType) override {}
  void Value(cotenant::JsonReader&, const cotenant::JsonValue&) override {}
};

/// Best (lowest) wall and CPU seconds of `repeats` runs of `f`.
void Time(const char* what, double mb, int repeats, const std::function<void()>& f) {
  double best_wall = 1e30, best_cpu = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto w0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    f();
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    best_wall = std::min(best_wall, wall);
    best_cpu = std::min(best_cpu, cpu);
  }
  std::printf("  %-34s %8.3f s %8.1f MB/s   cpu %8.3f s %8.1f MB/s\n", what, best_wall,
              mb / best_wall, best_cpu, mb / best_cpu);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 3;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--repeats") == 0) {
    repeats = std::atoi(argv[2]);
    first = 3;
  }
  for (int i = first; i < argc; ++i) {
    const std::string path = argv[i];
    const std::string text = cotenant::ReadFileText(path);
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("%s: %.1f MB of JSON, best of %d\n", path.c_str(), mb, repeats);
    Time("nlohmann json::parse (memory)", mb, repeats, [&] { json j = json::parse(text); });
    // json::accept runs the SAX parser with a handler that does nothing.
    Time("nlohmann SAX, no-op (memory)", mb, repeats, [&] { json::accept(text); });
    Time("JsonReader, no-op (file)", mb, repeats, [&] {
      cotenant::FileSource source(path);
      cotenant::JsonReader reader(source, path);
      NoopHandler h;
      reader.Read(h);
    });
    Time("ReadKinetoTrace (file)", mb, repeats,
         [&] { cotenant::profiler::ReadKinetoTrace(path, nullptr); });
    cotenant::Trace trace;
    Time("ImportKineto (file)", mb, repeats,
         [&] { trace = cotenant::profiler::ImportKineto(path, {}, nullptr, nullptr); });
    size_t out = 0;
    Time("TraceToJsonText of the import", mb, repeats,
         [&] { out = cotenant::TraceToJsonText(trace).size(); });
    std::printf("  trace written: %.1f MB, %zu tasks\n", static_cast<double>(out) / 1e6,
                trace.tasks.size());
  }
  return 0;
}
