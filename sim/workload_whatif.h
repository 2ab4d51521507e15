// Workload what-if: the what-if primitives of sim/whatif.h composed over a
// whole workload (every tenant's main trace and its traces_by_batch), and
// the JSON of a baseline / what-if comparison, `cotenant.whatif/1`.
//
// Changes apply in this fixed order:
//   1. swap_gpu   every tenant (the GPU is shared), selector not used;
//   2. scale      the selected tasks;
//   3. move       the selected tasks;
//   4. split      the selected tasks (kernels only);
//   5. remove     the selected tasks (not combined with 2-4);
//   6. insert     one kernel, after a task id of one tenant.
// The selection is made once, on each trace after step 1 (steps 2-3 keep
// task indices). Selector-based changes also apply to a tenant's
// traces_by_batch; an insert applies to its main trace only.
//
// Messages name the `cotenant whatif` flags the changes come from
// (--select, --insert-after, ...), as ParseSelector does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/simulate.h"
#include "sim/trace.h"
#include "sim/whatif.h"

namespace cotenant {

/// One kernel to insert (step 6).
struct InsertChange {
  int64_t after_id = 0;           ///< it follows this task in stream order
  std::optional<int64_t> stream;  ///< unset = the stream of after_id's task
  std::string name = "whatif_inserted_kernel";
  TimeNs dur_ns = 0;                 ///< isolated duration, ns (>= 0)
  std::vector<int32_t> grid, block;  ///< 1 to 3 positive values each; both empty = no shape
  int32_t regs = 32;                 ///< registers per thread
  int32_t smem = 0;                  ///< shared memory per block, bytes
};

/// The changes of one what-if, each unset when not asked for.
struct WorkloadChanges {
  Selector select;                      ///< the tasks of steps 2-5; its tenant picks step 6's
  bool default_select = false;          ///< `select` is the default one (for messages)
  std::string swap_gpu;                 ///< step 1: GPU spec key or file; "" = no swap
  std::optional<double> scale;          ///< step 2: duration factor, > 0
  std::optional<MoveTo> move;           ///< step 3
  std::optional<int32_t> split;         ///< step 4: pieces per kernel
  bool split_parallel = false;          ///< step 4: pieces on new streams
  std::optional<RemoveOptions> remove;  ///< step 5
  std::optional<InsertChange> insert;   ///< step 6
};

/// One change as applied to one tenant.
struct AppliedChange {
  std::string tenant;       ///< "" = every tenant
  std::string primitive;    ///< "swap-gpu", "scale", "move", "split", "remove", "insert"
  std::string description;  ///< what the primitive did ("scaled 53 kernels by 0.5")
};

/// A workload after its changes, with what they did.
struct ChangedWorkload {
  LoadedWorkload workload;
  std::vector<AppliedChange> changes;  ///< in the order applied
};

/// Applies `changes` to a copy of `base`. Throws InputError when the
/// selector names an unknown tenant, the swap GPU is unknown, the per-task
/// changes select no task in any tenant, an insert has no tenant to go to
/// (several tenants and none selected) or a bad duration or shape, and for
/// what the primitives refuse.
ChangedWorkload ApplyWorkloadChanges(const LoadedWorkload& base, const WorkloadChanges& changes);

/// Rescales each tenant's traces captured on a known GPU other than lw->gpu
/// to lw->gpu with the what-if GPU swap (SwapGpu, main trace and
/// traces_by_batch), adds a note per tenant to lw->gpu_notes and marks it as
/// traced on lw->gpu. Tenants traced on an unknown device.gpu are left as
/// they are. What the CLI's --gpu and the Python module's gpu= do after
/// loading. Throws InputError when a kernel's block does not fit on an SM of
/// lw->gpu.
void RescaleToGpu(LoadedWorkload* lw);

/// Runs every trace tenant of `lw` with `requests` requests instead of the
/// workload's (the CLI's --requests, the module's requests=); 0 = keep the
/// workload's. Throws InputError ("--requests N: tenant T has only K arrival
/// times") for a tenant whose trace arrivals are fewer, and for N < 0.
void OverrideRequests(LoadedWorkload* lw, int64_t requests);

/// `cotenant.whatif/1`: {schema, baseline, whatif (cotenant.result/1 each),
/// changes, select (the selector as text), gpu {baseline, whatif} (keys)}.
nlohmann::json WhatifToJson(const SimResult& baseline, const SimResult& whatif,
                            const std::vector<AppliedChange>& changes, const Selector& select,
                            const std::string& baseline_gpu, const std::string& whatif_gpu);

}  // namespace cotenant
