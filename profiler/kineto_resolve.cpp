#include "profiler/kineto_resolve.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
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

/// For a wait that names only the stream waited on (older PyTorch: no record
/// correlation, no CUDA event id): the correlation of the last event record
/// on `stream` whose call started at or before `at`; else the last
/// cudaEventRecord call of the wait's thread before it whose stream nobody
/// reported (taken to be on `stream`); else kAbsent.
int64_t LastRecordOnStream(const Pending& pending, const Capture& capture, const CallIndex& calls,
                           int64_t stream, const GpuSync& wait, TimeNs at) {
  int64_t best = kAbsent;
  TimeNs best_at = 0;
  for (const auto& [corr, r] : pending.records) {
    if (r.stream != stream) continue;
    const int64_t rc = calls.Find(corr);
    const TimeNs r_at = rc >= 0 ? capture.api[rc].start_ns : r.start_ns;
    if (r_at <= at && (best == kAbsent || r_at >= best_at)) {
      best = corr;
      best_at = r_at;
    }
  }
  if (best != kAbsent) return best;
  const int64_t wait_call = calls.Find(wait.correlation);
  if (wait_call < 0) return kAbsent;
  const int64_t thread = capture.api[wait_call].thread;
  for (const ApiCall& a : capture.api) {
    if (a.thread != thread || a.correlation == kAbsent || a.start_ns > at ||
        RoleOfApi(a.name) != ApiRole::kEventRecord || pending.records.count(a.correlation) != 0) {
      continue;
    }
    if (best == kAbsent || a.start_ns >= best_at) {
      best = a.correlation;
      best_at = a.start_ns;
    }
  }
  return best;
}

/// Rule 2: waits known only by CUDA event id join the latest record of that
/// event (from cuda_event events) issued before the wait's call; waits
/// known only by the stream waited on join LastRecordOnStream(). Marks in
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
    const bool by_event_id = best != kAbsent;
    if (best == kAbsent && w.wait_on_stream >= 0) {
      best = LastRecordOnStream(pending, capture, calls, w.wait_on_stream, s, at);
    }
    if (best == kAbsent) {
      (*drop)[w.sync] = true;
      ++dropped;
      continue;
    }
    s.event = best;
    RecordInfo& r = pending.records[best];
    if (r.stream == kAbsent && w.wait_on_stream >= 0) r.stream = w.wait_on_stream;
    ++(by_event_id ? report.waits_linked_by_event_id : report.waits_linked_by_stream);
  }
  if (report.waits_linked_by_stream > 0) {
    pending.Problem(std::to_string(report.waits_linked_by_stream) +
                    " stream wait(s) without an event record id were linked to the last event "
                    "record on the stream waited on");
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

/// Rule 5: the GPU's clock against the host's. No GPU activity can start
/// before the call that launched it; when some do (a trace whose device
/// timestamps lag the host's), every GPU time (activities and
/// gpu_user_annotation ranges) is moved later by the smallest shift that puts
/// each correlated activity at or after its call's start, and the problem
/// is reported with the shift.
void CorrectGpuClock(Pending& pending, Capture& capture, const CallIndex& calls,
                     KinetoReport& report) {
  TimeNs worst = 0;  // most negative (activity start - call start)
  for (const GpuActivity& g : capture.gpu) {
    if (g.correlation == kAbsent) continue;
    const int64_t call = calls.Find(g.correlation);
    if (call < 0) continue;
    TimeNs lead = 0;
    if (__builtin_sub_overflow(g.start_ns, capture.api[call].start_ns, &lead)) continue;
    if (lead < 0) {
      ++report.gpu_before_launch;
      worst = std::min(worst, lead);
    }
  }
  if (worst == 0) return;
  constexpr TimeNs kMax = std::numeric_limits<TimeNs>::max();
  const bool fits =
      worst != std::numeric_limits<TimeNs>::min() &&
      std::all_of(capture.gpu.begin(), capture.gpu.end(),
                  [worst](const GpuActivity& g) { return g.end_ns <= kMax + worst; }) &&
      std::all_of(pending.gpu_ranges.begin(), pending.gpu_ranges.end(),
                  [worst](const auto& r) { return std::get<2>(r) <= kMax + worst; });
  if (!fits) {
    pending.Problem(std::to_string(report.gpu_before_launch) +
                    " GPU activities started before their launch call; their times were kept "
                    "(the shift would overflow)");
    return;
  }
  const TimeNs shift = -worst;
  for (GpuActivity& g : capture.gpu) {
    g.start_ns += shift;
    g.end_ns += shift;
  }
  for (auto& r : pending.gpu_ranges) {
    std::get<1>(r) += shift;
    std::get<2>(r) += shift;
  }
  report.gpu_clock_shift_ns = shift;
  pending.Problem(std::to_string(report.gpu_before_launch) +
                  " GPU activities started before their launch call: every GPU time was moved " +
                  std::to_string(shift) +
                  " ns later (the smallest shift that puts each after its call)");
}

/// Rule 6: gpu_user_annotation ranges label the kernels they cover (range
/// start <= kernel start, kernel end <= range end, same stream) that have
/// no External id label: the innermost (latest start) covering range.
/// Kept in GpuActivity::gpu_range, which BuildTrace uses when no host range
/// labels the kernel's launch either.
void LabelByGpuRanges(const Pending& pending, Capture& capture, KinetoReport& report) {
  if (pending.gpu_ranges.empty()) return;
  std::map<int64_t, std::vector<size_t>> ranges;  // stream -> indices, by (start, longer first)
  for (size_t i = 0; i < pending.gpu_ranges.size(); ++i)
    ranges[std::get<0>(pending.gpu_ranges[i])].push_back(i);
  const auto& r = pending.gpu_ranges;
  for (auto& [stream, v] : ranges) {
    std::stable_sort(v.begin(), v.end(), [&r](size_t a, size_t b) {
      if (std::get<1>(r[a]) != std::get<1>(r[b])) return std::get<1>(r[a]) < std::get<1>(r[b]);
      return std::get<2>(r[a]) > std::get<2>(r[b]);
    });
  }
  std::map<int64_t, std::vector<size_t>> kernels;  // stream -> indices in capture.gpu, by start
  for (size_t i = 0; i < capture.gpu.size(); ++i) {
    const GpuActivity& g = capture.gpu[i];
    if (g.kind == TaskKind::kKernel && g.op.empty() && ranges.count(g.stream) != 0)
      kernels[g.stream].push_back(i);
  }
  for (auto& [stream, ks] : kernels) {
    std::stable_sort(ks.begin(), ks.end(), [&capture](size_t a, size_t b) {
      return capture.gpu[a].start_ns < capture.gpu[b].start_ns;
    });
    const std::vector<size_t>& rs = ranges[stream];
    std::vector<size_t> open;  // ranges started, outermost first
    size_t next = 0;
    for (size_t k : ks) {
      GpuActivity& g = capture.gpu[k];
      while (next < rs.size() && std::get<1>(r[rs[next]]) <= g.start_ns) open.push_back(rs[next++]);
      while (!open.empty() && std::get<2>(r[open.back()]) <= g.start_ns) open.pop_back();
      for (auto it = open.rbegin(); it != open.rend(); ++it) {
        if (std::get<2>(r[*it]) >= g.end_ns) {
          g.gpu_range = std::get<3>(r[*it]);
          ++report.gpu_range_kernels;
          break;
        }
      }
    }
  }
}

/// GPU work per stream in the order it was launched: (launch call start,
/// end of the work) with the running maximum of the ends, to ask when the
/// work a stream had been given before a time was done.
class StreamWork {
 public:
  StreamWork(const Capture& capture, const CallIndex& calls) {
    for (const GpuActivity& g : capture.gpu) {
      const int64_t call = g.correlation == kAbsent ? -1 : calls.Find(g.correlation);
      by_stream_[g.stream].emplace_back(call >= 0 ? capture.api[call].start_ns : g.start_ns,
                                        g.end_ns);
    }
    for (auto& [stream, work] : by_stream_) {
      std::sort(work.begin(), work.end());
      for (size_t i = 1; i < work.size(); ++i)
        work[i].second = std::max(work[i].second, work[i - 1].second);
    }
  }
  /// When the work launched on `stream` strictly before `t` ended; kAbsent
  /// when there was none.
  TimeNs DoneAt(int64_t stream, TimeNs t) const {
    const auto s = by_stream_.find(stream);
    if (s == by_stream_.end()) return kAbsent;
    const auto it = std::lower_bound(s->second.begin(), s->second.end(), t,
                                     [](const auto& w, TimeNs x) { return w.first < x; });
    return it == s->second.begin() ? kAbsent : std::prev(it)->second;
  }
  const std::map<int64_t, std::vector<std::pair<TimeNs, TimeNs>>>& streams() const {
    return by_stream_;
  }

 private:
  std::map<int64_t, std::vector<std::pair<TimeNs, TimeNs>>> by_stream_;
};

/// Rule 7: host polling. A run of two or more consecutive cudaEventQuery (or
/// cudaStreamQuery; cu* too) calls on one thread, with no other call of the
/// thread between them, is one wait that ended when the last poll returned.
/// Kineto names neither the event nor the stream polled, so the wait is
/// taken to be on what finished last while the polls ran (after the first
/// poll started, which found it not done, and by the end of the last):
/// - event polls: the event record issued (any thread) before the first
///   poll whose stream's earlier work ended latest in that interval (ties:
///   the later record);
/// - stream polls: the stream whose work launched before the first poll
///   ended latest in that interval (ties: lower id).
/// The first poll becomes that wait (its end the last poll's, its event or
/// stream set; BuildTrace makes it a `sync`); the others are removed. A
/// single poll, or a run with no candidate, stays host time.
void FoldPolls(Capture& capture, const CallIndex& calls, KinetoReport& report) {
  enum class Poll : uint8_t { kNone, kEvent, kStream };
  auto poll_of = [](const ApiCall& a) {
    if (RoleOfApi(a.name) != ApiRole::kPoll) return Poll::kNone;
    return a.name.find("Event") != std::string::npos ? Poll::kEvent : Poll::kStream;
  };
  std::vector<size_t> order;
  for (size_t i = 0; i < capture.api.size(); ++i) {
    if (poll_of(capture.api[i]) != Poll::kNone) ++report.polls;
    order.push_back(i);
  }
  if (report.polls < 2) return;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const ApiCall& x = capture.api[a];
    const ApiCall& y = capture.api[b];
    return x.thread != y.thread ? x.thread < y.thread : x.start_ns < y.start_ns;
  });
  // The runs: [begin, end) in `order`, of two or more polls of one kind.
  struct Run {
    size_t begin = 0, end = 0;
    Poll kind = Poll::kNone;
    TimeNs first_start = 0, last_end = 0;
    int64_t event = kAbsent, stream = kAbsent;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < order.size();) {
    const ApiCall& first = capture.api[order[i]];
    const Poll kind = poll_of(first);
    size_t j = i + 1;
    while (j < order.size() && kind != Poll::kNone &&
           capture.api[order[j]].thread == first.thread && poll_of(capture.api[order[j]]) == kind) {
      ++j;
    }
    if (kind != Poll::kNone && j - i >= 2) {
      runs.push_back({i, j, kind, first.start_ns, capture.api[order[j - 1]].end_ns});
    }
    i = j;
  }
  const StreamWork work(capture, calls);

  // Event polls: of the records issued before the run's first poll whose
  // stream's earlier work was done by its last poll's end, the one done
  // last (ties: the later record). Answered for all runs at once: runs by
  // their end, records added in order of when they were done to a prefix
  // maximum (Fenwick tree) over their issue order.
  std::vector<std::tuple<TimeNs, int64_t, int64_t>> records;  // (call start, stream, event)
  for (const GpuSync& sync : capture.syncs) {
    if (sync.type == SyncType::kEventRecord)
      records.emplace_back(sync.start_ns, sync.stream, sync.event);
  }
  std::sort(records.begin(), records.end());
  std::vector<TimeNs> done(records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    const auto& [at, on_stream, corr] = records[r];
    done[r] = std::max(at, work.DoneAt(on_stream, at));
  }
  std::vector<size_t> by_done(records.size()), by_end;
  std::iota(by_done.begin(), by_done.end(), size_t{0});
  std::sort(by_done.begin(), by_done.end(),
            [&done](size_t a, size_t b) { return done[a] < done[b]; });
  for (size_t q = 0; q < runs.size(); ++q) {
    if (runs[q].kind == Poll::kEvent) by_end.push_back(q);
  }
  std::sort(by_end.begin(), by_end.end(),
            [&runs](size_t a, size_t b) { return runs[a].last_end < runs[b].last_end; });
  using Best = std::pair<TimeNs, int64_t>;  // (done, record index); -1 = none
  const Best kNone{std::numeric_limits<TimeNs>::min(), -1};
  std::vector<Best> tree(records.size() + 1, kNone);
  size_t added = 0;
  for (size_t q : by_end) {
    Run& run = runs[q];
    for (; added < by_done.size() && done[by_done[added]] <= run.last_end; ++added) {
      const size_t r = by_done[added];
      const Best value{done[r], static_cast<int64_t>(r)};
      for (size_t x = r + 1; x < tree.size(); x += x & (~x + 1)) tree[x] = std::max(tree[x], value);
    }
    // Records issued strictly before the first poll: positions [0, issued).
    const size_t issued = static_cast<size_t>(
        std::lower_bound(records.begin(), records.end(), run.first_start,
                         [](const auto& rec, TimeNs t) { return std::get<0>(rec) < t; }) -
        records.begin());
    Best best = kNone;
    for (size_t x = issued; x > 0; x -= x & (~x + 1)) best = std::max(best, tree[x]);
    // The first poll found the event not done: it was done after that.
    if (best.second >= 0 && best.first > run.first_start)
      run.event = std::get<2>(records[static_cast<size_t>(best.second)]);
  }

  // Stream polls: the stream whose work launched before the first poll was
  // done last, by the last poll's end (ties: the lower id).
  for (Run& run : runs) {
    if (run.kind != Poll::kStream) continue;
    TimeNs best_done = kAbsent;
    for (const auto& [stream, w] : work.streams()) {
      const TimeNs d = work.DoneAt(stream, run.first_start);
      if (d != kAbsent && d > run.first_start && d <= run.last_end &&
          (run.stream == kAbsent || d > best_done)) {
        run.stream = stream;
        best_done = d;
      }
    }
  }

  std::vector<bool> remove(capture.api.size(), false);
  for (const Run& run : runs) {
    if (run.event == kAbsent && run.stream == kAbsent) continue;
    ApiCall& wait = capture.api[order[run.begin]];
    wait.end_ns = run.last_end;
    wait.event = run.event;
    wait.stream = run.stream;
    for (size_t k = run.begin + 1; k < run.end; ++k) remove[order[k]] = true;
    ++report.poll_waits;
    report.polls_folded += static_cast<int64_t>(run.end - run.begin);
  }
  size_t kept = 0;
  for (size_t i = 0; i < capture.api.size(); ++i) {
    if (remove[i]) continue;
    if (kept != i) capture.api[kept] = std::move(capture.api[i]);
    ++kept;
  }
  capture.api.resize(kept);
}

/// Rule 8: the device's name, from deviceProperties (the entry of the first
/// GPU event's device, else the first entry).
void NameDevice(const Pending& pending, Capture& capture, KinetoReport& report) {
  const json& props = pending.device_props;
  if (!props.is_array() || props.empty()) return;
  const int64_t device = capture.gpu.empty() ? 0 : capture.gpu.front().device;
  const json* pick = nullptr;
  for (const json& d : props) {
    if (!d.is_object()) continue;
    const auto id = d.find("id");
    const auto name = d.find("name");
    if (id != d.end() && name != d.end() && name->is_string()) {
      if (const std::optional<int64_t> i = JsonToInt(*id)) {
        report.device_names.emplace(*i, name->get<std::string>());
      }
    }
  }
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
  CorrectGpuClock(pending, capture, calls, report);
  LabelByGpuRanges(pending, capture, report);
  FoldPolls(capture, calls, report);
  NameDevice(pending, capture, report);
  FinishReport(pending, capture, report);
}

}  // namespace cotenant::profiler::kineto
