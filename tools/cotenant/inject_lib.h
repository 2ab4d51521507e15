// Finding the profiler's libraries at run time: libcotenant_inject.so (for
// `cotenant profile` and replay timing) and libcupti.so (for NVTX).
#pragma once

#include <string>

namespace cotenant::cli {

/// Whether this cotenant was built with CUPTI (and so with the library).
#ifdef COTENANT_HAVE_CUPTI
inline constexpr bool kHaveCupti = true;
#else
inline constexpr bool kHaveCupti = false;
#endif

/// libcotenant_inject.so: `flag` (a --inject path) when given, else
/// $COTENANT_INJECT_LIB, else next to this executable, in ../lib from it, or
/// in the install folder. Throws InputError naming where it looked.
std::string FindInjectLibrary(const std::string& flag);

/// libcupti.so, which NVTX loads through NVTX_INJECTION64_PATH so that CUPTI
/// sees the ranges: $COTENANT_CUPTI_LIB, else the library cotenant was built
/// against. Throws InputError when neither exists.
std::string FindCuptiLibrary();

}  // namespace cotenant::cli
