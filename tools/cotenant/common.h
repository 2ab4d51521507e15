// Helpers shared by the subcommands that simulate: input loading and the
// result table.
#pragma once

#include <string>
#include <vector>

#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::cli {

/// Loads either a workload file or one tenant per trace file (exactly one of
/// the two must be given). `gpu` (key or path, may be empty) overrides the
/// workload's GPU.
LoadedWorkload LoadInputs(const std::string& workload, const std::vector<std::string>& traces,
                          const std::string& gpu);

/// Says which GPU spec a run uses and why: "simulate: GPU a100-sxm4-40g from
/// the traces' device NVIDIA A100-PG509-200".
void NoteGpuChoice(const char* command, const LoadedWorkload& lw, std::FILE* out);

/// Notes each trace captured on another GPU than the one simulated (by
/// device.gpu or a known device.name): durations are not rescaled by
/// simulate (whatif --swap-gpu does that).
void NoteGpuMismatch(const LoadedWorkload& lw, std::FILE* out);

/// The plan file, or the native multi-stream plan when `path` is empty.
Plan LoadPlanOrNative(const std::string& path);

/// Writes text to `path` atomically, or to stdout when `path` is "-".
void WriteOutput(const std::string& path, const std::string& text);

/// Prints the per-tenant table and the GPU summary of one result.
void PrintResult(const SimResult& r, const LoadedWorkload& lw, std::FILE* out);

/// Prints phase times and event counts (for --stats).
void PrintStats(const SimResult& r, std::FILE* out);

}  // namespace cotenant::cli
