#include "profiler/kineto_events.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

#include "profiler/kernel_memory.h"
#include "profiler/kineto_steps.h"
#include "profiler/kineto_values.h"
#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler::kineto {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

constexpr std::string_view kKeyNames[] = {"ph", "cat", "name", "pid", "tid",
                                          "ts", "dur", "id",   "args"};
static_assert(std::size(kKeyNames) == Event::kKeyCount, "one name per key");

constexpr std::string_view kArgNames[] = {"device",
                                          "inDevice",
                                          "stream",
                                          "correlation",
                                          "grid",
                                          "block",
                                          "registers per thread",
                                          "shared memory",
                                          "static shared memory",
                                          "dynamic shared memory",
                                          "bytes",
                                          "External id",
                                          "external id",
                                          "cuda_sync_kind",
                                          "wait_on_cuda_event_record_corr_id",
                                          "wait_on_stream",
                                          "wait_on_cuda_event_id",
                                          "event_id",
                                          "Input Dims",
                                          "Input type",
                                          "Concrete Inputs"};
static_assert(std::size(kArgNames) == Event::kArgCount, "one name per arg");

template <size_t N>
int IndexOfName(const std::string_view (&names)[N], std::string_view key) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == key) return static_cast<int>(i);
  }
  return -1;
}

const json& NullJson() {
  static const json kNull;
  return kNull;
}

}  // namespace

std::string Event::Text(Key k) const {
  const json* v = Get(k);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

EventReader::Place EventReader::PlaceOf(const JsonReader& reader) const {
  const size_t d = reader.depth();
  if (d == 0) return Place::kRoot;
  if (events_depth_ != 0 && d >= events_depth_) {
    if (d == events_depth_) return Place::kEvents;
    if (d == events_depth_ + 1) return Place::kEventField;
    if (d == events_depth_ + 2 && event_.args_object && in_args_) return Place::kArg;
    return Place::kIgnored;
  }
  return d == 1 && !array_root_ ? Place::kRootField : Place::kIgnored;
}

std::string EventReader::At(const std::string& suffix) const {
  return (array_root_ ? "[" : "traceEvents[") + std::to_string(index_) + "]" + suffix;
}

void EventReader::Fail(const std::string& suffix, const std::string& message) const {
  FailAt(file_, At(suffix), message);
}

bool EventReader::Begin(JsonReader& reader, JsonType type) {
  const bool array = type == JsonType::kArray;
  switch (PlaceOf(reader)) {
    case Place::kRoot:
      if (array) {
        array_root_ = true;
        pending_.saw_events = true;
        events_depth_ = 1;
      }
      return true;
    case Place::kRootField:
      if (reader.key() == "traceEvents") {
        if (!array) {
          FailAt(file_, "traceEvents", "expected an array of trace events, found an object");
        }
        pending_.saw_events = true;
        events_depth_ = 2;
        return true;
      }
      // The two top-level fields the importer reads are kept whole.
      return reader.key() != "deviceProperties" && reader.key() != "baseTimeNanoseconds";
    case Place::kEvents:
      if (array) Fail("", "expected a trace event object, found an array");
      event_.has_field = event_.has_arg = 0;
      event_.args_object = event_.ts_text = event_.dur_text = false;
      return true;
    case Place::kEventField: {
      const int k = IndexOfName(kKeyNames, reader.key());
      if (k == Event::kArgs && !array) {
        event_.has_field |= 1u << Event::kArgs;
        event_.args_object = true;
        event_.has_arg = 0;
        in_args_ = true;
        return true;
      }
      return k < 0;  // the fields the importer reads are kept whole
    }
    case Place::kArg:
      return IndexOfName(kArgNames, reader.key()) < 0;
    case Place::kIgnored:
      return true;
  }
  return true;
}

void EventReader::End(JsonReader& reader, JsonType type) {
  switch (PlaceOf(reader)) {
    case Place::kRoot:
      if (type == JsonType::kArray) events_depth_ = 0;
      return;
    case Place::kRootField:
      if (reader.key() == "traceEvents") events_depth_ = 0;
      return;
    case Place::kEvents:
      reader_ = &reader;
      Finish();
      ++index_;
      return;
    case Place::kEventField:
      if (reader.key() == "args") in_args_ = false;
      return;
    case Place::kArg:
    case Place::kIgnored:
      return;
  }
}

void EventReader::Value(JsonReader& reader, const JsonValue& value) {
  switch (PlaceOf(reader)) {
    case Place::kRoot:
      FailAt(file_, "",
             "expected a Chrome trace (an object with \"traceEvents\", or an array of events), "
             "found " +
                 Found(value.ToJson()));
    case Place::kRootField:
      if (reader.key() == "traceEvents") {
        FailAt(file_, "traceEvents",
               "expected an array of trace events, found " + Found(value.ToJson()));
      }
      if (reader.key() == "deviceProperties") pending_.device_props = value.ToJson();
      if (reader.key() == "baseTimeNanoseconds") pending_.base_time = value.ToJson();
      return;
    case Place::kEvents:
      Fail("", "expected a trace event object, found " + Found(value.ToJson()));
    case Place::kEventField:
    case Place::kArg:
      Store(reader, value);
      return;
    case Place::kIgnored:
      return;
  }
}

void EventReader::Store(const JsonReader& reader, const JsonValue& value) {
  if (reader.depth() == events_depth_ + 2) {
    const int a = IndexOfName(kArgNames, reader.key());
    if (a < 0) return;
    value.AssignTo(event_.arg[a]);
    event_.has_arg |= 1u << a;
    return;
  }
  const int k = IndexOfName(kKeyNames, reader.key());
  if (k < 0) return;
  event_.has_field |= 1u << k;
  if (k == Event::kArgs) {  // a value that is not an object: an error in Finish()
    event_.args_object = false;
    event_.has_arg = 0;
  }
  // `ts` and `dur` written as decimals are kept as their text, so that the
  // conversion to ns is exact.
  if ((k == Event::kTs || k == Event::kDur) && value.type == JsonType::kFloat) {
    (k == Event::kTs ? event_.ts_text : event_.dur_text) = true;
    JsonValue text;
    text.type = JsonType::kString;
    text.text = value.text;
    text.AssignTo(event_.field[k]);
    return;
  }
  value.AssignTo(event_.field[k]);
}

TimeNs EventReader::Time(Event::Key key, bool as_text, bool non_negative, Cat cat) const {
  const json* found = event_.Get(key);
  // The messages are built only on failure: this runs twice per event.
  auto field = [key] { return "." + std::string(kKeyNames[key]); };
  auto what = [non_negative] {
    return std::string(non_negative ? "expected a non-negative number of µs"
                                    : "expected a number of µs");
  };
  if (found == nullptr) {
    Fail(field(),
         std::string("missing required field (a \"") + CatNoun(cat) + "\" event needs it)");
  }
  const json& v = *found;
  std::optional<TimeNs> ns;
  if (v.is_number_integer()) {
    const std::optional<int64_t> us = JsonToInt(v);
    if (us && *us <= kInt64Max / 1000 && *us >= -kInt64Max / 1000) ns = *us * 1000;
  } else if (v.is_string()) {
    TimeNs parsed = 0;
    const UsParse r = ParseUs(v.get_ref<const std::string&>(), &parsed);
    if (r == UsParse::kNotNumber)
      Fail(field(), what() + ", found " + (as_text ? v.get<std::string>() : Found(v)));
    if (r == UsParse::kOk) ns = parsed;
  } else if (v.is_number_float()) {  // not kept as text (not expected)
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
    TimeNs parsed = 0;
    if (ParseUs(buf, &parsed) == UsParse::kOk) ns = parsed;
  } else {
    Fail(field(), what() + ", found " + Found(v));
  }
  if (!ns || (non_negative && *ns < 0)) {
    const std::string shown =
        v.is_string() ? (as_text ? v.get<std::string>() : Found(v)) : v.dump();
    if (!ns) Fail(field(), what() + " that fits in 64-bit ns, found " + shown);
    Fail(field(), what() + ", found " + shown);
  }
  return *ns;
}

int64_t EventReader::IntArg(Event::ArgKey a, int64_t lo, int64_t hi) const {
  const json* v = event_.GetArg(a);
  if (v == nullptr || v->is_null()) return kAbsent;
  std::optional<int64_t> i = v->is_string() ? IntFromText(v->get<std::string>()) : JsonToInt(*v);
  if (!i || *i < lo || *i > hi) {
    Fail(".args." + std::string(kArgNames[a]),
         "expected " + IntRangeName(lo, hi) + ", found " + Found(*v));
  }
  return *i;
}

int64_t EventReader::ExternalId() const {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t ext = IntArg(Event::kExternalId, kMin, kInt64Max);
  if (ext == kAbsent) ext = IntArg(Event::kExternalIdLower, kMin, kInt64Max);
  return ext > 0 ? ext : kAbsent;
}

std::array<int32_t, 3> EventReader::Dim(Event::ArgKey a) {
  std::array<int32_t, 3> d{0, 0, 0};
  const json* v = event_.GetArg(a);
  if (v == nullptr) return d;
  const std::string field = ".args." + std::string(kArgNames[a]);
  if (!v->is_array() || v->empty() || v->size() > 3) {
    Fail(field, "expected an array of 1 to 3 integers, found " + Found(*v));
  }
  std::array<int32_t, 3> out{1, 1, 1};
  bool valid = true;
  for (size_t i = 0; i < v->size(); ++i) {
    const std::optional<int64_t> n = JsonToInt((*v)[i]);
    if (!n || *n < std::numeric_limits<int32_t>::min() ||
        *n > std::numeric_limits<int32_t>::max()) {
      Fail(field + "[" + std::to_string(i) + "]", "expected an integer, found " + Found((*v)[i]));
    }
    if (*n < 1) valid = false;
    out[i] = static_cast<int32_t>(*n);
  }
  if (!valid) {
    pending_.Problem(
        "kernels with a non-positive grid or block dimension were kept without a launch shape");
    return d;
  }
  return out;
}

int64_t EventReader::ThreadOf(const json& tid) {
  if (const std::optional<int64_t> id = IdOf(tid)) return *id;
  // A named track ("python", "Spans"): a stable id of its own, far from OS ids.
  const std::string key = KeyText(tid);
  const auto [it, fresh] = string_threads_.emplace(
      key, (int64_t{1} << 48) + static_cast<int64_t>(string_threads_.size()));
  return it->second;
}

int64_t EventReader::TrackOf(const json* v) {
  const auto intern = [this](const json& value) {
    const auto next = static_cast<int64_t>(tracks_.size());
    return tracks_.emplace(KeyText(value), next).first->second;
  };
  if (v != nullptr && v->is_number_unsigned()) {  // the common case, without KeyText
    const auto [it, fresh] = number_tracks_.emplace(v->get<uint64_t>(), 0);
    if (fresh) it->second = intern(*v);
    return it->second;
  }
  return intern(v != nullptr ? *v : NullJson());
}

FlowKey EventReader::FlowKeyOf(TimeNs ts) {
  return FlowKey{TrackOf(event_.Get(Event::kPid)), TrackOf(event_.Get(Event::kTid)), ts};
}

template <class T>
void EventReader::Reserve(std::vector<T>& records) const {
  constexpr size_t kMin = 4096;
  if (records.size() < records.capacity() || records.size() < kMin || reader_ == nullptr) return;
  const int64_t read = reader_->offset();
  const int64_t size = reader_->size_hint();
  if (read <= 0 || size <= read) return;  // unknown: the vector doubles
  const double whole =
      static_cast<double>(records.size()) * static_cast<double>(size) / static_cast<double>(read);
  records.reserve(std::max(records.size() + kMin, static_cast<size_t>(whole * 1.02)));
}

void EventReader::Finish() {
  ++report_.events;
  const std::string ph = event_.Text(Event::kPh);
  if (ph == "M") {
    ++report_.metadata;
    return;
  }
  const json* cat_value = event_.Get(Event::kCat);
  if (cat_value == nullptr || !cat_value->is_string()) {
    if (ph == "i" || ph == "I") {
      ++report_.other_ignored;  // "Record Window End", "Iteration Start: ..."
    } else {
      Unknown("(none)");
    }
    return;
  }
  const std::string& cat_text = cat_value->get_ref<const std::string&>();
  const CatName* cat = FindCat(cat_text);
  if (cat == nullptr) {
    Unknown(cat_text);
    return;
  }
  const bool flow_phase = ph == "s" || ph == "f" || ph == "t";
  if (cat->cat == Cat::kFlow ? !flow_phase : !(ph == "X" || ph.empty())) {
    Unknown(cat_text + " (ph " + (ph.empty() ? "?" : ph) + ")");
    return;
  }
  if (cat->cat != Cat::kFlow) (cat->legacy ? pending_.legacy : pending_.current) = true;
  if (event_.Get(Event::kArgs) != nullptr && !event_.args_object) {
    Fail(".args", "expected an object, found " + Found(event_.field[Event::kArgs]));
  }
  if (cat->cat == Cat::kFlow) {
    Flow(ph);
    return;
  }
  const TimeNs ts = Time(Event::kTs, event_.ts_text, false, cat->cat);
  const TimeNs dur = Time(Event::kDur, event_.dur_text, true, cat->cat);
  if (dur > kInt64Max - std::max<TimeNs>(ts, 0)) Fail(".dur", "ts + dur does not fit in 64-bit ns");
  switch (cat->cat) {
    case Cat::kKernel:
    case Cat::kMemcpy:
    case Cat::kMemset:
      Gpu(cat->cat, ts, dur);
      break;
    case Cat::kRuntime:
    case Cat::kDriver:
      Api(cat->cat, ts, dur);
      break;
    case Cat::kSync:
      Sync(ts, dur);
      break;
    case Cat::kCudaEvent:
      CudaEvent(ts, dur);
      break;
    case Cat::kCpuOp:
    case Cat::kAnnotation:
      Op(cat->cat, ts, dur);
      break;
    case Cat::kGpuAnnotation:
      GpuRange(ts, dur);
      break;
    case Cat::kFlow:
    case Cat::kUnknown:
      break;
  }
}

void EventReader::Gpu(Cat cat, TimeNs ts, TimeNs dur) {
  GpuActivity g;
  g.kind = cat == Cat::kKernel   ? TaskKind::kKernel
           : cat == Cat::kMemcpy ? TaskKind::kMemcpy
                                 : TaskKind::kMemset;
  const std::string name = event_.Text(Event::kName);
  g.start_ns = ts;
  g.end_ns = ts + dur;
  g.device = IntArg(Event::kDevice, 0, kInt64Max);
  if (g.device == kAbsent) g.device = IntArg(Event::kInDevice, 0, kInt64Max);
  if (g.device == kAbsent) {
    const json* pid = event_.Get(Event::kPid);
    const std::optional<int64_t> p = pid == nullptr ? std::nullopt : IdOf(*pid);
    g.device = p && *p >= 0 ? *p : 0;
  }
  g.stream = IntArg(Event::kStream, 0, kInt64Max);
  if (g.stream == kAbsent) {
    const json* tid = event_.Get(Event::kTid);
    const std::optional<int64_t> t = tid == nullptr ? std::nullopt : IdOf(*tid);
    if (!t || *t < 0) {
      Fail(".args.stream", std::string("missing required field (a \"") + CatNoun(cat) +
                               "\" event needs it, or a \"tid\" naming the stream)");
    }
    g.stream = *t;
  }
  g.correlation = IntArg(Event::kCorrelation, 0, kInt64Max);
  g.name = name;  // kernels; copies keep "Memcpy HtoD (Pageable -> Device)" and the like
  if (cat == Cat::kKernel) {
    ++report_.kernels;
    g.grid = Dim(Event::kGrid);
    g.block = Dim(Event::kBlock);
    if (g.grid[0] == 0 || g.block[0] == 0) g.grid = g.block = {0, 0, 0};
    const int64_t regs = IntArg(Event::kRegisters, 0, 65536);
    g.regs = regs == kAbsent ? 0 : static_cast<int32_t>(regs);
    constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
    int64_t smem = IntArg(Event::kSharedMemory, 0, kI32);
    if (smem == kAbsent) {
      // Not written by any Kineto seen so far; accepted if a tool splits it.
      const int64_t st = IntArg(Event::kStaticSharedMemory, 0, kI32);
      const int64_t dy = IntArg(Event::kDynamicSharedMemory, 0, kI32);
      if (st != kAbsent || dy != kAbsent) {
        smem = std::max<int64_t>(st, 0) + std::max<int64_t>(dy, 0);
      }
      if (smem > kI32) Fail(".args", "shared memory over 2^31 bytes");
    }
    g.smem = smem == kAbsent ? 0 : static_cast<int32_t>(smem);
  } else {
    g.bytes = IntArg(Event::kBytes, 0, kInt64Max);
    if (cat == Cat::kMemcpy) {
      ++report_.memcpys;
      g.dir = DirOfMemcpy(name);
      if (g.dir == CopyDir::kNone) {
        pending_.Problem(
            "memcpys of unknown direction (name not \"Memcpy HtoD ...\" etc.) taken as d2d");
        g.dir = CopyDir::kD2D;
      }
    } else {
      ++report_.memsets;
    }
  }
  if (g.correlation == kAbsent) {
    pending_.gpu_need_flow.emplace_back(capture_.gpu.size(), FlowKeyOf(ts));
  }
  pending_.gpu_ext.push_back(ExternalId());
  Reserve(capture_.gpu);
  capture_.gpu.push_back(std::move(g));
}

void EventReader::Api(Cat cat, TimeNs ts, TimeNs dur) {
  ApiCall a;
  a.name = event_.Text(Event::kName);
  a.driver = cat == Cat::kDriver;
  (a.driver ? report_.driver_calls : report_.runtime_calls)++;
  const json* tid = event_.Get(Event::kTid);
  a.thread = ThreadOf(tid != nullptr ? *tid : NullJson());
  a.start_ns = ts;
  a.end_ns = ts + dur;
  a.correlation = IntArg(Event::kCorrelation, 0, kInt64Max);
  if (capture_.pid == 0) {
    if (const json* pid = event_.Get(Event::kPid)) {
      if (const std::optional<int64_t> p = IdOf(*pid)) capture_.pid = *p;
    }
  }
  if (a.correlation == kAbsent) {
    pending_.api_need_flow.emplace_back(capture_.api.size(), FlowKeyOf(ts));
  }
  pending_.api_ext.push_back(ExternalId());
  Reserve(capture_.api);
  capture_.api.push_back(std::move(a));
}

void EventReader::Sync(TimeNs ts, TimeNs dur) {
  ++report_.sync_events;
  // The kind: args.cuda_sync_kind, else the name (libkineto/utils/cupti_strings.cpp).
  std::string kind;
  if (const json* k = event_.GetArg(Event::kCudaSyncKind); k != nullptr && k->is_string()) {
    kind = k->get<std::string>();
  } else {
    kind = event_.Text(Event::kName);
  }
  GpuSync s;
  if (kind == "Stream Wait Event") {
    s.type = SyncType::kStreamWaitEvent;
  } else if (kind == "Event Sync") {
    s.type = SyncType::kEventSync;
  } else if (kind == "Stream Sync") {
    s.type = SyncType::kStreamSync;
  } else if (kind == "Context Sync") {
    s.type = SyncType::kDeviceSync;
  } else {
    pending_.Problem("cuda_sync events of unknown kind were left out");
    return;
  }
  s.start_ns = ts;
  s.end_ns = ts + dur;
  s.correlation = IntArg(Event::kCorrelation, 0, kInt64Max);
  const int64_t stream = IntArg(Event::kStream, -1, kInt64Max);
  s.stream = stream < 0 ? kAbsent : stream;
  if (s.type == SyncType::kStreamWaitEvent || s.type == SyncType::kEventSync) {
    const int64_t record = IntArg(Event::kWaitOnRecord, -1, kInt64Max);
    const int64_t on_stream = IntArg(Event::kWaitOnStream, -1, kInt64Max);
    const int64_t event_id = IntArg(Event::kWaitOnEventId, -1, kInt64Max);
    if (record >= 0) {
      // The record's correlation is the event's id in the trace: unique per
      // record, where CUDA reuses one event for many records.
      s.event = record;
      RecordInfo& r = pending_.records[record];
      if (r.stream == kAbsent && on_stream >= 0) r.stream = on_stream;
      if (r.cuda_event_id == kAbsent && event_id >= 0) r.cuda_event_id = event_id;
      if (r.start_ns == 0 && r.end_ns == 0) r.start_ns = r.end_ns = ts;
    } else {
      pending_.unresolved.push_back({capture_.syncs.size(), event_id, on_stream});
    }
  }
  capture_.syncs.push_back(s);
}

void EventReader::CudaEvent(TimeNs ts, TimeNs dur) {
  ++report_.cuda_events;
  const int64_t corr = IntArg(Event::kCorrelation, 0, kInt64Max);
  const int64_t stream = IntArg(Event::kStream, -1, kInt64Max);
  const int64_t event_id = IntArg(Event::kEventId, 0, kInt64Max);
  if (corr == kAbsent) {
    pending_.Problem("cuda_event events without a correlation were left out");
    return;
  }
  RecordInfo& r = pending_.records[corr];
  if (stream >= 0) r.stream = stream;
  if (event_id != kAbsent) r.cuda_event_id = event_id;
  r.start_ns = ts;
  r.end_ns = ts + dur;
}

void EventReader::Op(Cat cat, TimeNs ts, TimeNs dur) {
  (cat == Cat::kCpuOp ? report_.cpu_ops : report_.annotations)++;
  Range r;
  r.name = event_.Text(Event::kName);
  const json* tid = event_.Get(Event::kTid);
  r.thread = ThreadOf(tid != nullptr ? *tid : NullJson());
  r.start_ns = ts;
  r.end_ns = ts + dur;
  if (const json* dims = event_.GetArg(Event::kInputDims)) {
    r.inputs = OpInputsFromJson(*dims, event_.GetArg(Event::kInputType),
                                event_.GetArg(Event::kConcreteInputs));
  }
  const int64_t step = StepNumber(r.name);
  if (step >= 0) report_.steps.push_back(step);
  const int64_t ext = ExternalId();
  if (ext != kAbsent && step < 0) pending_.ops_by_ext.emplace_back(ext, capture_.ranges.size());
  Reserve(capture_.ranges);
  capture_.ranges.push_back(std::move(r));
}

void EventReader::GpuRange(TimeNs ts, TimeNs dur) {
  ++report_.gpu_annotations;
  int64_t stream = IntArg(Event::kStream, 0, kInt64Max);
  if (stream == kAbsent) {
    const json* tid = event_.Get(Event::kTid);
    const std::optional<int64_t> t = tid == nullptr ? std::nullopt : IdOf(*tid);
    if (!t || *t < 0) {
      pending_.Problem("gpu_user_annotation events without a stream were left out");
      return;
    }
    stream = *t;
  }
  pending_.gpu_ranges.emplace_back(stream, ts, ts + dur, event_.Text(Event::kName));
}

void EventReader::Flow(const std::string& ph) {
  ++report_.flows;
  if (ph == "t") return;
  const json* id_value = event_.Get(Event::kId);
  const std::optional<int64_t> id = id_value == nullptr ? std::nullopt
                                    : id_value->is_string()
                                        ? IntFromText(id_value->get<std::string>())
                                        : JsonToInt(*id_value);
  if (!id || *id < 0) {
    pending_.Problem("flow events without an integer id were left out");
    return;
  }
  const TimeNs ts = Time(Event::kTs, event_.ts_text, false, Cat::kFlow);
  (ph == "s" ? pending_.flow_starts : pending_.flow_ends).emplace_back(FlowKeyOf(ts), *id);
}

}  // namespace cotenant::profiler::kineto
