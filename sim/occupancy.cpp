// The CUDA occupancy calculator, following cuda_occupancy.h
// (cudaOccMaxActiveBlocksPerMultiprocessor) for compute capability >= 7.0:
//
//   warps/block  = ceil(threads / warp_size)
//   block limit  = max_blocks
//   warp limit   = floor(max_warps / warps per block)
//   thread limit = floor(max_threads / (warps per block * warp_size))
//   registers    = regs/thread * warp_size rounded up to reg_alloc_unit, per warp;
//                  each of the SM's 4 sub-partitions holds floor((registers / 4) / regs per
//                  warp) warps, so the limit is floor(4 * that / warps per block)
//   shared mem   = (smem + smem_reserved_per_block) rounded up to smem_alloc_unit;
//                  limit floor(smem_bytes / that) (the per-block reservation counts even
//                  with no shared memory, as in cuda_occupancy.h; it never binds then)
//
// A block that cannot run at all (more than 1024 threads, more registers per thread or
// per block than allowed, more shared memory than the per-block maximum) gets 0 blocks.
#include "sim/occupancy.h"

#include <algorithm>
#include <climits>

namespace cotenant {
namespace {

/// Threads per block allowed by every CUDA GPU since compute capability 2.0.
constexpr int32_t kMaxThreadsPerBlock = 1024;
/// Registers one block may hold (`regsPerBlock`), 64K on every supported GPU.
constexpr int64_t kMaxRegsPerBlock = 65536;
/// Register-file sub-partitions per SM (cudaOccSubPartitionsPerMultiprocessor, CC >= 7.0).
constexpr int32_t kSubPartitions = 4;

int64_t RoundUp(int64_t x, int64_t unit) { return unit > 0 ? (x + unit - 1) / unit * unit : x; }
int64_t DivUp(int64_t x, int64_t d) { return (x + d - 1) / d; }

}  // namespace

const char* OccupancyLimiterName(OccupancyLimiter l) {
  switch (l) {
    case OccupancyLimiter::kBlocks:
      return "blocks";
    case OccupancyLimiter::kThreads:
      return "threads";
    case OccupancyLimiter::kWarps:
      return "warps";
    case OccupancyLimiter::kRegisters:
      return "registers";
    case OccupancyLimiter::kSharedMemory:
      return "shared_memory";
    case OccupancyLimiter::kNone:
      return "none";
  }
  return "none";
}

Occupancy ComputeOccupancy(const GpuSpec& spec, int32_t threads_per_block, int32_t regs_per_thread,
                           int32_t smem_per_block) {
  const SmLimits& sm = spec.sm;
  Occupancy occ;
  if (threads_per_block <= 0 || sm.warp_size <= 0) return occ;  // no block shape: kNone
  if (regs_per_thread <= 0) regs_per_thread = 32;
  if (smem_per_block < 0) smem_per_block = 0;

  const int64_t warps = DivUp(threads_per_block, sm.warp_size);
  occ.warps_per_block = static_cast<int32_t>(warps);
  const int64_t regs_per_warp = RoundUp(int64_t{regs_per_thread} * sm.warp_size, sm.reg_alloc_unit);
  occ.regs_per_block = static_cast<int32_t>(std::min<int64_t>(regs_per_warp * warps, INT32_MAX));
  const int64_t smem_alloc =
      RoundUp(int64_t{smem_per_block} + sm.smem_reserved_per_block, sm.smem_alloc_unit);
  occ.smem_per_block = static_cast<int32_t>(std::min<int64_t>(smem_alloc, INT32_MAX));

  // Blocks that cannot run anywhere.
  if (threads_per_block > kMaxThreadsPerBlock || threads_per_block > sm.max_threads) {
    occ.limiter = OccupancyLimiter::kThreads;
    return occ;
  }
  // The hardware checks the per-block register limit as if the block's warps were spread
  // over all sub-partitions (cuda_occupancy.h, "regsAssumedPerCTA").
  const int64_t regs_block_cap = std::min<int64_t>(kMaxRegsPerBlock, sm.registers);
  if (regs_per_thread > sm.max_regs_per_thread ||
      regs_per_warp * RoundUp(warps, kSubPartitions) > regs_block_cap) {
    occ.limiter = OccupancyLimiter::kRegisters;
    return occ;
  }
  // Per-block shared memory: cuda_occupancy.h compares the allocation (with the
  // reservation) against the opt-in maximum plus the reservation.
  if (smem_per_block > sm.max_smem_per_block ||
      smem_alloc > int64_t{sm.max_smem_per_block} + sm.smem_reserved_per_block ||
      smem_alloc > sm.smem_bytes) {
    occ.limiter = OccupancyLimiter::kSharedMemory;
    return occ;
  }

  const int64_t by_blocks = sm.max_blocks;
  const int64_t by_threads = sm.max_threads / (warps * sm.warp_size);
  const int64_t by_warps = sm.max_warps / warps;
  int64_t by_regs = INT32_MAX;
  if (regs_per_warp > 0) {
    const int64_t warps_per_sub = (sm.registers / kSubPartitions) / regs_per_warp;
    by_regs = warps_per_sub * kSubPartitions / warps;
  }
  const int64_t by_smem = smem_alloc > 0 ? sm.smem_bytes / smem_alloc : INT32_MAX;

  // Ties go to the first limit in this order: threads, warps, blocks, registers, shared
  // memory (the resources a kernel author changes last come last).
  const std::pair<int64_t, OccupancyLimiter> limits[] = {
      {by_threads, OccupancyLimiter::kThreads},
      {by_warps, OccupancyLimiter::kWarps},
      {by_blocks, OccupancyLimiter::kBlocks},
      {by_regs, OccupancyLimiter::kRegisters},
      {by_smem, OccupancyLimiter::kSharedMemory}};
  int64_t best = limits[0].first;
  OccupancyLimiter limiter = limits[0].second;
  for (const auto& [n, which] : limits) {
    if (n < best) {
      best = n;
      limiter = which;
    }
  }
  occ.blocks_per_sm = static_cast<int32_t>(std::max<int64_t>(best, 0));
  occ.limiter = limiter;
  return occ;
}

}  // namespace cotenant
