// Occupancy calculator: how many blocks of a kernel fit on one SM.
#pragma once

#include <cstdint>

#include "sim/gpu_spec.h"

namespace cotenant {

/// Which per-SM limit bounds the resident blocks.
enum class OccupancyLimiter : uint8_t {
  kBlocks,
  kThreads,
  kWarps,
  kRegisters,
  kSharedMemory,
  kNone
};
const char* OccupancyLimiterName(OccupancyLimiter l);

struct Occupancy {
  int32_t blocks_per_sm = 0;  ///< 0 = the block does not fit on an SM at all
  OccupancyLimiter limiter = OccupancyLimiter::kNone;
  int32_t warps_per_block = 0;
  int32_t regs_per_block = 0;  ///< after allocation granularity
  int32_t smem_per_block = 0;  ///< after granularity, incl. the per-block reservation
};

/// The CUDA occupancy calculator for one block shape on `spec`:
/// min over the block, warp, thread, register and shared-memory limits, with
/// their allocation granularities. `regs_per_thread` 0 counts as 32.
Occupancy ComputeOccupancy(const GpuSpec& spec, int32_t threads_per_block, int32_t regs_per_thread,
                           int32_t smem_per_block);

}  // namespace cotenant
