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

/// The calls of a capture by correlation: a sorted vector rather than a hash
/// map (a whole-run trace has one call per kernel).
class CallIndex {
 public:
  explicit CallIndex(const Capture& capture) {
    by_corr_.reserve(capture.api.size());
    for (size_t i = 0; i < capture.api.size(); ++i) {
      if (capture.api[i].correlation != kAbsent)
        by_corr_.emplace_back(capture.api[i].correlation, i);
    }
    // The first call of a correlation counts.
    std::stable_sort(by_corr_.begin(), by_corr_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    by_corr_.erase(std::unique(by_corr_.begin(), by_corr_.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   by_corr_.end());
  }
  /// Index in Capture::api of the call with correlation `corr`, or -1.
  int64_t Find(int64_t corr) const {
    const auto it = std::lower_bound(by_corr_.begin(), by_corr_.end(), corr,
                                     [](const auto& e, int64_t c) { return e.first < c; });
    return it != by_corr_.end() && it->first == corr ? static_cast<int64_t>(it->second) : -1;
  }

 private:
  std::vector<std::pair<int64_t, size_t>> by_corr_;
};

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

/// Rule 2: waits known only by CUDA event id join the latest record of that
/// event (from cuda_event events) issued before the wait's call. Marks in
/// `drop` the waits that find none and returns how many.
int64_t LinkWaitsByEventId(Pending& pending, Capture& capture, const CallIndex& calls,
                           KinetoReport& report, std::vector<bool>* drop) {
  int64_t dropped = 0;
  for (const UnresolvedWait& w : pending.unresolved) {
    GpuSync& s = capture.syncs[w.sync];
    const int64_t call = calls.Find(s.correlation);
    const TimeNs at = call >= 0 ? capture.api[call].start_ns : s.start_ns;
    int64_t best = kAbsent;
    TimeNs best_at = 0;
    if (w.cuda_event_id != kAbsent) {
      for (const auto& [corr, r] : pending.records) {
        if (r.cuda_event_id != w.cuda_event_id) continue;
        const int64_t rc = calls.Find(corr);
        const TimeNs r_at = rc >= 0 ? capture.api[rc].start_ns : r.start_ns;
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
    if (const int64_t call = calls.Find(corr); call >= 0) {
      ApiCall& a = capture.api[call];
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
    if (const int64_t call = calls.Find(s.correlation); call >= 0) {
      ApiCall& a = capture.api[call];
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

/// The range that labels each External id, sorted by id: of several ranges
/// with one id the innermost, the later start, then the earlier end (the
/// first in the file of equals).
std::vector<std::pair<int64_t, size_t>> LabelRanges(const Pending& pending,
                                                    const Capture& capture) {
  std::vector<std::pair<int64_t, size_t>> ops = pending.ops_by_ext;
  std::stable_sort(ops.begin(), ops.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t kept = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (kept > 0 && ops[kept - 1].first == ops[i].first) {
      const Range& best = capture.ranges[ops[kept - 1].second];
      const Range& r = capture.ranges[ops[i].second];
      if (r.start_ns > best.start_ns || (r.start_ns == best.start_ns && r.end_ns < best.end_ns)) {
        ops[kept - 1] = ops[i];
      }
      continue;
    }
    ops[kept++] = ops[i];
  }
  ops.resize(kept);
  return ops;
}

/// Rule 4: operator labels through External id: the GPU event's own, else
/// its launching call's.
void LabelByExternalId(const Pending& pending, Capture& capture, const CallIndex& calls,
                       KinetoReport& report) {
  const std::vector<std::pair<int64_t, size_t>> ops = LabelRanges(pending, capture);
  for (size_t i = 0; i < capture.gpu.size(); ++i) {
    GpuActivity& g = capture.gpu[i];
    int64_t ext = pending.gpu_ext[i];
    if (ext == kAbsent && g.correlation != kAbsent) {
      const int64_t call = calls.Find(g.correlation);
      if (call >= 0) ext = pending.api_ext[call];
    }
    if (ext == kAbsent) continue;
    const auto op = std::lower_bound(ops.begin(), ops.end(), ext,
                                     [](const auto& e, int64_t x) { return e.first < x; });
    if (op == ops.end() || op->first != ext) continue;
    g.op = capture.ranges[op->second].name;
    g.op_range = static_cast<int64_t>(op->second);
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
  const CallIndex calls(capture);
  std::vector<bool> drop(capture.syncs.size(), false);
  const int64_t dropped = LinkWaitsByEventId(pending, capture, calls, report, &drop);
  EmitEventRecords(pending, capture, calls, drop, dropped);
  LabelByExternalId(pending, capture, calls, report);
  NameDevice(pending, capture);
  FinishReport(pending, capture, report);
}

}  // namespace cotenant::profiler::kineto
