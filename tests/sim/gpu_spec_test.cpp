// Device names in GPU specs: the driver's name for a GPU maps to one bundled
// spec.
#include "sim/gpu_spec.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "sim/json_util.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using testing::ErrorOf;

TEST_CASE("gpu spec: device names map to bundled keys", "[formats]") {
  CHECK(SpecKeyForDevice("NVIDIA A100-SXM4-40GB") == "a100-sxm4-40g");
  CHECK(SpecKeyForDevice("NVIDIA A100-PG509-200") == "a100-sxm4-40g");
  CHECK(SpecKeyForDevice("A100-SXM4-40GB") == "a100-sxm4-40g");
  // Case, surrounding spaces and the "NVIDIA " prefix do not matter.
  CHECK(SpecKeyForDevice("nvidia a100-pg509-200") == "a100-sxm4-40g");
  CHECK(SpecKeyForDevice("  A100-PG509-200 ") == "a100-sxm4-40g");
  CHECK(SpecKeyForDevice("NVIDIA A100-SXM4-80GB") == "a100-sxm4-80g");
  CHECK(SpecKeyForDevice("NVIDIA H100 80GB HBM3") == "h100-sxm");
  CHECK(SpecKeyForDevice("NVIDIA H100 PCIe") == "h100-pcie");
  CHECK(SpecKeyForDevice("NVIDIA H200") == "h200");
  CHECK(SpecKeyForDevice("Tesla V100-SXM2-32GB") == "v100-sxm2");
  CHECK(SpecKeyForDevice("NVIDIA L4") == "l4");
  CHECK(SpecKeyForDevice("NVIDIA A100-PCIE-40GB") == "a100-pcie-40g");
  CHECK(SpecKeyForDevice("NVIDIA A10") == "a10");
  CHECK(SpecKeyForDevice("NVIDIA A30") == "a30");
  CHECK(SpecKeyForDevice("NVIDIA L40S") == "l40s");
  CHECK(SpecKeyForDevice("NVIDIA GeForce RTX 2080 Ti") == "rtx-2080-ti");
  CHECK(SpecKeyForDevice("GeForce RTX 2080 Ti") == "rtx-2080-ti");
  CHECK(SpecKeyForDevice("NVIDIA GeForce RTX 3090") == "rtx-3090");
  CHECK(SpecKeyForDevice("NVIDIA GeForce RTX 4090") == "rtx-4090");
  CHECK(SpecKeyForDevice("Tesla V100-SXM2-16GB") == "v100-sxm2-16g");
  CHECK(SpecKeyForDevice("NVIDIA H100 NVL") == "h100-nvl");
  CHECK(SpecKeyForDevice("NVIDIA B200") == "b200");
  CHECK(SpecKeyForDevice("NVIDIA GB200") == "gb200");
  // The spec's own name counts too (synth and whatif write it).
  CHECK(SpecKeyForDevice("NVIDIA H100 SXM5 80GB") == "h100-sxm");
  // Exact names only: no prefix or substring matches.
  CHECK(SpecKeyForDevice("NVIDIA A100") == std::nullopt);
  CHECK(SpecKeyForDevice("NVIDIA H100") == std::nullopt);
  CHECK(SpecKeyForDevice("") == std::nullopt);
  CHECK(SpecKeyForDevice("NVIDIA ") == std::nullopt);
}

TEST_CASE("gpu spec: an unknown device names the nearest specs", "[formats]") {
  CHECK(UnknownDeviceMessage("NVIDIA A100-PG509-201") ==
        "GPU device \"NVIDIA A100-PG509-201\" matches no spec in " + GpuSpecDir() +
            "; nearest: a100-sxm4-40g (\"NVIDIA A100-PG509-200\"), a100-pcie-40g "
            "(\"NVIDIA A100-PCIE-40GB\"), a100-sxm4-80g (\"NVIDIA A100-SXM4-80GB\"); give --gpu "
            "KEY");
}

TEST_CASE("gpu spec: every bundled spec has device names, none shared", "[formats]") {
  std::map<std::string, std::string> owner;  // lower-case name without "nvidia " -> key
  for (const std::string& key : ListGpuSpecs()) {
    INFO(key);
    const GpuSpec spec = LoadGpuSpec(key);
    CHECK(!spec.device_names.empty());
    CHECK(spec.sources.contains("device_names"));
    CHECK(SpecKeyForDevice(spec.name) == key);
    for (const std::string& n : spec.device_names) {
      INFO(n);
      CHECK(SpecKeyForDevice(n) == key);
    }
  }
  // Written back, the names survive.
  const GpuSpec a100 = LoadGpuSpec("a100-sxm4-40g");
  CHECK(GpuSpecFromJson(GpuSpecToJson(a100), "x").device_names == a100.device_names);
}

TEST_CASE("gpu spec: device_names errors", "[formats]") {
  nlohmann::json j = GpuSpecToJson(LoadGpuSpec("l4"));
  j["device_names"] = "NVIDIA L4";
  CHECK(ErrorOf([&] { GpuSpecFromJson(j, "g.json"); }) ==
        "g.json: device_names: expected an array of strings, found a string");
  j["device_names"] = {"NVIDIA L4", ""};
  CHECK(ErrorOf([&] { GpuSpecFromJson(j, "g.json"); }) ==
        "g.json: device_names: expected non-empty strings, found \"\" at index 1");
}

}  // namespace
}  // namespace cotenant
