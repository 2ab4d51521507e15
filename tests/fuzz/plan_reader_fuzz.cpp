// libFuzzer target: the plan reader (`cotenant.plan/1`), through
// ReadPlan(path) as `cotenant simulate --plan` and `search --start` call it.
// Checks: the reader returns a plan or throws InputError naming the file;
// an accepted plan survives PlanToJson -> PlanFromJson unchanged; checked
// against a fixed three-tenant workload (tests/data/bad/plan_workload.json:
// resnet50, bert, vgg16 on a 132-SM GPU), it passes or throws InputError
// naming the plan, and a plan that passes simulates (fluid) without a crash
// or a failed internal check (InputError allowed).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/json_util.h"
#include "sim/plan.h"
#include "sim/simulate.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

const LoadedWorkload& Workload3() {
  static const LoadedWorkload lw =
      LoadWorkload(std::string(COTENANT_SOURCE_DIR) + "/tests/data/bad/plan_workload.json");
  return lw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const LoadedWorkload& lw = Workload3();
  const std::string path = fuzz::WriteScratch("plan.json", data, size);
  Plan plan;
  if (!fuzz::Reads(path, [&] { plan = ReadPlan(path); })) return 0;
  std::string first;
  fuzz::MustWork("PlanToJson", [&] { first = PlanToJson(plan).dump(); });
  fuzz::MustWork("reading the written plan", [&] {
    fuzz::SameText("plan", first,
                   PlanToJson(PlanFromJson(ParseJsonText(first, path), path)).dump());
  });
  if (!fuzz::Reads(path, [&] { CheckPlanAgainst(plan, lw.workload, lw.gpu); })) return 0;
  SimOptions o;
  (void)fuzz::Reads("", [&] { (void)Simulate(lw, plan, o); });
  return 0;
}
