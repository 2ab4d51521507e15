// The Nsight Systems importer: reads the SQLite export of an nsys report
// (`nsys export --type sqlite REPORT.nsys-rep`) into one profiler::Capture
// per profiled process, which BuildTrace() turns into `cotenant.trace/1`
// traces. Rows are streamed through prepared statements on a read-only
// connection; only StringIds (names) and the device table are held whole.
//
// Tables read (all optional but one GPU activity table; columns found by
// name with PRAGMA table_info, so exports that add or reorder columns, or
// lack optional ones, read the same):
// CUPTI_ACTIVITY_KIND_KERNEL, _MEMCPY, _MEMSET (GPU work), _RUNTIME and
// _DRIVER (API calls), _SYNCHRONIZATION and _CUDA_EVENT (syncs and event
// records), NVTX_EVENTS (push/pop and start/end ranges: operator labels),
// StringIds, TARGET_INFO_GPU and TARGET_INFO_CUDA_DEVICE (device names).
// The mapping is documented in docs/formats.md ("Nsight Systems SQLite").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/kernel_memory.h"
#include "sim/trace.h"

namespace cotenant::profiler {

/// One GPU that ran work in the report.
struct NsysDevice {
  int64_t id = 0;    ///< CUPTI deviceId (the CUDA device ordinal)
  std::string name;  ///< from TARGET_INFO_GPU; "" when the report has none
  int64_t kernels = 0, memcpys = 0, memsets = 0;
};

/// What the importer read, kept and skipped, for the CLI summary and meta.
struct NsysReport {
  std::vector<NsysDevice> devices;                ///< every device with GPU work, by id
  int64_t device = kAbsent;                       ///< the device kept
  std::vector<int64_t> pids;                      ///< processes with GPU work on it, ascending
  int64_t kernels = 0, memcpys = 0, memsets = 0;  ///< rows kept (chosen device and process)
  int64_t runtime_calls = 0, driver_calls = 0;    ///< rows kept
  int64_t syncs = 0, event_records = 0, nvtx_ranges = 0;
  int64_t other_device = 0;   ///< GPU, sync and event rows of other devices, dropped
  int64_t other_process = 0;  ///< rows of processes not kept (no GPU work there, or --pid)
  int64_t unused_rows = 0;    ///< rows the importer cannot use (NVTX marks, unknown sync types)
  /// Optional columns the report lacks, as "TABLE.column" (older schemas).
  std::vector<std::string> missing_optional;
  std::vector<std::string> problems;  ///< one line each; not fatal
};

/// Which part of the report to read.
struct NsysSelect {
  int64_t device = kAbsent;  ///< deviceId to keep; kAbsent = the only one (refused when several)
  int64_t pid = kAbsent;     ///< process to keep; kAbsent = all
};

/// One process of the report.
struct NsysProcess {
  int64_t pid = 0;
  Capture capture;  ///< source "nsys"; device_name set; thread = OS thread id
};

/// Reads the report at `path`. Throws InputError, one line naming the file:
/// a missing or unreadable file, one that is not SQLite, a report with no
/// CUDA GPU activity table, a required column missing (`FILE: TABLE.column:
/// missing column (unknown Nsight Systems schema; ...)`), several devices
/// without `select.device` (listing them with names and kernel counts), a
/// device or pid with no GPU work. Processes come in ascending pid order.
/// `report` may be null.
std::vector<NsysProcess> ReadNsysReport(const std::string& path, const NsysSelect& select,
                                        NsysReport* report);

/// pid and tid packed in an nsys globalTid / globalPid:
/// pid = (global >> 24) & 0xFFFFFF, tid = global & 0xFFFFFF.
int64_t NsysPid(int64_t global_id);
int64_t NsysTid(int64_t global_id);

/// Options of ImportNsys (the flags of `cotenant import nsys`).
struct NsysImportOptions {
  std::string tenant;  ///< the tenant name; "" = NsysFileStem() of the input
  std::string window;  ///< a ParseWindow() spec; "" = all
  std::string gpu;     ///< GPU spec key for `device.gpu`; "" = from the device's name
  NsysSelect select;
};

/// One trace per process.
struct NsysTrace {
  int64_t pid = 0;
  Trace trace;  ///< tenant: the tenant name, plus ".pid<PID>" when the report has several
  BuildReport build;
  MemoryReport memory;  ///< DRAM figures estimated for its kernels (EstimateImportedMemory)
};

/// Reads a report and builds one trace per process kept: window applied,
/// `device.gpu` set (the given key, else the bundled spec whose device name
/// matches, else unset), `meta.nsys` holding file name, device, pid and the
/// optional columns missing, DRAM figures estimated for kernels
/// (EstimateImportedMemory: NVTX `sizes = ...` labels, else kernel-name
/// classes; `meta.memory`). Throws InputError as ReadNsysReport, and for a
/// window that selects nothing (naming the file and pid).
std::vector<NsysTrace> ImportNsys(const std::string& path, const NsysImportOptions& options,
                                  NsysReport* report);

/// "run.sqlite" -> "run", "dir/a.b.db" -> "a.b"; other names lose only
/// their folder.
std::string NsysFileStem(const std::string& path);

}  // namespace cotenant::profiler
