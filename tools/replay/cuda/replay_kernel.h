// The synthetic replay kernel: a compute spin plus DRAM streaming per block,
// with dynamic shared memory that sets its occupancy. Host-callable wrappers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace cotenant::replay {

struct ReplayKernelParams {
  long long spin_iters = 0;       ///< dependent FMAs per thread
  long long bytes_per_block = 0;  ///< DRAM bytes each block reads and writes back
  float* buffer = nullptr;        ///< device buffer of >= 2x L2, streamed through
  long long buffer_elems = 0;
  unsigned long long* stamps = nullptr;  ///< [first block start, last block end] %globaltimer
  int dynamic_smem = 0;                  ///< bytes of dynamic shared memory launched with
};

/// Launches the replay kernel.
cudaError_t LaunchReplayKernel(dim3 grid, dim3 block, const ReplayKernelParams& p,
                               cudaStream_t stream);
/// Registers per thread and static shared memory of the compiled kernel; sets
/// its maximum dynamic shared memory to `max_dynamic_smem`.
cudaError_t QueryReplayKernel(int* regs, int* static_smem, int max_dynamic_smem);
/// Writes %globaltimer to *out from one thread.
cudaError_t LaunchStamp(unsigned long long* out, cudaStream_t stream);

}  // namespace cotenant::replay
