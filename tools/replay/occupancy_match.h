// Occupancy matching: the dynamic shared memory that makes the replay
// kernel reach the blocks-per-SM of the traced kernel it stands for.
#pragma once

#include <cstdint>
#include <string>

#include "sim/gpu_spec.h"

namespace cotenant::replay {

/// Resource use of the compiled replay kernel (from cudaFuncGetAttributes).
struct ReplayKernelResources {
  int32_t regs_per_thread = 32;  ///< registers per thread
  int32_t static_smem = 0;       ///< static shared memory per block, bytes
};

/// The launch configuration that reproduces one traced kernel's occupancy.
struct OccupancyMatch {
  int32_t target_blocks_per_sm = 0;  ///< the traced kernel's, from sim/occupancy.h
  int32_t replay_blocks_per_sm = 0;  ///< the replay kernel's with `dynamic_smem`
  int32_t dynamic_smem = 0;          ///< bytes of dynamic shared memory to launch with
  bool exact = false;                ///< replay_blocks_per_sm == target_blocks_per_sm
  std::string note;                  ///< why not exact ("" when exact)
};

/// Chooses the smallest dynamic shared memory (a multiple of the allocation
/// unit) that brings the replay kernel down to the traced kernel's
/// blocks-per-SM. When the replay kernel cannot reach that many blocks
/// (its registers allow fewer), or no amount of shared memory gives that
/// exact count, returns the closest and says why in `note`. `threads`,
/// `regs` and `smem` are the traced block's (regs 0 = 32).
OccupancyMatch MatchOccupancy(const GpuSpec& spec, int32_t threads, int32_t regs, int32_t smem,
                              const ReplayKernelResources& replay);

}  // namespace cotenant::replay
