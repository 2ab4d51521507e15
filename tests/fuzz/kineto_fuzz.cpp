// libFuzzer target: the Kineto (PyTorch profiler) importer, through
// ImportKineto(path, ...) as `cotenant import kineto` calls it.
// Checks: the importer returns a trace or throws InputError naming the
// file; what it returns is a valid `cotenant.trace/1` (the trace reader
// accepts its text, and read -> write gives the same text again); when the
// file has ProfilerStep#N ranges, importing the first step does the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "profiler/kineto.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

/// The imported trace must read back as it was written.
void CheckImported(const Trace& trace, const char* what) {
  std::string first;
  fuzz::MustWork(what, [&] { first = TraceToJsonText(trace); });
  Trace again;
  try {
    again = ParseTrace(first, "imported.json");
  } catch (const InputError& e) {
    fuzz::Finding(std::string(what) + ": the trace reader rejects the imported trace: " + e.what());
  }
  fuzz::MustWork(what, [&] { fuzz::SameText(what, first, TraceToJsonText(again)); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::WriteScratch("kineto.json", data, size);
  profiler::KinetoImportOptions options;
  options.tenant = "fuzz";
  profiler::KinetoReport report;
  profiler::BuildReport build;
  Trace trace;
  if (!fuzz::Reads(path, [&] { trace = profiler::ImportKineto(path, options, &report, &build); })) {
    return 0;
  }
  CheckImported(trace, "import");
  if (!report.steps.empty()) {
    options.step = report.steps.front();
    if (fuzz::Reads(path,
                    [&] { trace = profiler::ImportKineto(path, options, nullptr, nullptr); })) {
      CheckImported(trace, "import --step");
    }
  }
  return 0;
}
