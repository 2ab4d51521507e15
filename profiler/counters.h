// Per-kernel counters from the profiler's counter pass (`cotenant.counters/1`)
// and how they join a timing trace. No CUPTI here: the injection library
// writes these files, the CLI reads and merges them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace cotenant::profiler {

/// One kernel launch of the counter pass.
struct KernelCounters {
  int64_t index = 0;  ///< launch order in the process, from 0
  std::string name;   ///< the kernel's name as launched (mangled)
  int64_t dram_bytes =
      kAbsent;             ///< bytes read and written in DRAM (dram__bytes.sum); kAbsent = unknown
  double dram_pct = -1.0;  ///< DRAM throughput, % of peak sustained (0..100); < 0 = unknown
  double sm_pct = -1.0;    ///< SM throughput, % of peak sustained (0..100); < 0 = unknown
};

/// A `cotenant.counters/1` document.
struct CounterSet {
  std::vector<KernelCounters> kernels;             ///< in launch order; kernels[i].index == i
  nlohmann::json meta = nlohmann::json::object();  ///< free form: pid, problems, complete, ...
};

/// The document as JSON text:
/// {"schema":"cotenant.counters/1","meta":{...},"kernels":[{"index":0,"name":"k",
///  "dram_bytes":1024,"dram_pct":41.5,"sm_pct":12.0},...]}; unknown values are left out.
std::string CountersToJsonText(const CounterSet& counters);

/// Writes atomically (WriteFileAtomic). Throws InputError naming `path`.
void WriteCounters(const CounterSet& counters, const std::string& path);

/// Parses and checks a document: the schema, known keys only, `index`
/// equal to the position, a string `name`, `dram_bytes` a non-negative
/// integer, `dram_pct` and `sm_pct` numbers in 0..100 (CUPTI can report a
/// little over 100; up to 1000 is accepted). Throws InputError
/// `file: kernels[3].dram_pct: expected ..., found ...`.
CounterSet ParseCounters(const std::string& text, const std::string& file);

/// ReadFileText + ParseCounters.
CounterSet ReadCounters(const std::string& path);

/// What MergeCounters did.
struct CounterMergeReport {
  int64_t trace_kernels = 0;          ///< kernel tasks in the trace
  int64_t counter_kernels = 0;        ///< kernels in the counter pass
  int64_t offset = 0;                 ///< counter index given to the trace's first kernel
  int64_t merged = 0;                 ///< kernels that received counters
  int64_t mismatched = 0;             ///< kernels whose name differs from the counter pass's
  int64_t missing = 0;                ///< kernels past the counter pass's end, or without values
  std::vector<std::string> problems;  ///< the first mismatches, one line each
};

/// The trace's kernel tasks (indices into trace.tasks) in launch order: by
/// the start of the launch task with the same correlation (the kernel's own
/// start when it has none), then correlation, then id.
std::vector<size_t> KernelsInLaunchOrder(const Trace& trace);

/// Gives the trace's kernels their counters: the i-th kernel in launch order
/// takes counter kernel `offset + i` when the names match, setting
/// `dram_bytes` and `mem_bound = dram_pct / 100` clamped to [0, 1]; a name
/// that differs is a mismatch and changes nothing. `offset` < 0 chooses it:
/// 0 when both have as many kernels, else the first offset where every name
/// matches (a trace cut to a window), else 0. Records the report in
/// `trace->meta["counters"]`.
CounterMergeReport MergeCounters(const CounterSet& counters, Trace* trace, int64_t offset = -1);

}  // namespace cotenant::profiler
