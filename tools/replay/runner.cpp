#include "tools/replay/runner.h"

#include "sim/error.h"
#ifdef COTENANT_HAVE_REPLAY_CUDA
#include "tools/replay/cuda/cuda_runner.h"
#endif

namespace cotenant::replay {

#ifdef COTENANT_HAVE_REPLAY_CUDA
bool CudaRunnerBuilt() { return true; }

std::unique_ptr<Runner> MakeCudaRunner(const std::string&) { return NewCudaRunner(); }
#else
bool CudaRunnerBuilt() { return false; }

std::unique_ptr<Runner> MakeCudaRunner(const std::string& command) {
  throw InputError(command +
                   " needs a CUDA GPU: this cotenant was built without the CUDA toolkit (nvcc)");
}
#endif

}  // namespace cotenant::replay
