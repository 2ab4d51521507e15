// Raw CUPTI activity records -> the profiler's normalised Capture. One
// switch over CUpti_Activity::kind (RecordNormaliser::HandleRecord) is the
// only code that reads record fields; the injection library and the tests
// feed it the same way, through HandleBuffer().
#pragma once

#include <cupti.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>

#include "profiler/capture.h"

namespace cotenant::profiler::cupti {

/// What a RecordNormaliser saw, for the trace's meta (`meta.cupti.records`).
struct RecordStats {
  int64_t buffers = 0;                ///< buffers handled
  int64_t records = 0;                ///< records read from them
  int64_t kernels = 0;                ///< kernel records kept
  int64_t memcpys = 0;                ///< memcpy and peer-to-peer copy records kept
  int64_t memsets = 0;                ///< memset records kept
  int64_t runtime_calls = 0;          ///< runtime API records
  int64_t driver_calls = 0;           ///< driver API records
  int64_t syncs = 0;                  ///< synchronization records kept
  int64_t event_records = 0;          ///< CUDA event records
  int64_t markers = 0;                ///< NVTX marker records (start, end, instant)
  int64_t ranges = 0;                 ///< ranges made from start/end marker pairs
  int64_t external_correlations = 0;  ///< external correlation records
  int64_t untimed = 0;                ///< GPU records without timestamps, left out
  int64_t ignored = 0;                ///< records of kinds not used, left out
  int64_t unmatched_marker_ends = 0;  ///< end markers whose start never came
  int64_t open_ranges = 0;            ///< ranges still open at Finish(), closed there
  int64_t bad_buffers = 0;            ///< buffers whose walk stopped at an invalid record
};

/// The stats as a JSON object with the field names above.
nlohmann::json StatsToJson(const RecordStats& stats);

/// The direction of a copy from CUPTI's copyKind (CUpti_ActivityMemcpyKind):
/// HtoD/HtoA -> h2d, DtoH/AtoH -> d2h, DtoD/AtoA/AtoD/DtoA -> d2d, HtoH -> h2h,
/// PtoP -> p2p, anything else -> kNone.
CopyDir CopyDirOfKind(uint32_t copy_kind);

/// "cudaLaunchKernel_v7000" -> "cudaLaunchKernel": drops the "_vNNNN" (four or
/// more digits) that CUPTI appends to runtime API names. Other names
/// (driver "_v2", "_ptsz") are kept.
std::string TrimRuntimeVersion(const std::string& name);

/// Normalises activity records into a Capture. Keeps state across buffers
/// (NVTX start/end markers are paired by id, API names are cached), so one
/// normaliser must see all buffers of a run. Not thread-safe: the injection
/// library serialises calls with a mutex.
class RecordNormaliser {
 public:
  /// `capture` must outlive the normaliser.
  explicit RecordNormaliser(Capture* capture);

  /// Walks `valid_size` bytes of records with cuptiActivityGetNextRecord and
  /// normalises each. The buffer is only read. A walk that stops on an
  /// invalid record counts a bad buffer and records a problem.
  void HandleBuffer(const uint8_t* buffer, size_t valid_size);

  /// Normalises one record: the one switch over the record kinds.
  void HandleRecord(const CUpti_Activity& record);

  /// Closes the ranges still open (at the last timestamp seen) and adds them
  /// to the capture. Call once, after the last buffer.
  void Finish();

  const RecordStats& stats() const { return stats_; }

  /// CUPTI correlation id -> {CUpti_ExternalCorrelationKind, external id},
  /// from external correlation records.
  const std::map<int64_t, std::pair<int, uint64_t>>& external_ids() const { return external_; }

  /// Forgets the external ids seen so far (replay collects run by run).
  void ForgetExternalIds() { external_.clear(); }

 private:
  /// A start marker waiting for its end.
  struct OpenRange {
    std::string name;
    int64_t thread = 0;
    TimeNs start_ns = 0;
  };

  const std::string& ApiName(bool driver, uint32_t cbid);
  void Seen(uint64_t t_ns);
  /// Appends a GPU activity with the fields every timed kernel, copy and
  /// memset record has; nullptr (counted as untimed) when it has no timestamps.
  template <typename Record>
  GpuActivity* AddGpu(const Record& r, TaskKind kind);

  Capture* capture_;
  RecordStats stats_;
  std::unordered_map<uint32_t, OpenRange> open_;     ///< start markers by marker id
  std::unordered_map<uint32_t, TimeNs> early_ends_;  ///< end markers that came first
  std::unordered_map<uint64_t, std::string> names_;  ///< (domain << 32 | cbid) -> name
  std::map<int64_t, std::pair<int, uint64_t>> external_;
  TimeNs last_ns_ = 0;  ///< latest timestamp seen, closes open ranges
};

}  // namespace cotenant::profiler::cupti
