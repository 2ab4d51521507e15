// Hand-made CUPTI activity buffers for the tests: records filled field by
// field and laid end to end, as CUPTI lays them out in its buffers.
#pragma once

#include <cupti.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "profiler/cupti/cupti_version.h"

namespace cotenant::profiler::cupti::testing {

/// A buffer of records; Add() appends a copy of a record.
class RecordBuffer {
 public:
  template <typename T>
  RecordBuffer& Add(const T& record) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &record, sizeof(T));
    return *this;
  }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;  // operator new: aligned for any record
};

/// A zeroed record.
template <typename T>
T Zeroed() {
  T r;
  std::memset(static_cast<void*>(&r), 0, sizeof(T));
  return r;
}

inline KernelRecord Kernel(const char* name, uint32_t stream, uint64_t start, uint64_t end,
                           uint32_t corr) {
  auto k = Zeroed<KernelRecord>();
  k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
  k.name = name;
  k.streamId = stream;
  k.start = start;
  k.end = end;
  k.correlationId = corr;
  k.gridX = 264;
  k.gridY = 2;
  k.gridZ = 1;
  k.blockX = 128;
  k.blockY = 1;
  k.blockZ = 1;
  k.registersPerThread = 168;
  k.staticSharedMemory = 32768;
  k.dynamicSharedMemory = 65536;
  return k;
}

inline ApiRecord Api(bool driver, uint32_t cbid, uint32_t thread, uint64_t start, uint64_t end,
                     uint32_t corr) {
  auto a = Zeroed<ApiRecord>();
  a.kind = driver ? CUPTI_ACTIVITY_KIND_DRIVER : CUPTI_ACTIVITY_KIND_RUNTIME;
  a.cbid = cbid;
  a.processId = 4242;
  a.threadId = thread;
  a.start = start;
  a.end = end;
  a.correlationId = corr;
  return a;
}

inline ApiRecord Runtime(uint32_t cbid, uint32_t thread, uint64_t start, uint64_t end,
                         uint32_t corr) {
  return Api(false, cbid, thread, start, end, corr);
}

inline MemcpyRecord Memcpy(uint8_t copy_kind, uint64_t bytes, uint32_t stream, uint64_t start,
                           uint64_t end, uint32_t corr) {
  auto m = Zeroed<MemcpyRecord>();
  m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  m.copyKind = copy_kind;
  m.bytes = bytes;
  m.streamId = stream;
  m.start = start;
  m.end = end;
  m.correlationId = corr;
  return m;
}

inline PeerCopyRecord PeerCopy(uint64_t bytes, uint32_t stream, uint64_t start, uint64_t end,
                               uint32_t corr) {
  auto m = Zeroed<PeerCopyRecord>();
  m.kind = CUPTI_ACTIVITY_KIND_MEMCPY2;
  m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
  m.bytes = bytes;
  m.deviceId = 1;
  m.srcDeviceId = 0;
  m.dstDeviceId = 1;
  m.streamId = stream;
  m.start = start;
  m.end = end;
  m.correlationId = corr;
  return m;
}

inline MemsetRecord Memset(uint64_t bytes, uint32_t stream, uint64_t start, uint64_t end,
                           uint32_t corr) {
  auto m = Zeroed<MemsetRecord>();
  m.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  m.bytes = bytes;
  m.streamId = stream;
  m.start = start;
  m.end = end;
  m.correlationId = corr;
  return m;
}

inline SyncRecord Sync(CUpti_ActivitySynchronizationType type, uint32_t stream, uint32_t event,
                       uint64_t start, uint64_t end, uint32_t corr) {
  auto s = Zeroed<SyncRecord>();
  s.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
  s.type = type;
  s.streamId = stream;
  s.cudaEventId = event;
  s.start = start;
  s.end = end;
  s.correlationId = corr;
  return s;
}

inline CudaEventRecord Event(uint32_t stream, uint32_t event, uint32_t corr) {
  auto e = Zeroed<CudaEventRecord>();
  e.kind = CUPTI_ACTIVITY_KIND_CUDA_EVENT;
  e.streamId = stream;
  e.eventId = event;
  e.correlationId = corr;
  return e;
}

/// An NVTX marker on a thread: CUPTI_ACTIVITY_FLAG_MARKER_START (with a
/// name), _END (name null) or _INSTANTANEOUS.
inline MarkerRecord Marker(CUpti_ActivityFlag flag, uint32_t id, uint32_t thread,
                           uint64_t timestamp, const char* name) {
  auto m = Zeroed<MarkerRecord>();
  m.kind = CUPTI_ACTIVITY_KIND_MARKER;
  m.flags = flag;
  m.id = id;
  m.timestamp = timestamp;
  m.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  m.objectId.pt.processId = 4242;
  m.objectId.pt.threadId = thread;
  m.name = name;
  return m;
}

inline MarkerRecord Push(uint32_t id, uint32_t thread, uint64_t t, const char* name) {
  return Marker(CUPTI_ACTIVITY_FLAG_MARKER_START, id, thread, t, name);
}
inline MarkerRecord Pop(uint32_t id, uint32_t thread, uint64_t t) {
  return Marker(CUPTI_ACTIVITY_FLAG_MARKER_END, id, thread, t, nullptr);
}

inline ExternalCorrelationRecord External(uint64_t external_id, uint32_t corr) {
  auto x = Zeroed<ExternalCorrelationRecord>();
  x.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
  x.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0;
  x.externalId = external_id;
  x.correlationId = corr;
  return x;
}

}  // namespace cotenant::profiler::cupti::testing
