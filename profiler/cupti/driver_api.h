// The few CUDA driver functions the injection library calls, looked up in
// the driver that is already loaded (the driver loads the library), so
// libcotenant_inject.so links neither libcuda nor libcudart and loads on a
// machine without a GPU.
#pragma once

#include <cuda.h>

#include <string>

namespace cotenant::profiler::cupti {

/// Pointers to driver functions, named after them (cuCtxGetCurrent, ...);
/// null when not found.
struct DriverApi {
  CUresult (*ctx_get_current)(CUcontext*) = nullptr;
  CUresult (*ctx_synchronize)() = nullptr;
  CUresult (*ctx_get_device)(CUdevice*) = nullptr;
  CUresult (*ctx_push_current)(CUcontext) = nullptr;  ///< cuCtxPushCurrent_v2
  CUresult (*ctx_pop_current)(CUcontext*) = nullptr;  ///< cuCtxPopCurrent_v2
  CUresult (*device_get)(CUdevice*, int) = nullptr;
  CUresult (*device_get_name)(char*, int, CUdevice) = nullptr;

  /// True when every function was found.
  bool ok() const;
};

/// The driver's functions, from libcuda.so.1 if this process has loaded it
/// (looked up once); all null otherwise.
const DriverApi& Driver();

/// Waits for the GPU work of the context current on this thread, if there
/// is one (cuCtxSynchronize). Returns false when there is no driver or no
/// current context, or the synchronize failed. Never throws.
bool SynchronizeCurrentContext() noexcept;

/// The name of CUDA device `ordinal` ("NVIDIA H100 80GB HBM3"), or "".
std::string DeviceName(int ordinal) noexcept;

}  // namespace cotenant::profiler::cupti
