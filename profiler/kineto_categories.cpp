#include "profiler/kineto_categories.h"

namespace cotenant::profiler::kineto {
namespace {

// Current names: libkineto/include/ActivityType.h (toString of each
// ActivityType); legacy names: the pre-2021 libkineto output_json.cpp and the
// traces torch_tb_profiler's tests use ("Kernel", "Runtime", "Memcpy",
// "Memset", "Operator", flows "async_gpu"/"async").
constexpr CatName kCats[] = {
    {"kernel", Cat::kKernel, false},
    {"gpu_memcpy", Cat::kMemcpy, false},
    {"gpu_memset", Cat::kMemset, false},
    {"cuda_runtime", Cat::kRuntime, false},
    {"cuda_driver", Cat::kDriver, false},
    {"cuda_sync", Cat::kSync, false},
    {"cuda_event", Cat::kCudaEvent, false},
    {"cpu_op", Cat::kCpuOp, false},
    {"user_annotation", Cat::kAnnotation, false},
    {"gpu_user_annotation", Cat::kGpuAnnotation, false},
    {"ac2g", Cat::kFlow, false},
    {"Kernel", Cat::kKernel, true},
    {"Memcpy", Cat::kMemcpy, true},
    {"Memset", Cat::kMemset, true},
    {"Runtime", Cat::kRuntime, true},
    {"Operator", Cat::kCpuOp, true},
    {"async_gpu", Cat::kFlow, true},
    {"async", Cat::kFlow, true},
};

}  // namespace

const CatName* FindCat(std::string_view cat) {
  for (const CatName& c : kCats) {
    if (cat == c.name) return &c;
  }
  return nullptr;
}

const char* CatNoun(Cat c) {
  switch (c) {
    case Cat::kKernel:
      return "kernel";
    case Cat::kMemcpy:
      return "memcpy";
    case Cat::kMemset:
      return "memset";
    case Cat::kRuntime:
      return "runtime";
    case Cat::kDriver:
      return "driver";
    case Cat::kSync:
      return "cuda_sync";
    case Cat::kCudaEvent:
      return "cuda_event";
    case Cat::kCpuOp:
      return "cpu_op";
    case Cat::kAnnotation:
      return "user_annotation";
    case Cat::kGpuAnnotation:
      return "gpu_user_annotation";
    case Cat::kFlow:
      return "flow";
    case Cat::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace cotenant::profiler::kineto
