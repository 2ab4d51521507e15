// The tracing side of the injection library without the CUPTI set-up: takes
// activity buffers (from CUPTI's thread), normalises them into a Capture and,
// at exit, builds and writes one `cotenant.trace/1`. Tests drive it with
// hand-made buffers exactly as injection.cpp does with CUPTI's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/cupti/cupti_records.h"
#include "profiler/cupti/inject_env.h"

namespace cotenant::profiler::cupti {

/// The source written to the trace's `meta.source`.
std::string ProfilerSource();

/// A GPU activity whose API call carried an external id (replay timing).
struct TaggedTiming {
  uint64_t id = 0;                  ///< the external id pushed before the call
  TimeNs start_ns = 0, end_ns = 0;  ///< CUPTI clock
};

class TraceSession {
 public:
  /// `pid` goes to the capture and the trace's meta.
  TraceSession(InjectSettings settings, int64_t pid);

  /// Normalises one completed buffer; thread-safe. Buffers that arrive after
  /// Finish() are ignored. Never throws (a failure is recorded as a problem).
  void HandleBuffer(const uint8_t* buffer, size_t valid_size) noexcept;

  /// Adds records CUPTI reported as dropped; thread-safe.
  void AddDropped(int64_t records) noexcept;

  /// The device name for the trace's `device.name`; thread-safe.
  void SetDeviceName(const std::string& name) noexcept;

  /// The device of the first GPU activity captured (a CUDA ordinal), or 0.
  int64_t FirstDevice() const noexcept;

  /// The version of the CUPTI library loaded (cuptiGetVersion), for meta.
  void SetLoadedCuptiVersion(uint32_t version) noexcept;

  /// Builds the trace (BuildTrace with the settings' tenant and window) and
  /// writes it to the settings' trace_out; in replay mode writes nothing. Problems from Problems()
  /// and the settings mark it incomplete. A window that selects nothing falls back to the whole
  /// capture (a problem). Prints one summary line on stderr. Returns false when no file could be
  /// written (the message is printed). Call once; later buffers are ignored. Never throws.
  bool Finish() noexcept;

  /// Replay timing: every GPU activity captured since the previous call
  /// whose API call carried an external id of `external_kind` (a
  /// CUpti_ExternalCorrelationKind), in capture order; then forgets all
  /// records captured so far, so memory stays bounded over many runs.
  /// Thread-safe; never throws (a failure is a problem and an empty list).
  std::vector<TaggedTiming> TakeTagged(int external_kind) noexcept;

  /// The trace Finish() wrote (for tests); empty before.
  const Trace& trace() const { return trace_; }

 private:
  mutable std::mutex mu_;
  InjectSettings settings_;
  Capture capture_;
  RecordNormaliser normaliser_;
  uint32_t loaded_version_ = 0;
  bool finished_ = false;
  Trace trace_;
};

}  // namespace cotenant::profiler::cupti
