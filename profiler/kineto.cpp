// The Kineto (PyTorch profiler) Chrome-trace importer. The document is
// streamed through nlohmann's SAX interface: each entry of traceEvents is
// built as a small tree, turned into capture records, and dropped; the
// records are joined (flows, syncs, operator labels) once all are read.
#include "profiler/kineto.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

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
  kFlow,
};

struct CatName {
  const char* name;
  Cat cat;
  bool legacy;  ///< a name of the legacy layout
};

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
    {"ac2g", Cat::kFlow, false},
    {"Kernel", Cat::kKernel, true},
    {"Memcpy", Cat::kMemcpy, true},
    {"Memset", Cat::kMemset, true},
    {"Runtime", Cat::kRuntime, true},
    {"Operator", Cat::kCpuOp, true},
    {"async_gpu", Cat::kFlow, true},
    {"async", Cat::kFlow, true},
};

const CatName* FindCat(const std::string& cat) {
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
    case Cat::kFlow:
      return "flow";
    case Cat::kUnknown:
      break;
  }
  return "unknown";
}

/// A value for "found X" in messages: strings quoted (cut to 40 characters),
/// other values as DescribeJson() gives them.
std::string Found(const json& v) {
  if (!v.is_string()) return DescribeJson(v);
  const std::string& s = v.get_ref<const std::string&>();
  return "\"" + (s.size() > 40 ? s.substr(0, 37) + "..." : s) + "\"";
}

/// An integer written as digits with an optional '-' ("7", "-1"); nullopt
/// otherwise or when out of range.
std::optional<int64_t> IntFromText(const std::string& s) {
  size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.size() - i > 19) return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  const bool neg = s[0] == '-';
  if (v > static_cast<uint64_t>(kInt64Max) + (neg ? 1 : 0)) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

/// A process or thread id: an integer, a string of digits, or "stream N"
/// (legacy GPU tracks).
std::optional<int64_t> IdOf(const json& v) {
  if (v.is_number()) return JsonToInt(v);
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (s.rfind("stream ", 0) == 0) s = s.substr(7);
  return IntFromText(s);
}

/// The text of a pid or tid, as a key for joining flows to their events.
std::string KeyText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

/// The memcpy direction in a Kineto memcpy name: "Memcpy HtoD (Pageable ->
/// Device)", "Memcpy DtoH (Device -> Pinned)", "Memcpy PtoP (...)".
CopyDir DirOfMemcpy(const std::string& name) {
  struct Kind {
    const char* text;
    CopyDir dir;
  };
  static const Kind kKinds[] = {
      {"PtoP", CopyDir::kP2P}, {"HtoD", CopyDir::kH2D}, {"HtoA", CopyDir::kH2D},
      {"DtoH", CopyDir::kD2H}, {"AtoH", CopyDir::kD2H}, {"DtoD", CopyDir::kD2D},
      {"DtoA", CopyDir::kD2D}, {"AtoD", CopyDir::kD2D}, {"AtoA", CopyDir::kD2D},
      {"HtoH", CopyDir::kH2H},
  };
  for (const Kind& k : kKinds) {
    if (name.find(k.text) != std::string::npos) return k.dir;
  }
  return CopyDir::kNone;
}

/// N of "ProfilerStep#N", or -1.
int64_t StepNumber(const std::string& name) {
  static const std::string kPrefix = "ProfilerStep#";
  if (name.rfind(kPrefix, 0) != 0) return -1;
  const std::optional<int64_t> n = IntFromText(name.substr(kPrefix.size()));
  return n && *n >= 0 ? *n : -1;
}

enum class UsParse : uint8_t { kOk, kNotNumber, kOverflow };

/// UsTextToNs with the reason for a failure.
UsParse ParseUs(const std::string& text, TimeNs* out) {
  size_t i = 0;
  const size_t n = text.size();
  bool neg = false;
  if (i < n && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  std::string digits;
  int64_t int_digits = 0;
  auto is_digit = [&](size_t k) {
    return k < n && std::isdigit(static_cast<unsigned char>(text[k]));
  };
  while (is_digit(i)) {
    digits += text[i++];
    ++int_digits;
  }
  if (i < n && text[i] == '.') {
    ++i;
    while (is_digit(i)) digits += text[i++];
  }
  if (digits.empty()) return UsParse::kNotNumber;
  int64_t exp10 = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) exp_neg = text[i++] == '-';
    if (!is_digit(i)) return UsParse::kNotNumber;
    while (is_digit(i)) {
      if (exp10 < 100000) exp10 = exp10 * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_neg) exp10 = -exp10;
  }
  if (i != n) return UsParse::kNotNumber;
  // The value in ns is 0.DIGITS x 10^k with k = int_digits + exp10 + 3:
  // the first k digits are the integer part, digit k decides the rounding.
  size_t lead = 0;
  while (lead < digits.size() && digits[lead] == '0') ++lead;
  digits.erase(0, lead);
  int64_t k = int_digits - static_cast<int64_t>(lead) + exp10 + 3;
  if (digits.empty()) {
    *out = 0;
    return UsParse::kOk;
  }
  if (k > 19) return UsParse::kOverflow;
  uint64_t v = 0;
  for (int64_t d = 0; d < k; ++d) {
    const int digit =
        d < static_cast<int64_t>(digits.size()) ? digits[static_cast<size_t>(d)] - '0' : 0;
    v = v * 10 + static_cast<uint64_t>(digit);
  }
  if (k >= 0 && k < static_cast<int64_t>(digits.size()) && digits[static_cast<size_t>(k)] >= '5') {
    ++v;
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return UsParse::kOverflow;
  *out = neg ? -static_cast<TimeNs>(v) : static_cast<TimeNs>(v);
  return UsParse::kOk;
}

/// One entry of traceEvents, with what the SAX reader kept of its numbers:
/// `ts` and `dur` written as JSON decimals are kept as their text.
struct RawEvent {
  json value;
  bool ts_text = false;   ///< value["ts"] is the text of a JSON number
  bool dur_text = false;  ///< value["dur"] is the text of a JSON number
};

/// A cpu_op or user_annotation, for labels through External id.
struct OpRange {
  std::string name;
  TimeNs start_ns = 0, end_ns = 0;
};

/// A flow endpoint: where (pid, tid, ts) an ac2g arrow starts or ends.
using FlowKey = std::string;

FlowKey MakeFlowKey(const json& pid, const json& tid, TimeNs ts) {
  return KeyText(pid) + '\x1f' + KeyText(tid) + '\x1f' + std::to_string(ts);
}

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

/// Turns trace events into capture records and joins them at the end.
class EventReader {
 public:
  EventReader(const std::string& file, Capture& capture, KinetoReport& report)
      : file_(file), capture_(capture), report_(report) {}

  /// Reads the `index`-th event; `array_root` when the document is a bare
  /// array of events (paths in messages are then `[3]`, not `traceEvents[3]`).
  void Event(RawEvent& raw, size_t index, bool array_root);
  void DeviceProperties(const json& props);
  void Finish();

 private:
  [[noreturn]] void Fail(const std::string& path, const std::string& message) const {
    FailAt(file_, path, message);
  }
  /// `ts` or `dur` of the event at `path`, in ns.
  TimeNs Time(const RawEvent& raw, const std::string& path, const char* key, bool as_text,
              bool non_negative, Cat cat) const;
  /// An optional integer argument; kAbsent when missing.
  int64_t IntArg(const json& args, const std::string& path, const char* key, int64_t lo,
                 int64_t hi) const;
  /// The External id of an event (either spelling); kAbsent when missing or 0.
  int64_t ExternalId(const json& args, const std::string& path) const;
  /// A launch dimension ("grid", "block"); {0,0,0} when missing or not positive.
  std::array<int32_t, 3> Dim(const json& args, const std::string& path, const char* key);
  int64_t ThreadOf(const json& tid);
  void Unknown(const std::string& category) { ++report_.unknown_categories[category]; }
  void Problem(const std::string& what) {
    if (problem_counts_[what]++ == 0) problem_order_.push_back(what);
  }

  void Gpu(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts, TimeNs dur);
  void Api(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts, TimeNs dur);
  void Sync(const RawEvent& raw, const std::string& path, TimeNs ts, TimeNs dur);
  void CudaEvent(const RawEvent& raw, const std::string& path, TimeNs ts, TimeNs dur);
  void Op(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts, TimeNs dur);
  void Flow(const RawEvent& raw, const std::string& path, const std::string& ph);

  const std::string& file_;
  Capture& capture_;
  KinetoReport& report_;

  bool legacy_ = false, current_ = false;
  std::vector<int64_t> gpu_ext_;  ///< External id of each Capture::gpu entry
  std::vector<int64_t> api_ext_;  ///< External id of each Capture::api entry
  std::unordered_map<int64_t, OpRange> ops_by_ext_;
  /// Records without a correlation, waiting for a flow: (index, key).
  std::vector<std::pair<size_t, FlowKey>> gpu_need_flow_, api_need_flow_;
  std::unordered_map<FlowKey, int64_t> flow_starts_, flow_ends_;
  std::map<int64_t, RecordInfo> records_;  ///< by record correlation
  std::vector<UnresolvedWait> unresolved_;
  std::unordered_map<std::string, int64_t> string_threads_;
  std::map<std::string, int64_t> problem_counts_;
  std::vector<std::string> problem_order_;
  json device_props_;
};

TimeNs EventReader::Time(const RawEvent& raw, const std::string& path, const char* key,
                         bool as_text, bool non_negative, Cat cat) const {
  const json& e = raw.value;
  const std::string field = path + "." + key;
  const auto it = e.find(key);
  if (it == e.end()) {
    Fail(field, std::string("missing required field (a \"") + CatNoun(cat) + "\" event needs it)");
  }
  const json& v = *it;
  const std::string what =
      non_negative ? "expected a non-negative number of µs" : "expected a number of µs";
  std::optional<TimeNs> ns;
  std::string shown;
  if (v.is_number_integer()) {
    const std::optional<int64_t> us = JsonToInt(v);
    if (us && *us <= kInt64Max / 1000 && *us >= -kInt64Max / 1000) ns = *us * 1000;
    shown = v.dump();
  } else if (v.is_string()) {
    TimeNs parsed = 0;
    const UsParse r = ParseUs(v.get_ref<const std::string&>(), &parsed);
    shown = as_text ? v.get<std::string>() : Found(v);
    if (r == UsParse::kNotNumber) Fail(field, what + ", found " + shown);
    if (r == UsParse::kOk) ns = parsed;
  } else if (v.is_number_float()) {  // not kept as text (not expected)
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
    ns = UsTextToNs(buf);
    shown = v.dump();
  } else {
    Fail(field, what + ", found " + Found(v));
  }
  if (!ns) Fail(field, what + " that fits in 64-bit ns, found " + shown);
  if (non_negative && *ns < 0) Fail(field, what + ", found " + shown);
  return *ns;
}

int64_t EventReader::IntArg(const json& args, const std::string& path, const char* key, int64_t lo,
                            int64_t hi) const {
  const auto it = args.find(key);
  if (it == args.end() || it->is_null()) return kAbsent;
  std::optional<int64_t> v = it->is_string() ? IntFromText(it->get<std::string>()) : JsonToInt(*it);
  if (!v || *v < lo || *v > hi) {
    FailAt(file_, path + ".args." + key,
           "expected " + IntRangeName(lo, hi) + ", found " + Found(*it));
  }
  return *v;
}

int64_t EventReader::ExternalId(const json& args, const std::string& path) const {
  int64_t ext = IntArg(args, path, "External id", std::numeric_limits<int64_t>::min(), kInt64Max);
  if (ext == kAbsent) {
    ext = IntArg(args, path, "external id", std::numeric_limits<int64_t>::min(), kInt64Max);
  }
  return ext > 0 ? ext : kAbsent;
}

std::array<int32_t, 3> EventReader::Dim(const json& args, const std::string& path,
                                        const char* key) {
  std::array<int32_t, 3> d{0, 0, 0};
  const auto it = args.find(key);
  if (it == args.end()) return d;
  const std::string field = path + ".args." + key;
  if (!it->is_array() || it->empty() || it->size() > 3) {
    FailAt(file_, field, "expected an array of 1 to 3 integers, found " + Found(*it));
  }
  std::array<int32_t, 3> out{1, 1, 1};
  bool valid = true;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::optional<int64_t> v = JsonToInt((*it)[i]);
    if (!v || *v < std::numeric_limits<int32_t>::min() ||
        *v > std::numeric_limits<int32_t>::max()) {
      FailAt(file_, field + "[" + std::to_string(i) + "]",
             "expected an integer, found " + Found((*it)[i]));
    }
    if (*v < 1) valid = false;
    out[i] = static_cast<int32_t>(*v);
  }
  if (!valid) {
    Problem("kernels with a non-positive grid or block dimension were kept without a launch shape");
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

void EventReader::Event(RawEvent& raw, size_t index, bool array_root) {
  ++report_.events;
  const json& e = raw.value;
  const std::string path = (array_root ? "[" : "traceEvents[") + std::to_string(index) + "]";
  if (!e.is_object()) Fail(path, "expected a trace event object, found " + Found(e));
  const auto ph_it = e.find("ph");
  const std::string ph = ph_it != e.end() && ph_it->is_string() ? ph_it->get<std::string>() : "";
  if (ph == "M") {
    ++report_.metadata;
    return;
  }
  const auto cat_it = e.find("cat");
  if (cat_it == e.end() || !cat_it->is_string()) {
    if (ph == "i" || ph == "I") {
      ++report_.other_ignored;  // "Record Window End", "Iteration Start: ..."
    } else {
      Unknown("(none)");
    }
    return;
  }
  const std::string& cat_text = cat_it->get_ref<const std::string&>();
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
  if (cat->cat != Cat::kFlow) (cat->legacy ? legacy_ : current_) = true;
  if (const auto a = e.find("args"); a != e.end() && !a->is_object()) {
    Fail(path + ".args", "expected an object, found " + Found(*a));
  }
  if (cat->cat == Cat::kFlow) {
    Flow(raw, path, ph);
    return;
  }
  const TimeNs ts = Time(raw, path, "ts", raw.ts_text, false, cat->cat);
  const TimeNs dur = Time(raw, path, "dur", raw.dur_text, true, cat->cat);
  if (dur > kInt64Max - std::max<TimeNs>(ts, 0)) {
    Fail(path + ".dur", "ts + dur does not fit in 64-bit ns");
  }
  switch (cat->cat) {
    case Cat::kKernel:
    case Cat::kMemcpy:
    case Cat::kMemset:
      Gpu(raw, path, cat->cat, ts, dur);
      break;
    case Cat::kRuntime:
    case Cat::kDriver:
      Api(raw, path, cat->cat, ts, dur);
      break;
    case Cat::kSync:
      Sync(raw, path, ts, dur);
      break;
    case Cat::kCudaEvent:
      CudaEvent(raw, path, ts, dur);
      break;
    case Cat::kCpuOp:
    case Cat::kAnnotation:
      Op(raw, path, cat->cat, ts, dur);
      break;
    case Cat::kFlow:
    case Cat::kUnknown:
      break;
  }
}

void EventReader::Gpu(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts,
                      TimeNs dur) {
  const json& e = raw.value;
  static const json kEmpty = json::object();
  const json& args = e.contains("args") ? e["args"] : kEmpty;
  GpuActivity g;
  g.kind = cat == Cat::kKernel   ? TaskKind::kKernel
           : cat == Cat::kMemcpy ? TaskKind::kMemcpy
                                 : TaskKind::kMemset;
  const std::string name =
      e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
  g.start_ns = ts;
  g.end_ns = ts + dur;
  g.device = IntArg(args, path, "device", 0, kInt64Max);
  if (g.device == kAbsent) g.device = IntArg(args, path, "inDevice", 0, kInt64Max);
  if (g.device == kAbsent) {
    const auto pid = e.find("pid");
    const std::optional<int64_t> p = pid == e.end() ? std::nullopt : IdOf(*pid);
    g.device = p && *p >= 0 ? *p : 0;
  }
  g.stream = IntArg(args, path, "stream", 0, kInt64Max);
  if (g.stream == kAbsent) {
    const auto tid = e.find("tid");
    const std::optional<int64_t> t = tid == e.end() ? std::nullopt : IdOf(*tid);
    if (!t || *t < 0) {
      Fail(path + ".args.stream", std::string("missing required field (a \"") + CatNoun(cat) +
                                      "\" event needs it, or a \"tid\" naming the stream)");
    }
    g.stream = *t;
  }
  g.correlation = IntArg(args, path, "correlation", 0, kInt64Max);
  g.name = name;  // kernels; copies keep "Memcpy HtoD (Pageable -> Device)" and the like
  if (cat == Cat::kKernel) {
    ++report_.kernels;
    g.grid = Dim(args, path, "grid");
    g.block = Dim(args, path, "block");
    if (g.grid[0] == 0 || g.block[0] == 0) g.grid = g.block = {0, 0, 0};
    const int64_t regs = IntArg(args, path, "registers per thread", 0, 65536);
    g.regs = regs == kAbsent ? 0 : static_cast<int32_t>(regs);
    constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
    int64_t smem = IntArg(args, path, "shared memory", 0, kI32);
    if (smem == kAbsent) {
      // Not written by any Kineto seen so far; accepted if a tool splits it.
      const int64_t st = IntArg(args, path, "static shared memory", 0, kI32);
      const int64_t dy = IntArg(args, path, "dynamic shared memory", 0, kI32);
      if (st != kAbsent || dy != kAbsent) {
        smem = std::max<int64_t>(st, 0) + std::max<int64_t>(dy, 0);
      }
      if (smem > kI32) FailAt(file_, path + ".args", "shared memory over 2^31 bytes");
    }
    g.smem = smem == kAbsent ? 0 : static_cast<int32_t>(smem);
  } else {
    g.bytes = IntArg(args, path, "bytes", 0, kInt64Max);
    if (cat == Cat::kMemcpy) {
      ++report_.memcpys;
      g.dir = DirOfMemcpy(name);
      if (g.dir == CopyDir::kNone) {
        Problem("memcpys of unknown direction (name not \"Memcpy HtoD ...\" etc.) taken as d2d");
        g.dir = CopyDir::kD2D;
      }
    } else {
      ++report_.memsets;
    }
  }
  if (g.correlation == kAbsent) {
    gpu_need_flow_.emplace_back(capture_.gpu.size(),
                                MakeFlowKey(e.value("pid", json()), e.value("tid", json()), ts));
  }
  gpu_ext_.push_back(ExternalId(args, path));
  capture_.gpu.push_back(std::move(g));
}

void EventReader::Api(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts,
                      TimeNs dur) {
  const json& e = raw.value;
  static const json kEmpty = json::object();
  const json& args = e.contains("args") ? e["args"] : kEmpty;
  ApiCall a;
  a.name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
  a.driver = cat == Cat::kDriver;
  (a.driver ? report_.driver_calls : report_.runtime_calls)++;
  a.thread = ThreadOf(e.value("tid", json()));
  a.start_ns = ts;
  a.end_ns = ts + dur;
  a.correlation = IntArg(args, path, "correlation", 0, kInt64Max);
  if (capture_.pid == 0) {
    const auto pid = e.find("pid");
    if (pid != e.end()) {
      if (const std::optional<int64_t> p = IdOf(*pid)) capture_.pid = *p;
    }
  }
  if (a.correlation == kAbsent) {
    api_need_flow_.emplace_back(capture_.api.size(),
                                MakeFlowKey(e.value("pid", json()), e.value("tid", json()), ts));
  }
  api_ext_.push_back(ExternalId(args, path));
  capture_.api.push_back(std::move(a));
}

void EventReader::Sync(const RawEvent& raw, const std::string& path, TimeNs ts, TimeNs dur) {
  ++report_.sync_events;
  const json& e = raw.value;
  static const json kEmpty = json::object();
  const json& args = e.contains("args") ? e["args"] : kEmpty;
  // The kind: args.cuda_sync_kind, else the name (libkineto/utils/cupti_strings.cpp).
  std::string kind;
  if (const auto k = args.find("cuda_sync_kind"); k != args.end() && k->is_string()) {
    kind = k->get<std::string>();
  } else if (e.contains("name") && e["name"].is_string()) {
    kind = e["name"].get<std::string>();
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
    Problem("cuda_sync events of unknown kind were left out");
    return;
  }
  s.start_ns = ts;
  s.end_ns = ts + dur;
  s.correlation = IntArg(args, path, "correlation", 0, kInt64Max);
  const int64_t stream = IntArg(args, path, "stream", -1, kInt64Max);
  s.stream = stream < 0 ? kAbsent : stream;
  if (s.type == SyncType::kStreamWaitEvent || s.type == SyncType::kEventSync) {
    const int64_t record = IntArg(args, path, "wait_on_cuda_event_record_corr_id", -1, kInt64Max);
    const int64_t on_stream = IntArg(args, path, "wait_on_stream", -1, kInt64Max);
    const int64_t event_id = IntArg(args, path, "wait_on_cuda_event_id", -1, kInt64Max);
    if (record >= 0) {
      // The record's correlation is the event's id in the trace: unique per
      // record, where CUDA reuses one event for many records.
      s.event = record;
      RecordInfo& r = records_[record];
      if (r.stream == kAbsent && on_stream >= 0) r.stream = on_stream;
      if (r.cuda_event_id == kAbsent && event_id >= 0) r.cuda_event_id = event_id;
      if (r.start_ns == 0 && r.end_ns == 0) r.start_ns = r.end_ns = ts;
    } else {
      unresolved_.push_back({capture_.syncs.size(), event_id, on_stream});
    }
  }
  capture_.syncs.push_back(s);
}

void EventReader::CudaEvent(const RawEvent& raw, const std::string& path, TimeNs ts, TimeNs dur) {
  ++report_.cuda_events;
  const json& e = raw.value;
  static const json kEmpty = json::object();
  const json& args = e.contains("args") ? e["args"] : kEmpty;
  const int64_t corr = IntArg(args, path, "correlation", 0, kInt64Max);
  const int64_t stream = IntArg(args, path, "stream", -1, kInt64Max);
  const int64_t event_id = IntArg(args, path, "event_id", 0, kInt64Max);
  if (corr == kAbsent) {
    Problem("cuda_event events without a correlation were left out");
    return;
  }
  RecordInfo& r = records_[corr];
  if (stream >= 0) r.stream = stream;
  if (event_id != kAbsent) r.cuda_event_id = event_id;
  r.start_ns = ts;
  r.end_ns = ts + dur;
}

void EventReader::Op(const RawEvent& raw, const std::string& path, Cat cat, TimeNs ts, TimeNs dur) {
  const json& e = raw.value;
  static const json kEmpty = json::object();
  const json& args = e.contains("args") ? e["args"] : kEmpty;
  (cat == Cat::kCpuOp ? report_.cpu_ops : report_.annotations)++;
  Range r;
  r.name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>() : "";
  r.thread = ThreadOf(e.value("tid", json()));
  r.start_ns = ts;
  r.end_ns = ts + dur;
  const int64_t step = StepNumber(r.name);
  if (step >= 0) report_.steps.push_back(step);
  const int64_t ext = ExternalId(args, path);
  if (ext != kAbsent && step < 0) {
    // Innermost of several ranges with one id: the later start, then the
    // earlier end.
    OpRange op{r.name, r.start_ns, r.end_ns};
    const auto [it, fresh] = ops_by_ext_.emplace(ext, op);
    if (!fresh && (op.start_ns > it->second.start_ns ||
                   (op.start_ns == it->second.start_ns && op.end_ns < it->second.end_ns))) {
      it->second = std::move(op);
    }
  }
  capture_.ranges.push_back(std::move(r));
}

void EventReader::Flow(const RawEvent& raw, const std::string& path, const std::string& ph) {
  ++report_.flows;
  if (ph == "t") return;
  const json& e = raw.value;
  const auto id_it = e.find("id");
  const std::optional<int64_t> id = id_it == e.end()     ? std::nullopt
                                    : id_it->is_string() ? IntFromText(id_it->get<std::string>())
                                                         : JsonToInt(*id_it);
  if (!id || *id < 0) {
    Problem("flow events without an integer id were left out");
    return;
  }
  const TimeNs ts = Time(raw, path, "ts", raw.ts_text, false, Cat::kFlow);
  const FlowKey key = MakeFlowKey(e.value("pid", json()), e.value("tid", json()), ts);
  (ph == "s" ? flow_starts_ : flow_ends_).emplace(key, *id);
}

void EventReader::DeviceProperties(const json& props) { device_props_ = props; }

void EventReader::Finish() {
  report_.layout = legacy_ && current_ ? "mixed"
                   : legacy_           ? "legacy"
                   : current_          ? "current"
                                       : "unknown";

  // 1. Correlations from ac2g flows, for records whose args lack them.
  for (const auto& [i, key] : api_need_flow_) {
    const auto it = flow_starts_.find(key);
    if (it == flow_starts_.end()) continue;
    capture_.api[i].correlation = it->second;
    ++report_.correlated_by_flow;
  }
  for (const auto& [i, key] : gpu_need_flow_) {
    const auto it = flow_ends_.find(key);
    if (it == flow_ends_.end()) continue;
    capture_.gpu[i].correlation = it->second;
    ++report_.correlated_by_flow;
  }
  std::unordered_map<int64_t, size_t> api_by_corr;
  for (size_t i = 0; i < capture_.api.size(); ++i) {
    if (capture_.api[i].correlation != kAbsent) api_by_corr.emplace(capture_.api[i].correlation, i);
  }

  // 2. Waits known only by CUDA event id: the latest record of that event
  //    (from cuda_event events) issued before the wait's call.
  int64_t dropped_waits = 0;
  std::vector<bool> drop(capture_.syncs.size(), false);
  for (const UnresolvedWait& w : unresolved_) {
    GpuSync& s = capture_.syncs[w.sync];
    const auto call = api_by_corr.find(s.correlation);
    const TimeNs at = call != api_by_corr.end() ? capture_.api[call->second].start_ns : s.start_ns;
    int64_t best = kAbsent;
    TimeNs best_at = 0;
    if (w.cuda_event_id != kAbsent) {
      for (const auto& [corr, r] : records_) {
        if (r.cuda_event_id != w.cuda_event_id) continue;
        const auto rc = api_by_corr.find(corr);
        const TimeNs r_at =
            rc != api_by_corr.end() ? capture_.api[rc->second].start_ns : r.start_ns;
        if (r_at <= at && (best == kAbsent || r_at >= best_at)) {
          best = corr;
          best_at = r_at;
        }
      }
    }
    if (best == kAbsent) {
      drop[w.sync] = true;
      ++dropped_waits;
      continue;
    }
    s.event = best;
    RecordInfo& r = records_[best];
    if (r.stream == kAbsent && w.wait_on_stream >= 0) r.stream = w.wait_on_stream;
    ++report_.waits_linked_by_event_id;
  }

  // 3. Event records, with the record's correlation as event id.
  std::vector<GpuSync> syncs;
  syncs.reserve(capture_.syncs.size() + records_.size());
  int64_t streamless_records = 0;
  std::unordered_map<int64_t, bool> record_kept;
  for (const auto& [corr, r] : records_) {
    if (r.stream == kAbsent) {
      ++streamless_records;
      record_kept[corr] = false;
      continue;
    }
    GpuSync s;
    s.type = SyncType::kEventRecord;
    s.correlation = corr;
    s.stream = r.stream;
    s.event = corr;
    const auto call = api_by_corr.find(corr);
    if (call != api_by_corr.end()) {
      ApiCall& a = capture_.api[call->second];
      s.start_ns = a.start_ns;
      s.end_ns = a.end_ns;
      a.stream = r.stream;
      a.event = corr;
    } else {
      s.start_ns = r.start_ns;
      s.end_ns = r.end_ns;
    }
    record_kept[corr] = true;
    syncs.push_back(s);
  }
  for (size_t i = 0; i < capture_.syncs.size(); ++i) {
    const GpuSync& s = capture_.syncs[i];
    const bool waits = s.type == SyncType::kStreamWaitEvent || s.type == SyncType::kEventSync;
    if (drop[i] || (waits && !record_kept[s.event])) {
      if (!drop[i]) ++dropped_waits;
      continue;
    }
    const auto call = api_by_corr.find(s.correlation);
    if (call != api_by_corr.end()) {
      ApiCall& a = capture_.api[call->second];
      if (a.stream == kAbsent) a.stream = s.stream;
      if (a.event == kAbsent) a.event = s.event;
    }
    syncs.push_back(s);
  }
  capture_.syncs = std::move(syncs);
  if (dropped_waits > 0) {
    Problem(std::to_string(dropped_waits) +
            " stream wait(s)/event sync(s) whose event record is unknown were left out");
  }
  if (streamless_records > 0) {
    Problem(std::to_string(streamless_records) +
            " event record(s) on an unknown stream were left out");
  }

  // 4. Operator labels through External id: the GPU event's own, else its
  //    launching call's.
  for (size_t i = 0; i < capture_.gpu.size(); ++i) {
    GpuActivity& g = capture_.gpu[i];
    int64_t ext = gpu_ext_[i];
    if (ext == kAbsent && g.correlation != kAbsent) {
      const auto call = api_by_corr.find(g.correlation);
      if (call != api_by_corr.end()) ext = api_ext_[call->second];
    }
    if (ext == kAbsent) continue;
    const auto op = ops_by_ext_.find(ext);
    if (op == ops_by_ext_.end()) continue;
    g.op = op->second.name;
    ++report_.labelled_kernels;
  }

  // 5. The device's name, from deviceProperties (the entry of the first GPU
  //    event's device, else the first entry).
  if (device_props_.is_array() && !device_props_.empty()) {
    const int64_t device = capture_.gpu.empty() ? 0 : capture_.gpu.front().device;
    const json* pick = nullptr;
    for (const json& d : device_props_) {
      if (!d.is_object()) continue;
      if (pick == nullptr) pick = &d;
      const auto id = d.find("id");
      if (id != d.end() && JsonToInt(*id) == device) {
        pick = &d;
        break;
      }
    }
    if (pick != nullptr && pick->contains("name") && (*pick)["name"].is_string()) {
      capture_.device_name = (*pick)["name"].get<std::string>();
    }
  }

  std::sort(report_.steps.begin(), report_.steps.end());
  report_.steps.erase(std::unique(report_.steps.begin(), report_.steps.end()), report_.steps.end());
  for (const std::string& p : problem_order_) {
    const int64_t n = problem_counts_[p];
    report_.problems.push_back(n > 1 && !std::isdigit(static_cast<unsigned char>(p[0]))
                                   ? p + " (" + std::to_string(n) + " times)"
                                   : p);
  }
  capture_.problems.insert(capture_.problems.end(), report_.problems.begin(),
                           report_.problems.end());
}

/// nlohmann SAX handler for a Chrome trace: an object with "traceEvents"
/// (other top-level fields kept whole), or a bare array of events.
class KinetoSax {
 public:
  KinetoSax(const std::string& text, const std::string& file, EventReader& reader)
      : text_(text), file_(file), reader_(reader) {}

  bool saw_events = false;
  json base_time;  ///< top-level baseTimeNanoseconds, if any

  bool null() { return Value(json(nullptr), nullptr); }
  bool boolean(bool v) { return Value(json(v), nullptr); }
  bool number_integer(json::number_integer_t v) { return Value(json(v), nullptr); }
  bool number_unsigned(json::number_unsigned_t v) { return Value(json(v), nullptr); }
  bool number_float(json::number_float_t v, const std::string& text) {
    return Value(json(v), &text);
  }
  bool string(std::string& v) { return Value(json(v), nullptr); }
  bool binary(json::binary_t&) { return true; }

  bool start_object(std::size_t) {
    switch (state_) {
      case State::kStart:
        state_ = State::kRoot;
        return true;
      case State::kEvents:
        event_ = RawEvent{};
        tree_.Open(json::object());
        state_ = State::kEvent;
        return true;
      case State::kEvent:
      case State::kRootValue:
        tree_.Open(json::object());
        return true;
      case State::kEventsKey:
        return NotEvents(json::object());
      default:
        COTENANT_CHECK_MSG(false, "object in an unexpected place");
        return false;
    }
  }

  bool key(std::string& k) {
    switch (state_) {
      case State::kRoot:
        root_key_ = k;
        state_ = k == "traceEvents" ? State::kEventsKey : State::kRootValue;
        return true;
      case State::kEvent:
      case State::kRootValue:
        tree_.Key(k);
        return true;
      default:
        COTENANT_CHECK_MSG(false, "key outside an object");
        return false;
    }
  }

  bool end_object() {
    switch (state_) {
      case State::kRoot:
        state_ = State::kDone;
        return true;
      case State::kEvent:
        if (tree_.Close()) EventDone();
        return true;
      case State::kRootValue:
        if (tree_.Close()) RootValueDone();
        return true;
      default:
        COTENANT_CHECK_MSG(false, "unbalanced object");
        return false;
    }
  }

  bool start_array(std::size_t) {
    switch (state_) {
      case State::kStart:
        array_root_ = true;
        saw_events = true;
        state_ = State::kEvents;
        return true;
      case State::kEventsKey:
        saw_events = true;
        state_ = State::kEvents;
        return true;
      case State::kEvents:
        FailAt(file_, EventPath(), "expected a trace event object, found an array");
      case State::kEvent:
      case State::kRootValue:
        tree_.Open(json::array());
        return true;
      default:
        COTENANT_CHECK_MSG(false, "array in an unexpected place");
        return false;
    }
  }

  bool end_array() {
    switch (state_) {
      case State::kEvents:
        state_ = array_root_ ? State::kDone : State::kRoot;
        return true;
      case State::kEvent:
        if (tree_.Close()) EventDone();
        return true;
      case State::kRootValue:
        if (tree_.Close()) RootValueDone();
        return true;
      default:
        COTENANT_CHECK_MSG(false, "unbalanced array");
        return false;
    }
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    throw InputError(MalformedJsonMessage(text_, file_, position, e.what()));
  }

 private:
  enum class State {
    kStart,      ///< before the document
    kRoot,       ///< in the top-level object, between fields
    kRootValue,  ///< in the value of a top-level field other than traceEvents
    kEventsKey,  ///< after the "traceEvents" key
    kEvents,     ///< in the events array, between events
    kEvent,      ///< inside one event
    kDone,       ///< after the document
  };

  std::string EventPath() const {
    return (array_root_ ? "[" : "traceEvents[") + std::to_string(index_) + "]";
  }

  bool Value(json&& v, const std::string* number_text) {
    switch (state_) {
      case State::kStart:
        FailAt(file_, "",
               "expected a Chrome trace (an object with \"traceEvents\", or an array of "
               "events), found " +
                   Found(v));
      case State::kEventsKey:
        return NotEvents(v);
      case State::kEvents:
        FailAt(file_, EventPath(), "expected a trace event object, found " + Found(v));
      case State::kEvent:
        // `ts` and `dur` written as decimals are kept as their text, so
        // that the conversion to ns is exact.
        if (number_text != nullptr && tree_.depth() == 1) {
          if (tree_.key() == "ts") {
            event_.ts_text = true;
            tree_.Add(json(*number_text));
            return true;
          }
          if (tree_.key() == "dur") {
            event_.dur_text = true;
            tree_.Add(json(*number_text));
            return true;
          }
        }
        tree_.Add(std::move(v));
        return true;
      case State::kRootValue:
        if (tree_.Add(std::move(v))) RootValueDone();
        return true;
      default:
        COTENANT_CHECK_MSG(false, "value in an unexpected place");
        return false;
    }
  }

  [[noreturn]] bool NotEvents(const json& v) {
    FailAt(file_, "traceEvents", "expected an array of trace events, found " + Found(v));
  }

  void EventDone() {
    event_.value = std::move(tree_.value());
    reader_.Event(event_, index_++, array_root_);
    event_.value = json();
    state_ = State::kEvents;
  }

  void RootValueDone() {
    if (root_key_ == "deviceProperties") reader_.DeviceProperties(tree_.value());
    if (root_key_ == "baseTimeNanoseconds") base_time = tree_.value();
    tree_.value() = json();
    state_ = State::kRoot;
  }

  const std::string& text_;
  const std::string& file_;
  EventReader& reader_;
  State state_ = State::kStart;
  bool array_root_ = false;
  std::string root_key_;
  SaxTreeBuilder tree_;
  RawEvent event_;
  size_t index_ = 0;
};

}  // namespace

std::optional<TimeNs> UsTextToNs(const std::string& text) {
  TimeNs ns = 0;
  if (ParseUs(text, &ns) != UsParse::kOk) return std::nullopt;
  return ns;
}

Capture ParseKinetoTrace(const std::string& text, const std::string& file, KinetoReport* report) {
  KinetoReport local;
  KinetoReport& r = report != nullptr ? *report : local;
  r = KinetoReport{};
  Capture capture;
  capture.source = "kineto";
  EventReader reader(file, capture, r);
  KinetoSax sax(text, file, reader);
  json::sax_parse(text, &sax);
  if (!sax.saw_events) {
    FailAt(file, "traceEvents", "missing required field (is this a Chrome trace?)");
  }
  if (!sax.base_time.is_null()) {
    const std::optional<int64_t> base = JsonToInt(sax.base_time);
    if (!base || *base < 0) {
      FailAt(file, "baseTimeNanoseconds",
             "expected a non-negative integer, found " + Found(sax.base_time));
    }
    r.base_time_ns = *base;
  }
  reader.Finish();
  return capture;
}

Capture ReadKinetoTrace(const std::string& path, KinetoReport* report) {
  return ParseKinetoTrace(ReadFileText(path), path, report);
}

Window StepWindow(const Capture& capture, int64_t step, const std::string& file) {
  const std::string name = "ProfilerStep#" + std::to_string(step);
  const Range* found = nullptr;
  std::vector<int64_t> steps;
  for (const Range& r : capture.ranges) {
    const int64_t n = StepNumber(r.name);
    if (n >= 0) steps.push_back(n);
    if (r.name == name && (found == nullptr || r.start_ns < found->start_ns)) found = &r;
  }
  if (found == nullptr) {
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    std::string have;
    for (int64_t s : steps) have += (have.empty() ? "" : ", ") + std::to_string(s);
    FailAt(file, "--step " + std::to_string(step),
           "no " + name + " range in the trace" +
               (steps.empty() ? std::string(" (it has no ProfilerStep ranges: profile with "
                                            "torch.profiler.schedule and call prof.step())")
                              : " (its steps: " + have + ")"));
  }
  Window w;
  w.kind = Window::Kind::kTime;
  w.time_relative = false;
  w.from_ns = found->start_ns;
  w.to_ns = found->end_ns;
  return w;
}

Trace ImportKineto(const std::string& path, const KinetoImportOptions& options,
                   KinetoReport* kineto_report, BuildReport* build_report) {
  KinetoReport local;
  KinetoReport& kr = kineto_report != nullptr ? *kineto_report : local;
  if (options.step >= 0 && !options.window.empty()) {
    throw InputError("--step, --window: give one of them, not both");
  }
  const Capture capture = ReadKinetoTrace(path, &kr);
  BuildOptions build;
  build.tenant = options.tenant;
  if (options.step >= 0) {
    build.window = StepWindow(capture, options.step, path);
  } else if (!options.window.empty()) {
    build.window = ParseWindow(options.window, "--window");
  }
  Trace trace;
  try {
    trace = BuildTrace(capture, build, build_report);
  } catch (const InputError& e) {  // a window that selects nothing: name the file
    throw InputError(path + ": " + e.what());
  }
  if (!options.gpu.empty()) trace.device_gpu = options.gpu;

  json k = json::object();
  const size_t slash = path.find_last_of('/');
  k["file"] = slash == std::string::npos ? path : path.substr(slash + 1);
  k["layout"] = kr.layout;
  if (kr.base_time_ns != kAbsent) k["base_time_ns"] = kr.base_time_ns;
  if (options.step >= 0) k["step"] = options.step;
  if (!kr.unknown_categories.empty()) k["unknown_categories"] = kr.unknown_categories;
  trace.meta["kineto"] = std::move(k);
  return trace;
}

}  // namespace cotenant::profiler
