#include "profiler/kineto_resolve.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/json_util.h"

namespace cotenant::profiler::kineto {
namespace {

using nlohmann::json;

/// Index in Capture::api of the call with each correlation.
using CallIndex = std::unordered_map<int64_t, size_t>;

using Flows = std::vector<std::pair<FlowKey, int64_t>>;

/// The flow id at each endpoint of `flows`, for FlowAt(): sorted by
/// endpoint, the first in file order first.
void SortFlows(Flows& flows) {
  std::stable_sort(flows.begin(), flows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

/// The id of the first flow at `key`, or kAbsent.
int64_t FlowAt(const Flows& sorted, const FlowKey& key) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), key,
                                   [](const auto& f, const FlowKey& k) { return f.first < k; });
  return it != sorted.end() && it->first == key ? it->second : kAbsent;
}

/// Sets the correlation of each record in `need` that a flow of `flows`
/// reaches (records: Capture::api or Capture::gpu).
template <class Records>
void CorrelateFrom(Flows& flows, const std::vector<std::pair<size_t, FlowKey>>& need,
                   Records& records, KinetoReport& report) {
  if (need.empty()) return;
  SortFlows(flows);
  for (const auto& [i, key] : need) {
    const int64_t id = FlowAt(flows, key);
    if (id == kAbsent) continue;
    records[i].correlation = id;
    ++report.correlated_by_flow;
  }
}

/// Rule 1: correlations from ac2g flows, for records whose args lack them
/// (a call starts a flow, its GPU work ends it).
void CorrelateByFlows(Pending& pending, Capture& capture, KinetoReport& report) {
  CorrelateFrom(pending.flow_starts, pending.api_need_flow, capture.api, report);
  CorrelateFrom(pending.flow_ends, pending.gpu_need_flow, capture.gpu, report);
}

CallIndex IndexCalls(const Capture& capture) {
  CallIndex by_corr;
  for (size_t i = 0; i < capture.api.size(); ++i) {
    if (capture.api[i].correlation != kAbsent) by_corr.emplace(capture.api[i].correlation, i);
  }
  return by_corr;
}

/// Rule 2: waits known only by CUDA event id join the latest record of that
/// event (from cuda_event events) issued before the wait's call. Marks in
/// `drop` the waits that find none and returns how many.
int64_t LinkWaitsByEventId(Pending& pending, Capture& capture, const CallIndex& calls,
                           KinetoReport& report, std::vector<bool>* drop) {
  int64_t dropped = 0;
  for (const UnresolvedWait& w : pending.unresolved) {
    GpuSync& s = capture.syncs[w.sync];
    const auto call = calls.find(s.correlation);
    const TimeNs at = call != calls.end() ? capture.api[call->second].start_ns : s.start_ns;
    int64_t best = kAbsent;
    TimeNs best_at = 0;
    if (w.cuda_event_id != kAbsent) {
      for (const auto& [corr, r] : pending.records) {
        if (r.cuda_event_id != w.cuda_event_id) continue;
        const auto rc = calls.find(corr);
        const TimeNs r_at = rc != calls.end() ? capture.api[rc->second].start_ns : r.start_ns;
        if (r_at <= at && (best == kAbsent || r_at >= best_at)) {
          best = corr;
          best_at = r_at;
        }
      }
    }
    if (best == kAbsent) {
      (*drop)[w.sync] = true;
      ++dropped;
      continue;
    }
    s.event = best;
    RecordInfo& r = pending.records[best];
    if (r.stream == kAbsent && w.wait_on_stream >= 0) r.stream = w.wait_on_stream;
    ++report.waits_linked_by_event_id;
  }
  return dropped;
}

/// Rule 3: event records become syncs (the record's correlation is the
/// event's id), placed before the other syncs; waits on a record left out
/// (no stream) are left out too, and calls learn their stream and event.
void EmitEventRecords(Pending& pending, Capture& capture, const CallIndex& calls,
                      const std::vector<bool>& drop, int64_t dropped_waits) {
  std::vector<GpuSync> syncs;
  syncs.reserve(capture.syncs.size() + pending.records.size());
  int64_t streamless_records = 0;
  std::unordered_map<int64_t, bool> record_kept;
  for (const auto& [corr, r] : pending.records) {
    if (r.stream == kAbsent) {
      ++streamless_records;
      record_kept[corr] = false;
      continue;
    }
    GpuSync s;
    s.type = SyncType::kEventRecord;
    s.correlation = corr;
    s.stream = r.stream;
    s.event = corr;
    const auto call = calls.find(corr);
    if (call != calls.end()) {
      ApiCall& a = capture.api[call->second];
      s.start_ns = a.start_ns;
      s.end_ns = a.end_ns;
      a.stream = r.stream;
      a.event = corr;
    } else {
      s.start_ns = r.start_ns;
      s.end_ns = r.end_ns;
    }
    record_kept[corr] = true;
    syncs.push_back(s);
  }
  for (size_t i = 0; i < capture.syncs.size(); ++i) {
    const GpuSync& s = capture.syncs[i];
    const bool waits = s.type == SyncType::kStreamWaitEvent || s.type == SyncType::kEventSync;
    if (drop[i] || (waits && !record_kept[s.event])) {
      if (!drop[i]) ++dropped_waits;
      continue;
    }
    const auto call = calls.find(s.correlation);
    if (call != calls.end()) {
      ApiCall& a = capture.api[call->second];
      if (a.stream == kAbsent) a.stream = s.stream;
      if (a.event == kAbsent) a.event = s.event;
    }
    syncs.push_back(s);
  }
  capture.syncs = std::move(syncs);
  if (dropped_waits > 0) {
    pending.Problem(std::to_string(dropped_waits) +
                    " stream wait(s)/event sync(s) whose event record is unknown were left out");
  }
  if (streamless_records > 0) {
    pending.Problem(std::to_string(streamless_records) +
                    " event record(s) on an unknown stream were left out");
  }
}

/// Rule 4: operator labels through External id: the GPU event's own, else
/// its launching call's.
void LabelByExternalId(const Pending& pending, Capture& capture, const CallIndex& calls,
                       KinetoReport& report) {
  for (size_t i = 0; i < capture.gpu.size(); ++i) {
    GpuActivity& g = capture.gpu[i];
    int64_t ext = pending.gpu_ext[i];
    if (ext == kAbsent && g.correlation != kAbsent) {
      const auto call = calls.find(g.correlation);
      if (call != calls.end()) ext = pending.api_ext[call->second];
    }
    if (ext == kAbsent) continue;
    const auto op = pending.ops_by_ext.find(ext);
    if (op == pending.ops_by_ext.end()) continue;
    g.op = op->second.name;
    ++report.labelled_kernels;
  }
}

/// Rule 5: the device's name, from deviceProperties (the entry of the first
/// GPU event's device, else the first entry).
void NameDevice(const Pending& pending, Capture& capture) {
  const json& props = pending.device_props;
  if (!props.is_array() || props.empty()) return;
  const int64_t device = capture.gpu.empty() ? 0 : capture.gpu.front().device;
  const json* pick = nullptr;
  for (const json& d : props) {
    if (!d.is_object()) continue;
    if (pick == nullptr) pick = &d;
    const auto id = d.find("id");
    if (id != d.end() && JsonToInt(*id) == device) {
      pick = &d;
      break;
    }
  }
  if (pick != nullptr && pick->contains("name") && (*pick)["name"].is_string()) {
    capture.device_name = (*pick)["name"].get<std::string>();
  }
}

/// The report's layout, steps (sorted, unique) and problems (with counts).
void FinishReport(const Pending& pending, Capture& capture, KinetoReport& report) {
  report.layout = pending.legacy && pending.current ? "mixed"
                  : pending.legacy                  ? "legacy"
                  : pending.current                 ? "current"
                                                    : "unknown";
  std::sort(report.steps.begin(), report.steps.end());
  report.steps.erase(std::unique(report.steps.begin(), report.steps.end()), report.steps.end());
  for (const std::string& p : pending.problem_order) {
    const int64_t n = pending.problem_counts.at(p);
    report.problems.push_back(n > 1 && !std::isdigit(static_cast<unsigned char>(p[0]))
                                  ? p + " (" + std::to_string(n) + " times)"
                                  : p);
  }
  capture.problems.insert(capture.problems.end(), report.problems.begin(), report.problems.end());
}

}  // namespace

void Resolve(Pending& pending, Capture& capture, KinetoReport& report) {
  CorrelateByFlows(pending, capture, report);
  const CallIndex calls = IndexCalls(capture);
  std::vector<bool> drop(capture.syncs.size(), false);
  const int64_t dropped = LinkWaitsByEventId(pending, capture, calls, report, &drop);
  EmitEventRecords(pending, capture, calls, drop, dropped);
  LabelByExternalId(pending, capture, calls, report);
  NameDevice(pending, capture);
  FinishReport(pending, capture, report);
}

}  // namespace cotenant::profiler::kineto
