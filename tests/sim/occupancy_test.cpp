// The occupancy calculator against hand-computed cases (CUDA occupancy calculator rules,
// cuda_occupancy.h). The GPU specs are built here so the test does not read files.
#include "sim/occupancy.h"

#include <catch2/catch.hpp>

#include "sim/gpu_spec.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

/// H100 SXM5 (tests/common/fixtures.h).
GpuSpec H100() { return testing::H100Sxm(); }

/// A100 SXM4 (CC 8.0): as H100 but 164 KB shared memory per SM, 163 KB per block.
GpuSpec A100() {
  GpuSpec s = H100();
  s.key = "a100-sxm4-80g";
  s.compute_capability = 80;
  s.sm_count = 108;
  s.sm.smem_bytes = 167936;
  s.sm.max_smem_per_block = 166912;
  return s;
}

/// V100 SXM2 (CC 7.0): 96 KB per SM and per block, no reservation, 256-byte smem units.
GpuSpec V100() {
  GpuSpec s = H100();
  s.key = "v100-sxm2";
  s.compute_capability = 70;
  s.sm_count = 80;
  s.sm.smem_bytes = 98304;
  s.sm.max_smem_per_block = 98304;
  s.sm.smem_alloc_unit = 256;
  s.sm.smem_reserved_per_block = 0;
  return s;
}

/// L4 (CC 8.9): 1536 threads, 24 blocks, 48 warps, 100 KB per SM, 99 KB per block.
GpuSpec L4() {
  GpuSpec s = H100();
  s.key = "l4";
  s.compute_capability = 89;
  s.sm_count = 58;
  s.sm.max_threads = 1536;
  s.sm.max_blocks = 24;
  s.sm.max_warps = 48;
  s.sm.smem_bytes = 102400;
  s.sm.max_smem_per_block = 101376;
  return s;
}

}  // namespace

TEST_CASE("occupancy: H100, 256 threads, 32 regs, no smem is thread-limited", "[occupancy]") {
  // warps/block = 256/32 = 8
  // threads: 2048/256 = 8; warps: 64/8 = 8; blocks: 32
  // regs: 32*32 = 1024/warp (multiple of 256); 16384/1024 = 16 warps per sub-partition,
  //       4*16 = 64 warps -> 64/8 = 8 blocks
  // smem: (0 + 1024 reserved) = 1024 -> 233472/1024 = 228 blocks
  // min = 8; threads, warps and registers tie -> reported as threads.
  Occupancy o = ComputeOccupancy(H100(), 256, 32, 0);
  CHECK(o.blocks_per_sm == 8);
  CHECK(o.limiter == OccupancyLimiter::kThreads);
  CHECK(o.warps_per_block == 8);
  CHECK(o.regs_per_block == 8192);
  CHECK(o.smem_per_block == 1024);
}

TEST_CASE("occupancy: H100, 128 threads, 168 regs is register-limited", "[occupancy]") {
  // warps/block = 4; threads 2048/128 = 16; warps 64/4 = 16; blocks 32
  // regs: 168*32 = 5376/warp (= 21*256, already aligned);
  //       16384/5376 = 3 warps per sub-partition -> 12 warps -> 12/4 = 3 blocks
  // smem: 1024 -> 228
  Occupancy o = ComputeOccupancy(H100(), 128, 168, 0);
  CHECK(o.blocks_per_sm == 3);
  CHECK(o.limiter == OccupancyLimiter::kRegisters);
  CHECK(o.regs_per_block == 21504);
}

TEST_CASE("occupancy: H100, 128 threads, 96 KB smem is smem-limited", "[occupancy]") {
  // warps/block = 4; threads 16; warps 16; blocks 32
  // regs: 64*32 = 2048/warp; 16384/2048 = 8 per sub -> 32 warps -> 8 blocks
  // smem: 98304 + 1024 = 99328 (= 776*128) -> floor(233472/99328) = 2
  Occupancy o = ComputeOccupancy(H100(), 128, 64, 98304);
  CHECK(o.blocks_per_sm == 2);
  CHECK(o.limiter == OccupancyLimiter::kSharedMemory);
  CHECK(o.smem_per_block == 99328);
}

TEST_CASE("occupancy: H100, 1024-thread blocks", "[occupancy]") {
  // 32 regs: warps/block 32; threads 2048/1024 = 2; warps 64/32 = 2;
  //          regs 1024/warp -> 16 per sub -> 64 warps -> 2 -> 2 blocks, threads (tie).
  Occupancy a = ComputeOccupancy(H100(), 1024, 32, 0);
  CHECK(a.blocks_per_sm == 2);
  CHECK(a.limiter == OccupancyLimiter::kThreads);
  // 64 regs: 2048/warp; per-block check 2048 * 32 = 65536 <= 65536 fits;
  //          16384/2048 = 8 per sub -> 32 warps -> 1 block, registers.
  Occupancy b = ComputeOccupancy(H100(), 1024, 64, 0);
  CHECK(b.blocks_per_sm == 1);
  CHECK(b.limiter == OccupancyLimiter::kRegisters);
}

TEST_CASE("occupancy: sub-partition register allocation", "[occupancy]") {
  // 96 threads (3 warps), 96 regs: 96*32 = 3072/warp.
  // Per sub-partition floor(16384/3072) = 5 warps -> 20 warps per SM -> floor(20/3) = 6.
  // (Dividing the whole file, 65536/(3072*3) = 7.1, would wrongly give 7.)
  // threads: 2048/96 = 21; warps: 64/3 = 21; blocks 32.
  Occupancy o = ComputeOccupancy(H100(), 96, 96, 0);
  CHECK(o.blocks_per_sm == 6);
  CHECK(o.limiter == OccupancyLimiter::kRegisters);
  // 100 threads round up to 4 warps: threads 2048/(4*32) = 16 blocks, not 20.
  Occupancy p = ComputeOccupancy(H100(), 100, 32, 0);
  CHECK(p.warps_per_block == 4);
  CHECK(p.blocks_per_sm == 16);
  CHECK(p.limiter == OccupancyLimiter::kThreads);
}

TEST_CASE("occupancy: block-count limit and defaults", "[occupancy]") {
  // 32 threads = 1 warp: threads 64, warps 64, blocks 32, regs 64 -> 32 blocks.
  Occupancy o = ComputeOccupancy(H100(), 32, 32, 0);
  CHECK(o.blocks_per_sm == 32);
  CHECK(o.limiter == OccupancyLimiter::kBlocks);
  // 64 threads: threads 32 and blocks 32 tie -> threads.
  CHECK(ComputeOccupancy(H100(), 64, 32, 0).limiter == OccupancyLimiter::kThreads);
  // regs_per_thread 0 counts as 32.
  Occupancy d = ComputeOccupancy(H100(), 256, 0, 0);
  CHECK(d.blocks_per_sm == 8);
  CHECK(d.regs_per_block == 8192);
}

TEST_CASE("occupancy: blocks that do not fit", "[occupancy]") {
  const GpuSpec h = H100();
  // More than 1024 threads per block.
  Occupancy t = ComputeOccupancy(h, 1025, 32, 0);
  CHECK(t.blocks_per_sm == 0);
  CHECK(t.limiter == OccupancyLimiter::kThreads);
  // More registers per thread than the 255 allowed.
  Occupancy r = ComputeOccupancy(h, 128, 256, 0);
  CHECK(r.blocks_per_sm == 0);
  CHECK(r.limiter == OccupancyLimiter::kRegisters);
  // 1024 threads x 65 regs: 65*32 = 2080 -> 2304/warp; 2304*32 = 73728 > 65536 per block.
  Occupancy rb = ComputeOccupancy(h, 1024, 65, 0);
  CHECK(rb.blocks_per_sm == 0);
  CHECK(rb.limiter == OccupancyLimiter::kRegisters);
  // More shared memory than 227 KB per block.
  Occupancy s = ComputeOccupancy(h, 128, 32, 232449);
  CHECK(s.blocks_per_sm == 0);
  CHECK(s.limiter == OccupancyLimiter::kSharedMemory);
  // Exactly 227 KB: 232448 + 1024 = 233472 = the whole SM -> 1 block.
  Occupancy s1 = ComputeOccupancy(h, 128, 32, 232448);
  CHECK(s1.blocks_per_sm == 1);
  CHECK(s1.limiter == OccupancyLimiter::kSharedMemory);
  // No block shape at all.
  Occupancy z = ComputeOccupancy(h, 0, 32, 0);
  CHECK(z.blocks_per_sm == 0);
  CHECK(z.limiter == OccupancyLimiter::kNone);
}

TEST_CASE("occupancy: A100", "[occupancy]") {
  const GpuSpec a = A100();
  // 256 threads, 32 regs, no smem: as on H100, 8 blocks by threads
  // (smem 167936/1024 = 164 does not bind).
  Occupancy o = ComputeOccupancy(a, 256, 32, 0);
  CHECK(o.blocks_per_sm == 8);
  CHECK(o.limiter == OccupancyLimiter::kThreads);
  // 128 threads, 48 KB: 49152 + 1024 = 50176 -> floor(167936/50176) = 3.
  Occupancy s = ComputeOccupancy(a, 128, 32, 49152);
  CHECK(s.blocks_per_sm == 3);
  CHECK(s.limiter == OccupancyLimiter::kSharedMemory);
  // 256 threads, 128 regs, 96 KB (a 128x128 GEMM tile):
  // regs 4096/warp -> 4 per sub -> 16 warps -> 16/8 = 2; smem 99328 -> 167936/99328 = 1.
  Occupancy g = ComputeOccupancy(a, 256, 128, 98304);
  CHECK(g.blocks_per_sm == 1);
  CHECK(g.limiter == OccupancyLimiter::kSharedMemory);
  // 128 threads, 168 regs: 3 blocks by registers, as on H100.
  CHECK(ComputeOccupancy(a, 128, 168, 0).blocks_per_sm == 3);
  // 163 KB per block fits once (166912 + 1024 = 167936); one byte more does not.
  CHECK(ComputeOccupancy(a, 128, 32, 166912).blocks_per_sm == 1);
  Occupancy big = ComputeOccupancy(a, 128, 32, 166913);
  CHECK(big.blocks_per_sm == 0);
  CHECK(big.limiter == OccupancyLimiter::kSharedMemory);
}

TEST_CASE("occupancy: V100 and L4 granularities", "[occupancy]") {
  // V100: 256-byte units, no reservation. 49153 B -> 49408 -> floor(98304/49408) = 1.
  Occupancy v = ComputeOccupancy(V100(), 128, 32, 49153);
  CHECK(v.smem_per_block == 49408);
  CHECK(v.blocks_per_sm == 1);
  CHECK(v.limiter == OccupancyLimiter::kSharedMemory);
  // V100, no smem: no shared-memory limit; 256 threads -> 8 by threads.
  Occupancy v0 = ComputeOccupancy(V100(), 256, 32, 0);
  CHECK(v0.smem_per_block == 0);
  CHECK(v0.blocks_per_sm == 8);
  // L4: 1536 threads, 48 warps, 24 blocks. 256 threads -> 1536/256 = 6 by threads.
  Occupancy l = ComputeOccupancy(L4(), 256, 32, 0);
  CHECK(l.blocks_per_sm == 6);
  CHECK(l.limiter == OccupancyLimiter::kThreads);
  // L4, 32 threads: threads 48, warps 48, blocks 24 -> 24 by blocks.
  Occupancy l32 = ComputeOccupancy(L4(), 32, 32, 0);
  CHECK(l32.blocks_per_sm == 24);
  CHECK(l32.limiter == OccupancyLimiter::kBlocks);
}

TEST_CASE("occupancy: limiter names", "[occupancy]") {
  CHECK(std::string(OccupancyLimiterName(OccupancyLimiter::kRegisters)) == "registers");
  CHECK(std::string(OccupancyLimiterName(OccupancyLimiter::kSharedMemory)) == "shared_memory");
  CHECK(std::string(OccupancyLimiterName(OccupancyLimiter::kThreads)) == "threads");
}

}  // namespace cotenant
