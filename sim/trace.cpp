#include "sim/trace.h"

#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "sim/byte_source.h"
#include "sim/error.h"
#include "sim/json_stream.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

using nlohmann::json;

constexpr const char* kTraceSchema = "cotenant.trace/1";

const std::vector<std::string>& KindNames() {
  static const std::vector<std::string> names = {"launch", "kernel",       "memcpy",      "memset",
                                                 "cpu",    "event_record", "stream_wait", "sync"};
  return names;
}

/// Names of SyncScope values other than kNone, in enum order after it.
const std::vector<std::string>& ScopeNames() {
  static const std::vector<std::string> names = {"stream", "device", "event"};
  return names;
}

/// Names of CopyDir values other than kNone, in enum order after it.
const std::vector<std::string>& DirNames() {
  static const std::vector<std::string> names = {"h2d", "d2h", "d2d", "h2h", "p2p"};
  return names;
}

/// Names of DramSource values other than kNone, in enum order after it.
const std::vector<std::string>& DramSourceNames() {
  static const std::vector<std::string> names = {"counter", "shape", "name"};
  return names;
}

/// The keys of a task object, in the order the writer emits them.
enum class Field : uint8_t {
  kId,
  kKind,
  kName,
  kThread,
  kStream,
  kStartNs,
  kDurNs,
  kCorrelation,
  kGrid,
  kBlock,
  kRegs,
  kSmem,
  kOp,
  kDramBytes,
  kMemBound,
  kDramSource,
  kDir,
  kBytes,
  kEvent,
  kScope,
  kPriority,
  kSmCount,
  kAfter,
  kCount
};

constexpr std::string_view kFieldNames[] = {
    "id",   "kind",  "name",  "thread", "stream",   "start_ns",   "dur_ns",    "correlation",
    "grid", "block", "regs",  "smem",   "op",       "dram_bytes", "mem_bound", "dram_source",
    "dir",  "bytes", "event", "scope",  "priority", "sm_count",   "after"};
static_assert(sizeof(kFieldNames) / sizeof(kFieldNames[0]) == static_cast<size_t>(Field::kCount),
              "one name per field");

constexpr int64_t kMaxGridYz = 65535;  ///< gridDim.y and gridDim.z
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();

std::string FieldName(Field f) { return std::string(kFieldNames[static_cast<int>(f)]); }

std::string TaskPath(size_t index) { return "tasks[" + std::to_string(index) + "]"; }

/// Field by key, or kCount when the key is unknown.
Field FindField(std::string_view key) {
  for (size_t i = 0; i < static_cast<size_t>(Field::kCount); ++i) {
    if (key == kFieldNames[i]) return static_cast<Field>(i);
  }
  return Field::kCount;
}

/// Validates the fields of one task object and fills a Task. Both readers (the
/// DOM one behind TraceFromJson and the SAX one behind ParseTrace) feed it, so
/// they accept the same files and give the same messages.
class TaskReader {
 public:
  TaskReader(Trace& trace, const std::string& file) : trace_(trace), file_(file) {}

  /// Starts the task at `index` of the tasks array.
  void Begin(size_t index) {
    index_ = index;
    task_ = Task{};
    seen_ = 0;
  }

  /// One key and its value.
  void Add(std::string_view key, const json& v) {
    const Field f = FindField(key);
    if (f == Field::kCount) {
      const std::vector<std::string> names(std::begin(kFieldNames), std::end(kFieldNames));
      Fail(std::string(key), "unknown key" + DidYouMean(std::string(key), names));
    }
    const uint32_t bit = 1u << static_cast<unsigned>(f);
    if (seen_ & bit) Fail(std::string(key), "duplicate key");
    seen_ |= bit;
    switch (f) {
      case Field::kId:
        task_.id = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kKind:
        task_.kind = static_cast<TaskKind>(Choice(f, v, KindNames()));
        break;
      case Field::kName:
        task_.name = trace_.Intern(String(f, v));
        break;
      case Field::kOp:
        task_.op = trace_.Intern(String(f, v));
        break;
      case Field::kThread:
        task_.thread = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kStream:
        task_.stream = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kStartNs:
        task_.start_ns = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kDurNs:
        task_.dur_ns = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kCorrelation:
        task_.correlation = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kEvent:
        task_.event = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kBytes:
        task_.bytes = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kDramBytes:
        task_.dram_bytes = IntIn(f, v, 0, kInt64Max);
        break;
      case Field::kGrid:
        task_.grid = Shape(f, v);
        break;
      case Field::kBlock:
        task_.block = Shape(f, v);
        break;
      case Field::kRegs:
        task_.regs = static_cast<int32_t>(IntIn(f, v, 1, 255));
        break;
      case Field::kSmem:
        task_.smem = static_cast<int32_t>(IntIn(f, v, 0, kInt32Max));
        break;
      case Field::kPriority:
        task_.priority = static_cast<int32_t>(IntIn(f, v, kInt32Min, kInt32Max));
        break;
      case Field::kSmCount:
        task_.sm_count = static_cast<int32_t>(IntIn(f, v, 1, kInt32Max));
        break;
      case Field::kMemBound:
        if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() > 1.0) {
          Expected(f, v, "a number in [0, 1]");
        }
        task_.mem_bound = v.get<double>();
        break;
      case Field::kDramSource:
        task_.dram_source = static_cast<DramSource>(1 + Choice(f, v, DramSourceNames()));
        break;
      case Field::kDir:
        task_.dir = static_cast<CopyDir>(1 + Choice(f, v, DirNames()));
        break;
      case Field::kScope:
        task_.scope = static_cast<SyncScope>(1 + Choice(f, v, ScopeNames()));
        break;
      case Field::kAfter:
        task_.after = Ids(f, v);
        break;
      case Field::kCount:
        break;
    }
  }

  /// Checks what depends on several fields and appends the task to the trace.
  void End() {
    Require(Field::kId, "");
    Require(Field::kKind, "");
    Require(Field::kStartNs, "");
    Require(Field::kDurNs, "");
    const std::string why = std::string(" (a \"") + TaskKindName(task_.kind) + "\" task needs it)";
    switch (task_.kind) {
      case TaskKind::kKernel:
      case TaskKind::kMemset:
        Require(Field::kStream, why);
        break;
      case TaskKind::kMemcpy:
        Require(Field::kStream, why);
        Require(Field::kDir, why);
        break;
      case TaskKind::kLaunch:
      case TaskKind::kCpu:
        Require(Field::kThread, why);
        break;
      case TaskKind::kEventRecord:
      case TaskKind::kStreamWait:
        Require(Field::kEvent, why);
        Require(Field::kStream, why);
        break;
      case TaskKind::kSync: {
        Require(Field::kThread, why);
        Require(Field::kScope, why);
        const std::string scoped =
            std::string(" (a sync of scope \"") + SyncScopeName(task_.scope) + "\" needs it)";
        if (task_.scope == SyncScope::kStream) Require(Field::kStream, scoped);
        if (task_.scope == SyncScope::kEvent) Require(Field::kEvent, scoped);
        break;
      }
    }
    const bool has_figure = Seen(Field::kDramBytes) || Seen(Field::kMemBound);
    if (Seen(Field::kDramSource) && !has_figure) {
      Fail(FieldName(Field::kDramSource),
           "given without dram_bytes or mem_bound (it says where they came from)");
    }
    if (has_figure && !Seen(Field::kDramSource)) task_.dram_source = DramSource::kCounter;
    const bool has_grid = Seen(Field::kGrid);
    if (has_grid != Seen(Field::kBlock)) {
      Fail(FieldName(has_grid ? Field::kBlock : Field::kGrid),
           "missing required field (grid and block must appear together)");
    }
    // (ThreadsPerBlock() is int32, safe only once this check has passed.)
    if (has_grid && !BlockWithinThreadLimit(task_.block)) {
      Fail("block", "expected at most " + std::to_string(kMaxThreadsPerBlock) +
                        " threads per block, found " + BlockThreadsText(task_.block));
    }
    trace_.tasks.push_back(task_);
  }

 private:
  bool Seen(Field f) const { return (seen_ >> static_cast<unsigned>(f)) & 1u; }

  void Require(Field f, const std::string& why) const {
    if (!Seen(f)) Fail(FieldName(f), "missing required field" + why);
  }

  [[noreturn]] void Fail(const std::string& key, const std::string& message) const {
    FailAt(file_, TaskPath(index_) + "." + key, message);
  }

  [[noreturn]] void Expected(Field f, const json& v, const std::string& what) const {
    Fail(FieldName(f), "expected " + what + ", found " + DescribeJson(v));
  }

  int64_t IntIn(Field f, const json& v, int64_t lo, int64_t hi) const {
    const std::optional<int64_t> i = JsonToInt(v);
    if (!i || *i < lo || *i > hi) Expected(f, v, IntRangeName(lo, hi));
    return *i;
  }

  const std::string& String(Field f, const json& v) const {
    if (!v.is_string()) Expected(f, v, "a string");
    return v.get_ref<const std::string&>();
  }

  int Choice(Field f, const json& v, const std::vector<std::string>& names) const {
    const int i = IndexOf(v, names);
    if (i < 0) Fail(FieldName(f), ExpectedOneOf(v, names));
    return i;
  }

  /// Task ids: an array of non-negative integers (checked to exist later).
  std::vector<int64_t> Ids(Field f, const json& v) const {
    if (!v.is_array()) Expected(f, v, "an array of task ids");
    std::vector<int64_t> ids;
    ids.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const std::optional<int64_t> id = JsonToInt(v[i]);
      if (!id || *id < 0) {
        Fail(FieldName(f) + "[" + std::to_string(i) + "]",
             "expected " + IntRangeName(0, kInt64Max) + ", found " + DescribeJson(v[i]));
      }
      ids.push_back(*id);
    }
    return ids;
  }

  /// A launch shape: 1 to 3 positive integers, padded with 1.
  std::array<int32_t, 3> Shape(Field f, const json& v) const {
    const char* what = "an array of 1 to 3 positive integers";
    if (!v.is_array()) Expected(f, v, what);
    if (v.empty() || v.size() > 3) {
      Fail(FieldName(f),
           std::string("expected ") + what + ", found " + std::to_string(v.size()) + " elements");
    }
    std::array<int32_t, 3> shape{1, 1, 1};
    for (size_t i = 0; i < v.size(); ++i) {
      const std::optional<int64_t> n = JsonToInt(v[i]);
      if (!n || *n < 1 || *n > kInt32Max) {
        Fail(FieldName(f) + "[" + std::to_string(i) + "]",
             "expected " + IntRangeName(1, kInt32Max) + ", found " + DescribeJson(v[i]));
      }
      // CUDA's limit for grid y and z, which also keeps Task::Blocks() (the
      // product, int64) from overflowing.
      if (f == Field::kGrid && i > 0 && *n > kMaxGridYz) {
        Fail(FieldName(f) + "[" + std::to_string(i) + "]",
             "expected at most " + std::to_string(kMaxGridYz) +
                 " (CUDA's limit for grid y and z), found " + DescribeJson(v[i]));
      }
      shape[i] = static_cast<int32_t>(*n);
    }
    return shape;
  }

  Trace& trace_;
  const std::string& file_;
  size_t index_ = 0;
  Task task_;
  uint32_t seen_ = 0;  ///< bit per Field present in the current task
};

/// Reads the top-level fields other than the tasks: tenant, device, meta.
/// `root` holds every top-level key of the file ("tasks" may be a placeholder).
void ReadHeader(const json& root, const std::string& file, Trace& trace) {
  CheckSchema(root, file, kTraceSchema);
  const JsonFields f(root, file, "", {"schema", "tenant", "device", "meta", "tasks"});
  f.Get("tasks");
  trace.tenant = f.String("tenant", "");
  if (f.Has("device")) {
    const JsonFields d(f.Get("device"), file, "device", {"name", "gpu"});
    trace.device_name = d.String("name", "");
    trace.device_gpu = d.String("gpu", "");
  }
  if (f.Has("meta")) {
    if (!f.Get("meta").is_object()) f.Expected("meta", "an object");
    trace.meta = f.Get("meta");
  }
}

/// Fails when the `after` lists form a cycle, naming the tasks on the first
/// cycle found (searching from tasks in file order, following `after`).
/// `index` maps ids to task indices; every `after` id is in it.
void CheckAfterCycles(const Trace& trace, const std::unordered_map<int64_t, size_t>& index) {
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> state(trace.tasks.size(), kNew);
  std::vector<std::pair<size_t, size_t>> stack;  // (task, next entry of its `after`)
  for (size_t root = 0; root < trace.tasks.size(); ++root) {
    if (state[root] != kNew || trace.tasks[root].after.empty()) continue;
    stack.emplace_back(root, 0);
    state[root] = kOpen;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      const std::vector<int64_t>& after = trace.tasks[v].after;
      if (next == after.size()) {
        state[v] = kDone;
        stack.pop_back();
        continue;
      }
      const size_t w = index.at(after[next++]);
      if (state[w] == kNew) {
        state[w] = kOpen;
        stack.emplace_back(w, 0);
      } else if (state[w] == kOpen) {
        std::string cycle;
        size_t from = 0;
        while (stack[from].first != w) ++from;
        for (size_t k = from; k < stack.size(); ++k) {
          cycle += "task " + std::to_string(trace.tasks[stack[k].first].id) + " -> ";
        }
        FailAt(trace.file, "",
               "dependency cycle: " + cycle + "task " + std::to_string(trace.tasks[w].id));
      }
    }
  }
}

/// The checks that span tasks: unique ids, one launch per correlation, every
/// `after` id present and no cycle through `after`, and every waited-on
/// event recorded by an event_record that starts earlier.
void CheckReferences(const Trace& trace) {
  const std::string& file = trace.file;
  std::unordered_map<int64_t, size_t> ids;
  std::unordered_map<int64_t, size_t> launches;
  std::unordered_map<int64_t, size_t> first_record;  // event -> earliest event_record
  ids.reserve(trace.tasks.size());
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    const auto id = ids.emplace(t.id, i);
    if (!id.second) {
      FailAt(file, TaskPath(i) + ".id",
             "duplicate id " + std::to_string(t.id) + " (also " + TaskPath(id.first->second) + ")");
    }
    if (t.kind == TaskKind::kLaunch && t.correlation != kAbsent) {
      const auto l = launches.emplace(t.correlation, i);
      if (!l.second) {
        FailAt(file, TaskPath(i) + ".correlation",
               "duplicate launch correlation " + std::to_string(t.correlation) + " (also " +
                   TaskPath(l.first->second) + ")");
      }
    }
    if (t.kind == TaskKind::kEventRecord) {
      const auto r = first_record.emplace(t.event, i);
      if (!r.second && t.start_ns < trace.tasks[r.first->second].start_ns) r.first->second = i;
    }
  }
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    for (size_t k = 0; k < t.after.size(); ++k) {
      if (ids.count(t.after[k]) == 0) {
        FailAt(file, TaskPath(i) + ".after[" + std::to_string(k) + "]",
               "dangling task id " + std::to_string(t.after[k]));
      }
    }
  }
  CheckAfterCycles(trace, ids);
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    const bool waits = t.kind == TaskKind::kStreamWait ||
                       (t.kind == TaskKind::kSync && t.scope == SyncScope::kEvent);
    if (!waits) continue;
    const auto r = first_record.find(t.event);
    const bool before =
        r != first_record.end() &&
        std::make_pair(trace.tasks[r->second].start_ns, r->second) < std::make_pair(t.start_ns, i);
    if (!before) {
      FailAt(file, TaskPath(i) + ".event",
             "dangling event " + std::to_string(t.event) +
                 ": no event_record of it starts before this task");
    }
  }
}

/// The streaming handler for a whole trace: task fields go straight into a
/// TaskReader (no tree for the task array), other top-level values are
/// kept whole and read by ReadHeader.
class TraceHandler : public JsonHandler {
 public:
  TraceHandler(const std::string& file, Trace& trace) : file_(file), reader_(trace, file) {}

  /// Top-level fields other than "tasks" (with a placeholder for it).
  json root = json::object();
  bool saw_tasks = false;

  bool Begin(JsonReader& r, JsonType type) override {
    switch (r.depth()) {
      case 0:
        if (type != JsonType::kObject) FailAt(file_, "", "expected a JSON object, found an array");
        return true;
      case 1:
        if (r.key() != "tasks") return false;  // kept whole
        if (type != JsonType::kArray) FailAt(file_, "tasks", "expected an array, found an object");
        saw_tasks = true;
        root["tasks"] = json::array();
        return true;
      case 2:
        if (type != JsonType::kObject) {
          FailAt(file_, r.Path(), "expected an object, found an array");
        }
        reader_.Begin(r.index());
        return true;
      default:
        return false;  // a task field: kept whole
    }
  }

  void End(JsonReader& r, JsonType) override {
    if (r.depth() == 2) reader_.End();
  }

  void Key(JsonReader& r) override {
    if (r.depth() != 1) return;
    const std::string key(r.key());
    if (key == "tasks" ? saw_tasks : root.contains(key)) FailAt(file_, key, "duplicate key");
  }

  void Value(JsonReader& r, const JsonValue& v) override {
    switch (r.depth()) {
      case 0:
        FailAt(file_, "", "expected a JSON object, found " + DescribeJson(v.ToJson()));
      case 1: {
        const std::string key(r.key());
        if (key == "tasks") FailAt(file_, "tasks", "expected an array, found " + Found(v));
        root[key] = v.ToJson();
        if (key == "schema") CheckSchema(root, file_, kTraceSchema);
        return;
      }
      case 2:
        FailAt(file_, r.Path(), "expected an object, found " + Found(v));
      default:
        if (v.tree != nullptr) {
          reader_.Add(r.key(), *v.tree);
        } else {
          v.AssignTo(scalar_);  // one value's buffer for every string
          reader_.Add(r.key(), scalar_);
        }
    }
  }

 private:
  static std::string Found(const JsonValue& v) { return DescribeJson(v.ToJson()); }

  const std::string& file_;
  TaskReader reader_;
  json scalar_;
};

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

const char* TaskKindName(TaskKind kind) { return KindNames()[static_cast<size_t>(kind)].c_str(); }

const char* SyncScopeName(SyncScope s) {
  return s == SyncScope::kNone ? "none" : ScopeNames()[static_cast<size_t>(s) - 1].c_str();
}

const char* DramSourceName(DramSource s) {
  return s == DramSource::kNone ? "none" : DramSourceNames()[static_cast<size_t>(s) - 1].c_str();
}

const char* CopyDirName(CopyDir d) {
  return d == CopyDir::kNone ? "none" : DirNames()[static_cast<size_t>(d) - 1].c_str();
}

int32_t Trace::Intern(const std::string& s) {
  if (intern_indexed_ > strings.size()) {  // `strings` was shrunk: start over
    intern_index_.clear();
    intern_indexed_ = 0;
  }
  for (; intern_indexed_ < strings.size(); ++intern_indexed_) {
    intern_index_.emplace(strings[intern_indexed_], static_cast<int32_t>(intern_indexed_));
  }
  const auto it = intern_index_.find(s);
  if (it != intern_index_.end()) return it->second;
  COTENANT_CHECK(strings.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  const auto index = static_cast<int32_t>(strings.size());
  strings.push_back(s);
  intern_index_.emplace(s, index);
  intern_indexed_ = strings.size();
  return index;
}

const std::string& Trace::Name(const Task& t) const {
  static const std::string kNone;
  return t.name >= 0 && static_cast<size_t>(t.name) < strings.size() ? strings[t.name] : kNone;
}

const std::string& Trace::Op(const Task& t) const {
  static const std::string kNone;
  return t.op >= 0 && static_cast<size_t>(t.op) < strings.size() ? strings[t.op] : kNone;
}

Trace TraceFromJson(const json& j, const std::string& file) {
  Trace trace;
  trace.file = file;
  ReadHeader(j, file, trace);
  const json& tasks = j.at("tasks");  // ReadHeader made sure it is there
  if (!tasks.is_array()) FailAt(file, "tasks", "expected an array, found " + DescribeJson(tasks));
  trace.tasks.reserve(tasks.size());
  TaskReader reader(trace, file);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const json& t = tasks[i];
    if (!t.is_object()) FailAt(file, TaskPath(i), "expected an object, found " + DescribeJson(t));
    reader.Begin(i);
    for (auto it = t.begin(); it != t.end(); ++it) reader.Add(it.key(), it.value());
    reader.End();
  }
  CheckReferences(trace);
  return trace;
}

namespace {

/// Reads a trace from `source`; `file` names it in messages.
Trace ReadTraceSource(ByteSource& source, const std::string& file) {
  Trace trace;
  trace.file = file;
  TraceHandler handler(file, trace);
  JsonReader reader(source, file);
  reader.Read(handler);
  ReadHeader(handler.root, file, trace);
  CheckReferences(trace);
  return trace;
}

}  // namespace

Trace ParseTrace(const std::string& text, const std::string& file) {
  TextSource source(text);
  return ReadTraceSource(source, file);
}

Trace ReadTrace(const std::string& path) {
  FileSource source(path);
  return ReadTraceSource(source, path);
}

std::string TraceToJsonText(const Trace& trace) {
  std::vector<std::string> strings;  // JSON text of each interned string
  strings.reserve(trace.strings.size());
  for (const std::string& s : trace.strings) strings.push_back(JsonText(json(s)));

  std::string out;
  // About 200 bytes a task, and 64 more for DRAM figures (dram_bytes,
  // mem_bound, dram_source): a growth past the reserve would double it.
  size_t figures = 0;
  for (const Task& t : trace.tasks) figures += t.dram_bytes != kAbsent || t.mem_bound >= 0.0;
  out.reserve(64 + trace.tasks.size() * 200 + figures * 64);
  out += "{\"schema\":\"";
  out += kTraceSchema;
  out += '"';
  if (!trace.tenant.empty()) out += ",\"tenant\":" + JsonText(json(trace.tenant));
  if (!trace.device_name.empty() || !trace.device_gpu.empty()) {
    json device = json::object();
    if (!trace.device_name.empty()) device["name"] = trace.device_name;
    if (!trace.device_gpu.empty()) device["gpu"] = trace.device_gpu;
    out += ",\"device\":" + JsonText(device);
  }
  if (!trace.meta.empty()) {
    out += ",\"meta\":" + JsonText(trace.meta);
  }
  out += ",\"tasks\":[";

  const auto key = [&out](Field f) {
    out += ",\"";
    out += kFieldNames[static_cast<int>(f)];
    out += "\":";
  };
  const auto integer = [&](Field f, int64_t v) {
    key(f);
    AppendInt(out, v);
  };
  const auto word = [&](Field f, const char* w) {
    key(f);
    out += '"';
    out += w;
    out += '"';
  };
  const auto interned = [&](Field f, int32_t index) {
    COTENANT_CHECK(static_cast<size_t>(index) < strings.size());
    key(f);
    out += strings[index];
  };
  const auto shape = [&](Field f, const std::array<int32_t, 3>& s) {
    key(f);
    for (size_t d = 0; d < 3; ++d) {
      out += d == 0 ? '[' : ',';
      AppendInt(out, s[d]);
    }
    out += ']';
  };
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    out += i == 0 ? "\n{\"id\":" : ",\n{\"id\":";
    AppendInt(out, t.id);
    word(Field::kKind, TaskKindName(t.kind));
    if (t.name >= 0) interned(Field::kName, t.name);
    if (t.thread != kAbsent) integer(Field::kThread, t.thread);
    if (t.stream != kAbsent) integer(Field::kStream, t.stream);
    integer(Field::kStartNs, t.start_ns);
    integer(Field::kDurNs, t.dur_ns);
    if (t.correlation != kAbsent) integer(Field::kCorrelation, t.correlation);
    if (t.HasShape()) {
      shape(Field::kGrid, t.grid);
      shape(Field::kBlock, t.block);
    }
    if (t.HasShape() || t.regs != 32) integer(Field::kRegs, t.regs);
    if (t.HasShape() || t.smem != 0) integer(Field::kSmem, t.smem);
    if (t.op >= 0) interned(Field::kOp, t.op);
    if (t.dram_bytes != kAbsent) integer(Field::kDramBytes, t.dram_bytes);
    if (t.mem_bound >= 0.0) {
      key(Field::kMemBound);
      out += json(t.mem_bound).dump();
    }
    // "counter" is what a figure without a source means: not written, so
    // traces measured before the field existed keep their bytes.
    if ((t.dram_source == DramSource::kShape || t.dram_source == DramSource::kName) &&
        (t.dram_bytes != kAbsent || t.mem_bound >= 0.0)) {
      word(Field::kDramSource, DramSourceName(t.dram_source));
    }
    if (t.dir != CopyDir::kNone) word(Field::kDir, CopyDirName(t.dir));
    if (t.bytes != kAbsent) integer(Field::kBytes, t.bytes);
    if (t.event != kAbsent) integer(Field::kEvent, t.event);
    if (t.scope != SyncScope::kNone) word(Field::kScope, SyncScopeName(t.scope));
    if (t.priority != std::numeric_limits<int32_t>::min()) integer(Field::kPriority, t.priority);
    if (t.sm_count != -1) integer(Field::kSmCount, t.sm_count);
    if (!t.after.empty()) {
      key(Field::kAfter);
      for (size_t k = 0; k < t.after.size(); ++k) {
        out += k == 0 ? '[' : ',';
        AppendInt(out, t.after[k]);
      }
      out += ']';
    }
    out += '}';
  }
  out += "\n]}\n";
  return out;
}

void WriteTrace(const Trace& trace, const std::string& path) {
  WriteFileAtomic(path, TraceToJsonText(trace));
}

bool BlockWithinThreadLimit(const std::array<int32_t, 3>& b) {
  // In int64 and in steps: x * y fits, and x * y * z is formed only once
  // x * y <= 1024.
  const int64_t xy = int64_t{b[0]} * b[1];
  return xy <= kMaxThreadsPerBlock && xy * b[2] <= kMaxThreadsPerBlock;
}

std::string BlockThreadsText(const std::array<int32_t, 3>& b) {
  const int64_t xy = int64_t{b[0]} * b[1];
  if (b[2] > 0 && xy <= std::numeric_limits<int64_t>::max() / b[2])
    return std::to_string(xy * b[2]);
  return std::to_string(b[0]) + " x " + std::to_string(b[1]) + " x " + std::to_string(b[2]);
}

}  // namespace cotenant

namespace cotenant {

std::string TraceFileStem(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  const auto strip = [&name](const std::string& ext) {
    if (name.size() <= ext.size() || !EndsWith(name, ext)) return false;
    name.resize(name.size() - ext.size());
    return true;
  };
  strip(".gz");
  strip(".json");
  if (strip(".pt.trace")) {
    // <worker>.<ms since the epoch>: drop the timestamp (10 digits or more).
    const size_t dot = name.rfind('.');
    if (dot != std::string::npos && dot > 0 && name.size() - dot - 1 >= 10 &&
        name.find_first_not_of("0123456789", dot + 1) == std::string::npos) {
      name.resize(dot);
    }
  } else {
    strip(".trace");
  }
  return name;
}

}  // namespace cotenant
