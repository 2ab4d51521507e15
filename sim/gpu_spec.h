// GPU description (`cotenant.gpu/1`): limits the occupancy calculator needs,
// bandwidths, queues and the contention model's calibrated parameters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant {

/// Per-SM resource limits and allocation granularities.
struct SmLimits {
  int32_t max_threads = 2048;  ///< resident threads per SM
  int32_t max_blocks = 32;     ///< resident blocks per SM
  int32_t max_warps = 64;      ///< resident warps per SM
  int32_t registers = 65536;   ///< 32-bit registers per SM
  int32_t max_regs_per_thread = 255;
  int32_t reg_alloc_unit = 256;            ///< registers, allocated per warp in these units
  int32_t smem_bytes = 233472;             ///< shared memory per SM usable by blocks, bytes
  int32_t max_smem_per_block = 232448;     ///< bytes (opt-in maximum)
  int32_t smem_alloc_unit = 128;           ///< bytes
  int32_t smem_reserved_per_block = 1024;  ///< bytes the driver reserves per block
  int32_t warp_size = 32;
};

/// Contention-model parameters, fitted by `cotenant calibrate`.
struct ModelParams {
  double dram_efficiency = 0.9;  ///< achievable share of peak DRAM bandwidth (0..1]
  double corun_slowdown = 0.0;   ///< compute slowdown per unit of GPU share held by others
  /// Extra DRAM traffic from L2 capacity shared with co-running kernels: a
  /// fraction of the kernel's own traffic per unit of GPU (SM) share held by
  /// other kernels (so 0.2 with others holding half the GPU adds 10%). 0 = none.
  double l2_corun_traffic = 0.0;
  /// Host-side slowdown of CPU work per other tenant with a request in
  /// flight (shared CPU turbo bins and LLC, the MPS server's launch path): a
  /// host task or CPU gap that starts while k other tenants are in flight
  /// takes ceil(dur * (1 + host_corun_slowdown * k)). Dimensionless; 0 = none.
  double host_corun_slowdown = 0.0;
  TimeNs launch_latency_ns = 3000;  ///< launch end -> GPU task may start
  TimeNs sync_latency_ns = 2000;    ///< GPU done -> blocked sync returns
  bool calibrated = false;          ///< true once fitted on a real GPU
  std::string source;               ///< where the figures came from
};

/// One GPU model. Figures and their sources are in configs/gpus/<key>.json.
struct GpuSpec {
  std::string file;  ///< where it came from (for messages)
  std::string key;   ///< "h100-sxm"
  std::string name;  ///< "NVIDIA H100 SXM5 80GB"
  std::string arch;  ///< "hopper"
  /// Names the CUDA driver reports for this GPU (cudaDeviceProp::name, as in
  /// Kineto's deviceProperties, nvidia-smi and CUPTI): "NVIDIA H100 80GB HBM3".
  /// Optional in the file; empty = none.
  std::vector<std::string> device_names;
  int32_t compute_capability = 90;  ///< major*10 + minor
  int32_t sm_count = 132;
  SmLimits sm;
  double clock_mhz = 1980.0;        ///< boost clock
  double fp32_tflops = 66.9;        ///< dense FP32 peak
  double tensor_tflops = 989.0;     ///< dense FP16/BF16 tensor peak
  double dram_gbps = 3350.0;        ///< peak DRAM bandwidth, GB/s (1e9 B/s)
  int64_t dram_bytes = 80LL << 30;  ///< memory size
  double l2_bytes = 50.0 * (1 << 20);
  int32_t copy_engines = 3;              ///< async copy engines
  double pcie_gbps = 55.0;               ///< achievable host<->device bandwidth per direction, GB/s
  int32_t hw_queues = 32;                ///< hardware work queues (max CUDA_DEVICE_MAX_CONNECTIONS)
  int32_t sm_partition_granularity = 8;  ///< green-context SM split unit (0 = none)
  int32_t sm_partition_min = 8;          ///< smallest green-context partition
  ModelParams model;
  nlohmann::json sources = nlohmann::json::object();  ///< field -> where the figure comes from

  /// Peak DRAM bandwidth the model uses, bytes per ns.
  double EffectiveDramBytesPerNs() const { return dram_gbps * model.dram_efficiency; }
};

/// Reads and validates a GPU spec file.
GpuSpec ReadGpuSpec(const std::string& path);
GpuSpec GpuSpecFromJson(const nlohmann::json& j, const std::string& file);
nlohmann::json GpuSpecToJson(const GpuSpec& spec);

/// Directory holding the bundled specs (configs/gpus of the source tree,
/// or $COTENANT_GPU_DIR when set).
std::string GpuSpecDir();

/// Keys of the bundled specs, sorted.
std::vector<std::string> ListGpuSpecs();

/// True when `key_or_path` names a spec file (ends in .json or .json.gz, or
/// contains '/') rather than a bundled key.
bool IsGpuSpecPath(const std::string& key_or_path);

/// Finds a spec by key ("h100-sxm") or by path to a .json file. Throws
/// InputError naming the known keys when it does not exist.
GpuSpec LoadGpuSpec(const std::string& key_or_path);

/// The key of the bundled spec whose `device_names` (or `name`) holds
/// `device_name`, compared case-insensitively, ignoring surrounding spaces and
/// an "NVIDIA " prefix on either side; nullopt when none does. Throws
/// InputError when a bundled spec does not read.
std::optional<std::string> SpecKeyForDevice(const std::string& device_name);

/// The message for a device name no bundled spec knows: `GPU device "X" matches
/// no spec in DIR; nearest: k1 ("name"), k2 ("name"), k3 ("name"); give --gpu
/// KEY`, the nearest three specs by edit distance to their device names.
std::string UnknownDeviceMessage(const std::string& device_name);

}  // namespace cotenant
