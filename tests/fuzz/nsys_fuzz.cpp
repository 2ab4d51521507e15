// libFuzzer target: the Nsight Systems SQLite importer, through
// ImportNsys(path, ...) as `cotenant import nsys` calls it. The fuzzed
// bytes are an SQL script (the seeds in tests/fuzz/corpus/nsys/ are text,
// so no binary report is kept in git), run into a fresh SQLite file with
// only CREATE TABLE / INSERT / SELECT / UPDATE / DELETE allowed (an
// authorizer refuses ATTACH, PRAGMA, VACUUM INTO and the rest; a progress
// handler stops runaway queries), then imported. A script that does not run
// is not a finding. Checks: the importer returns traces or throws an
// InputError naming the file; each trace reads back as written. When the
// report is refused for having several devices, the first one is picked.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "profiler/nsys.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;

namespace {

int Authorize(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_CREATE_TABLE:
    case SQLITE_INSERT:
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_FUNCTION:
    case SQLITE_TRANSACTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    default:
      return SQLITE_DENY;
  }
}

int Progress(void* steps) { return ++*static_cast<int*>(steps) > 2000; }

/// Runs `sql` into a new SQLite file at `path`; false when it cannot be opened.
bool BuildReport(const std::string& path, const std::string& sql) {
  std::remove(path.c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_set_authorizer(db, Authorize, nullptr);
  int steps = 0;
  sqlite3_progress_handler(db, 1000, Progress, &steps);
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);  // errors: keep what ran
  sqlite3_close(db);
  return true;
}

void CheckImported(const Trace& trace) {
  std::string first;
  fuzz::MustWork("import nsys", [&] { first = TraceToJsonText(trace); });
  Trace again;
  try {
    again = ParseTrace(first, "imported.json");
  } catch (const InputError& e) {
    fuzz::Finding(std::string("the trace reader rejects the imported trace: ") + e.what());
  }
  fuzz::MustWork("import nsys",
                 [&] { fuzz::SameText("import nsys", first, TraceToJsonText(again)); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string sql(reinterpret_cast<const char*>(data), size);
  if (sql.find('\0') != std::string::npos) return 0;
  const std::string path = fuzz::ScratchDir() + "/report.sqlite";
  if (!BuildReport(path, sql)) return 0;
  profiler::NsysImportOptions options;
  options.tenant = "fuzz";
  profiler::NsysReport report;
  std::vector<profiler::NsysTrace> traces;
  if (!fuzz::Reads(path, [&] { traces = profiler::ImportNsys(path, options, &report); })) {
    if (report.devices.size() < 2) return 0;
    options.select.device = report.devices.front().id;
    if (!fuzz::Reads(path, [&] { traces = profiler::ImportNsys(path, options, &report); })) {
      return 0;
    }
  }
  for (const profiler::NsysTrace& t : traces) CheckImported(t.trace);
  return 0;
}
