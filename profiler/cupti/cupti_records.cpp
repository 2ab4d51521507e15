#include "profiler/cupti/cupti_records.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/cupti_version.h"

namespace cotenant::profiler::cupti {
namespace {

/// CUPTI's correlation ids start at 1; 0 means "none".
int64_t Correlation(uint32_t id) { return id == 0 ? kAbsent : static_cast<int64_t>(id); }

/// A synchronization record's stream or event, absent when not applicable.
int64_t SyncId(uint32_t id) {
  return id == CUPTI_SYNCHRONIZATION_INVALID_VALUE ? kAbsent : static_cast<int64_t>(id);
}

/// CUPTI's unsigned 64-bit times and sizes as the capture's int64,
/// saturating: CUPTI never reaches 2^63, and a damaged record must not turn
/// into a negative time or size (the trace would be unreadable).
int64_t ToInt64(uint64_t v) {
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(v);
}

TimeNs Ns(uint64_t t) { return ToInt64(t); }

/// The record as its concrete type. Records are naturally aligned in CUPTI
/// buffers (and in the tests' hand-made ones).
template <typename T>
const T& As(const CUpti_Activity& record) {
  return *reinterpret_cast<const T*>(&record);
}

}  // namespace

nlohmann::json StatsToJson(const RecordStats& s) {
  return {{"buffers", s.buffers},
          {"records", s.records},
          {"kernels", s.kernels},
          {"memcpys", s.memcpys},
          {"memsets", s.memsets},
          {"runtime_calls", s.runtime_calls},
          {"driver_calls", s.driver_calls},
          {"syncs", s.syncs},
          {"event_records", s.event_records},
          {"markers", s.markers},
          {"ranges", s.ranges},
          {"external_correlations", s.external_correlations},
          {"untimed", s.untimed},
          {"ignored", s.ignored},
          {"unmatched_marker_ends", s.unmatched_marker_ends},
          {"open_ranges", s.open_ranges},
          {"bad_buffers", s.bad_buffers}};
}

CopyDir CopyDirOfKind(uint32_t copy_kind) {
  switch (copy_kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      return CopyDir::kH2D;
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      return CopyDir::kD2H;
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA:
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
      return CopyDir::kD2D;
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
      return CopyDir::kH2H;
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:
      return CopyDir::kP2P;
    default:
      return CopyDir::kNone;
  }
}

std::string TrimRuntimeVersion(const std::string& name) {
  const size_t u = name.rfind("_v");
  if (u == std::string::npos || name.size() - (u + 2) < 4) return name;
  const bool digits =
      std::all_of(name.begin() + static_cast<std::ptrdiff_t>(u) + 2, name.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return digits ? name.substr(0, u) : name;
}

RecordNormaliser::RecordNormaliser(Capture* capture) : capture_(capture) {}

void RecordNormaliser::Seen(uint64_t t_ns) { last_ns_ = std::max(last_ns_, Ns(t_ns)); }

template <typename Record>
GpuActivity* RecordNormaliser::AddGpu(const Record& r, TaskKind kind) {
  if (r.start == 0 && r.end == 0) {
    ++stats_.untimed;
    return nullptr;
  }
  GpuActivity& g = capture_->gpu.emplace_back();
  g.kind = kind;
  g.device = r.deviceId;
  g.stream = r.streamId;
  g.start_ns = Ns(r.start);
  g.end_ns = std::max(Ns(r.end), g.start_ns);
  g.correlation = Correlation(r.correlationId);
  Seen(r.end);
  return &g;
}

const std::string& RecordNormaliser::ApiName(bool driver, uint32_t cbid) {
  const CUpti_CallbackDomain domain =
      driver ? CUPTI_CB_DOMAIN_DRIVER_API : CUPTI_CB_DOMAIN_RUNTIME_API;
  const uint64_t key = (uint64_t{static_cast<uint32_t>(domain)} << 32) | cbid;
  auto it = names_.find(key);
  if (it != names_.end()) return it->second;
  const char* raw = nullptr;
  std::string name;
  if (COTENANT_CUPTI_CALL(cuptiGetCallbackName(domain, cbid, &raw)) == CUPTI_SUCCESS &&
      raw != nullptr) {
    name = driver ? std::string(raw) : TrimRuntimeVersion(raw);
  } else {
    name = std::string(driver ? "cu" : "cuda") + "Unknown_cbid" + std::to_string(cbid);
  }
  return names_.emplace(key, std::move(name)).first->second;
}

void RecordNormaliser::HandleBuffer(const uint8_t* buffer, size_t valid_size) {
  ++stats_.buffers;
  if (buffer == nullptr || valid_size == 0) return;
  // cuptiActivityGetNextRecord only reads the buffer; its signature is not const.
  uint8_t* data = const_cast<uint8_t*>(buffer);
  CUpti_Activity* record = nullptr;
  for (;;) {
    const CUptiResult r = COTENANT_CUPTI_CALL(cuptiActivityGetNextRecord(data, valid_size, &record),
                                              CUPTI_ERROR_MAX_LIMIT_REACHED);
    if (r == CUPTI_ERROR_MAX_LIMIT_REACHED) return;  // the end of the valid records
    if (r != CUPTI_SUCCESS || record == nullptr) {
      ++stats_.bad_buffers;  // CheckCupti recorded the problem
      return;
    }
    HandleRecord(*record);
  }
}

void RecordNormaliser::HandleRecord(const CUpti_Activity& record) {
  ++stats_.records;
  switch (record.kind) {
    case CUPTI_ACTIVITY_KIND_KERNEL:
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
      const auto& k = As<KernelRecord>(record);
      GpuActivity* g = AddGpu(k, TaskKind::kKernel);
      if (g == nullptr) break;
      g->name = k.name != nullptr ? k.name : "";
      g->grid = {k.gridX, k.gridY, k.gridZ};
      g->block = {k.blockX, k.blockY, k.blockZ};
      g->regs = k.registersPerThread;
      // (In int64: the two int32 fields could overflow an int32 sum.)
      g->smem = static_cast<int32_t>(std::min<int64_t>(
          std::numeric_limits<int32_t>::max(),
          int64_t{std::max(0, k.staticSharedMemory)} + std::max(0, k.dynamicSharedMemory)));
      ++stats_.kernels;
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY: {
      const auto& m = As<MemcpyRecord>(record);
      GpuActivity* g = AddGpu(m, TaskKind::kMemcpy);
      if (g == nullptr) break;
      g->dir = CopyDirOfKind(m.copyKind);
      g->bytes = ToInt64(m.bytes);
      ++stats_.memcpys;
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY2: {
      const auto& m = As<PeerCopyRecord>(record);
      GpuActivity* g = AddGpu(m, TaskKind::kMemcpy);
      if (g == nullptr) break;
      g->dir = CopyDir::kP2P;
      g->bytes = ToInt64(m.bytes);
      ++stats_.memcpys;
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMSET: {
      const auto& m = As<MemsetRecord>(record);
      GpuActivity* g = AddGpu(m, TaskKind::kMemset);
      if (g == nullptr) break;
      g->bytes = ToInt64(m.bytes);
      ++stats_.memsets;
      break;
    }
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER: {
      const auto& a = As<ApiRecord>(record);
      const bool driver = record.kind == CUPTI_ACTIVITY_KIND_DRIVER;
      ApiCall c;
      c.name = ApiName(driver, a.cbid);
      c.driver = driver;
      c.thread = a.threadId;
      c.start_ns = Ns(a.start);
      c.end_ns = std::max(Ns(a.end), c.start_ns);
      c.correlation = Correlation(a.correlationId);
      Seen(a.end);
      capture_->api.push_back(std::move(c));
      ++(driver ? stats_.driver_calls : stats_.runtime_calls);
      break;
    }
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
      const auto& s = As<SyncRecord>(record);
      GpuSync g;
      switch (s.type) {
        case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE:
          g.type = SyncType::kEventSync;
          break;
        case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT:
          g.type = SyncType::kStreamWaitEvent;
          break;
        case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE:
          g.type = SyncType::kStreamSync;
          break;
        case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE:
          g.type = SyncType::kDeviceSync;
          break;
        default:
          ++stats_.ignored;
          return;
      }
      g.correlation = Correlation(s.correlationId);
      g.stream = SyncId(s.streamId);
      g.event = SyncId(s.cudaEventId);
      g.start_ns = Ns(s.start);
      g.end_ns = std::max(Ns(s.end), g.start_ns);
      Seen(s.end);
      capture_->syncs.push_back(g);
      ++stats_.syncs;
      break;
    }
    case CUPTI_ACTIVITY_KIND_CUDA_EVENT: {
      // cudaEventRecord: the record carries no time; the builder takes the
      // time from the API call with the same correlation.
      const auto& e = As<CudaEventRecord>(record);
      GpuSync g;
      g.type = SyncType::kEventRecord;
      g.correlation = Correlation(e.correlationId);
      g.stream = e.streamId;
      g.event = e.eventId;
      capture_->syncs.push_back(g);
      ++stats_.event_records;
      break;
    }
    case CUPTI_ACTIVITY_KIND_MARKER: {
      const auto& m = As<MarkerRecord>(record);
      ++stats_.markers;
      if (m.timestamp != 0) Seen(m.timestamp);
      if ((m.flags & CUPTI_ACTIVITY_FLAG_MARKER_START) != 0) {
        OpenRange r;
        r.name = m.name != nullptr ? m.name : "";
        r.thread = m.objectKind == CUPTI_ACTIVITY_OBJECT_THREAD ? m.objectId.pt.threadId : 0;
        r.start_ns = Ns(m.timestamp);
        const auto early = early_ends_.find(m.id);
        if (early != early_ends_.end()) {  // its end came first
          --stats_.unmatched_marker_ends;
          capture_->ranges.push_back(
              Range{r.name, r.thread, r.start_ns, std::max(early->second, r.start_ns), {}});
          ++stats_.ranges;
          early_ends_.erase(early);
        } else {
          open_[m.id] = std::move(r);
        }
      } else if ((m.flags & CUPTI_ACTIVITY_FLAG_MARKER_END) != 0) {
        const auto it = open_.find(m.id);
        if (it == open_.end()) {
          early_ends_[m.id] = Ns(m.timestamp);
          ++stats_.unmatched_marker_ends;
          break;
        }
        OpenRange& r = it->second;
        capture_->ranges.push_back(Range{
            std::move(r.name), r.thread, r.start_ns, std::max(Ns(m.timestamp), r.start_ns), {}});
        ++stats_.ranges;
        open_.erase(it);
      }
      // Instantaneous markers (nvtxMark) and sync markers label nothing.
      break;
    }
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
      const auto& x = As<ExternalCorrelationRecord>(record);
      external_[Correlation(x.correlationId)] = {static_cast<int>(x.externalKind), x.externalId};
      ++stats_.external_correlations;
      break;
    }
    default:
      ++stats_.ignored;
      break;
  }
}

void RecordNormaliser::Finish() {
  // Ranges in marker id order, so the capture does not depend on hashing.
  std::map<uint32_t, OpenRange> still_open(open_.begin(), open_.end());
  for (auto& [id, r] : still_open) {
    capture_->ranges.push_back(
        Range{std::move(r.name), r.thread, r.start_ns, std::max(last_ns_, r.start_ns), {}});
    ++stats_.ranges;
    ++stats_.open_ranges;
  }
  open_.clear();
  early_ends_.clear();
}

}  // namespace cotenant::profiler::cupti
