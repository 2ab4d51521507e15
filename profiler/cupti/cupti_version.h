// The one place that knows which CUPTI activity record structs this build
// reads. CUPTI writes records in the layout of the library that is loaded,
// so the headers used to build must match that library's major version
// (injection.cpp checks this at start-up and refuses to trace otherwise).
#pragma once

#include <cupti.h>

#include <cstdint>

/// The CUPTI API version the record layouts below follow. Defaults to the
/// headers' CUPTI_API_VERSION; defining it lets a compile-only check of an
/// older branch run against newer headers (the older structs stay in
/// cupti_activity_deprecated.h).
#ifndef COTENANT_CUPTI_API_VERSION
#define COTENANT_CUPTI_API_VERSION CUPTI_API_VERSION
#endif

namespace cotenant::profiler::cupti {

/// CUPTI_API_VERSION: 19..28 for CUDA 12.0..12.9, then xxyyzz from CUDA 13.0
/// (130000 = 13.0, 130001 = 13.0 Update 1).
constexpr uint32_t kHeaderVersion = COTENANT_CUPTI_API_VERSION;

#if COTENANT_CUPTI_API_VERSION >= 130200
// CUDA 13.2 replaced CUpti_ActivityKernel10 with CUpti_ActivityKernel11
// (adds the launch priority). Not compiled here: the build machine has 13.0.
using KernelRecord = CUpti_ActivityKernel11;
#elif COTENANT_CUPTI_API_VERSION >= 130000
using KernelRecord = CUpti_ActivityKernel10;  ///< CUDA 13.0, 13.1
#elif COTENANT_CUPTI_API_VERSION >= 19
using KernelRecord = CUpti_ActivityKernel9;  ///< CUDA 12.x
#else
#error "cotenant's CUPTI injection needs CUDA 12.0 or newer (CUPTI_API_VERSION >= 19)"
#endif

#if COTENANT_CUPTI_API_VERSION >= 26
// CUDA 12.8 introduced Memcpy6, CudaEvent2 and Synchronization2.
using MemcpyRecord = CUpti_ActivityMemcpy6;
using CudaEventRecord = CUpti_ActivityCudaEvent2;
using SyncRecord = CUpti_ActivitySynchronization2;
#else
using MemcpyRecord = CUpti_ActivityMemcpy5;
using CudaEventRecord = CUpti_ActivityCudaEvent;
using SyncRecord = CUpti_ActivitySynchronization;
#endif

using PeerCopyRecord = CUpti_ActivityMemcpyPtoP4;  ///< CUDA 11.6 on
using MemsetRecord = CUpti_ActivityMemset4;        ///< CUDA 11.6 on
using ApiRecord = CUpti_ActivityAPI;               ///< runtime and driver calls
using MarkerRecord = CUpti_ActivityMarker2;        ///< NVTX ranges and marks
using ExternalCorrelationRecord = CUpti_ActivityExternalCorrelation;

/// The record struct names, for the trace's meta.
constexpr const char* kKernelRecordName =
#if COTENANT_CUPTI_API_VERSION >= 130200
    "CUpti_ActivityKernel11";
#elif COTENANT_CUPTI_API_VERSION >= 130000
    "CUpti_ActivityKernel10";
#else
    "CUpti_ActivityKernel9";
#endif

/// The major CUDA version a CUPTI API version belongs to (12 for 19..99, 13
/// for 130000..139999), or 0 when unknown.
constexpr uint32_t CudaMajorOfCuptiVersion(uint32_t v) {
  return v >= 100000 ? v / 10000 : (v >= 19 && v <= 99 ? 12 : 0);
}

/// True when records written by a loaded CUPTI of version `loaded` can be read
/// with the layouts above: the same CUDA major version. (Within a major
/// version the layouts can still change, e.g. Kernel10 -> Kernel11 in 13.2;
/// the injection library reports any difference as a problem.)
constexpr bool CanReadRecordsOf(uint32_t loaded) {
  return CudaMajorOfCuptiVersion(loaded) != 0 &&
         CudaMajorOfCuptiVersion(loaded) == CudaMajorOfCuptiVersion(kHeaderVersion);
}

}  // namespace cotenant::profiler::cupti
