// libFuzzer target: the workload reader (`cotenant.workload/1`), through
// ReadWorkload(path) and LoadWorkload(path) as `cotenant simulate
// --workload` calls them. The workload sits in a scratch folder that also
// holds a small valid trace (t.json, t.json.gz) and a GPU spec (gpu.json),
// so relative paths to them resolve.
// Checks: the reader returns a workload or throws InputError naming the
// file; an accepted workload survives WorkloadToJson -> WorkloadFromJson
// unchanged; its arrival times follow its arrival process (no internal
// check fails); LoadWorkload, when every file it names is in the scratch
// folder, loads or throws InputError.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "sim/json_util.h"
#include "sim/simulate.h"
#include "sim/workload.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

bool InScratch(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(path).lexically_normal();
  return p.parent_path() == fs::path(fuzz::ScratchDir()) && fs::exists(p);
}

void WriteFixtures() {
  static bool done = false;
  if (done) return;
  done = true;
  const std::string trace =
      R"({"schema":"cotenant.trace/1","tenant":"t","tasks":[)"
      R"({"id":1,"kind":"launch","thread":1,"start_ns":0,"dur_ns":4000,"correlation":10},)"
      R"({"id":2,"kind":"kernel","stream":7,"start_ns":6000,"dur_ns":52000,"correlation":10,)"
      R"("grid":[264,1,1],"block":[128,1,1],"op":"aten::linear"}]})";
  fuzz::WriteScratch("t.json", trace);
  WriteFileAtomic(fuzz::ScratchDir() + "/t.json.gz", trace);
  fuzz::WriteScratch("gpu.json", ReadFileText(std::string(COTENANT_SOURCE_DIR) +
                                              "/tests/data/formats/gpu_good.json"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  WriteFixtures();
  const std::string path = fuzz::WriteScratch("workload.json", data, size);
  Workload w;
  if (!fuzz::Reads(path, [&] { w = ReadWorkload(path); })) return 0;
  // Round trip (the paths are absolute now, so they resolve to themselves).
  std::string first;
  fuzz::MustWork("WorkloadToJson", [&] { first = WorkloadToJson(w).dump(); });
  fuzz::MustWork("reading the written workload", [&] {
    const Workload again = WorkloadFromJson(ParseJsonText(first, path), path, fuzz::ScratchDir());
    fuzz::SameText("workload", first, WorkloadToJson(again).dump());
  });
  for (const TenantSpec& t : w.tenants) {
    if (t.requests > 10000) continue;  // (memory in proportion: not a finding)
    const std::vector<TimeNs> times = ArrivalTimes(t.arrival, t.requests);
    for (size_t i = 1; i < times.size(); ++i) {
      if (times[i] < times[i - 1]) fuzz::Finding("arrival times go backwards for " + t.name);
    }
  }
  bool local = IsGpuSpecPath(w.gpu) ? InScratch(w.gpu) : true;
  for (const TenantSpec& t : w.tenants) {
    local = local && InScratch(t.trace_path);
    for (const auto& [batch, p] : t.traces_by_batch) local = local && InScratch(p);
  }
  if (local) {
    LoadedWorkload lw;
    if (fuzz::Reads("", [&] { lw = LoadWorkload(path); })) {
      if (lw.traces.size() != w.tenants.size()) fuzz::Finding("LoadWorkload lost tenants");
    }
  }
  return 0;
}
