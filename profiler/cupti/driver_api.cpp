#include "profiler/cupti/driver_api.h"

#include <dlfcn.h>

namespace cotenant::profiler::cupti {
namespace {

template <typename F>
void Find(void* lib, const char* name, F* fn) {
  *fn = reinterpret_cast<F>(dlsym(lib, name));
}

DriverApi Load() {
  DriverApi d;
  // RTLD_NOLOAD: only the driver already in the process, never a new copy.
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return d;
  Find(lib, "cuCtxGetCurrent", &d.ctx_get_current);
  Find(lib, "cuCtxSynchronize", &d.ctx_synchronize);
  Find(lib, "cuCtxGetDevice", &d.ctx_get_device);
  Find(lib, "cuCtxPushCurrent_v2", &d.ctx_push_current);
  Find(lib, "cuCtxPopCurrent_v2", &d.ctx_pop_current);
  Find(lib, "cuDeviceGet", &d.device_get);
  Find(lib, "cuDeviceGetName", &d.device_get_name);
  return d;  // the handle stays open for the life of the process
}

}  // namespace

bool DriverApi::ok() const {
  return ctx_get_current && ctx_synchronize && ctx_get_device && ctx_push_current &&
         ctx_pop_current && device_get && device_get_name;
}

const DriverApi& Driver() {
  static const DriverApi driver = Load();
  return driver;
}

bool SynchronizeCurrentContext() noexcept {
  const DriverApi& d = Driver();
  if (d.ctx_get_current == nullptr || d.ctx_synchronize == nullptr) return false;
  CUcontext ctx = nullptr;
  if (d.ctx_get_current(&ctx) != CUDA_SUCCESS || ctx == nullptr) return false;
  return d.ctx_synchronize() == CUDA_SUCCESS;
}

std::string DeviceName(int ordinal) noexcept {
  const DriverApi& d = Driver();
  if (d.device_get == nullptr || d.device_get_name == nullptr) return "";
  CUdevice dev = 0;
  char name[256] = {0};
  if (d.device_get(&dev, ordinal) != CUDA_SUCCESS) return "";
  if (d.device_get_name(name, static_cast<int>(sizeof(name) - 1), dev) != CUDA_SUCCESS) return "";
  return name;
}

}  // namespace cotenant::profiler::cupti
