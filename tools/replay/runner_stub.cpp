// The replay runner of builds without the CUDA toolkit: says so.
#include "sim/error.h"
#include "tools/replay/runner.h"

#ifndef COTENANT_HAVE_REPLAY_CUDA
namespace cotenant::replay {

bool ReplayBuilt() { return false; }

ReplayReport RunReplay(const LoadedWorkload&, const TaskGraph&, const ReplayProgram&,
                       const ReplayOptions&) {
  throw InputError("replay needs a CUDA GPU: this cotenant was built without the CUDA toolkit");
}

}  // namespace cotenant::replay
#endif
