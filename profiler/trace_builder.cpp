// BuildTrace: a normalised profiler Capture -> one `cotenant.trace/1`.
#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "profiler/capture.h"
#include "sim/error.h"
#include "sim/intervals.h"

namespace cotenant::profiler {
namespace {

constexpr TimeNs kTimeMax = std::numeric_limits<TimeNs>::max();
/// The launch-shape limits of the trace format (and of CUDA).
constexpr int64_t kMaxGridYz = 65535;
constexpr int64_t kMaxThreadsPerBlock = 1024;

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// The API name without the versioning suffixes CUDA adds ("_v2", "_ptsz",
/// "_ptds", "_v3020").
std::string BaseApiName(const std::string& name) {
  std::string n = name;
  for (;;) {
    const size_t u = n.rfind('_');
    if (u == std::string::npos || u == 0) return n;
    const std::string tail = n.substr(u + 1);
    const bool version =
        tail.size() >= 2 && tail[0] == 'v' &&
        std::all_of(tail.begin() + 1, tail.end(), [](char c) { return std::isdigit(c) != 0; });
    if (!version && tail != "ptsz" && tail != "ptds") return n;
    n.resize(u);
  }
}

/// True for a copy call that returns only when the copy is done.
bool IsBlockingCopy(const std::string& name) {
  const std::string n = BaseApiName(name);
  return (StartsWith(n, "cudaMemcpy") || StartsWith(n, "cuMemcpy")) &&
         n.find("Async") == std::string::npos;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

int64_t ParseCount(const std::string& text, const std::string& what, const std::string& spec) {
  if (!AllDigits(text) || text.size() > 18) {
    throw InputError(what + ": expected a non-negative integer in \"" + spec + "\", found \"" +
                     text + "\"");
  }
  return std::stoll(text);
}

/// One API call after nested calls were folded into it.
struct HostCall {
  const ApiCall* call = nullptr;
  ApiRole role = ApiRole::kOther;
  int64_t correlation = kAbsent;
  int64_t stream = kAbsent, event = kAbsent;
};

/// A task being built, with its sort key.
/// The trace's tasks before they are put in order: each with whether it is
/// a host task; its index is its creation order (the last tie-break).
struct Pending {
  std::vector<Task> tasks;
  std::vector<bool> host;
  std::vector<int64_t> range;  ///< index in Capture::ranges of a kernel's label, else kAbsent
  bool empty() const { return tasks.empty(); }
};

/// Sorts `p.tasks` in place by (start, host before GPU, creation order),
/// through a permutation of indices rather than a copy of the tasks (a
/// whole-run import holds hundreds of thousands).
void SortTasks(Pending& p) {
  // Sort compact keys, not the tasks: (start, calls before their work, index).
  struct Key {
    TimeNs start_ns;
    uint32_t gpu;  ///< 0 for a host call, 1 for GPU work
    uint32_t index;
    bool operator<(const Key& o) const {
      if (start_ns != o.start_ns) return start_ns < o.start_ns;
      if (gpu != o.gpu) return gpu < o.gpu;
      return index < o.index;
    }
  };
  std::vector<Key> keys(p.tasks.size());
  for (size_t i = 0; i < keys.size(); ++i)
    keys[i] = {p.tasks[i].start_ns, p.host[i] ? 0u : 1u, static_cast<uint32_t>(i)};
  std::sort(keys.begin(), keys.end());
  std::vector<uint32_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].index;
  // Position i takes the task at order[i]: follow each cycle once.
  std::vector<bool> host(p.host.size());
  std::vector<int64_t> range(p.range.size());
  std::vector<bool> done(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    host[i] = p.host[order[i]];
    range[i] = p.range[order[i]];
    if (done[i]) continue;
    Task first = std::move(p.tasks[i]);
    size_t j = i;
    while (order[j] != i) {
      p.tasks[j] = std::move(p.tasks[order[j]]);
      done[j] = true;
      j = order[j];
    }
    p.tasks[j] = std::move(first);
    done[j] = true;
  }
  p.host = std::move(host);
  p.range = std::move(range);
}

/// Innermost-range lookup by a sweep over one thread's ranges and queries,
/// both in time order. Ranges are taken to nest (NVTX push/pop, cpu_ops).
class RangeStack {
 public:
  explicit RangeStack(std::vector<const Range*> ranges) : ranges_(std::move(ranges)) {
    std::sort(ranges_.begin(), ranges_.end(), [](const Range* a, const Range* b) {
      if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns;
      return a->end_ns > b->end_ns;  // the outer of two ranges that start together first
    });
  }
  /// The innermost range open at `t` (start <= t < end); queries must come
  /// in non-decreasing `t`.
  const Range* At(TimeNs t) {
    while (next_ < ranges_.size() && ranges_[next_]->start_ns <= t) {
      Pop(ranges_[next_]->start_ns);
      open_.push_back(ranges_[next_++]);
    }
    Pop(t);
    // Ranges that do not nest may leave a closed range below an open one.
    for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
      if ((*it)->end_ns > t) return *it;
    }
    return nullptr;
  }

 private:
  void Pop(TimeNs t) {
    while (!open_.empty() && open_.back()->end_ns <= t) open_.pop_back();
  }
  std::vector<const Range*> ranges_;
  std::vector<const Range*> open_;
  size_t next_ = 0;
};

/// The window as [lo, hi) on the capture's clock.
std::pair<TimeNs, TimeNs> ResolveWindow(const Capture& c, const Window& w,
                                        const std::vector<HostCall>& calls) {
  switch (w.kind) {
    case Window::Kind::kAll:
      return {std::numeric_limits<TimeNs>::min(), kTimeMax};
    case Window::Kind::kTime: {
      TimeNs origin = 0;
      if (w.time_relative) {
        origin = kTimeMax;
        for (const ApiCall& a : c.api) origin = std::min(origin, a.start_ns);
        for (const GpuActivity& g : c.gpu) origin = std::min(origin, g.start_ns);
        if (origin == kTimeMax) origin = 0;
      }
      return {origin + w.from_ns, origin + w.to_ns};
    }
    case Window::Kind::kProfiler: {
      const HostCall* start = nullptr;
      for (const HostCall& h : calls) {
        if (h.role == ApiRole::kProfilerStart &&
            (start == nullptr || h.call->start_ns < start->call->start_ns)) {
          start = &h;
        }
      }
      if (start == nullptr) {
        throw InputError("window \"profiler\": no cudaProfilerStart call was captured");
      }
      TimeNs hi = kTimeMax;
      for (const HostCall& h : calls) {
        if (h.role == ApiRole::kProfilerStop && h.call->start_ns >= start->call->end_ns) {
          hi = std::min(hi, h.call->start_ns);
        }
      }
      return {start->call->end_ns, hi};
    }
    case Window::Kind::kRange: {
      std::vector<const Range*> named;
      for (const Range& r : c.ranges) {
        if (r.name == w.range_name || ShortOpName(r.name) == w.range_name) named.push_back(&r);
      }
      std::sort(named.begin(), named.end(), [](const Range* a, const Range* b) {
        return std::tie(a->start_ns, a->thread, a->end_ns) <
               std::tie(b->start_ns, b->thread, b->end_ns);
      });
      if (w.occurrence < 1 || static_cast<size_t>(w.occurrence) > named.size()) {
        throw InputError("window \"" + WindowSpec(w) + "\": " + std::to_string(named.size()) +
                         " range(s) named \"" + w.range_name + "\" were captured");
      }
      const Range* r = named[static_cast<size_t>(w.occurrence - 1)];
      return {r->start_ns, r->end_ns};
    }
  }
  return {0, 0};
}

/// Folds API calls nested in another call of the same thread (a driver call
/// made by a runtime call) into the outer one; `alias` maps the inner
/// calls' correlations to the outer's.
std::vector<HostCall> FoldCalls(const Capture& c, std::unordered_map<int64_t, int64_t>* alias) {
  std::vector<const ApiCall*> sorted;
  sorted.reserve(c.api.size());
  for (const ApiCall& a : c.api) sorted.push_back(&a);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ApiCall* a, const ApiCall* b) {
    if (a->thread != b->thread) return a->thread < b->thread;
    if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns;
    if (a->end_ns != b->end_ns) return a->end_ns > b->end_ns;  // outer first
    return a->driver < b->driver;                              // runtime outside driver
  });
  std::vector<HostCall> calls;
  calls.reserve(sorted.size());
  size_t outer = SIZE_MAX;  // index in `calls` of the open outermost call
  for (const ApiCall* a : sorted) {
    const bool nested = outer != SIZE_MAX && calls[outer].call->thread == a->thread &&
                        a->start_ns >= calls[outer].call->start_ns &&
                        a->end_ns <= calls[outer].call->end_ns;
    if (!nested) {
      HostCall h;
      h.call = a;
      h.role = RoleOfApi(a->name);
      h.correlation = a->correlation;
      h.stream = a->stream;
      h.event = a->event;
      calls.push_back(h);
      outer = calls.size() - 1;
      continue;
    }
    HostCall& o = calls[outer];
    if (o.role == ApiRole::kOther) o.role = RoleOfApi(a->name);
    if (o.correlation == kAbsent) {
      o.correlation = a->correlation;
    } else if (a->correlation != kAbsent && a->correlation != o.correlation) {
      (*alias)[a->correlation] = o.correlation;
    }
    if (o.stream == kAbsent) o.stream = a->stream;
    if (o.event == kAbsent) o.event = a->event;
  }
  return calls;
}

void AddProblem(BuildReport* report, std::map<std::string, int64_t>* counts,
                const std::string& what) {
  if ((*counts)[what]++ == 0) report->problems.push_back(what);
}

}  // namespace

ApiRole RoleOfApi(const std::string& name) {
  const std::string n = BaseApiName(name);
  if (n == "cudaEventRecord" || n == "cudaEventRecordWithFlags" || n == "cuEventRecord" ||
      n == "cuEventRecordWithFlags") {
    return ApiRole::kEventRecord;
  }
  if (n == "cudaStreamWaitEvent" || n == "cuStreamWaitEvent") return ApiRole::kStreamWait;
  if (n == "cudaStreamSynchronize" || n == "cuStreamSynchronize") return ApiRole::kStreamSync;
  if (n == "cudaEventSynchronize" || n == "cuEventSynchronize") return ApiRole::kEventSync;
  if (n == "cudaDeviceSynchronize" || n == "cudaThreadSynchronize" || n == "cuCtxSynchronize") {
    return ApiRole::kDeviceSync;
  }
  if (n == "cudaEventQuery" || n == "cuEventQuery" || n == "cudaStreamQuery" ||
      n == "cuStreamQuery") {
    return ApiRole::kPoll;
  }
  if (n == "cudaProfilerStart" || n == "cuProfilerStart") return ApiRole::kProfilerStart;
  if (n == "cudaProfilerStop" || n == "cuProfilerStop") return ApiRole::kProfilerStop;
  static const char* const kLaunchPrefixes[] = {"cudaLaunch",      "cuLaunch",     "cudaMemcpy",
                                                "cuMemcpy",        "cudaMemset",   "cuMemset",
                                                "cudaGraphLaunch", "cuGraphLaunch"};
  for (const char* p : kLaunchPrefixes) {
    if (StartsWith(n, p)) return ApiRole::kLaunch;
  }
  return ApiRole::kOther;
}

std::string ShortOpName(const std::string& label) {
  const size_t comma = label.find(", ");
  return comma == std::string::npos ? label : label.substr(0, comma);
}

Window ParseWindow(const std::string& spec, const std::string& what) {
  Window w;
  if (spec == "all" || spec.empty()) return w;
  if (spec == "profiler") {
    w.kind = Window::Kind::kProfiler;
    return w;
  }
  if (StartsWith(spec, "range:")) {
    w.kind = Window::Kind::kRange;
    std::string rest = spec.substr(6);
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos && colon + 1 < rest.size() && rest[colon - 1] != ':' &&
        AllDigits(rest.substr(colon + 1))) {
      w.occurrence = ParseCount(rest.substr(colon + 1), what, spec);
      rest.resize(colon);
      if (w.occurrence < 1) {
        throw InputError(what + ": expected an occurrence >= 1 in \"" + spec + "\", found 0");
      }
    }
    if (rest.empty()) throw InputError(what + ": expected a range name after \"range:\"");
    w.range_name = rest;
    return w;
  }
  if (StartsWith(spec, "time:")) {
    w.kind = Window::Kind::kTime;
    w.time_relative = true;
    const std::string rest = spec.substr(5);
    const size_t colon = rest.find(':');
    if (colon == std::string::npos) {
      throw InputError(what + ": expected \"time:FROM_NS:TO_NS\", found \"" + spec + "\"");
    }
    w.from_ns = ParseCount(rest.substr(0, colon), what, spec);
    w.to_ns = ParseCount(rest.substr(colon + 1), what, spec);
    if (w.to_ns <= w.from_ns) {
      throw InputError(what + ": expected FROM_NS < TO_NS in \"" + spec + "\"");
    }
    return w;
  }
  throw InputError(what +
                   ": expected \"all\", \"profiler\", \"range:NAME[:N]\" or "
                   "\"time:FROM_NS:TO_NS\", found \"" +
                   spec + "\"");
}

std::string WindowSpec(const Window& w) {
  switch (w.kind) {
    case Window::Kind::kAll:
      return "all";
    case Window::Kind::kProfiler:
      return "profiler";
    case Window::Kind::kRange:
      return "range:" + w.range_name +
             (w.occurrence == 1 ? "" : ":" + std::to_string(w.occurrence));
    case Window::Kind::kTime:
      return std::string(w.time_relative ? "time:" : "clock:") + std::to_string(w.from_ns) + ":" +
             std::to_string(w.to_ns);
  }
  return "";
}

Trace BuildTrace(const Capture& capture, const BuildOptions& options, BuildReport* report_out) {
  BuildReport local;
  BuildReport& report = report_out != nullptr ? *report_out : local;
  report = BuildReport{};
  report.dropped_records = capture.dropped_records;
  report.problems = capture.problems;
  std::map<std::string, int64_t> problem_counts;

  std::unordered_map<int64_t, int64_t> alias;
  std::vector<HostCall> calls = FoldCalls(capture, &alias);
  const auto [lo, hi] = ResolveWindow(capture, options.window, calls);
  auto in_window = [lo = lo, hi = hi](TimeNs t) { return t >= lo && t < hi; };
  auto canonical = [&alias](int64_t corr) {
    const auto it = alias.find(corr);
    return it == alias.end() ? corr : it->second;
  };

  // Stream and event ids of records, events and syncs, from the driver's side.
  std::unordered_map<int64_t, const GpuSync*> sync_by_corr;
  for (const GpuSync& s : capture.syncs) {
    if (s.correlation != kAbsent) sync_by_corr.emplace(canonical(s.correlation), &s);
  }

  // The first GPU activity of each blocking copy call's correlation (the
  // copy it waits for), by correlation.
  std::unordered_map<int64_t, const GpuActivity*> gpu_by_corr;
  for (const HostCall& h : calls) {
    if (h.correlation != kAbsent && IsBlockingCopy(h.call->name)) {
      gpu_by_corr.emplace(h.correlation, nullptr);
    }
  }
  for (const GpuActivity& g : capture.gpu) {
    if (g.correlation == kAbsent || gpu_by_corr.empty()) continue;
    const auto it = gpu_by_corr.find(canonical(g.correlation));
    if (it != gpu_by_corr.end() && it->second == nullptr) it->second = &g;
  }

  Pending pending;
  auto add = [&pending](Task t, bool host, int64_t range = kAbsent) {
    pending.tasks.push_back(std::move(t));
    pending.host.push_back(host);
    pending.range.push_back(range);
  };

  Trace trace;
  trace.tenant = options.tenant;
  trace.device_name = capture.device_name;

  // Host side. Launch correlation -> the launching call (for op labels).
  // (correlation, launch), sorted by correlation after the host side: the
  // first launch of a correlation counts.
  std::vector<std::pair<int64_t, const HostCall*>> launch_by_corr;
  // Correlation ids that more than one launch carries (usually none), and
  // those of them whose first launch has been seen.
  std::vector<int64_t> shared_corrs;
  {
    std::vector<int64_t> all;
    for (const HostCall& h : calls) {
      if (h.role == ApiRole::kLaunch && h.correlation != kAbsent) all.push_back(h.correlation);
    }
    std::sort(all.begin(), all.end());
    for (size_t i = 1; i < all.size(); ++i) {
      if (all[i] == all[i - 1] && (shared_corrs.empty() || shared_corrs.back() != all[i]))
        shared_corrs.push_back(all[i]);
    }
  }
  std::set<int64_t> first_of_shared;
  std::set<int64_t> recorded_events;  // events whose record is kept, for waits
  std::vector<const HostCall*> kept_calls;
  for (const HostCall& h : calls) {
    if (!in_window(h.call->start_ns)) {
      if (h.role != ApiRole::kOther && h.role != ApiRole::kProfilerStart &&
          h.role != ApiRole::kProfilerStop && h.role != ApiRole::kPoll) {
        ++report.outside_window;
      }
      continue;
    }
    kept_calls.push_back(&h);
  }
  std::stable_sort(kept_calls.begin(), kept_calls.end(), [](const HostCall* a, const HostCall* b) {
    return std::tie(a->call->start_ns, a->call->thread) <
           std::tie(b->call->start_ns, b->call->thread);
  });
  pending.tasks.reserve(kept_calls.size() + capture.gpu.size());
  for (const HostCall* hp : kept_calls) {
    const HostCall& h = *hp;
    const ApiCall& a = *h.call;
    Task t;
    t.thread = a.thread;
    t.start_ns = a.start_ns;
    t.dur_ns = std::max<TimeNs>(0, a.end_ns - a.start_ns);
    t.name = trace.Intern(a.name);
    const auto s = h.correlation == kAbsent ? sync_by_corr.end() : sync_by_corr.find(h.correlation);
    const GpuSync* sync = s == sync_by_corr.end() ? nullptr : s->second;
    const int64_t stream = h.stream != kAbsent ? h.stream : sync ? sync->stream : kAbsent;
    const int64_t event = h.event != kAbsent ? h.event : sync ? sync->event : kAbsent;
    switch (h.role) {
      case ApiRole::kOther:
      case ApiRole::kProfilerStart:
      case ApiRole::kProfilerStop:
        continue;  // host time that stays as a CPU gap
      case ApiRole::kPoll:
        // A wait only when the source found what the polls waited for.
        t.kind = TaskKind::kSync;
        if (h.event != kAbsent) {
          if (recorded_events.count(h.event) == 0) continue;  // recorded before the window
          t.scope = SyncScope::kEvent;
          t.event = h.event;
        } else if (h.stream != kAbsent) {
          t.scope = SyncScope::kStream;
          t.stream = h.stream;
        } else {
          continue;  // host time, as any other call
        }
        ++report.syncs;
        break;
      case ApiRole::kLaunch: {
        t.kind = TaskKind::kLaunch;
        // A correlation id is one launch's: a later launch with the same id
        // (a wrapped 32-bit counter, a damaged record) keeps none, and its
        // GPU work stays with the first one.
        const bool repeated =
            h.correlation != kAbsent &&
            std::binary_search(shared_corrs.begin(), shared_corrs.end(), h.correlation) &&
            !first_of_shared.insert(h.correlation).second;
        if (repeated) {
          AddProblem(&report, &problem_counts,
                     "launches with the correlation id of an earlier launch were kept without "
                     "it");
        }
        t.correlation = repeated ? kAbsent : h.correlation;
        if (t.correlation != kAbsent) launch_by_corr.emplace_back(t.correlation, &h);
        ++report.launches;
        const auto g =
            t.correlation == kAbsent ? gpu_by_corr.end() : gpu_by_corr.find(t.correlation);
        if (IsBlockingCopy(a.name) && g != gpu_by_corr.end() && g->second != nullptr) {
          // The call returns when the copy is done: a launch, then a wait on
          // the copy's stream for the rest of the call.
          const GpuActivity& copy = *g->second;
          const TimeNs split = std::clamp(copy.start_ns, a.start_ns, a.end_ns);
          t.dur_ns = split - a.start_ns;
          Task w;
          w.kind = TaskKind::kSync;
          w.scope = SyncScope::kStream;
          w.stream = copy.stream;
          w.thread = a.thread;
          w.start_ns = split;
          w.dur_ns = a.end_ns - split;
          w.name = t.name;
          add(t, true);
          add(w, true);
          ++report.syncs;
          continue;
        }
        break;
      }
      case ApiRole::kEventRecord:
      case ApiRole::kStreamWait:
        if (event == kAbsent || stream == kAbsent) {
          AddProblem(&report, &problem_counts,
                     a.name + " without its event or stream was left out (host time kept)");
          continue;
        }
        if (h.role == ApiRole::kStreamWait && recorded_events.count(event) == 0) {
          AddProblem(&report, &problem_counts,
                     "a stream wait on an event recorded before the window was left out");
          continue;
        }
        t.kind = h.role == ApiRole::kEventRecord ? TaskKind::kEventRecord : TaskKind::kStreamWait;
        t.event = event;
        t.stream = stream;
        if (h.role == ApiRole::kEventRecord) recorded_events.insert(event);
        break;
      case ApiRole::kStreamSync:
      case ApiRole::kEventSync:
      case ApiRole::kDeviceSync:
        t.kind = TaskKind::kSync;
        if (h.role == ApiRole::kDeviceSync) {
          t.scope = SyncScope::kDevice;
        } else if (h.role == ApiRole::kStreamSync) {
          t.scope = SyncScope::kStream;
          t.stream = stream;
          if (stream == kAbsent) {
            AddProblem(&report, &problem_counts,
                       "a stream synchronize without its stream became a device synchronize");
            t.scope = SyncScope::kDevice;
          }
        } else {
          t.scope = SyncScope::kEvent;
          t.event = event;
          if (event == kAbsent || recorded_events.count(event) == 0) {
            AddProblem(&report, &problem_counts,
                       "an event synchronize on an unknown or earlier event was left out");
            continue;
          }
        }
        ++report.syncs;
        break;
    }
    add(t, true);
  }

  std::stable_sort(launch_by_corr.begin(), launch_by_corr.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  launch_by_corr.erase(std::unique(launch_by_corr.begin(), launch_by_corr.end(),
                                   [](const auto& a, const auto& b) { return a.first == b.first; }),
                       launch_by_corr.end());
  auto launch_of = [&launch_by_corr](int64_t corr) -> const HostCall* {
    const auto it = std::lower_bound(launch_by_corr.begin(), launch_by_corr.end(), corr,
                                     [](const auto& entry, int64_t c) { return entry.first < c; });
    return it != launch_by_corr.end() && it->first == corr ? it->second : nullptr;
  };

  // Innermost NVTX/cpu_op range of each launch, by a sweep per thread.
  // By index in `calls` (vectors, not hash maps: an import holds a whole run).
  std::vector<const Range*> label_of(calls.size(), nullptr);
  {
    std::map<int64_t, std::vector<const Range*>> ranges_by_thread;
    for (const Range& r : capture.ranges) {
      if (!StartsWith(r.name, "ProfilerStep#")) ranges_by_thread[r.thread].push_back(&r);
    }
    std::map<int64_t, std::vector<const HostCall*>> launches_by_thread;
    for (const auto& [corr, h] : launch_by_corr) launches_by_thread[h->call->thread].push_back(h);
    for (auto& [thread, launches] : launches_by_thread) {
      const auto r = ranges_by_thread.find(thread);
      if (r == ranges_by_thread.end()) continue;
      std::sort(launches.begin(), launches.end(), [](const HostCall* a, const HostCall* b) {
        return a->call->start_ns < b->call->start_ns;
      });
      RangeStack stack(r->second);
      for (const HostCall* h : launches) {
        if (const Range* range = stack.At(h->call->start_ns)) label_of[h - calls.data()] = range;
      }
    }
  }

  // GPU side.
  std::vector<int64_t> call_correlations;
  for (const HostCall& h : calls) {
    if (h.correlation != kAbsent) call_correlations.push_back(h.correlation);
  }
  std::sort(call_correlations.begin(), call_correlations.end());
  std::set<int64_t> streams;
  std::vector<Interval> busy;
  for (const GpuActivity& g : capture.gpu) {
    const int64_t corr = g.correlation == kAbsent ? kAbsent : canonical(g.correlation);
    const HostCall* launch = corr == kAbsent ? nullptr : launch_of(corr);
    if (launch == nullptr) {
      // No launch kept: either outside the window or never captured.
      const bool launch_seen = corr != kAbsent && std::binary_search(call_correlations.begin(),
                                                                     call_correlations.end(), corr);
      if (launch_seen || !in_window(g.start_ns)) {
        ++report.outside_window;
        continue;
      }
      ++report.orphan_gpu;
    }
    Task t;
    t.kind = g.kind;
    t.stream = g.stream;
    t.start_ns = g.start_ns;
    t.dur_ns = std::max<TimeNs>(0, g.end_ns - g.start_ns);
    t.correlation = launch == nullptr ? kAbsent : corr;
    if (!g.name.empty()) t.name = trace.Intern(g.name);
    int64_t range = kAbsent;  // the range that labels a kernel
    switch (g.kind) {
      case TaskKind::kKernel: {
        ++report.kernels;
        if (g.grid[0] > 0 && g.block[0] > 0) {
          t.grid = g.grid;
          t.block = g.block;
          for (int i = 0; i < 3; ++i) {
            t.grid[i] = std::max(1, t.grid[i]);
            t.block[i] = std::max(1, t.block[i]);
          }
          // A shape the trace format rejects (CUDA never launches one) would
          // make the written trace unreadable: keep the kernel without it.
          const int64_t threads_xy = int64_t{t.block[0]} * t.block[1];
          if (t.grid[1] > kMaxGridYz || t.grid[2] > kMaxGridYz ||
              threads_xy > kMaxThreadsPerBlock || threads_xy * t.block[2] > kMaxThreadsPerBlock) {
            t.grid = {0, 0, 0};
            t.block = {0, 0, 0};
            AddProblem(&report, &problem_counts,
                       "kernels with an impossible launch shape (grid y or z over 65535, or more "
                       "than 1024 threads per block) were kept without a launch shape");
          }
        }
        if (g.regs > 0) t.regs = std::min(g.regs, 255);
        t.smem = std::max(0, g.smem);
        t.dram_bytes = g.dram_bytes;
        if (g.mem_bound >= 0) t.mem_bound = std::min(1.0, g.mem_bound);
        if (t.dram_bytes != kAbsent || t.mem_bound >= 0.0) t.dram_source = DramSource::kCounter;
        std::string op = g.op;
        if (!op.empty() && g.op_range >= 0 &&
            static_cast<size_t>(g.op_range) < capture.ranges.size()) {
          range = g.op_range;
        }
        if (op.empty() && launch != nullptr) {
          const Range* r = label_of[launch - calls.data()];
          if (r != nullptr) {
            op = r->name;
            range = r - capture.ranges.data();
          }
        }
        if (op.empty()) op = g.gpu_range;
        if (!op.empty()) {
          t.op = trace.Intern(options.short_op_names ? ShortOpName(op) : op);
        } else {
          ++report.unlabelled_kernels;
        }
        break;
      }
      case TaskKind::kMemcpy:
        ++report.memcpys;
        t.dir = g.dir;
        if (t.dir == CopyDir::kNone) {
          AddProblem(&report, &problem_counts, "a copy of unknown direction was taken as d2d");
          t.dir = CopyDir::kD2D;
        }
        t.bytes = g.bytes;
        break;
      case TaskKind::kMemset:
        ++report.memsets;
        t.bytes = g.bytes;
        break;
      default:
        COTENANT_CHECK_MSG(false, "GpuActivity of a host kind");
    }
    streams.insert(t.stream);
    busy.emplace_back(t.start_ns, t.end_ns());
    add(t, false, range);
  }

  if (pending.empty()) {
    throw InputError("window \"" + WindowSpec(options.window) +
                     "\": no API call or GPU activity falls inside it");
  }

  // Rebase, renumber threads in order of first activity, number the tasks.
  TimeNs origin = kTimeMax;
  TimeNs last_start = 0;
  for (const Task& t : pending.tasks) {
    origin = std::min(origin, t.start_ns);
    last_start = std::max(last_start, t.start_ns);
  }
  // Rebased times (and ends, start + dur) must fit in int64 ns.
  TimeNs rebased = 0;
  if (!pending.tasks.empty() && __builtin_sub_overflow(last_start, origin, &rebased)) {
    throw InputError("the capture's times span more than 2^63 ns (from " + std::to_string(origin) +
                     " ns to " + std::to_string(last_start) + " ns): a corrupt timestamp?");
  }
  std::map<int64_t, TimeNs> first_on_thread;
  for (size_t i = 0; i < pending.tasks.size(); ++i) {
    if (!pending.host[i]) continue;
    const Task& t = pending.tasks[i];
    auto [it, fresh] = first_on_thread.emplace(t.thread, t.start_ns);
    if (!fresh) it->second = std::min(it->second, t.start_ns);
  }
  std::vector<std::pair<TimeNs, int64_t>> thread_order;
  for (const auto& [thread, first] : first_on_thread) thread_order.emplace_back(first, thread);
  std::sort(thread_order.begin(), thread_order.end());
  std::unordered_map<int64_t, int64_t> thread_id;
  for (size_t i = 0; i < thread_order.size(); ++i) {
    thread_id[thread_order[i].second] = static_cast<int64_t>(i) + 1;
  }
  SortTasks(pending);
  for (size_t i = 0; i < pending.tasks.size(); ++i) {
    Task& t = pending.tasks[i];
    t.id = static_cast<int64_t>(i) + 1;
    t.start_ns -= origin;
    if (pending.host[i]) t.thread = thread_id.at(t.thread);
    if (pending.range[i] != kAbsent) {
      report.kernel_ranges.emplace_back(t.id, static_cast<size_t>(pending.range[i]));
    }
  }
  // Reserved for every GPU activity: give back what a window left unused.
  if (pending.tasks.capacity() > 2 * pending.tasks.size()) pending.tasks.shrink_to_fit();
  trace.tasks = std::move(pending.tasks);

  // GPU busy time: the union of the GPU task intervals.
  report.gpu_busy_ns = UnionLengthNs(std::move(busy));
  TimeNs last_end = 0;
  for (const Task& t : trace.tasks) last_end = std::max(last_end, t.end_ns());
  report.span_ns = last_end;
  report.streams = static_cast<int64_t>(streams.size());
  report.threads = static_cast<int64_t>(thread_id.size());

  nlohmann::json& meta = trace.meta;
  if (!capture.source.empty()) meta["source"] = capture.source;
  if (capture.pid != 0) meta["pid"] = capture.pid;
  meta["window"] = WindowSpec(options.window);
  meta["origin_ns"] = origin;
  meta["dropped_records"] = capture.dropped_records;
  meta["complete"] = capture.complete && capture.dropped_records == 0;
  if (!report.problems.empty()) meta["problems"] = report.problems;
  return trace;
}

Trace MergeTraces(const std::vector<Trace>& traces, const std::string& tenant) {
  COTENANT_CHECK(!traces.empty());
  Trace out;
  out.tenant = tenant;
  auto origin_of = [](const Trace& t) -> TimeNs {
    const auto it = t.meta.find("origin_ns");
    return it != t.meta.end() && it->is_number_integer() ? it->get<TimeNs>() : 0;
  };
  TimeNs base = kTimeMax;
  for (const Trace& t : traces) base = std::min(base, origin_of(t));

  nlohmann::json processes = nlohmann::json::array();
  std::set<int64_t> used_streams;
  int64_t id_offset = 0, thread_offset = 0, corr_offset = 0, event_offset = 0;
  bool complete = true;
  int64_t dropped = 0;
  for (size_t k = 0; k < traces.size(); ++k) {
    const Trace& t = traces[k];
    if (out.device_name.empty()) out.device_name = t.device_name;
    if (out.device_gpu.empty()) out.device_gpu = t.device_gpu;
    const TimeNs shift = origin_of(t) - base;
    std::set<int64_t> mine;
    for (const Task& task : t.tasks) {
      if (task.stream != kAbsent) mine.insert(task.stream);
    }
    const bool clash = std::any_of(mine.begin(), mine.end(),
                                   [&](int64_t s) { return used_streams.count(s) != 0; });
    const int64_t stream_offset = clash ? static_cast<int64_t>(k) * 1000000 : 0;
    int64_t max_id = 0, max_thread = 0, max_corr = -1, max_event = -1;
    for (const Task& task : t.tasks) {
      Task n = task;
      n.id += id_offset;
      n.start_ns += shift;
      if (n.thread != kAbsent) n.thread += thread_offset;
      if (n.stream != kAbsent) {
        n.stream += stream_offset;
        used_streams.insert(n.stream);
      }
      if (n.correlation != kAbsent) n.correlation += corr_offset;
      if (n.event != kAbsent) n.event += event_offset;
      for (int64_t& a : n.after) a += id_offset;
      n.name = task.name < 0 ? -1 : out.Intern(t.strings[static_cast<size_t>(task.name)]);
      n.op = task.op < 0 ? -1 : out.Intern(t.strings[static_cast<size_t>(task.op)]);
      max_id = std::max(max_id, task.id);
      if (task.thread != kAbsent) max_thread = std::max(max_thread, task.thread);
      if (task.correlation != kAbsent) max_corr = std::max(max_corr, task.correlation);
      if (task.event != kAbsent) max_event = std::max(max_event, task.event);
      out.tasks.push_back(std::move(n));
    }
    id_offset += max_id + 1;
    thread_offset += max_thread;
    corr_offset += max_corr + 1;
    event_offset += max_event + 1;
    nlohmann::json p = t.meta;
    p["stream_offset"] = stream_offset;
    processes.push_back(std::move(p));
    if (const auto c = t.meta.find("complete"); c != t.meta.end() && c->is_boolean()) {
      complete = complete && c->get<bool>();
    }
    if (const auto d = t.meta.find("dropped_records"); d != t.meta.end() && d->is_number()) {
      dropped += d->get<int64_t>();
    }
  }
  if (traces.size() == 1) {
    out.meta = traces.front().meta;
  } else {
    out.meta["source"] = traces.front().meta.value("source", "");
    out.meta["origin_ns"] = base;
    out.meta["dropped_records"] = dropped;
    out.meta["complete"] = complete;
    out.meta["processes"] = std::move(processes);
  }
  return out;
}

}  // namespace cotenant::profiler
