// One process per replay: the child/parent protocol and the report's JSON.
#include "tools/replay/isolate.h"

#include <signal.h>

#include <catch2/catch.hpp>

#include "sim/error.h"
#include "tools/replay/report_json.h"

namespace cotenant::replay {
namespace {

ReplayReport SampleReport() {
  ReplayReport r;
  r.device_name = "NVIDIA H100 80GB HBM3";
  r.driver_version = 13000;
  r.runtime_version = 13000;
  r.timing = "cupti";
  r.max_connections = 4;
  r.sizing = {2, 0.5, 1.25, 1.5};
  KernelReport k;
  k.name = "sm90_gemm";
  k.launches = 12;
  k.target_ns = 41000;
  k.sizing.work = 1234.5;
  k.sizing.measured_ns = 41200.0;
  k.sizing.target_ns = 41000.0;
  k.sizing.error_pct = 0.4878;
  k.sizing.probes = {{1000.0, 33000.0}, {1234.5, 41200.0}};
  k.occupancy.target_blocks_per_sm = 2;
  k.occupancy.replay_blocks_per_sm = 2;
  k.occupancy.dynamic_smem = 98304;
  k.occupancy.exact = true;
  k.replay_dram_bytes = 1 << 20;
  k.traced_dram_bytes = 1000000;
  r.kernels.push_back(k);
  k.name = "relu";
  k.occupancy.exact = false;
  k.occupancy.note = "registers allow 1 block per SM";
  k.traced_dram_bytes = kAbsent;
  r.kernels.push_back(k);
  r.notes = {"SMs left outside every partition: 4"};
  r.runs.push_back({{-1, 0, 100}, {-1, 90, 250}});
  r.runs.push_back({{-1, 5, 110}, {-1, 95, 260}});
  return r;
}

}  // namespace

TEST_CASE("replay report: JSON round trip keeps every field", "[replay][isolate]") {
  const ReplayReport r = SampleReport();
  const nlohmann::json j = ReplayReportToJson(r);
  REQUIRE(j["schema"] == "cotenant.replay-report/1");
  const ReplayReport b = ReplayReportFromJson(j, 3, "report");
  REQUIRE(ReplayReportToJson(b) == j);
  REQUIRE(b.kernels[0].traced_dram_bytes == 1000000);
  REQUIRE(b.kernels[1].traced_dram_bytes == kAbsent);
  REQUIRE(b.kernels[1].occupancy.note == "registers allow 1 block per SM");
  REQUIRE(b.runs[1].end_ns == std::vector<TimeNs>{-1, 95, 260});
  REQUIRE(b.driver_version == 13000);
  REQUIRE(b.timing == "cupti");
}

TEST_CASE("replay report: bad JSON names the field", "[replay][isolate]") {
  nlohmann::json j = ReplayReportToJson(SampleReport());
  REQUIRE_THROWS_WITH(ReplayReportFromJson(j, 4, "report"),
                      Catch::Contains("report: runs[0].start_ns: expected an array of 4 times"));
  nlohmann::json k = j;
  k["timing"] = "events";
  REQUIRE_THROWS_WITH(ReplayReportFromJson(k, 3, "report"),
                      Catch::Contains("timing: expected \"cupti\", \"stamps\" or \"fake\""));
  k = j;
  k["runs"][0]["end_ns"][1] = -7;
  REQUIRE_THROWS_WITH(ReplayReportFromJson(k, 3, "report"),
                      Catch::Contains("runs[0].end_ns: expected integers >= -1"));
  k = j;
  k["kernels"][0]["bogus"] = 1;
  REQUIRE_THROWS_WITH(ReplayReportFromJson(k, 3, "report"), Catch::Contains("kernels[0]"));
  k = j;
  k["schema"] = "cotenant.result/1";
  REQUIRE_THROWS_AS(ReplayReportFromJson(k, 3, "report"), InputError);
}

TEST_CASE("replay child: its JSON comes back, large or not", "[replay][isolate]") {
  const nlohmann::json small = RunInChild([] { return nlohmann::json{{"x", 1}}; });
  REQUIRE(small["x"] == 1);
  // Larger than a pipe's buffer: the parent reads while the child writes.
  const nlohmann::json big = RunInChild([] {
    nlohmann::json a = nlohmann::json::array();
    for (int i = 0; i < 200000; ++i) a.push_back(i);
    return nlohmann::json{{"a", a}};
  });
  REQUIRE(big["a"].size() == 200000);
  REQUIRE(big["a"][199999] == 199999);
  // A replay in the child goes through the same path.
  const ReplayReport r = SampleReport();
  const nlohmann::json j = RunInChild([&] { return ReplayReportToJson(r); });
  REQUIRE(ReplayReportFromJson(j, 3, "child").kernels.size() == 2);
}

TEST_CASE("replay child: errors and deaths become one-line InputErrors", "[replay][isolate]") {
  REQUIRE_THROWS_WITH(RunInChild([]() -> nlohmann::json {
                        throw InputError("replay needs a CUDA GPU: no device");
                      }),
                      "replay needs a CUDA GPU: no device");
  REQUIRE_THROWS_WITH(RunInChild([]() -> nlohmann::json {
                        throw std::runtime_error("cudaLaunchKernel: cudaErrorInvalidValue");
                      }),
                      "cudaLaunchKernel: cudaErrorInvalidValue");
  REQUIRE_THROWS_WITH(RunInChild([]() -> nlohmann::json {
                        raise(SIGKILL);
                        return {};
                      }),
                      "the replay process was killed by SIGKILL");
  REQUIRE_THROWS_WITH(ReplayChildResult("", 3 << 8),
                      "the replay process exited with status 3 without a result");
}

}  // namespace cotenant::replay
