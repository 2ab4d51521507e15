// The event categories of Kineto Chrome traces the importer reads, in the
// current and the legacy layout (internal to the Kineto importer).
#pragma once

#include <cstdint>
#include <string_view>

namespace cotenant::profiler::kineto {

/// What the importer does with an event category.
enum class Cat : uint8_t {
  kUnknown,
  kKernel,
  kMemcpy,
  kMemset,
  kRuntime,
  kDriver,
  kSync,
  kCudaEvent,
  kCpuOp,
  kAnnotation,
  kGpuAnnotation,  ///< gpu_user_annotation: a range on a stream
  kFlow,
};

/// One category name of the table.
struct CatName {
  const char* name;
  Cat cat;
  bool legacy;  ///< a name of the legacy layout
};

/// The entry for a `cat` value, or nullptr for a category the importer does
/// not use.
const CatName* FindCat(std::string_view cat);

/// How messages name an event of category `c` ("kernel", "cuda_sync").
const char* CatNoun(Cat c);

}  // namespace cotenant::profiler::kineto
