// Workload what-if: the primitives composed over a whole workload (every
// tenant, traces_by_batch), the errors that name the flags, and the
// cotenant.whatif/1 JSON.
#include "sim/workload_whatif.h"

#include <catch2/catch.hpp>
#include <string>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::ErrorOf;

/// One kernel per name on stream 7, each with its launch on thread 1:
/// kernel i starts at 1000 * (i + 1) and lasts 400 ns.
Trace Kernels(const std::string& tenant, const std::vector<std::string>& names) {
  Trace tr;
  tr.tenant = tenant;
  int64_t id = 1;
  for (size_t i = 0; i < names.size(); ++i) {
    Task launch;
    launch.id = id++;
    launch.kind = TaskKind::kLaunch;
    launch.name = tr.Intern("cudaLaunchKernel");
    launch.thread = 1;
    launch.start_ns = 1000 * static_cast<TimeNs>(i);
    launch.dur_ns = 100;
    launch.correlation = static_cast<int64_t>(i) + 10;
    tr.tasks.push_back(launch);
    Task k;
    k.id = id++;
    k.kind = TaskKind::kKernel;
    k.name = tr.Intern(names[i]);
    k.stream = 7;
    k.start_ns = 1000 * static_cast<TimeNs>(i + 1);
    k.dur_ns = 400;
    k.correlation = launch.correlation;
    tr.tasks.push_back(k);
  }
  return tr;
}

/// Tenant "alpha": gemm, relu (and a batch-4 trace: gemm); tenant "beta": gemm.
LoadedWorkload TwoTenants() {
  LoadedWorkload lw;
  for (const char* name : {"alpha", "beta"}) {
    TenantSpec t;
    t.name = name;
    lw.workload.tenants.push_back(t);
  }
  lw.workload.gpu = "h100-sxm";
  lw.traces = {Kernels("alpha", {"gemm", "relu"}), Kernels("beta", {"gemm"})};
  lw.by_batch.resize(2);
  lw.by_batch[0][4] = Kernels("alpha", {"gemm"});
  lw.gpu = testing::H100Sxm();
  return lw;
}

TimeNs DurOf(const Trace& tr, const std::string& name) {
  for (const Task& t : tr.tasks)
    if (tr.Name(t) == name) return t.dur_ns;
  return -1;
}

TEST_CASE("workload what-if: a scale applies to every selected tenant and batch trace",
          "[workload_whatif]") {
  const LoadedWorkload base = TwoTenants();
  WorkloadChanges c;
  c.select = ParseSelector("name=gemm");
  c.scale = 0.5;
  const ChangedWorkload cw = ApplyWorkloadChanges(base, c);
  CHECK(DurOf(cw.workload.traces[0], "gemm") == 200);
  CHECK(DurOf(cw.workload.traces[0], "relu") == 400);
  CHECK(DurOf(cw.workload.traces[1], "gemm") == 200);
  CHECK(DurOf(cw.workload.by_batch[0].at(4), "gemm") == 200);
  CHECK(DurOf(base.traces[0], "gemm") == 400);  // the base is not touched
  // One change per tenant: the batch trace's is not reported.
  REQUIRE(cw.changes.size() == 2);
  CHECK(cw.changes[0].tenant == "alpha");
  CHECK(cw.changes[0].primitive == "scale");
  CHECK(cw.changes[0].description.rfind("scaled ", 0) == 0);
  CHECK(cw.changes[1].tenant == "beta");
}

TEST_CASE("workload what-if: the selector's tenant limits the change", "[workload_whatif]") {
  WorkloadChanges c;
  c.select = ParseSelector("tenant=beta,kind=kernel");
  c.remove = RemoveOptions{};
  const ChangedWorkload cw = ApplyWorkloadChanges(TwoTenants(), c);
  CHECK(cw.workload.traces[0].tasks.size() == 4);
  CHECK(cw.workload.traces[1].tasks.empty());  // the kernel and its launch
  REQUIRE(cw.changes.size() == 1);
  CHECK(cw.changes[0].primitive == "remove");
}

TEST_CASE("workload what-if: an insert goes to the selected tenant's main trace only",
          "[workload_whatif]") {
  WorkloadChanges c;
  c.select = ParseSelector("tenant=alpha");
  InsertChange in;
  in.after_id = 2;  // alpha's gemm
  in.dur_ns = 750;
  in.grid = {4, 2};
  in.block = {128};
  c.insert = in;
  const ChangedWorkload cw = ApplyWorkloadChanges(TwoTenants(), c);
  const Trace& tr = cw.workload.traces[0];
  CHECK(DurOf(tr, "whatif_inserted_kernel") == 750);
  for (const Task& t : tr.tasks) {
    if (tr.Name(t) != "whatif_inserted_kernel") continue;
    CHECK(t.grid == std::array<int32_t, 3>{4, 2, 1});
    CHECK(t.block == std::array<int32_t, 3>{128, 1, 1});
    CHECK(t.stream == 7);
  }
  CHECK(cw.workload.by_batch[0].at(4).tasks.size() == 2);
  REQUIRE(cw.changes.size() == 1);
  CHECK(cw.changes[0].tenant == "alpha");
  CHECK(cw.changes[0].primitive == "insert");
  const std::string& d = cw.changes[0].description;
  CHECK(d.substr(d.size() - 28) == "(not in its traces_by_batch)");
}

TEST_CASE("workload what-if: a GPU swap changes every tenant and the workload's GPU",
          "[workload_whatif]") {
  WorkloadChanges c;
  c.swap_gpu = "a100-sxm4-80g";
  const ChangedWorkload cw = ApplyWorkloadChanges(TwoTenants(), c);
  CHECK(cw.workload.gpu.key == "a100-sxm4-80g");
  CHECK(cw.workload.workload.gpu == "a100-sxm4-80g");
  REQUIRE(cw.changes.size() == 2);
  CHECK(cw.changes[0].primitive == "swap-gpu");
  CHECK(cw.changes[1].tenant == "beta");
  // A slower GPU: no kernel got faster.
  CHECK(DurOf(cw.workload.traces[1], "gemm") >= 400);
}

TEST_CASE("RescaleToGpu: traces of a known other GPU are swapped, unknown ones kept",
          "[workload_whatif]") {
  LoadedWorkload lw = TwoTenants();
  lw.traced_gpu = {"a100-sxm4-80g", "mystery-gpu"};
  RescaleToGpu(&lw);
  // alpha: what SwapGpu does to it, on its main and batch traces.
  Trace main = Kernels("alpha", {"gemm", "relu"}), batch = Kernels("alpha", {"gemm"});
  const GpuSpec a100 = LoadGpuSpec("a100-sxm4-80g");
  SwapGpu(main, a100, lw.gpu);
  SwapGpu(batch, a100, lw.gpu);
  CHECK(DurOf(lw.traces[0], "gemm") == DurOf(main, "gemm"));
  CHECK(DurOf(lw.traces[0], "relu") == DurOf(main, "relu"));
  CHECK(DurOf(lw.by_batch[0].at(4), "gemm") == DurOf(batch, "gemm"));
  CHECK(DurOf(lw.traces[0], "gemm") < 400);  // an H100 is faster
  CHECK(lw.traced_gpu[0] == lw.gpu.key);
  // beta: an unknown GPU, left as it is (and still marked as traced there).
  CHECK(DurOf(lw.traces[1], "gemm") == 400);
  CHECK(lw.traced_gpu[1] == "mystery-gpu");
  REQUIRE(lw.gpu_notes.size() == 1);
  CHECK(lw.gpu_notes[0].rfind("alpha was traced on a100-sxm4-80g; its durations were rescaled to " +
                                  lw.gpu.key + " by the what-if GPU swap (",
                              0) == 0);
}

TEST_CASE("OverrideRequests: every tenant, bounded by trace arrivals", "[workload_whatif]") {
  LoadedWorkload lw = TwoTenants();
  lw.workload.tenants[0].requests = 9;
  OverrideRequests(&lw, 0);  // 0: the workload's
  CHECK(lw.workload.tenants[0].requests == 9);
  OverrideRequests(&lw, 3);
  CHECK(lw.workload.tenants[0].requests == 3);
  CHECK(lw.workload.tenants[1].requests == 3);
  lw.workload.tenants[1].arrival.kind = ArrivalKind::kTrace;
  lw.workload.tenants[1].arrival.times_ns = {0, 10};
  CHECK(ErrorOf([&] { OverrideRequests(&lw, 5); }) ==
        "--requests 5: tenant beta has only 2 arrival times");
  CHECK(ErrorOf([&] { OverrideRequests(&lw, -1); }) ==
        "--requests: expected >= 1 (0 = the workload's), found -1");
}

TEST_CASE("workload what-if: errors name the flag and the tenants", "[workload_whatif]") {
  const LoadedWorkload base = TwoTenants();
  WorkloadChanges c;
  c.select = ParseSelector("tenant=alpah");
  c.scale = 2.0;
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, c); }) ==
        "--select: tenant: no tenant \"alpah\" (tenants: \"alpha\", \"beta\"); did you mean "
        "\"alpha\"?");
  c.select = ParseSelector("name=zzz");
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, c); }) ==
        "--select name=zzz: matches no task in tenants \"alpha\", \"beta\"");
  c.select = ParseSelector("kind=memcpy");
  c.default_select = true;
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, c); }) ==
        "--select kind=memcpy: matches no task (default selector) in tenants \"alpha\", \"beta\"");

  WorkloadChanges ins;
  ins.insert = InsertChange{};
  ins.insert->after_id = 2;
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, ins); }) ==
        "--insert-after: the workload has 2 tenants; name one with --select tenant=NAME");
  ins.select = ParseSelector("tenant=beta");
  ins.insert->dur_ns = -1;
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, ins); }) ==
        "--insert-dur: expected a duration >= 0 ns, found -1");
  ins.insert->dur_ns = 10;
  ins.insert->grid = {1, 0};
  ins.insert->block = {32};
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, ins); }) ==
        "--insert-grid: expected positive integers, found 0");
  ins.insert->grid = {1, 1, 1, 1};
  CHECK(ErrorOf([&] { ApplyWorkloadChanges(base, ins); }) ==
        "--insert-grid: expected 1 to 3 positive integers X[,Y[,Z]], found 4 values");
}

TEST_CASE("workload what-if: the cotenant.whatif/1 JSON", "[workload_whatif]") {
  const LoadedWorkload base = TwoTenants();
  WorkloadChanges c;
  c.select = ParseSelector("name=gemm");
  c.scale = 0.5;
  const ChangedWorkload cw = ApplyWorkloadChanges(base, c);
  const SimResult before = Simulate(base, Plan{}, SimOptions{});
  const SimResult after = Simulate(cw.workload, Plan{}, SimOptions{});
  const nlohmann::json j =
      WhatifToJson(before, after, cw.changes, c.select, base.gpu.key, cw.workload.gpu.key);
  CHECK(j["schema"] == "cotenant.whatif/1");
  CHECK(j["baseline"]["schema"] == "cotenant.result/1");
  CHECK(j["baseline"]["makespan_ns"] == before.makespan_ns);
  CHECK(j["whatif"]["makespan_ns"] == after.makespan_ns);
  // Every gemm is shorter: beta, whose only kernel is one, ends earlier.
  CHECK(j["whatif"]["tenants"]["beta"]["finish_ns"].get<TimeNs>() <
        j["baseline"]["tenants"]["beta"]["finish_ns"].get<TimeNs>());
  CHECK(j["select"] == "name=gemm");
  CHECK(j["gpu"] == nlohmann::json({{"baseline", "h100-sxm"}, {"whatif", "h100-sxm"}}));
  REQUIRE(j["changes"].size() == 2);
  CHECK(j["changes"][1]["tenant"] == "beta");
  CHECK(j["changes"][1]["primitive"] == "scale");
}

}  // namespace
}  // namespace cotenant
