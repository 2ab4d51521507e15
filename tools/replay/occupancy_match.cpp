#include "tools/replay/occupancy_match.h"

#include <algorithm>

#include "sim/occupancy.h"

namespace cotenant::replay {

OccupancyMatch MatchOccupancy(const GpuSpec& spec, int32_t threads, int32_t regs, int32_t smem,
                              const ReplayKernelResources& replay) {
  OccupancyMatch m;
  m.target_blocks_per_sm = ComputeOccupancy(spec, threads, regs, smem).blocks_per_sm;
  auto replay_blocks = [&](int32_t dynamic) {
    return ComputeOccupancy(spec, threads, replay.regs_per_thread, replay.static_smem + dynamic)
        .blocks_per_sm;
  };
  m.replay_blocks_per_sm = replay_blocks(0);
  if (m.target_blocks_per_sm == 0) {
    m.note = "the traced block does not fit on an SM of " + spec.key;
    return m;
  }
  if (m.replay_blocks_per_sm < m.target_blocks_per_sm) {
    m.note = "the replay kernel fits only " + std::to_string(m.replay_blocks_per_sm) +
             " blocks per SM (its " + std::to_string(replay.regs_per_thread) +
             " registers per thread), the trace " + std::to_string(m.target_blocks_per_sm);
    return m;
  }
  // Occupancy falls as shared memory grows: the first allocation step at or
  // below the target is the smallest that works.
  const int32_t unit = std::max(1, spec.sm.smem_alloc_unit);
  const int32_t limit = spec.sm.max_smem_per_block - replay.static_smem;
  int32_t dynamic = 0;
  int32_t blocks = m.replay_blocks_per_sm;
  while (blocks > m.target_blocks_per_sm && dynamic + unit <= limit) {
    dynamic += unit;
    blocks = replay_blocks(dynamic);
  }
  m.dynamic_smem = dynamic;
  m.replay_blocks_per_sm = blocks;
  m.exact = blocks == m.target_blocks_per_sm;
  if (!m.exact) {
    m.note = "no shared-memory size gives exactly " + std::to_string(m.target_blocks_per_sm) +
             " blocks per SM; using " + std::to_string(blocks);
  }
  return m;
}

}  // namespace cotenant::replay
