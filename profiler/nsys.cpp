// The Nsight Systems SQLite importer (profiler/nsys.h). One read-only
// connection; each table is probed with PRAGMA table_info, then read once
// by a prepared statement whose column list names only what exists (absent
// optional columns read as NULL). The device is chosen first (one GROUP BY
// per GPU table), then GPU rows of that device create the processes, and
// API, sync and NVTX rows join the process their globalPid/globalTid names.
#include "profiler/nsys.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/gpu_spec.h"

namespace cotenant::profiler {
namespace {

const char kUnknownSchema[] =
    "unknown Nsight Systems schema; expected a report exported with `nsys export --type sqlite`";

const char kKernel[] = "CUPTI_ACTIVITY_KIND_KERNEL";
const char kMemcpy[] = "CUPTI_ACTIVITY_KIND_MEMCPY";
const char kMemset[] = "CUPTI_ACTIVITY_KIND_MEMSET";
const char kRuntime[] = "CUPTI_ACTIVITY_KIND_RUNTIME";
const char kDriver[] = "CUPTI_ACTIVITY_KIND_DRIVER";
const char kSync[] = "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION";
const char kCudaEvent[] = "CUPTI_ACTIVITY_KIND_CUDA_EVENT";
const char kNvtx[] = "NVTX_EVENTS";

// NVTX_EVENTS.eventType (ENUM_NSYS_EVENT_TYPE): the two kinds of ranges a
// program emits. Marks (34), domains (75/76), categories (33) and thread
// names (39) label no work.
constexpr int64_t kNvtxPushPopRange = 59;
constexpr int64_t kNvtxStartEndRange = 60;

/// The read-only connection; every failure names the file.
class Db {
 public:
  explicit Db(const std::string& path) : path_(path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      throw InputError(path + ": cannot open: " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) throw InputError(path + ": cannot open: is a directory");
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      throw InputError(path + ": cannot open: " + why);
    }
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw InputError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

/// A prepared statement, stepped row by row.
class Stmt {
 public:
  Stmt(const Db& db, const std::string& sql, const std::string& what) : db_(db), what_(what) {
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      db.Fail(what + ": cannot read");
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  /// True for a row; false at the end; throws on a read error (a truncated
  /// or corrupt file).
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.Fail(what_ + ": cannot read");
  }
  int Type(int i) const { return sqlite3_column_type(stmt_, i); }
  bool Null(int i) const { return Type(i) == SQLITE_NULL; }
  /// The column as an integer; kAbsent when NULL.
  int64_t Int(int i) const { return Null(i) ? kAbsent : sqlite3_column_int64(stmt_, i); }
  std::string Text(int i) const {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }

 private:
  const Db& db_;
  std::string what_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// The columns of one table, and the SELECT list built from them.
class Table {
 public:
  Table(const Db& db, const std::string& name, NsysReport* report)
      : db_(db), name_(name), report_(report) {
    Stmt s(db, "PRAGMA table_info(\"" + name + "\")", name);
    while (s.Step()) columns_.insert(s.Text(1));
  }
  bool Has(const std::string& column) const { return columns_.count(column) > 0; }
  /// Adds a column the importer cannot do without; returns its index.
  int Require(const std::string& column) {
    if (!Has(column)) {
      throw InputError(db_.path() + ": " + name_ + "." + column + ": missing column (" +
                       kUnknownSchema + ")");
    }
    return Add("\"" + column + "\"");
  }
  /// Adds a column that older schemas lack (NULL there); returns its index.
  int Optional(const std::string& column) {
    if (Has(column)) return Add("\"" + column + "\"");
    report_->missing_optional.push_back(name_ + "." + column);
    return Add("NULL");
  }
  /// The first of `columns` the table has (required: one of them).
  int RequireOneOf(const std::vector<std::string>& columns) {
    for (const std::string& c : columns) {
      if (Has(c)) return Add("\"" + c + "\"");
    }
    return Require(columns.front());
  }
  std::string Select(const std::string& where = "") const {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < select_.size(); ++i) sql += (i ? ", " : "") + select_[i];
    return sql + " FROM \"" + name_ + "\"" + (where.empty() ? "" : " WHERE " + where);
  }
  const std::string& name() const { return name_; }

 private:
  int Add(const std::string& expr) {
    select_.push_back(expr);
    return static_cast<int>(select_.size()) - 1;
  }
  const Db& db_;
  std::string name_;
  NsysReport* report_;
  std::set<std::string> columns_;
  std::vector<std::string> select_;
};

/// The message for a file SQLite cannot read as a database.
[[noreturn]] void NotReadable(const Db& db) {
  const std::string why = sqlite3_errmsg(db.get());
  if (sqlite3_errcode(db.get()) == SQLITE_NOTADB) {
    throw InputError(db.path() + ": not an Nsight Systems SQLite export (" + why +
                     "; export the report with `nsys export --type sqlite`)");
  }
  throw InputError(db.path() + ": cannot read: " + why + " (a truncated or damaged file?)");
}

std::set<std::string> TableNames(const Db& db) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &raw,
                         nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    NotReadable(db);
  }
  std::set<std::string> names;
  int rc = 0;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(raw, 0);
    if (t != nullptr) names.insert(reinterpret_cast<const char*>(t));
  }
  sqlite3_finalize(raw);
  if (rc != SQLITE_DONE) NotReadable(db);
  return names;
}

/// A value as messages show it: 12, "text", 1.5, NULL, a blob.
std::string Found(const Stmt& s, int i) {
  switch (s.Type(i)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_INTEGER:
      return std::to_string(s.Int(i));
    case SQLITE_FLOAT:
      return s.Text(i);
    case SQLITE_TEXT: {
      const std::string t = s.Text(i);
      return "\"" + (t.size() > 40 ? t.substr(0, 40) + "..." : t) + "\"";
    }
    default:
      return "a blob";
  }
}

/// Times further from 0 than this (146 years of ns) are refused, so that
/// differences between them cannot overflow.
constexpr int64_t kMaxTimeNs = int64_t{1} << 62;

/// A required integer of a row within [lo, hi]; anything else (NULL, text,
/// a real, out of range) is an error naming the field.
int64_t NotNull(const Stmt& s, int i, const Db& db, const Table& t, const char* column,
                int64_t lo = std::numeric_limits<int64_t>::min(),
                int64_t hi = std::numeric_limits<int64_t>::max()) {
  if (s.Type(i) != SQLITE_INTEGER || s.Int(i) < lo || s.Int(i) > hi) {
    std::string range = "an integer";
    if (lo == 0 && hi == std::numeric_limits<int64_t>::max()) {
      range = "a non-negative integer";
    } else if (lo != std::numeric_limits<int64_t>::min() ||
               hi != std::numeric_limits<int64_t>::max()) {
      range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    }
    throw InputError(db.path() + ": " + t.name() + "." + column + ": expected " + range +
                     ", found " + Found(s, i));
  }
  return s.Int(i);
}

/// An optional integer within [lo, hi]: `if_null` when NULL.
int64_t OrNull(const Stmt& s, int i, const Db& db, const Table& t, const char* column, int64_t lo,
               int64_t hi, int64_t if_null) {
  return s.Null(i) ? if_null : NotNull(s, i, db, t, column, lo, hi);
}

/// A correlation id: NULL or negative = none.
int64_t Correlation(const Stmt& s, int i, const Db& db, const Table& t) {
  const int64_t c = OrNull(s, i, db, t, "correlationId", std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max(), kAbsent);
  return c < 0 ? kAbsent : c;
}

/// CUPTI writes 0xFFFFFFFF (some exports: -1) for "no stream / no event".
int64_t SyncId(int64_t v) { return v == 0xFFFFFFFFLL || v < 0 ? kAbsent : v; }

/// CUpti_ActivityMemcpyKind -> direction and the name the nsys UI shows.
std::pair<CopyDir, const char*> CopyKind(int64_t kind) {
  switch (kind) {
    case 1:
      return {CopyDir::kH2D, "Memcpy HtoD"};
    case 2:
      return {CopyDir::kD2H, "Memcpy DtoH"};
    case 3:
      return {CopyDir::kH2D, "Memcpy HtoA"};
    case 4:
      return {CopyDir::kD2H, "Memcpy AtoH"};
    case 5:
      return {CopyDir::kD2D, "Memcpy AtoA"};
    case 6:
      return {CopyDir::kD2D, "Memcpy AtoD"};
    case 7:
      return {CopyDir::kD2D, "Memcpy DtoA"};
    case 8:
      return {CopyDir::kD2D, "Memcpy DtoD"};
    case 9:
      return {CopyDir::kH2H, "Memcpy HtoH"};
    case 10:
      return {CopyDir::kP2P, "Memcpy PtoP"};
    default:
      return {CopyDir::kNone, "Memcpy"};
  }
}

/// One table's read, set up (columns checked) before any table is read.
using Pass = std::function<void()>;

/// The reader's state: strings, the chosen device, the processes.
class Reader {
 public:
  Reader(const std::string& path, const NsysSelect& select, NsysReport* report)
      : db_(path), select_(select), r_(*report) {}

  std::vector<NsysProcess> Read() {
    tables_ = TableNames(db_);
    for (const char* t : {kKernel, kMemcpy, kMemset}) {
      if (tables_.count(t) > 0) gpu_tables_.push_back(t);
    }
    if (gpu_tables_.empty()) {
      throw InputError(
          db_.path() +
          ": no CUDA GPU activity in the report (no CUPTI_ACTIVITY_KIND_KERNEL, "
          "_MEMCPY or _MEMSET table; was it captured with `nsys profile --trace=cuda`?)");
    }
    // Every table's columns are checked before anything is read.
    std::vector<Pass> gpu, host;
    for (const std::string& t : gpu_tables_) gpu.push_back(ReadGpu(t));
    if (tables_.count(kRuntime) > 0) host.push_back(ReadApi(kRuntime, false));
    if (tables_.count(kDriver) > 0) host.push_back(ReadApi(kDriver, true));
    if (tables_.count(kSync) > 0) host.push_back(ReadSyncs());
    if (tables_.count(kCudaEvent) > 0) host.push_back(ReadEventRecords());
    if (tables_.count(kNvtx) > 0) host.push_back(ReadNvtx());
    ReadStrings();
    ChooseDevice();
    for (const Pass& read : gpu) read();
    if (processes_.empty()) {
      throw InputError(db_.path() + ": --pid " + std::to_string(select_.pid) +
                       ": no GPU work of that process on device " + std::to_string(r_.device) +
                       " (processes: " + PidList() + ")");
    }
    for (const Pass& read : host) read();
    std::vector<NsysProcess> out;
    for (auto& [pid, capture] : processes_) {
      NsysProcess p;
      p.pid = pid;
      p.capture = std::move(capture);
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  const std::string& Str(int64_t id) const {
    static const std::string kEmpty;
    const auto it = strings_.find(id);
    return it == strings_.end() ? kEmpty : it->second;
  }

  /// A runtime call's name without the version suffix nsys keeps
  /// ("cudaLaunchKernel_v7000" -> "cudaLaunchKernel"), as the CUPTI profiler
  /// names them; driver names keep theirs ("cuMemcpyHtoD_v2" is the function's).
  const std::string& RuntimeName(int64_t id) {
    const auto it = runtime_names_.find(id);
    if (it != runtime_names_.end()) return it->second;
    std::string name = Str(id);
    const size_t u = name.rfind("_v");
    if (u != std::string::npos && name.size() - (u + 2) >= 4 &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(u) + 2, name.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      name.resize(u);
    }
    return runtime_names_.emplace(id, std::move(name)).first->second;
  }

  void ReadStrings() {
    if (tables_.count("StringIds") == 0) {
      throw InputError(db_.path() + ": StringIds: missing table (" + kUnknownSchema + ")");
    }
    Table t(db_, "StringIds", &r_);
    const int id = t.Require("id"), value = t.Require("value");
    Stmt s(db_, t.Select(), "StringIds");
    while (s.Step()) strings_.emplace(s.Int(id), s.Text(value));
  }

  std::map<int64_t, std::string> DeviceNames() {
    std::map<int64_t, std::string> gpu_name;  // TARGET_INFO_GPU.id -> name
    if (tables_.count("TARGET_INFO_GPU") > 0) {
      Table t(db_, "TARGET_INFO_GPU", &r_);
      if (t.Has("id") && t.Has("name")) {
        const int id = t.Require("id"), name = t.Require("name");
        Stmt s(db_, t.Select(), "TARGET_INFO_GPU");
        while (s.Step()) gpu_name.emplace(s.Int(id), s.Text(name));
      }
    }
    // TARGET_INFO_CUDA_DEVICE maps the CUDA ordinal (CUPTI deviceId) to the
    // GPU's row; without it the two are taken to be the same number.
    std::map<int64_t, std::string> names;
    if (tables_.count("TARGET_INFO_CUDA_DEVICE") > 0) {
      Table t(db_, "TARGET_INFO_CUDA_DEVICE", &r_);
      if (t.Has("cudaId") && t.Has("gpuId")) {
        const int cuda = t.Require("cudaId"), gpu = t.Require("gpuId");
        Stmt s(db_, t.Select(), "TARGET_INFO_CUDA_DEVICE");
        while (s.Step()) {
          const auto it = gpu_name.find(s.Int(gpu));
          if (it != gpu_name.end()) names.emplace(s.Int(cuda), it->second);
        }
      }
    }
    for (const auto& [id, name] : gpu_name) names.emplace(id, name);
    return names;
  }

  static std::string DeviceLine(const NsysDevice& d) {
    return std::to_string(d.id) + (d.name.empty() ? "" : " \"" + d.name + "\"") + ": " +
           std::to_string(d.kernels) + " kernels, " + std::to_string(d.memcpys) + " memcpys, " +
           std::to_string(d.memsets) + " memsets";
  }

  /// Counts the GPU rows of each device and process, picks the device and
  /// creates the processes with GPU work on it, their vectors reserved.
  void ChooseDevice() {
    std::map<int64_t, NsysDevice> devices;
    std::map<int64_t, std::map<int64_t, int64_t>> rows;  // device -> pid -> GPU rows
    for (const std::string& name : gpu_tables_) {
      Table t(db_, name, &r_);
      t.Require("deviceId");
      t.Require("globalPid");
      Stmt s(db_,
             "SELECT \"deviceId\", \"globalPid\", COUNT(*) FROM \"" + name + "\" GROUP BY 1, 2",
             name);
      while (s.Step()) {
        if (s.Type(0) != SQLITE_INTEGER) {
          throw InputError(db_.path() + ": " + name + ".deviceId: expected an integer, found " +
                           Found(s, 0));
        }
        NsysDevice& d = devices[s.Int(0)];
        d.id = s.Int(0);
        (name == kKernel ? d.kernels : name == kMemcpy ? d.memcpys : d.memsets) += s.Int(2);
        rows[s.Int(0)][NsysPid(s.Int(1))] += s.Int(2);
      }
    }
    const std::map<int64_t, std::string> names = DeviceNames();
    std::string list;
    for (auto& [id, d] : devices) {
      const auto it = names.find(id);
      if (it != names.end()) d.name = it->second;
      r_.devices.push_back(d);
      list += (list.empty() ? "" : "; ") + DeviceLine(d);
    }
    if (devices.empty()) {
      throw InputError(db_.path() + ": no kernels, memcpys or memsets in the report");
    }
    if (select_.device != kAbsent) {
      if (devices.count(select_.device) == 0) {
        throw InputError(db_.path() + ": --device " + std::to_string(select_.device) +
                         ": no GPU work on that device (devices: " + list + ")");
      }
      r_.device = select_.device;
    } else if (devices.size() > 1) {
      throw InputError(db_.path() + ": the report has " + std::to_string(devices.size()) +
                       " devices; pick one with --device N (" + list + ")");
    } else {
      r_.device = devices.begin()->first;
    }
    const auto it = names.find(r_.device);
    device_name_ = it == names.end() ? "" : it->second;
    for (const auto& [pid, n] : rows[r_.device]) {
      r_.pids.push_back(pid);
      if (select_.pid != kAbsent && pid != select_.pid) continue;
      Capture& c = processes_[pid];
      c.source = "nsys";
      c.pid = pid;
      c.device_name = device_name_;
      c.gpu.reserve(static_cast<size_t>(n));
    }
  }

  /// Reserves room in each kept process's `member` for its rows of `table`
  /// (one GROUP BY on the pid in globalTid), so vectors do not grow by doubling.
  template <typename T>
  void Reserve(const std::string& table, std::vector<T> Capture::*member,
               const std::string& where = "") {
    Stmt s(db_,
           "SELECT (\"globalTid\" >> 24) & 16777215, COUNT(*) FROM \"" + table + "\"" +
               (where.empty() ? "" : " WHERE " + where) + " GROUP BY 1",
           table);
    while (s.Step()) {
      const auto it = processes_.find(s.Int(0));
      if (it == processes_.end()) continue;
      std::vector<T>& v = it->second.*member;
      v.reserve(v.size() + static_cast<size_t>(s.Int(1)));
    }
  }

  std::string PidList() const {
    std::string s;
    for (int64_t p : r_.pids) s += (s.empty() ? "" : ", ") + std::to_string(p);
    return s;
  }

  /// The capture of the process of a row being read, if that process is
  /// kept; null otherwise (the row counted in other_process).
  Capture* Process(int64_t pid) {
    if (pid != last_pid_) {
      const auto it = processes_.find(pid);
      last_pid_ = pid;
      last_ = it == processes_.end() ? nullptr : &it->second;
    }
    if (last_ == nullptr) ++r_.other_process;
    return last_;
  }

  Pass ReadGpu(const std::string& name) {
    auto tp = std::make_shared<Table>(db_, name, &r_);
    Table& t = *tp;
    const int start = t.Require("start"), end = t.Require("end");
    const int stream = t.Require("streamId"), corr = t.Require("correlationId");
    const int gpid = t.Require("globalPid");
    const bool kernel = name == kKernel, memcpy = name == kMemcpy;
    int kname = -1, gx = -1, gy = -1, gz = -1, bx = -1, by = -1, bz = -1, regs = -1, ssm = -1,
        dsm = -1, bytes = -1, kind = -1;
    if (kernel) {
      kname = t.RequireOneOf({"demangledName", "shortName", "mangledName"});
      gx = t.Optional("gridX"), gy = t.Optional("gridY"), gz = t.Optional("gridZ");
      bx = t.Optional("blockX"), by = t.Optional("blockY"), bz = t.Optional("blockZ");
      regs = t.Optional("registersPerThread");
      ssm = t.Optional("staticSharedMemory"), dsm = t.Optional("dynamicSharedMemory");
    } else {
      bytes = t.Require("bytes");
      if (memcpy) kind = t.Require("copyKind");
    }
    return [=]() {
      Table& t = *tp;
      Stmt s(db_, t.Select("\"deviceId\" = ?1"), name);
      s.Bind(1, r_.device);
      last_pid_ = kAbsent - 1;
      int64_t unknown_kind = 0;
      while (s.Step()) {
        Capture* c = Process(NsysPid(NotNull(s, gpid, db_, t, "globalPid")));
        if (c == nullptr) continue;
        GpuActivity g;
        g.device = r_.device;
        g.stream = NotNull(s, stream, db_, t, "streamId", 0, std::numeric_limits<int64_t>::max());
        g.start_ns = NotNull(s, start, db_, t, "start", -kMaxTimeNs, kMaxTimeNs);
        g.end_ns = std::max(NotNull(s, end, db_, t, "end", -kMaxTimeNs, kMaxTimeNs), g.start_ns);
        g.correlation = Correlation(s, corr, db_, t);
        if (kernel) {
          g.kind = TaskKind::kKernel;
          g.name = Str(s.Int(kname));
          // Shapes as CUDA stores them (int32); a non-positive one is
          // dropped by the builder. Shared memory per block: at most 1 GiB
          // each (no GPU has 1 MiB), so the sum fits.
          auto i32 = [&](int i, const char* column, int64_t lo) {
            return static_cast<int32_t>(
                OrNull(s, i, db_, t, column, lo, std::numeric_limits<int32_t>::max(), 0));
          };
          constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
          g.grid = {i32(gx, "gridX", kI32Min), i32(gy, "gridY", kI32Min),
                    i32(gz, "gridZ", kI32Min)};
          g.block = {i32(bx, "blockX", kI32Min), i32(by, "blockY", kI32Min),
                     i32(bz, "blockZ", kI32Min)};
          g.regs = i32(regs, "registersPerThread", 0);
          g.smem = static_cast<int32_t>(
              OrNull(s, ssm, db_, t, "staticSharedMemory", 0, int64_t{1} << 30, 0) +
              OrNull(s, dsm, db_, t, "dynamicSharedMemory", 0, int64_t{1} << 30, 0));
          ++r_.kernels;
        } else if (memcpy) {
          g.kind = TaskKind::kMemcpy;
          const auto [dir, label] = CopyKind(NotNull(s, kind, db_, t, "copyKind"));
          g.dir = dir;
          g.name = label;
          if (dir == CopyDir::kNone) {
            g.dir = CopyDir::kD2D;
            ++unknown_kind;
          }
          g.bytes = NotNull(s, bytes, db_, t, "bytes", 0, std::numeric_limits<int64_t>::max());
          ++r_.memcpys;
        } else {
          g.kind = TaskKind::kMemset;
          g.name = "Memset";
          g.bytes = NotNull(s, bytes, db_, t, "bytes", 0, std::numeric_limits<int64_t>::max());
          ++r_.memsets;
        }
        c->gpu.push_back(std::move(g));
      }
      if (unknown_kind > 0) {
        r_.problems.push_back(std::to_string(unknown_kind) +
                              " memcpys of unknown copyKind taken as device to device");
      }
      r_.other_device += Count(name, "\"deviceId\" <> " + std::to_string(r_.device));
    };
  }

  int64_t Count(const std::string& table, const std::string& where) {
    Stmt s(db_, "SELECT COUNT(*) FROM \"" + table + "\" WHERE " + where, table);
    return s.Step() ? s.Int(0) : 0;
  }

  Pass ReadApi(const std::string& name, bool driver) {
    auto tp = std::make_shared<Table>(db_, name, &r_);
    Table& t = *tp;
    const int start = t.Require("start"), end = t.Require("end"), gtid = t.Require("globalTid");
    const int corr = t.Require("correlationId"), name_id = t.Require("nameId");
    return [=]() {
      Table& t = *tp;
      Reserve(name, &Capture::api);
      Stmt s(db_, t.Select(), name);
      last_pid_ = kAbsent - 1;
      while (s.Step()) {
        const int64_t global = NotNull(s, gtid, db_, t, "globalTid");
        Capture* c = Process(NsysPid(global));
        if (c == nullptr) continue;
        ApiCall a;
        a.name = driver ? Str(s.Int(name_id)) : RuntimeName(s.Int(name_id));
        a.driver = driver;
        a.thread = NsysTid(global);
        a.start_ns = NotNull(s, start, db_, t, "start", -kMaxTimeNs, kMaxTimeNs);
        a.end_ns = std::max(NotNull(s, end, db_, t, "end", -kMaxTimeNs, kMaxTimeNs), a.start_ns);
        a.correlation = Correlation(s, corr, db_, t);
        c->api.push_back(std::move(a));
        ++(driver ? r_.driver_calls : r_.runtime_calls);
      }
    };
  }

  Pass ReadSyncs() {
    auto tp = std::make_shared<Table>(db_, kSync, &r_);
    Table& t = *tp;
    const int start = t.Require("start"), end = t.Require("end"), stream = t.Require("streamId");
    const int corr = t.Require("correlationId"), type = t.Require("syncType");
    const int event = t.Require("eventId"), gpid = t.Require("globalPid");
    const int dev = t.Require("deviceId");
    return [=]() {
      Table& t = *tp;
      Stmt s(db_, t.Select(), kSync);
      last_pid_ = kAbsent - 1;
      while (s.Step()) {
        if (s.Int(dev) != r_.device) {
          ++r_.other_device;
          continue;
        }
        Capture* c = Process(NsysPid(NotNull(s, gpid, db_, t, "globalPid")));
        if (c == nullptr) continue;
        GpuSync g;
        // CUpti_ActivitySynchronizationType (ENUM_CUPTI_SYNC_TYPE).
        switch (NotNull(s, type, db_, t, "syncType")) {
          case 1:
            g.type = SyncType::kEventSync;
            break;
          case 2:
            g.type = SyncType::kStreamWaitEvent;
            break;
          case 3:
            g.type = SyncType::kStreamSync;
            break;
          case 4:
            g.type = SyncType::kDeviceSync;
            break;
          default:
            ++r_.unused_rows;
            continue;
        }
        g.correlation = Correlation(s, corr, db_, t);
        g.stream = SyncId(NotNull(s, stream, db_, t, "streamId"));
        g.event = SyncId(NotNull(s, event, db_, t, "eventId"));
        g.start_ns = NotNull(s, start, db_, t, "start", -kMaxTimeNs, kMaxTimeNs);
        g.end_ns = std::max(NotNull(s, end, db_, t, "end", -kMaxTimeNs, kMaxTimeNs), g.start_ns);
        c->syncs.push_back(g);
        ++r_.syncs;
      }
    };
  }

  Pass ReadEventRecords() {
    auto tp = std::make_shared<Table>(db_, kCudaEvent, &r_);
    Table& t = *tp;
    const int stream = t.Require("streamId"), corr = t.Require("correlationId");
    const int event = t.Require("eventId"), gpid = t.Require("globalPid");
    const int dev = t.Require("deviceId");
    return [=]() {
      Table& t = *tp;
      Stmt s(db_, t.Select(), kCudaEvent);
      last_pid_ = kAbsent - 1;
      while (s.Step()) {
        if (s.Int(dev) != r_.device) {
          ++r_.other_device;
          continue;
        }
        Capture* c = Process(NsysPid(NotNull(s, gpid, db_, t, "globalPid")));
        if (c == nullptr) continue;
        // The record carries no time of its own: the builder takes the API call's.
        GpuSync g;
        g.type = SyncType::kEventRecord;
        g.correlation = Correlation(s, corr, db_, t);
        g.stream = SyncId(NotNull(s, stream, db_, t, "streamId"));
        g.event = SyncId(NotNull(s, event, db_, t, "eventId"));
        c->syncs.push_back(g);
        ++r_.event_records;
      }
    };
  }

  Pass ReadNvtx() {
    auto tp = std::make_shared<Table>(db_, kNvtx, &r_);
    Table& t = *tp;
    const int start = t.Require("start"), end = t.Require("end"), gtid = t.Require("globalTid");
    const int type = t.Optional("eventType");
    const bool has_text = t.Has("text"), has_id = t.Has("textId");
    if (!has_text && !has_id) t.Require("text");
    const int text = has_text ? t.Require("text") : -1;
    const int text_id = has_id ? t.Require("textId") : -1;
    return [=]() {
      Table& t = *tp;
      Reserve(kNvtx, &Capture::ranges,
              t.Has("eventType") ? "\"eventType\" IN (59, 60) AND \"end\" IS NOT NULL" : "");
      Stmt s(db_, t.Select(), kNvtx);
      last_pid_ = kAbsent - 1;
      while (s.Step()) {
        const int64_t kind = s.Int(type);
        // Marks, domains, categories and ranges without an end or a thread
        // label no launch.
        if (s.Null(end) || s.Null(start) || s.Null(gtid) ||
            (!s.Null(type) && kind != kNvtxPushPopRange && kind != kNvtxStartEndRange)) {
          ++r_.unused_rows;
          continue;
        }
        const int64_t global = s.Int(gtid);
        Capture* c = Process(NsysPid(global));
        if (c == nullptr) continue;
        Range range;
        if (text >= 0 && !s.Null(text)) {
          range.name = s.Text(text);
        } else if (text_id >= 0 && !s.Null(text_id)) {
          range.name = Str(s.Int(text_id));
        }
        range.thread = NsysTid(global);
        range.start_ns = NotNull(s, start, db_, t, "start", -kMaxTimeNs, kMaxTimeNs);
        range.end_ns =
            std::max(NotNull(s, end, db_, t, "end", -kMaxTimeNs, kMaxTimeNs), range.start_ns);
        c->ranges.push_back(std::move(range));
        ++r_.nvtx_ranges;
      }
    };
  }

  Db db_;
  NsysSelect select_;
  NsysReport& r_;
  std::set<std::string> tables_;
  std::vector<std::string> gpu_tables_;
  std::unordered_map<int64_t, std::string> strings_;
  std::unordered_map<int64_t, std::string> runtime_names_;  // nameId -> trimmed name
  std::string device_name_;
  std::map<int64_t, Capture> processes_;
  int64_t last_pid_ = kAbsent - 1;
  Capture* last_ = nullptr;
};

}  // namespace

int64_t NsysPid(int64_t global_id) { return (global_id >> 24) & 0xFFFFFF; }
int64_t NsysTid(int64_t global_id) { return global_id & 0xFFFFFF; }

std::string NsysFileStem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (const char* ext : {".sqlite", ".db"}) {
    const size_t n = std::strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) {
      name.resize(name.size() - n);
      break;
    }
  }
  return name;
}

std::vector<NsysProcess> ReadNsysReport(const std::string& path, const NsysSelect& select,
                                        NsysReport* report) {
  NsysReport local;
  NsysReport& r = report != nullptr ? *report : local;
  r = NsysReport{};
  Reader reader(path, select, &r);
  return reader.Read();
}

std::vector<NsysTrace> ImportNsys(const std::string& path, const NsysImportOptions& options,
                                  NsysReport* report) {
  NsysReport local;
  NsysReport& r = report != nullptr ? *report : local;
  BuildOptions build;
  if (!options.window.empty()) build.window = ParseWindow(options.window, "--window");
  std::vector<NsysProcess> processes = ReadNsysReport(path, options.select, &r);
  const std::string base = options.tenant.empty() ? NsysFileStem(path) : options.tenant;
  const bool several = processes.size() > 1;
  std::vector<NsysTrace> out;
  for (NsysProcess& p : processes) {
    NsysTrace t;
    t.pid = p.pid;
    build.tenant = several ? base + ".pid" + std::to_string(p.pid) : base;
    try {
      t.trace = BuildTrace(p.capture, build, &t.build);
    } catch (const InputError& e) {  // a window that selects nothing: name the file and process
      throw InputError(path + ": pid " + std::to_string(p.pid) + ": " + e.what());
    }
    if (!options.gpu.empty()) {
      t.trace.device_gpu = options.gpu;
    } else if (!t.trace.device_name.empty()) {
      if (std::optional<std::string> key = SpecKeyForDevice(t.trace.device_name)) {
        t.trace.device_gpu = *key;
      }
    }
    t.memory =
        EstimateImportedMemory(t.trace, options.gpu, p.capture.ranges, t.build.kernel_ranges);
    nlohmann::json m = nlohmann::json::object();
    const size_t slash = path.find_last_of('/');
    m["file"] = slash == std::string::npos ? path : path.substr(slash + 1);
    m["device"] = r.device;
    m["pid"] = p.pid;
    if (!r.missing_optional.empty()) m["missing_columns"] = r.missing_optional;
    t.trace.meta["nsys"] = std::move(m);
    p.capture = Capture{};  // free the records before the next process is built
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace cotenant::profiler
