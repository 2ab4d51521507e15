// Helpers shared by the subcommands that simulate: input loading and the
// result table.
#pragma once

#include <string>
#include <vector>

#include "profiler/kernel_memory.h"
#include "sim/plan.h"
#include "sim/simulate.h"

namespace cotenant::cli {

/// Loads either a workload file or one tenant per trace file (exactly one of
/// the two must be given). `gpu` (key or path, may be empty) overrides the
/// workload's GPU; then each trace captured on another known GPU is rescaled
/// to it (RescaleToGpu, sim/workload_whatif.h).
/// LLM tenants run where `command` is "simulate" or "search" (synth's models,
/// profiler::SynthLlmModels); other commands refuse them.
LoadedWorkload LoadInputs(const std::string& workload, const std::vector<std::string>& traces,
                          const std::string& gpu, const std::string& command = "this command");

/// Says which GPU spec a run uses and why ("simulate: GPU a100-sxm4-40g from
/// the traces' device NVIDIA A100-PG509-200"), then lw.gpu_notes.
void NoteGpuChoice(const char* command, const LoadedWorkload& lw, std::FILE* out);

/// Notes each trace still on another GPU than the one simulated (by
/// device.gpu or a known device.name, and not rescaled by LoadInputs: an
/// unknown device.gpu, or a workload's own gpu without --gpu): its durations
/// are not rescaled (whatif --swap-gpu does that).
void NoteGpuMismatch(const LoadedWorkload& lw, std::FILE* out);

/// The plan file, or the native multi-stream plan when `path` is empty.
Plan LoadPlanOrNative(const std::string& path);

/// Writes text to `path` atomically, or to stdout when `path` is "-".
void WriteOutput(const std::string& path, const std::string& text);

/// Prints the per-tenant table and the GPU summary of one result, then each
/// LLM tenant's serving table (PrintLlmTenant).
void PrintResult(const SimResult& r, const LoadedWorkload& lw, std::FILE* out);

/// The serving metrics of one LLM tenant as aligned tables, and how the fixed
/// point with the other tenants ended.
void PrintLlmTenant(const LlmTenantResult& r, std::FILE* out);

/// Whether tenant `i` of a result (trace tenants, then LLM tenants) has an SLO.
bool TenantHasSlo(const LoadedWorkload& lw, size_t i);

/// Prints phase times and event counts (for --stats).
void PrintStats(const SimResult& r, std::FILE* out);

/// The "DRAM figures" line of import and profile summaries: coverage by
/// source, the spec used, and how many shape estimates were cut to peak.
std::string DramFiguresText(const profiler::MemoryReport& m);

/// One "  what  value" line of an import summary (names padded to 19).
void ImportLine(const char* what, const std::string& value);
/// The import summary's lines of what the builder kept: kernels, memcpys,
/// memsets, launches, syncs, streams, host threads, GPU busy.
void PrintBuildCounts(const profiler::BuildReport& b);
/// Its lines of what is known of the kernels: unlabelled kernels, DRAM
/// figures, outside selection, GPU without launch (when any).
void PrintBuildFigures(const profiler::BuildReport& b, const profiler::MemoryReport& memory);

}  // namespace cotenant::cli
