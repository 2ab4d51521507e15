// One checking macro for every CUDA runtime and driver call of the replay
// harness: a failure throws, naming the call and the error string.
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace cotenant::replay {

[[noreturn]] inline void CudaFailed(const char* call, const std::string& what) {
  throw std::runtime_error(std::string("CUDA call failed: ") + call + ": " + what);
}

inline void CheckCuda(cudaError_t e, const char* call) {
  if (e != cudaSuccess)
    CudaFailed(call, std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e));
}

/// Driver calls go through entry points (cudart is static and libcuda is
/// found at run time); `CheckCu` needs cuGetErrorString, when available.
using CuGetErrorStringFn = CUresult (*)(CUresult, const char**);
inline CuGetErrorStringFn& CuErrorStringFn() {
  static CuGetErrorStringFn fn = nullptr;
  return fn;
}

inline void CheckCu(CUresult r, const char* call) {
  if (r == CUDA_SUCCESS) return;
  const char* s = nullptr;
  if (CuErrorStringFn() != nullptr) CuErrorStringFn()(r, &s);
  CudaFailed(call,
             "CUresult " + std::to_string(static_cast<int>(r)) + (s ? std::string(": ") + s : ""));
}

}  // namespace cotenant::replay

#define COTENANT_CUDA(call) ::cotenant::replay::CheckCuda((call), #call)
#define COTENANT_CU(call) ::cotenant::replay::CheckCu((call), #call)
