// libFuzzer target: the search-space reader (`cotenant.searchspace/1`),
// through ReadSpaceConfig(path) as `cotenant search --space` calls it, and
// the space built from it (PlanSpace) for a fixed workload: tenants a, b, c
// with 1, 1 and 2 operators on a 4-SM GPU with 1-SM partitions (the one of
// tests/search/config_test.cpp, so the seeds from tests/data/search name
// real tenants).
// Checks: reading and building return or throw InputError naming the file;
// a space that builds survives ToJson -> SpaceConfigFromJson -> PlanSpace ->
// ToJson unchanged, with the same size; its native candidate (when it holds
// one) and the first candidate map to plans and back (FromPlan(ToPlan(c))
// is Canonical(c)).
#include <cstddef>
#include <cstdint>
#include <string>

#include "search/space.h"
#include "sim/json_util.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

Task Kernel(int64_t id, TimeNs start, TimeNs dur, int32_t blocks, const std::string& op,
            Trace& trace) {
  Task t;
  t.id = id;
  t.kind = TaskKind::kKernel;
  t.stream = 7;
  t.start_ns = start;
  t.dur_ns = dur;
  t.grid = {blocks, 1, 1};
  t.block = {1024, 1, 1};
  t.op = trace.Intern(op);
  return t;
}

const LoadedWorkload& Three() {
  static const LoadedWorkload lw = [] {
    LoadedWorkload w;
    w.gpu.key = "tiny";
    w.gpu.sm_count = 4;
    w.gpu.sm_partition_granularity = 1;
    w.gpu.sm_partition_min = 1;
    w.gpu.hw_queues = 32;
    w.workload.gpu = "tiny";
    w.workload.file = "tiny";
    const std::vector<std::pair<std::string, std::vector<std::pair<TimeNs, int32_t>>>> tenants = {
        {"a", {{1000, 8}}}, {"b", {{1000, 4}}}, {"c", {{1000, 2}, {500, 2}}}};
    for (const auto& [name, kernels] : tenants) {
      Trace trace;
      trace.tenant = name;
      TimeNs at = 0;
      for (size_t i = 0; i < kernels.size(); ++i) {
        trace.tasks.push_back(Kernel(static_cast<int64_t>(i + 1), at, kernels[i].first,
                                     kernels[i].second, name + "_op" + std::to_string(i), trace));
        at += kernels[i].first;
      }
      TenantSpec ts;
      ts.name = name;
      w.workload.tenants.push_back(ts);
      w.traces.push_back(std::move(trace));
      w.by_batch.emplace_back();
    }
    return w;
  }();
  return lw;
}

void CheckCandidate(const search::PlanSpace& space, const search::Candidate& c) {
  const std::optional<Plan> plan = space.ToPlan(c);
  if (!plan) return;  // infeasible: a value, not an error
  search::Candidate back;
  fuzz::MustWork("FromPlan(ToPlan(c))", [&] { back = space.FromPlan(*plan); });
  if (back != space.Canonical(c)) fuzz::Finding("FromPlan(ToPlan(c)) != Canonical(c)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const LoadedWorkload& lw = Three();
  const std::string path = fuzz::WriteScratch("space.json", data, size);
  search::SpaceConfig config;
  if (!fuzz::Reads(path, [&] { config = search::ReadSpaceConfig(path); })) return 0;
  std::optional<search::PlanSpace> space;
  if (!fuzz::Reads(path, [&] { space.emplace(lw, config); })) return 0;
  std::string first;
  fuzz::MustWork("PlanSpace::ToJson", [&] { first = space->ToJson().dump(); });
  fuzz::MustWork("the written space", [&] {
    const search::PlanSpace again(lw,
                                  search::SpaceConfigFromJson(ParseJsonText(first, path), path));
    fuzz::SameText("space", first, again.ToJson().dump());
    if (again.Size() != space->Size()) fuzz::Finding("the written space has another size");
  });
  fuzz::MustWork("Describe", [&] { (void)space->Describe(); });
  if (const std::optional<search::Candidate> native = space->Native()) {
    CheckCandidate(*space, *native);
  }
  CheckCandidate(*space, search::Candidate(space->dims().size(), 0));
  return 0;
}
