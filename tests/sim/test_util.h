// Helpers shared by the sim tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "sim/error.h"
#include "sim/gpu_spec.h"

namespace cotenant::testing {

/// The fixture folder (tests/data).
inline const std::string kData = COTENANT_TEST_DATA;

/// The InputError message `f` throws, or "<no error>".
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

/// A fresh empty folder under the system temp folder, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "cotenant_test") {
    path = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// H100 SXM5 as in configs/gpus/h100-sxm.json, built in code so that tests
/// do not depend on the spec reader. Per SM (CC 9.0): 2048 threads, 32
/// blocks, 64 warps, 64K registers (unit 256), 228 KB shared memory, 227 KB
/// per block, 1 KB reserved per block, 128-byte smem units.
inline GpuSpec H100Sxm() {
  GpuSpec s;
  s.key = "h100-sxm";
  s.name = "NVIDIA H100 SXM5 80GB";
  s.compute_capability = 90;
  s.sm_count = 132;
  s.sm.max_threads = 2048;
  s.sm.max_blocks = 32;
  s.sm.max_warps = 64;
  s.sm.registers = 65536;
  s.sm.max_regs_per_thread = 255;
  s.sm.reg_alloc_unit = 256;
  s.sm.smem_bytes = 233472;
  s.sm.max_smem_per_block = 232448;
  s.sm.smem_alloc_unit = 128;
  s.sm.smem_reserved_per_block = 1024;
  s.sm.warp_size = 32;
  s.tensor_tflops = 989.4;
  s.fp32_tflops = 66.9;
  s.dram_gbps = 3350;
  s.pcie_gbps = 55;
  return s;
}

}  // namespace cotenant::testing
