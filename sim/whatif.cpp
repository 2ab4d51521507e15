#include "sim/whatif.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/occupancy.h"

namespace cotenant {
namespace {

constexpr TaskKind kAllKinds[] = {TaskKind::kLaunch,     TaskKind::kKernel, TaskKind::kMemcpy,
                                  TaskKind::kMemset,     TaskKind::kCpu,    TaskKind::kEventRecord,
                                  TaskKind::kStreamWait, TaskKind::kSync};

const char* const kSelectorKeys[] = {"tenant", "name", "op", "kind"};

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

/// True when `s` at `pos` reads `word=` (optional spaces around the word).
bool StartsKey(const std::string& s, size_t pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  const size_t begin = pos;
  while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_')) {
    ++pos;
  }
  if (pos == begin || std::isdigit(static_cast<unsigned char>(s[begin]))) return false;
  while (pos < s.size() && s[pos] == ' ') ++pos;
  return pos < s.size() && s[pos] == '=';
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

/// "1 kernel", "3 launches", "2 cpu tasks".
std::string CountOf(int64_t n, TaskKind kind) {
  std::string name = kind == TaskKind::kCpu ? "cpu task" : TaskKindName(kind);
  if (n != 1) name += kind == TaskKind::kLaunch ? "es" : "s";
  return std::to_string(n) + " " + name;
}

/// "50 kernels, 3 memcpys" for the tasks at `indices` (or "0 tasks").
std::string KindSummary(const Trace& trace, const std::vector<int32_t>& indices) {
  std::map<TaskKind, int64_t> counts;
  for (int32_t i : indices) ++counts[trace.tasks[i].kind];
  std::string s;
  for (TaskKind k : kAllKinds) {
    if (counts[k] == 0) continue;
    if (!s.empty()) s += ", ";
    s += CountOf(counts[k], k);
  }
  return s.empty() ? "0 tasks" : s;
}

/// Sorted, unique copy of `indices`; aborts on an index out of range.
std::vector<int32_t> Normalize(const Trace& trace, std::vector<int32_t> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  for (int32_t i : indices) {
    COTENANT_CHECK_MSG(i >= 0 && static_cast<size_t>(i) < trace.tasks.size(),
                       "task index out of range");
  }
  return indices;
}

/// "task 12 (kernel sm90_gemm)" for messages.
std::string Describe(const Trace& trace, const Task& t) {
  std::string s = "task " + std::to_string(t.id) + " (" + TaskKindName(t.kind);
  const std::string& name = trace.Name(t);
  if (!name.empty()) s += " " + name;
  return s + ")";
}

TimeNs ScaleDuration(TimeNs dur_ns, double factor) {
  const double v = std::llround(static_cast<double>(dur_ns) * factor);
  return v < 0 ? 0 : static_cast<TimeNs>(v);
}

/// floor(n * i / k) without overflow for the sizes traces have.
int64_t Boundary(int64_t n, int64_t i, int64_t k) {
  return static_cast<int64_t>((static_cast<__int128>(n) * i) / k);
}

/// Ordering key of the simulator: (start_ns, index in Trace::tasks).
bool OrderedBefore(const Trace& trace, int32_t a, int32_t b) {
  const Task& ta = trace.tasks[a];
  const Task& tb = trace.tasks[b];
  return ta.start_ns != tb.start_ns ? ta.start_ns < tb.start_ns : a < b;
}

enum class Seq { kStream, kThread };

int64_t SeqValue(const Task& t, Seq seq) { return seq == Seq::kStream ? t.stream : t.thread; }

/// Indices of the tasks of one stream or thread, in simulator order.
std::vector<int32_t> Sequence(const Trace& trace, Seq seq, int64_t value) {
  std::vector<int32_t> out;
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    if (SeqValue(trace.tasks[i], seq) == value) out.push_back(static_cast<int32_t>(i));
  }
  std::sort(out.begin(), out.end(),
            [&](int32_t a, int32_t b) { return OrderedBefore(trace, a, b); });
  return out;
}

/// The index in Trace::tasks at which a task with `start_ns` must be
/// inserted so that, ordered by (start_ns, index) within the sequence
/// `order`, it lands right after order[pos - 1] (pos = 0: first). `start_ns`
/// must lie between the neighbours' starts. Prefers `preferred` when it
/// gives the same order.
int32_t InsertionIndex(const Trace& trace, const std::vector<int32_t>& order, size_t pos,
                       TimeNs start_ns, int32_t preferred) {
  int32_t lo = -1;  // largest index of a tie that must stay before
  int32_t hi = static_cast<int32_t>(trace.tasks.size());  // smallest index of a tie after
  for (size_t j = 0; j < order.size(); ++j) {
    const int32_t idx = order[j];
    if (trace.tasks[idx].start_ns != start_ns) continue;
    if (j < pos) {
      lo = std::max(lo, idx);
    } else {
      hi = std::min(hi, idx);
    }
  }
  COTENANT_CHECK(lo < hi);
  return std::min(std::max(preferred, lo + 1), hi);
}

/// Inserts `task` at `index`; indices >= index held by the caller shift by one.
void InsertTaskAt(Trace& trace, int32_t index, const Task& task) {
  trace.tasks.insert(trace.tasks.begin() + index, task);
}

struct Ids {
  int64_t next_id = 0, next_correlation = 1, next_event = 1, next_stream = 0;
};

Ids NextIds(const Trace& trace) {
  Ids ids;
  int64_t max_id = -1, max_corr = 0, max_event = 0, max_stream = -1;
  for (const Task& t : trace.tasks) {
    max_id = std::max(max_id, t.id);
    max_corr = std::max(max_corr, t.correlation);
    max_event = std::max(max_event, t.event);
    max_stream = std::max(max_stream, t.stream);
  }
  ids.next_id = max_id + 1;
  ids.next_correlation = max_corr + 1;
  ids.next_event = max_event + 1;
  ids.next_stream = max_stream + 1;
  return ids;
}

/// The index of the launch (host task of kind launch) with `correlation`, or -1.
int32_t LaunchIndex(const Trace& trace, int64_t correlation) {
  if (correlation == kAbsent) return -1;
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    const Task& t = trace.tasks[i];
    if (t.kind == TaskKind::kLaunch && t.correlation == correlation) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace

// ---------------------------------------------------------------------------
// Selection

bool Selector::MatchesTenant(const std::string& tenant_name) const {
  return tenant.empty() || tenant == tenant_name;
}

bool Selector::MatchesTask(const Trace& trace, const Task& task) const {
  if (kind && task.kind != *kind) return false;
  if (name && !std::regex_search(trace.Name(task), *name)) return false;
  if (op && !std::regex_search(trace.Op(task), *op)) return false;
  return true;
}

std::string Selector::ToString() const {
  std::string s;
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    s += (s.empty() ? "" : ",") + std::string(key) + "=" + value;
  };
  add("tenant", tenant);
  add("name", name_text);
  add("op", op_text);
  if (kind) add("kind", TaskKindName(*kind));
  return s.empty() ? "all" : s;
}

TaskKind ParseTaskKind(const std::string& text, const std::string& what) {
  std::vector<std::string> names;
  for (TaskKind k : kAllKinds) {
    if (text == TaskKindName(k)) return k;
    names.push_back(TaskKindName(k));
  }
  throw InputError(what + ": expected one of " + QuotedList(names) + ", found \"" + text + "\"" +
                   DidYouMean(text, names));
}

namespace {

std::regex CompileRegex(const std::string& pattern, const std::string& what) {
  std::string p = pattern;
  auto flags = std::regex::ECMAScript;
  if (p.rfind("(?i)", 0) == 0) {
    p = p.substr(4);
    flags |= std::regex::icase;
  }
  try {
    return std::regex(p, flags);
  } catch (const std::regex_error& e) {
    throw InputError(what + ": expected a regular expression, found \"" + pattern + "\" (" +
                     e.what() + ")");
  }
}

}  // namespace

Selector ParseSelector(const std::string& text, const std::string& what) {
  Selector sel;
  const std::string s = Trim(text);
  if (s.empty() || s == "all") return sel;
  std::vector<std::string> items;
  size_t begin = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',' && StartsKey(s, i + 1)) {
      items.push_back(s.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  items.push_back(s.substr(begin));
  const std::vector<std::string> keys(std::begin(kSelectorKeys), std::end(kSelectorKeys));
  std::set<std::string> seen;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      throw InputError(what + ": expected key=value with a key among " + QuotedList(keys) +
                       ", found \"" + item + "\"");
    }
    const std::string key = Trim(item.substr(0, eq));
    const std::string value = item.substr(eq + 1);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      throw InputError(what + ": unknown key \"" + key + "\" (expected one of " + QuotedList(keys) +
                       ")" + DidYouMean(key, keys));
    }
    if (!seen.insert(key).second) throw InputError(what + ": key \"" + key + "\" given twice");
    const std::string where = what + ": " + key;
    if (value.empty()) throw InputError(where + ": expected a value, found nothing");
    if (key == "tenant") {
      sel.tenant = Trim(value);
    } else if (key == "name") {
      sel.name = CompileRegex(value, where);
      sel.name_text = value;
    } else if (key == "op") {
      sel.op = CompileRegex(value, where);
      sel.op_text = value;
    } else {
      sel.kind = ParseTaskKind(Trim(value), where);
    }
  }
  return sel;
}

std::vector<int32_t> Select(const Trace& trace, const Selector& sel,
                            const std::string& tenant_name) {
  std::vector<int32_t> out;
  if (!sel.MatchesTenant(tenant_name.empty() ? trace.tenant : tenant_name)) return out;
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    if (sel.MatchesTask(trace, trace.tasks[i])) out.push_back(static_cast<int32_t>(i));
  }
  return out;
}

int32_t FindTaskById(const Trace& trace, int64_t id) {
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    if (trace.tasks[i].id == id) return static_cast<int32_t>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Scale

std::string ScaleTasks(Trace& trace, const std::vector<int32_t>& indices, double factor) {
  if (!(factor > 0.0) || !std::isfinite(factor)) {
    throw InputError("scale: expected a factor > 0, found " + FormatNumber(factor));
  }
  const std::vector<int32_t> sel = Normalize(trace, indices);
  TimeNs before = 0, after = 0;
  for (int32_t i : sel) {
    Task& t = trace.tasks[i];
    before += t.dur_ns;
    t.dur_ns = ScaleDuration(t.dur_ns, factor);
    after += t.dur_ns;
  }
  return "scaled " + KindSummary(trace, sel) + " by " + FormatNumber(factor) + " (" +
         std::to_string(before) + " ns -> " + std::to_string(after) + " ns)";
}

// ---------------------------------------------------------------------------
// Remove

std::string RemoveTasks(Trace& trace, const std::vector<int32_t>& indices,
                        const RemoveOptions& options) {
  const std::vector<int32_t> sel = Normalize(trace, indices);
  const size_t n = trace.tasks.size();
  std::vector<char> removed(n, 0);
  for (int32_t i : sel) removed[i] = 1;
  const std::string summary = KindSummary(trace, sel);

  std::map<int64_t, std::vector<int32_t>> gpu_by_corr, launch_by_corr;
  for (size_t i = 0; i < n; ++i) {
    const Task& t = trace.tasks[i];
    if (t.correlation == kAbsent) continue;
    if (IsGpuWork(t.kind)) gpu_by_corr[t.correlation].push_back(static_cast<int32_t>(i));
    if (t.kind == TaskKind::kLaunch)
      launch_by_corr[t.correlation].push_back(static_cast<int32_t>(i));
  }

  // GPU tasks of removed launches cannot be issued any more.
  int64_t extra_gpu = 0;
  for (int32_t i : sel) {
    const Task& t = trace.tasks[i];
    if (t.kind != TaskKind::kLaunch || t.correlation == kAbsent) continue;
    for (int32_t g : gpu_by_corr[t.correlation]) {
      if (!removed[g]) removed[g] = 1, ++extra_gpu;
    }
  }

  // Launches left without GPU work.
  int64_t extra_launches = 0, kept_launches = 0;
  for (auto& [corr, launches] : launch_by_corr) {
    const auto it = gpu_by_corr.find(corr);
    if (it == gpu_by_corr.end()) continue;
    bool any_removed = false, all_removed = true;
    for (int32_t g : it->second) {
      any_removed = any_removed || removed[g];
      all_removed = all_removed && removed[g];
    }
    if (!any_removed || !all_removed) continue;
    for (int32_t l : launches) {
      if (removed[l]) continue;
      if (options.keep_launch) {
        trace.tasks[l].kind = TaskKind::kCpu;
        trace.tasks[l].correlation = kAbsent;
        ++kept_launches;
      } else {
        removed[l] = 1;
        ++extra_launches;
      }
    }
  }

  // Waits and event syncs bound to a removed event_record: those whose latest
  // earlier record of the same event (by start_ns, then file order) is removed.
  std::map<int64_t, std::vector<int32_t>> records;  // event -> record indices in order
  for (size_t i = 0; i < n; ++i) {
    const Task& t = trace.tasks[i];
    if (t.kind == TaskKind::kEventRecord) records[t.event].push_back(static_cast<int32_t>(i));
  }
  for (auto& [event, list] : records) {
    std::sort(list.begin(), list.end(),
              [&](int32_t a, int32_t b) { return OrderedBefore(trace, a, b); });
  }
  int64_t extra_waits = 0, extra_syncs = 0;
  for (size_t i = 0; i < n; ++i) {
    const Task& t = trace.tasks[i];
    const bool waits = t.kind == TaskKind::kStreamWait ||
                       (t.kind == TaskKind::kSync && t.scope == SyncScope::kEvent);
    if (!waits || removed[i]) continue;
    const auto it = records.find(t.event);
    if (it == records.end()) continue;
    // The last record ordered before the wait (records are in that order).
    const auto after = std::partition_point(it->second.begin(), it->second.end(), [&](int32_t r) {
      return OrderedBefore(trace, r, static_cast<int32_t>(i));
    });
    const int32_t bound = after == it->second.begin() ? -1 : *(after - 1);
    if (bound >= 0 && removed[bound] && trace.tasks[bound].kind == TaskKind::kEventRecord) {
      removed[i] = 1;
      (t.kind == TaskKind::kSync ? extra_syncs : extra_waits)++;
    }
  }

  std::vector<Task> kept;
  kept.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!removed[i]) kept.push_back(trace.tasks[i]);
  }
  trace.tasks = std::move(kept);

  std::string s = "removed " + summary;
  std::vector<std::string> also;
  if (extra_gpu) {
    also.push_back(std::to_string(extra_gpu) + " GPU task" + (extra_gpu == 1 ? "" : "s") +
                   " of removed launches");
  }
  if (extra_launches)
    also.push_back(CountOf(extra_launches, TaskKind::kLaunch) + " left without GPU work");
  if (extra_waits) {
    also.push_back(CountOf(extra_waits, TaskKind::kStreamWait) + " on removed event records");
  }
  if (extra_syncs)
    also.push_back(CountOf(extra_syncs, TaskKind::kSync) + " on removed event records");
  if (!also.empty()) {
    s += "; also removed ";
    for (size_t i = 0; i < also.size(); ++i) s += (i ? ", " : "") + also[i];
  }
  if (kept_launches) {
    s += "; kept " + CountOf(kept_launches, TaskKind::kLaunch) + " as cpu tasks";
  }
  return s;
}

// ---------------------------------------------------------------------------
// Insert

std::string InsertKernel(Trace& trace, const InsertSpec& spec, const Task& kernel) {
  const int32_t after = FindTaskById(trace, spec.after_id);
  if (after < 0) {
    throw InputError("insert: no task with id " + std::to_string(spec.after_id) + " in " +
                     (trace.file.empty() ? "the trace" : trace.file));
  }
  const Task anchor = trace.tasks[after];
  if (anchor.stream == kAbsent) {
    throw InputError("insert: " + Describe(trace, anchor) +
                     " runs on no stream; insert after a GPU task");
  }
  if (spec.stream != kAbsent && spec.stream < 0) {
    throw InputError("insert: expected a stream id >= 0, found " + std::to_string(spec.stream));
  }
  if (kernel.dur_ns < 0) {
    throw InputError("insert: expected a duration >= 0, found " + std::to_string(kernel.dur_ns));
  }
  const bool has_grid = kernel.grid[0] > 0 || kernel.grid[1] > 0 || kernel.grid[2] > 0;
  const bool has_block = kernel.block[0] > 0 || kernel.block[1] > 0 || kernel.block[2] > 0;
  if (has_grid != has_block) throw InputError("insert: grid and block go together");
  for (int d = 0; has_grid && d < 3; ++d) {
    if (kernel.grid[d] < 1 || kernel.block[d] < 1) {
      throw InputError("insert: expected grid and block of positive integers");
    }
  }
  if (has_block && !BlockWithinThreadLimit(kernel.block)) {
    throw InputError("insert: expected at most " + std::to_string(kMaxThreadsPerBlock) +
                     " threads per block, found " + BlockThreadsText(kernel.block));
  }
  if (kernel.regs < 1 || kernel.regs > 255) {
    throw InputError("insert: expected 1 to 255 registers per thread, found " +
                     std::to_string(kernel.regs));
  }
  if (kernel.smem < 0) {
    throw InputError("insert: expected shared memory >= 0 bytes, found " +
                     std::to_string(kernel.smem));
  }
  const int64_t stream = spec.stream == kAbsent ? anchor.stream : spec.stream;
  Ids ids = NextIds(trace);

  // The host call that issued `anchor`: its launch, or itself for a host call
  // that is also a stream marker (event_record, stream_wait).
  int32_t issuer = LaunchIndex(trace, IsGpuWork(anchor.kind) ? anchor.correlation : kAbsent);
  if (issuer < 0 && !IsGpuWork(anchor.kind) && anchor.thread != kAbsent) issuer = after;

  Task k = kernel;
  k.kind = TaskKind::kKernel;
  k.id = ids.next_id++;
  k.stream = stream;
  k.thread = kAbsent;
  k.event = kAbsent;
  k.scope = SyncScope::kNone;
  k.dir = CopyDir::kNone;
  k.bytes = kAbsent;
  k.correlation = issuer >= 0 ? ids.next_correlation++ : kAbsent;

  // Kernel: after the last task of `stream` ordered at or before the anchor.
  {
    const std::vector<int32_t> order = Sequence(trace, Seq::kStream, stream);
    size_t pos = 0;
    while (pos < order.size() && !OrderedBefore(trace, after, order[pos])) ++pos;
    // Start where the predecessor ends, but not after the successor starts.
    TimeNs start = pos > 0 ? trace.tasks[order[pos - 1]].end_ns() : anchor.end_ns();
    if (pos < order.size()) start = std::min(start, trace.tasks[order[pos]].start_ns);
    if (pos > 0) start = std::max(start, trace.tasks[order[pos - 1]].start_ns);
    k.start_ns = start;
    const int32_t preferred = pos > 0 ? order[pos - 1] + 1 : after + 1;
    const int32_t index = InsertionIndex(trace, order, pos, start, preferred);
    InsertTaskAt(trace, index, k);
    if (issuer >= index) ++issuer;
  }

  std::string s = "inserted kernel " + std::to_string(k.id) + " (" + std::to_string(k.dur_ns) +
                  " ns) on stream " + std::to_string(stream) + " after task " +
                  std::to_string(anchor.id);
  if (issuer < 0) return s;

  // Launch: a copy of the issuing launch (same CPU cost), right after it on
  // its thread, with the same start_ns, so the CPU time after it stays.
  const Task& src = trace.tasks[issuer];
  Task launch;
  if (src.kind == TaskKind::kLaunch) {
    launch = src;
  } else {
    launch.name = trace.Intern("cudaLaunchKernel");
    launch.thread = src.thread;
    launch.dur_ns = 0;
  }
  launch.kind = TaskKind::kLaunch;
  launch.id = ids.next_id++;
  launch.correlation = k.correlation;
  launch.start_ns = src.start_ns;
  launch.stream = kAbsent;
  launch.event = kAbsent;
  const std::vector<int32_t> order = Sequence(trace, Seq::kThread, launch.thread);
  const size_t pos =
      static_cast<size_t>(std::find(order.begin(), order.end(), issuer) - order.begin()) + 1;
  const int32_t index = InsertionIndex(trace, order, pos, launch.start_ns, issuer + 1);
  InsertTaskAt(trace, index, launch);
  return s + ", launched by new launch " + std::to_string(launch.id) + " on thread " +
         std::to_string(launch.thread);
}

// ---------------------------------------------------------------------------
// Move

std::string MoveTasks(Trace& trace, const std::vector<int32_t>& indices, const MoveTo& to) {
  if (!to.stream && !to.priority && !to.sm_count) throw InputError("move: nothing to change");
  if (to.stream && *to.stream < 0) {
    throw InputError("move: expected a stream id >= 0, found " + std::to_string(*to.stream));
  }
  if (to.sm_count && *to.sm_count < 1) {
    throw InputError("move: expected an SM count >= 1, found " + std::to_string(*to.sm_count));
  }
  const std::vector<int32_t> sel = Normalize(trace, indices);
  std::set<int64_t> from_streams;
  for (int32_t i : sel) {
    const Task& t = trace.tasks[i];
    if (t.stream == kAbsent) {
      throw InputError("move: " + Describe(trace, t) +
                       " runs on no stream; select GPU tasks (e.g. kind=kernel)");
    }
    from_streams.insert(t.stream);
  }
  for (int32_t i : sel) {
    Task& t = trace.tasks[i];
    if (to.stream) t.stream = *to.stream;
    if (to.priority) t.priority = *to.priority;
    if (to.sm_count) t.sm_count = *to.sm_count;
  }
  std::string s = "moved " + KindSummary(trace, sel) + ":";
  if (to.stream) {
    std::string from;
    for (int64_t st : from_streams) from += (from.empty() ? "" : ",") + std::to_string(st);
    s += " stream " + (from_streams.size() > 1 ? "{" + from + "}" : from) + " -> " +
         std::to_string(*to.stream);
  }
  if (to.priority)
    s += std::string(to.stream ? "," : "") + " priority " + std::to_string(*to.priority);
  if (to.sm_count) {
    s += std::string(to.stream || to.priority ? "," : "") + " SM cap " +
         std::to_string(*to.sm_count);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Split

namespace {

/// The grid of piece `i` of `k` (see SplitKernels for the rule).
std::array<int32_t, 3> PieceGrid(const std::array<int32_t, 3>& grid, int32_t k, int32_t i) {
  std::array<int32_t, 3> g = grid;
  for (int d = 0; d < 3; ++d) {
    if (grid[d] >= k) {
      g[d] = static_cast<int32_t>(Boundary(grid[d], i + 1, k) - Boundary(grid[d], i, k));
      return g;
    }
  }
  const int64_t total = int64_t{grid[0]} * grid[1] * grid[2];
  return {static_cast<int32_t>(Boundary(total, i + 1, k) - Boundary(total, i, k)), 1, 1};
}

/// A 0-length event marker: a host call on `thread` (kAbsent: GPU side only).
Task Marker(Trace& trace, TaskKind kind, int64_t id, int64_t stream, int64_t thread, int64_t event,
            TimeNs start_ns) {
  Task m;
  m.kind = kind;
  m.id = id;
  m.stream = stream;
  m.thread = thread;
  m.event = event;
  m.start_ns = start_ns;
  m.dur_ns = 0;
  m.name = trace.Intern(kind == TaskKind::kEventRecord ? "cudaEventRecord" : "cudaStreamWaitEvent");
  return m;
}

/// Tasks placed right after original index `anchor` (-1: before every task);
/// insertions at one anchor go in `order`.
struct Insertion {
  int32_t anchor = -1;
  int64_t order = 0;
  std::vector<Task> tasks;
};

/// Per stream or thread: original task indices in simulator order, and each
/// task's position in it.
struct SeqIndex {
  std::map<int64_t, std::vector<int32_t>> order;
  std::vector<int32_t> pos;

  SeqIndex(const Trace& trace, Seq seq) : pos(trace.tasks.size(), -1) {
    for (size_t i = 0; i < trace.tasks.size(); ++i) {
      const int64_t v = SeqValue(trace.tasks[i], seq);
      if (v != kAbsent) order[v].push_back(static_cast<int32_t>(i));
    }
    for (auto& [v, list] : order) {
      std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
        return trace.tasks[a].start_ns < trace.tasks[b].start_ns;
      });
      for (size_t j = 0; j < list.size(); ++j) pos[list[j]] = static_cast<int32_t>(j);
    }
  }

  /// The tasks of sequence `v` that start exactly at `t` (a run of its order).
  std::pair<const int32_t*, const int32_t*> StartingAt(const Trace& trace, int64_t v,
                                                       TimeNs t) const {
    const std::vector<int32_t>& list = order.at(v);
    auto r = std::equal_range(list.begin(), list.end(), t, Cmp{&trace});
    return {list.data() + (r.first - list.begin()), list.data() + (r.second - list.begin())};
  }

  struct Cmp {
    const Trace* trace;
    bool operator()(int32_t i, TimeNs t) const { return trace->tasks[i].start_ns < t; }
    bool operator()(TimeNs t, int32_t i) const { return t < trace->tasks[i].start_ns; }
  };
};

}  // namespace

std::string SplitKernels(Trace& trace, const std::vector<int32_t>& indices, int32_t k,
                         bool parallel_streams) {
  if (k < 2) throw InputError("split: expected k >= 2, found " + std::to_string(k));
  const std::vector<int32_t> sel = Normalize(trace, indices);
  const size_t n = trace.tasks.size();
  std::vector<char> selected(n, 0);
  for (int32_t i : sel) {
    const Task& t = trace.tasks[i];
    if (t.kind != TaskKind::kKernel) {
      throw InputError("split: " + Describe(trace, t) +
                       " is not a kernel; only kernels can be split");
    }
    if (t.HasShape() && t.Blocks() < k) {
      throw InputError("split: " + Describe(trace, t) + " has " + std::to_string(t.Blocks()) +
                       " blocks, fewer than the " + std::to_string(k) + " pieces asked for");
    }
    selected[i] = 1;
  }
  // Launches by correlation, and how many unselected GPU tasks each keeps.
  std::map<int64_t, int32_t> launch_of;
  std::map<int64_t, int64_t> others;
  for (size_t i = 0; i < n; ++i) {
    const Task& t = trace.tasks[i];
    if (t.correlation == kAbsent) continue;
    if (t.kind == TaskKind::kLaunch) launch_of.emplace(t.correlation, static_cast<int32_t>(i));
    if (IsGpuWork(t.kind) && !selected[i]) ++others[t.correlation];
  }
  const SeqIndex streams(trace, Seq::kStream), threads(trace, Seq::kThread);

  // Process the kernels stream by stream in stream order, so the blocks of
  // consecutive kernels on one stream keep their order.
  std::vector<int32_t> work = sel;
  std::stable_sort(work.begin(), work.end(), [&](int32_t a, int32_t b) {
    const Task& ta = trace.tasks[a];
    const Task& tb = trace.tasks[b];
    if (ta.stream != tb.stream) return ta.stream < tb.stream;
    return streams.pos[a] < streams.pos[b];
  });

  Ids ids = NextIds(trace);
  std::vector<char> removed(n, 0);
  std::vector<Insertion> inserts;
  std::map<int64_t, std::vector<int64_t>> pool;  // original stream -> the k piece streams
  struct Last {
    TimeNs t = -1;
    int32_t anchor = -1;
  };
  std::map<int64_t, Last> last_block;  // original stream -> previous block on it
  int64_t launches_added = 0, markers = 0, order = 0;

  for (int32_t ki : work) {
    const Task kernel = trace.tasks[ki];
    const auto lit = launch_of.find(kernel.correlation);
    const int32_t li = kernel.correlation != kAbsent && lit != launch_of.end() ? lit->second : -1;
    const bool launch_freed = li >= 0 && others[kernel.correlation] == 0;
    const std::string base = trace.Name(kernel).empty() ? "kernel" : trace.Name(kernel);

    std::vector<Task> pieces, launches;
    for (int32_t i = 0; i < k; ++i) {
      Task p = kernel;
      p.id = ids.next_id++;
      p.name = trace.Intern(base + " [" + std::to_string(i + 1) + "/" + std::to_string(k) + "]");
      if (kernel.HasShape()) p.grid = PieceGrid(kernel.grid, k, i);
      p.dur_ns = Boundary(kernel.dur_ns, i + 1, k) - Boundary(kernel.dur_ns, i, k);
      if (kernel.dram_bytes != kAbsent) {
        p.dram_bytes = Boundary(kernel.dram_bytes, i + 1, k) - Boundary(kernel.dram_bytes, i, k);
      }
      p.start_ns = kernel.start_ns;
      p.correlation = li >= 0 ? ids.next_correlation++ : kAbsent;
      pieces.push_back(p);
    }
    if (li >= 0) {
      for (const Task& p : pieces) {
        Task l = trace.tasks[li];
        l.id = ids.next_id++;
        l.correlation = p.correlation;
        launches.push_back(l);
      }
    }
    removed[ki] = 1;

    if (!parallel_streams) {
      // Every piece starts where the kernel did, in its place in the file:
      // ordering by (start_ns, index) puts them exactly in its stream slot.
      inserts.push_back({ki, order, pieces});
    } else {
      // Fork: an event recorded on the kernel's stream, waited for by each
      // piece stream; join: each piece stream records, the kernel's stream
      // waits for all. The markers are 0-length host calls on the launching
      // thread (so they are issued in program order, like a real fork), or
      // GPU-side only when the kernel has no launch.
      const int64_t s = kernel.stream;
      std::vector<int64_t>& side = pool[s];
      while (side.size() < static_cast<size_t>(k)) side.push_back(ids.next_stream++);
      const std::vector<int32_t>& s_order = streams.order.at(s);
      const int32_t spos = streams.pos[ki];
      // Bounds on the block's start_ns that keep the stream order.
      TimeNs lower = spos > 0 ? trace.tasks[s_order[spos - 1]].start_ns : 0;
      const Last& prev = last_block[s];
      if (spos > 0 && selected[s_order[spos - 1]]) lower = prev.t;
      const TimeNs upper = spos + 1 < static_cast<int32_t>(s_order.size())
                               ? trace.tasks[s_order[spos + 1]].start_ns
                               : std::numeric_limits<TimeNs>::max();
      const int64_t thread = li >= 0 ? trace.tasks[li].thread : kAbsent;
      const TimeNs launch_start = li >= 0 ? trace.tasks[li].start_ns : 0;
      const TimeNs launch_end = li >= 0 ? trace.tasks[li].end_ns() : 0;
      // The fork is issued as close to the launch as the stream order
      // allows; the join right after the launch copies (so the CPU gap that
      // follows them is kept), or with the fork when the host ran ahead.
      const TimeNs t_fork =
          li >= 0 ? std::min(std::max(launch_start, lower), upper) : kernel.start_ns;
      const TimeNs t_join = li >= 0 ? std::min(std::max(launch_end, t_fork), upper) : t_fork;

      // Where a block of markers starting at `t` may go: after every stream
      // task that precedes the kernel and before every one that follows it,
      // among those starting at t (required); after the join markers before
      // it (required); the join after the launch copies (required: a join
      // issued before the pieces could block a shared hardware queue); close
      // to the launch on its thread (wanted).
      auto bounds = [&](TimeNs t, int copies, int32_t min_anchor, bool wanted, int32_t* lo,
                        int32_t* hi) {
        *lo = min_anchor;
        *hi = static_cast<int32_t>(n) - 1;
        auto [b, e] = streams.StartingAt(trace, s, t);
        for (const int32_t* x = b; x != e; ++x) {
          if (*x == ki || selected[*x]) continue;
          if (streams.pos[*x] < spos) {
            *lo = std::max(*lo, *x);
          } else {
            *hi = std::min(*hi, *x - 1);
          }
        }
        if (li < 0) return;
        if (copies > 0 && t == launch_start) *lo = std::max(*lo, li);
        if (!wanted) return;
        if (copies < 0 && t == launch_start) *hi = std::min(*hi, li);
        auto [tb, te] = threads.StartingAt(trace, thread, t);
        for (const int32_t* x = tb; x != te; ++x) {
          if (*x == li) continue;
          if (t < launch_start || *x < li) {
            *lo = std::max(*lo, *x);
          } else {
            *hi = std::min(*hi, *x - 1);
          }
        }
      };
      auto place = [&](TimeNs t, int copies, int32_t min_anchor) {
        int32_t lo = 0, hi = 0;
        bounds(t, copies, min_anchor, true, &lo, &hi);
        if (lo > hi) bounds(t, copies, min_anchor, false, &lo, &hi);
        if (lo > hi) {
          throw InputError("split: " + Describe(trace, kernel) +
                           ": no place for its fork/join events: tasks on its stream and thread "
                           "start at the same ns in an order that cannot be kept");
        }
        return std::min(std::max(ki, lo), hi);
      };
      const int32_t fork_anchor = place(t_fork, -1, prev.t == t_fork ? prev.anchor : -1);
      const int32_t join_anchor = place(t_join, +1, t_join == t_fork ? fork_anchor : -1);
      last_block[s] = {t_join, join_anchor};

      std::vector<Task> fork_block, join_block;
      const int64_t fork = ids.next_event++;
      fork_block.push_back(
          Marker(trace, TaskKind::kEventRecord, ids.next_id++, s, thread, fork, t_fork));
      for (int32_t i = 0; i < k; ++i) {
        fork_block.push_back(
            Marker(trace, TaskKind::kStreamWait, ids.next_id++, side[i], thread, fork, t_fork));
      }
      for (int32_t i = 0; i < k; ++i) {
        pieces[i].stream = side[i];
        pieces[i].start_ns = t_fork;
        fork_block.push_back(pieces[i]);
      }
      std::vector<int64_t> joins;
      for (int32_t i = 0; i < k; ++i) {
        joins.push_back(ids.next_event++);
        join_block.push_back(Marker(trace, TaskKind::kEventRecord, ids.next_id++, side[i], thread,
                                    joins.back(), t_join));
      }
      for (int64_t e : joins) {
        join_block.push_back(
            Marker(trace, TaskKind::kStreamWait, ids.next_id++, s, thread, e, t_join));
      }
      markers += 1 + 3 * static_cast<int64_t>(k);
      // At one anchor: fork block, then the launch copies, then the join block.
      inserts.push_back({fork_anchor, order, std::move(fork_block)});
      inserts.push_back({join_anchor, order + 2, std::move(join_block)});
    }
    if (li >= 0) {
      // The copies take the launch's place on its thread (same start_ns,
      // consecutive indices): each adds the launch's CPU cost.
      if (launch_freed && !removed[li]) {
        removed[li] = 1;
        launches_added += k - 1;
      } else {
        launches_added += k;
      }
      inserts.push_back({li, order + 1, std::move(launches)});
    }
    order += 3;
  }

  std::stable_sort(inserts.begin(), inserts.end(), [](const Insertion& a, const Insertion& b) {
    return a.anchor != b.anchor ? a.anchor < b.anchor : a.order < b.order;
  });
  std::vector<Task> out;
  out.reserve(n + sel.size() * (5 * static_cast<size_t>(k) + 1));
  size_t next = 0;
  auto flush = [&](int32_t anchor) {
    while (next < inserts.size() && inserts[next].anchor == anchor) {
      out.insert(out.end(), inserts[next].tasks.begin(), inserts[next].tasks.end());
      ++next;
    }
  };
  flush(-1);
  for (size_t i = 0; i < n; ++i) {
    if (!removed[i]) out.push_back(trace.tasks[i]);
    flush(static_cast<int32_t>(i));
  }
  COTENANT_CHECK(next == inserts.size());
  trace.tasks = std::move(out);

  std::string s = "split " + CountOf(static_cast<int64_t>(sel.size()), TaskKind::kKernel) +
                  " into " + std::to_string(k) + " pieces each, ";
  if (parallel_streams) {
    s += "on " + std::to_string(k) + " side streams per stream (" +
         std::to_string(pool.size() * static_cast<size_t>(k)) + " new), forked and joined with " +
         std::to_string(markers) + " event records/waits";
  } else {
    s += "back to back on their streams";
  }
  if (launches_added > 0) s += "; " + CountOf(launches_added, TaskKind::kLaunch) + " added";
  return s;
}

// ---------------------------------------------------------------------------
// Swap GPU

bool IsTensorKernelName(const std::string& name) {
  static const std::regex kTensor("gemm|conv|xmma|cutlass|cudnn|wgmma|hmma|mma",
                                  std::regex::ECMAScript | std::regex::icase);
  return std::regex_search(name, kTensor);
}

double SwapGpuKernelFactor(const Trace& trace, const Task& kernel, const GpuSpec& from,
                           const GpuSpec& to) {
  const double b = from.dram_gbps / to.dram_gbps;
  const double c = IsTensorKernelName(trace.Name(kernel)) ? from.tensor_tflops / to.tensor_tflops
                                                          : from.fp32_tflops / to.fp32_tflops;
  double mb = 0.5;
  if (kernel.mem_bound >= 0.0) {
    mb = kernel.mem_bound;
  } else if (kernel.dram_bytes != kAbsent && kernel.dur_ns > 0) {
    // bytes per ns is GB/s.
    mb = (static_cast<double>(kernel.dram_bytes) / static_cast<double>(kernel.dur_ns)) /
         from.dram_gbps;
  }
  mb = std::min(1.0, std::max(0.0, mb));
  return (1.0 - mb) * c + mb * b;
}

std::string SwapGpu(Trace& trace, const GpuSpec& from, const GpuSpec& to) {
  auto positive = [](const GpuSpec& g, double v, const char* field) {
    if (!(v > 0.0)) {
      throw InputError("swap-gpu: " + (g.file.empty() ? g.key : g.file) + ": " + field +
                       ": expected a positive number, found " + FormatNumber(v));
    }
  };
  for (const GpuSpec* g : {&from, &to}) {
    positive(*g, g->dram_gbps, "dram_gbps");
    positive(*g, g->fp32_tflops, "fp32_tflops");
    positive(*g, g->tensor_tflops, "tensor_tflops");
    positive(*g, g->pcie_gbps, "pcie_gbps");
  }
  // Check every kernel fits before changing anything.
  for (const Task& t : trace.tasks) {
    if (t.kind != TaskKind::kKernel || !t.HasShape()) continue;
    const Occupancy occ = ComputeOccupancy(to, t.ThreadsPerBlock(), t.regs, t.smem);
    if (occ.blocks_per_sm == 0) {
      throw InputError("swap-gpu: " + (trace.file.empty() ? trace.tenant : trace.file) + ": " +
                       Describe(trace, t) + ": its block (" + std::to_string(t.ThreadsPerBlock()) +
                       " threads, " + std::to_string(t.regs) + " registers/thread, " +
                       std::to_string(t.smem) + " B shared memory) does not fit on an SM of " +
                       to.key + " (limited by " + OccupancyLimiterName(occ.limiter) + ")");
    }
  }
  int64_t kernels = 0, copies = 0, fixed = 0;
  TimeNs before = 0, after = 0;
  for (Task& t : trace.tasks) {
    double factor = 1.0;
    if (t.kind == TaskKind::kKernel) {
      factor = SwapGpuKernelFactor(trace, t, from, to);
      ++kernels;
    } else if (t.kind == TaskKind::kMemcpy && (t.dir == CopyDir::kH2D || t.dir == CopyDir::kD2H)) {
      factor = from.pcie_gbps / to.pcie_gbps;
      ++copies;
    } else if ((t.kind == TaskKind::kMemcpy && t.dir == CopyDir::kD2D) ||
               t.kind == TaskKind::kMemset) {
      factor = from.dram_gbps / to.dram_gbps;
      ++fixed;
    } else {
      continue;
    }
    before += t.dur_ns;
    t.dur_ns = ScaleDuration(t.dur_ns, factor);
    after += t.dur_ns;
  }
  trace.device_gpu = to.key;
  trace.device_name = to.name;
  return "swapped GPU " + from.key + " -> " + to.key + ": rescaled " +
         CountOf(kernels, TaskKind::kKernel) + ", " + std::to_string(copies) + " host copies, " +
         std::to_string(fixed) + " device copies/memsets (" + std::to_string(before) + " ns -> " +
         std::to_string(after) + " ns of GPU time)";
}

}  // namespace cotenant
