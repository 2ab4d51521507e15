// The streaming event reader of the Kineto importer: a JsonHandler that
// collects the fields of one traceEvents entry at a time (no tree per
// event), checks them and turns the event into capture records. What the
// records need from each other (flows, event records, operator labels) is
// kept in a Pending for the resolution step (profiler/kineto_resolve.h).
// Internal to the Kineto importer.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "profiler/capture.h"
#include "profiler/kineto.h"
#include "profiler/kineto_categories.h"
#include "sim/json_stream.h"

namespace cotenant::profiler::kineto {

/// A flow endpoint: where (pid, tid, ts) an ac2g arrow starts or ends. The
/// pid and tid are tracks: equal when their text is (KeyText(): 7 and "7"
/// are one track).
struct FlowKey {
  int64_t pid = 0;  ///< track id (EventReader::TrackOf)
  int64_t tid = 0;  ///< track id
  TimeNs ts = 0;
  bool operator==(const FlowKey& o) const { return pid == o.pid && tid == o.tid && ts == o.ts; }
  bool operator<(const FlowKey& o) const {
    return pid != o.pid ? pid < o.pid : tid != o.tid ? tid < o.tid : ts < o.ts;
  }
};

/// What is known about one event record (keyed by the cudaEventRecord call's
/// correlation, which becomes the event's id in the trace).
struct RecordInfo {
  int64_t stream = kAbsent;
  int64_t cuda_event_id = kAbsent;
  TimeNs start_ns = 0, end_ns = 0;  ///< of the cuda_event or first wait naming it
};

/// A stream wait or event sync whose record is known only by CUDA event id.
struct UnresolvedWait {
  size_t sync = 0;  ///< index in Capture::syncs
  int64_t cuda_event_id = kAbsent;
  int64_t wait_on_stream = kAbsent;
};

/// What the reader leaves for the resolution step.
struct Pending {
  bool legacy = false, current = false;  ///< category names of either layout seen
  std::vector<int64_t> gpu_ext;          ///< External id of each Capture::gpu entry
  std::vector<int64_t> api_ext;          ///< External id of each Capture::api entry
  /// (External id, index in Capture::ranges) of each cpu_op and
  /// user_annotation with one (not ProfilerStep ranges), in file order.
  std::vector<std::pair<int64_t, size_t>> ops_by_ext;
  /// Records without a correlation, waiting for a flow: (index, key).
  std::vector<std::pair<size_t, FlowKey>> gpu_need_flow, api_need_flow;
  /// Flow starts and ends, (endpoint, flow id) in file order; the first of
  /// several at one endpoint counts. Sorted only when a record needs them.
  std::vector<std::pair<FlowKey, int64_t>> flow_starts, flow_ends;
  std::map<int64_t, RecordInfo> records;  ///< by record correlation
  std::vector<UnresolvedWait> unresolved;
  /// gpu_user_annotation ranges: (stream, start, end, name), in file order.
  std::vector<std::tuple<int64_t, TimeNs, TimeNs, std::string>> gpu_ranges;
  nlohmann::json device_props;  ///< top-level deviceProperties, if any
  nlohmann::json base_time;     ///< top-level baseTimeNanoseconds, if any
  bool saw_events = false;      ///< a traceEvents array (or a bare array) was read
  std::map<std::string, int64_t> problem_counts;
  std::vector<std::string> problem_order;  ///< problems in the order first met

  /// Counts a non-fatal problem (reported once, with its count).
  void Problem(const std::string& what) {
    if (problem_counts[what]++ == 0) problem_order.push_back(what);
  }
};

/// The fields of one event (top level) and of its args that the importer
/// reads, each as nlohmann would have built it; the last of duplicate keys
/// wins.
struct Event {
  enum Key : uint8_t { kPh, kCat, kName, kPid, kTid, kTs, kDur, kId, kArgs, kKeyCount };
  enum ArgKey : uint8_t {
    kDevice,
    kInDevice,
    kStream,
    kCorrelation,
    kGrid,
    kBlock,
    kRegisters,
    kSharedMemory,
    kStaticSharedMemory,
    kDynamicSharedMemory,
    kBytes,
    kExternalId,
    kExternalIdLower,
    kCudaSyncKind,
    kWaitOnRecord,
    kWaitOnStream,
    kWaitOnEventId,
    kEventId,
    kInputDims,       ///< cpu_op "Input Dims" (record_shapes)
    kInputType,       ///< cpu_op "Input type" (record_shapes)
    kConcreteInputs,  ///< cpu_op "Concrete Inputs" (record_shapes, recent PyTorch)
    kArgCount
  };
  std::array<nlohmann::json, kKeyCount> field;
  std::array<nlohmann::json, kArgCount> arg;
  uint32_t has_field = 0;    ///< bit per Key
  uint32_t has_arg = 0;      ///< bit per Arg
  bool args_object = false;  ///< `args` is an object (its members are in `arg`)
  bool ts_text = false;      ///< `ts` was a JSON decimal, kept as its text
  bool dur_text = false;     ///< `dur` likewise

  /// The field, or nullptr when the event has none.
  const nlohmann::json* Get(Key k) const { return (has_field >> k) & 1u ? &field[k] : nullptr; }
  /// The arg, or nullptr when args has none (or is not an object).
  const nlohmann::json* GetArg(ArgKey a) const { return (has_arg >> a) & 1u ? &arg[a] : nullptr; }
  /// A string field's text, or "" when missing or not a string.
  std::string Text(Key k) const;
};

/// Reads the events of a Kineto Chrome trace into `capture` as they stream
/// by, counting them in `report`, and leaves the joins to Resolve().
class EventReader : public JsonHandler {
 public:
  EventReader(const std::string& file, Capture& capture, KinetoReport& report, Pending& pending)
      : file_(file), capture_(capture), report_(report), pending_(pending) {}

  bool Begin(JsonReader& reader, JsonType type) override;
  void End(JsonReader& reader, JsonType type) override;
  void Value(JsonReader& reader, const JsonValue& value) override;

 private:
  /// Where a value sits, as far as the importer cares.
  enum class Place : uint8_t { kIgnored, kRoot, kRootField, kEvents, kEventField, kArg };
  Place PlaceOf(const JsonReader& reader) const;
  /// Stores a value of the current event (or its args) when it is one the
  /// importer reads.
  void Store(const JsonReader& reader, const JsonValue& value);

  /// `traceEvents[3]` + `suffix` (`[3]` + `suffix` for a bare array).
  std::string At(const std::string& suffix) const;
  [[noreturn]] void Fail(const std::string& suffix, const std::string& message) const;

  /// Checks the finished event and turns it into records.
  void Finish();
  /// `ts` or `dur` of the event, in ns.
  TimeNs Time(Event::Key key, bool as_text, bool non_negative, Cat cat) const;
  /// An optional integer argument; kAbsent when missing.
  int64_t IntArg(Event::ArgKey a, int64_t lo, int64_t hi) const;
  /// The External id of an event (either spelling); kAbsent when missing or 0.
  int64_t ExternalId() const;
  /// A launch dimension ("grid", "block"); {0,0,0} when missing or not positive.
  std::array<int32_t, 3> Dim(Event::ArgKey a);
  int64_t ThreadOf(const nlohmann::json& tid);
  /// The track id of a pid or tid value (missing: null), by its KeyText.
  int64_t TrackOf(const nlohmann::json* v);
  /// `(pid, tid, ts)` of the event as a flow endpoint.
  FlowKey FlowKeyOf(TimeNs ts);
  void Unknown(const std::string& category) { ++report_.unknown_categories[category]; }
  /// Room for one more record in `records`: when full, as many as the part
  /// of the document read so far predicts for the whole (records of a
  /// whole-run trace would otherwise leave up to half their room unused).
  template <class T>
  void Reserve(std::vector<T>& records) const;

  void Gpu(Cat cat, TimeNs ts, TimeNs dur);
  void Api(Cat cat, TimeNs ts, TimeNs dur);
  void Sync(TimeNs ts, TimeNs dur);
  void CudaEvent(TimeNs ts, TimeNs dur);
  void Op(Cat cat, TimeNs ts, TimeNs dur);
  void GpuRange(TimeNs ts, TimeNs dur);
  void Flow(const std::string& ph);

  const std::string& file_;
  const JsonReader* reader_ = nullptr;  ///< the reader of the event being finished
  Capture& capture_;
  KinetoReport& report_;
  Pending& pending_;

  bool array_root_ = false;  ///< the document is a bare array of events
  size_t events_depth_ = 0;  ///< depth of the events in the document; 0 = not in events
  std::string root_key_;     ///< the top-level field being read
  size_t index_ = 0;         ///< index of the current event
  bool in_args_ = false;     ///< inside the args object of the current event
  Event event_;
  std::unordered_map<std::string, int64_t> string_threads_;
  std::unordered_map<std::string, int64_t> tracks_;      ///< KeyText -> track id
  std::unordered_map<uint64_t, int64_t> number_tracks_;  ///< unsigned pid/tid -> track id
};

}  // namespace cotenant::profiler::kineto
