// The PyTorch profiler (Kineto) importer: reads a Chrome trace written by
// torch.profiler / libkineto, in the current layout (`cat` "kernel",
// "cuda_runtime", "cuda_driver", "gpu_memcpy", "gpu_memset", "cuda_sync",
// "cuda_event", "cpu_op", "user_annotation", `ac2g` flows) or the legacy one
// (`cat` "Kernel", "Runtime", "Memcpy", "Memset", "Operator", lowercase
// "external id", GPU `tid` like "stream 7"), into a profiler::Capture that
// BuildTrace() turns into a `cotenant.trace/1`.
//
// Times: `ts` and `dur` are microseconds (integers, decimals, or strings
// holding a decimal). They are converted to integer nanoseconds from the
// number's text, digit by digit, rounding to the nearest ns, so large
// timestamps lose nothing to floating point. The capture's clock is the
// file's `ts` in ns: `baseTimeNanoseconds` is reported, not added.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/kernel_memory.h"
#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler {

/// What the importer read, kept and skipped, for the CLI summary and the
/// trace's meta.
struct KinetoReport {
  /// "current", "legacy", "mixed" (both kinds of category names) or
  /// "unknown" (no GPU or runtime events at all).
  std::string layout = "unknown";
  int64_t events = 0;         ///< entries of traceEvents
  int64_t kernels = 0;        ///< kernel events
  int64_t memcpys = 0;        ///< memcpy events
  int64_t memsets = 0;        ///< memset events
  int64_t runtime_calls = 0;  ///< CUDA runtime API events
  int64_t driver_calls = 0;   ///< CUDA driver API events
  int64_t sync_events = 0;    ///< cuda_sync events
  int64_t cuda_events = 0;    ///< cuda_event events (event records)
  int64_t cpu_ops = 0;        ///< cpu_op / Operator events
  int64_t annotations = 0;    ///< user_annotation events
  int64_t flows = 0;          ///< ac2g (legacy async_gpu) flow events
  int64_t metadata = 0;       ///< "ph": "M" metadata events
  int64_t other_ignored = 0;  ///< instants without a category (window markers)
  /// gpu_user_annotation events (ranges on a stream)
  int64_t gpu_annotations = 0;
  /// Events of categories the importer does not use: category -> count
  /// ("python_function", "Trace", "fwdbwd", ...).
  /// An event without a category counts as "(none)"; a known category in a
  /// phase the importer does not read counts as `CAT (ph P)`.
  std::map<std::string, int64_t> unknown_categories;
  int64_t base_time_ns = kAbsent;        ///< top-level baseTimeNanoseconds, or kAbsent
  std::vector<int64_t> steps;            ///< N of every ProfilerStep#N range, ascending
  int64_t correlated_by_flow = 0;        ///< records whose correlation came from an ac2g flow
  int64_t labelled_kernels = 0;          ///< GPU tasks labelled with a cpu_op through External id
  int64_t waits_linked_by_event_id = 0;  ///< stream waits joined to a record by CUDA event id
  /// Device id -> name, from deviceProperties.
  std::map<int64_t, std::string> device_names;
  /// GPU activities that started before their launch call (a GPU clock
  /// behind the host's), and the shift added to every GPU time because of
  /// them (0 = none).
  int64_t gpu_before_launch = 0;
  TimeNs gpu_clock_shift_ns = 0;
  /// Where the document was cut short (bytes of its text, inflated for
  /// `.gz`) when it was imported with `partial`; else kAbsent.
  int64_t truncated_at_byte = kAbsent;
  /// Kernels without an External id label that a gpu_user_annotation covers
  /// (their label unless a host range labels their launch).
  int64_t gpu_range_kernels = 0;
  /// Stream waits with neither record correlation nor a known CUDA event id
  /// (older PyTorch), joined to the last record on the stream waited on.
  int64_t waits_linked_by_stream = 0;
  int64_t polls = 0;                  ///< cudaEventQuery / cudaStreamQuery calls (cu* too)
  int64_t poll_waits = 0;             ///< waits made of runs of polls
  int64_t polls_folded = 0;           ///< polls folded into those waits
  std::vector<std::string> problems;  ///< one line each; not fatal
  /// DRAM figures of the imported kernels (filled by ImportKineto only).
  MemoryReport memory;
};

/// Parses Kineto Chrome-trace JSON `text` into a Capture (source "kineto").
/// `file` names the input in messages. The document is streamed, one
/// event's fields at a time (no JSON tree per event). Throws InputError, `file: traceEvents[3].dur:
/// expected ..., found ...`, for malformed JSON, a document that is not a
/// trace-event object or array, and bad fields of the events it uses
/// (missing or non-numeric `ts`/`dur`, negative `dur`, `args` of the wrong
/// type). Unknown categories are counted in `report`, never fatal.
/// `report` may be null. A document cut short (it ends inside a value, or
/// its gzip stream inside a block) throws `file: the trace is cut short at
/// byte N[ of its inflated text], after K complete events; --partial imports
/// them`, unless `partial`: then the K events are imported, the byte is
/// `report->truncated_at_byte` and a problem line says so.
Capture ParseKinetoTrace(const std::string& text, const std::string& file, KinetoReport* report,
                         bool partial = false);

/// ParseKinetoTrace on a file read in chunks (`.gz` inflated as it is read;
/// the size limit of ReadFileText), never whole in memory.
Capture ReadKinetoTrace(const std::string& path, KinetoReport* report, bool partial = false);

/// Microseconds as written in a trace (a decimal number: "1234.567",
/// "-5", "1.5e3") to integer nanoseconds, rounded to the nearest ns (halves
/// away from zero), computed exactly from the digits. nullopt when `text` is
/// not a decimal number or the result does not fit in int64.
std::optional<TimeNs> UsTextToNs(const std::string& text);

/// The window of one training iteration: [start, end) of the first range
/// named "ProfilerStep#N" (a cpu_op or user_annotation), on the capture's
/// clock in ns. Throws InputError naming `file` and the step when there is
/// none, listing the steps present.
Window StepWindow(const Capture& capture, int64_t step, const std::string& file);

/// Options of ImportKineto (the flags of `cotenant import kineto`).
struct KinetoImportOptions {
  std::string tenant;  ///< the trace's tenant name; "" = TraceFileStem() of the input
  int64_t step = -1;   ///< ProfilerStep#N to keep; -1 = no step selection
  std::string window;  ///< a ParseWindow() spec; "" = all (not with `step`)
  std::string gpu;     ///< GPU spec key for `device.gpu`; "" = leave unset
  /// Import the complete events of a trace cut short instead of refusing it.
  bool partial = false;
  /// The device whose GPU work to keep; -1 = the only one (a trace with GPU
  /// work on several devices is refused, listing them).
  int64_t device = -1;
};

/// Reads a Kineto trace and builds one trace from it: the step or window
/// selected, `device.gpu` set, and `meta.kineto` holding the input's file
/// name, layout, base time, selection and unknown categories. Every kernel
/// gets DRAM figures where they can be estimated (EstimateMemory, on the
/// spec `gpu`, else the one of the device's name, else h100-sxm);
/// `meta.memory` records the spec used and the coverage. Throws
/// InputError for bad input, a bad selection or one that selects nothing.
/// Either report may be null.
Trace ImportKineto(const std::string& path, const KinetoImportOptions& options,
                   KinetoReport* kineto_report, BuildReport* build_report);

}  // namespace cotenant::profiler
