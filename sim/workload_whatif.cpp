#include "sim/workload_whatif.h"

#include <array>
#include <optional>
#include <utility>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

/// A launch shape from 1 to 3 positive values, missing ones 1.
std::array<int32_t, 3> Shape(const std::vector<int32_t>& v, const char* flag) {
  if (v.empty() || v.size() > 3) {
    throw InputError(std::string(flag) + ": expected 1 to 3 positive integers X[,Y[,Z]], found " +
                     std::to_string(v.size()) + " values");
  }
  std::array<int32_t, 3> shape{1, 1, 1};
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 1) {
      throw InputError(std::string(flag) + ": expected positive integers, found " +
                       std::to_string(v[i]));
    }
    shape[i] = v[i];
  }
  return shape;
}

}  // namespace

void RescaleToGpu(LoadedWorkload* lw) {
  for (size_t i = 0; i < lw->traces.size() && i < lw->traced_gpu.size(); ++i) {
    const std::string& traced = lw->traced_gpu[i];
    if (traced.empty() || traced == lw->gpu.key) continue;
    std::optional<GpuSpec> from;
    try {
      from = LoadGpuSpec(traced);
    } catch (const InputError&) {
      continue;  // an unknown device.gpu: left as it is (the CLI's NoteGpuMismatch says so)
    }
    const Trace& t = lw->traces[i];
    const std::string device =
        t.device_name.empty() || !t.device_gpu.empty() ? "" : " (device " + t.device_name + ")";
    const std::string what = SwapGpu(lw->traces[i], *from, lw->gpu);
    for (auto& [batch, tr] : lw->by_batch[i]) SwapGpu(tr, *from, lw->gpu);
    // SwapGpu says "swapped GPU A -> B: rescaled ..."; keep what follows.
    const size_t colon = what.find(": ");
    lw->gpu_notes.push_back(lw->workload.tenants[i].name + " was traced on " + traced + device +
                            "; its durations were rescaled to " + lw->gpu.key +
                            " by the what-if GPU swap (" +
                            (colon == std::string::npos ? what : what.substr(colon + 2)) + ")");
    lw->traced_gpu[i] = lw->gpu.key;
  }
}

void OverrideRequests(LoadedWorkload* lw, int64_t requests) {
  if (requests < 0)
    throw InputError("--requests: expected >= 1 (0 = the workload's), found " +
                     std::to_string(requests));
  if (requests == 0) return;
  for (TenantSpec& t : lw->workload.tenants) {
    if (t.arrival.kind == ArrivalKind::kTrace &&
        static_cast<int64_t>(t.arrival.times_ns.size()) < requests) {
      throw InputError("--requests " + std::to_string(requests) + ": tenant " + t.name +
                       " has only " + std::to_string(t.arrival.times_ns.size()) + " arrival times");
    }
    t.requests = requests;
  }
}

ChangedWorkload ApplyWorkloadChanges(const LoadedWorkload& base, const WorkloadChanges& c) {
  const Selector& sel = c.select;
  std::vector<std::string> names;
  for (const TenantSpec& t : base.workload.tenants) names.push_back(t.name);
  if (!sel.tenant.empty() && base.workload.FindTenant(sel.tenant) < 0) {
    throw InputError("--select: tenant: no tenant \"" + sel.tenant +
                     "\" (tenants: " + QuotedList(names) + ")" + DidYouMean(sel.tenant, names));
  }

  ChangedWorkload out{base, {}};
  LoadedWorkload& changed = out.workload;
  std::vector<AppliedChange>& changes = out.changes;

  // 1. The GPU, for every tenant.
  if (!c.swap_gpu.empty()) {
    const GpuSpec to = LoadGpuSpec(c.swap_gpu);
    for (size_t i = 0; i < changed.traces.size(); ++i) {
      changes.push_back({names[i], "swap-gpu", SwapGpu(changed.traces[i], base.gpu, to)});
      for (auto& [batch, tr] : changed.by_batch[i]) SwapGpu(tr, base.gpu, to);
    }
    changed.gpu = to;
    changed.workload.gpu = c.swap_gpu;
  }

  // 2-5. The selected tasks of the selected tenants.
  if (c.scale || c.move || c.split || c.remove) {
    int64_t selected = 0;
    for (size_t i = 0; i < changed.traces.size(); ++i) {
      if (!sel.MatchesTenant(names[i])) continue;
      std::vector<Trace*> traces = {&changed.traces[i]};
      for (auto& [batch, tr] : changed.by_batch[i]) traces.push_back(&tr);
      for (size_t j = 0; j < traces.size(); ++j) {
        Trace& tr = *traces[j];
        const std::vector<int32_t> idx = Select(tr, sel, names[i]);
        if (j == 0) selected += static_cast<int64_t>(idx.size());
        if (idx.empty()) continue;
        // Only the main trace's changes are reported.
        auto record = [&](const char* primitive, const std::string& d) {
          if (j == 0) changes.push_back({names[i], primitive, d});
        };
        if (c.scale) record("scale", ScaleTasks(tr, idx, *c.scale));
        if (c.move) record("move", MoveTasks(tr, idx, *c.move));
        if (c.split) record("split", SplitKernels(tr, idx, *c.split, c.split_parallel));
        if (c.remove) record("remove", RemoveTasks(tr, idx, *c.remove));
      }
    }
    if (selected == 0) {
      throw InputError("--select " + sel.ToString() + ": matches no task" +
                       (c.default_select ? " (default selector)" : "") + " in tenants " +
                       QuotedList(names));
    }
  }

  // 6. One inserted kernel.
  if (c.insert) {
    int ti = 0;
    if (!sel.tenant.empty()) {
      ti = base.workload.FindTenant(sel.tenant);
    } else if (names.size() != 1) {
      throw InputError("--insert-after: the workload has " + std::to_string(names.size()) +
                       " tenants; name one with --select tenant=NAME");
    }
    Trace& tr = changed.traces[ti];
    const InsertChange& in = *c.insert;
    if (in.dur_ns < 0) {
      throw InputError("--insert-dur: expected a duration >= 0 ns, found " +
                       std::to_string(in.dur_ns));
    }
    Task k;
    k.name = tr.Intern(in.name);
    k.dur_ns = in.dur_ns;
    k.regs = in.regs;
    k.smem = in.smem;
    if (!in.grid.empty() || !in.block.empty()) {
      k.grid = Shape(in.grid, "--insert-grid");
      k.block = Shape(in.block, "--insert-block");
    }
    InsertSpec spec;
    spec.after_id = in.after_id;
    if (in.stream) spec.stream = *in.stream;
    std::string d = InsertKernel(tr, spec, k);
    if (!changed.by_batch[ti].empty()) d += " (not in its traces_by_batch)";
    changes.push_back({names[ti], "insert", d});
  }
  return out;
}

nlohmann::json WhatifToJson(const SimResult& baseline, const SimResult& whatif,
                            const std::vector<AppliedChange>& changes, const Selector& select,
                            const std::string& baseline_gpu, const std::string& whatif_gpu) {
  nlohmann::json j;
  j["schema"] = "cotenant.whatif/1";
  j["baseline"] = ResultToJson(baseline);
  j["whatif"] = ResultToJson(whatif);
  j["changes"] = nlohmann::json::array();
  for (const AppliedChange& c : changes) {
    j["changes"].push_back(
        {{"tenant", c.tenant}, {"primitive", c.primitive}, {"description", c.description}});
  }
  j["select"] = select.ToString();
  j["gpu"] = {{"baseline", baseline_gpu}, {"whatif", whatif_gpu}};
  return j;
}

}  // namespace cotenant
