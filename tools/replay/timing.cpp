#include "tools/replay/timing.h"

#include <algorithm>

namespace cotenant::replay {

bool ExpectsSample(const TaskGraph& g, int32_t v) {
  const Node& node = g.nodes[v];
  if (node.kind == NodeKind::kKernel) return true;
  if (node.kind != NodeKind::kCopy && node.kind != NodeKind::kFixed) return false;
  const TenantTemplate& t = *g.templates[node.tenant];
  return t.trace->tasks[g.Tmpl(node).task].bytes > 0;
}

TimingApplied ApplyTimings(const TaskGraph& g, const std::vector<TimingSample>& samples,
                           uint64_t origin_ns, MeasuredRun* run) {
  TimingApplied a;
  const size_t n = g.nodes.size();
  std::vector<uint8_t> seen(n, 0);
  auto rel = [origin_ns](uint64_t t) {
    return t <= origin_ns ? TimeNs{0} : static_cast<TimeNs>(t - origin_ns);
  };
  for (const TimingSample& s : samples) {
    if (s.id == 0 || s.id > n || !ExpectsSample(g, static_cast<int32_t>(s.id - 1))) {
      ++a.unknown;
      continue;
    }
    const size_t v = static_cast<size_t>(s.id - 1);
    const TimeNs start = rel(s.start_ns), end = std::max(start, rel(s.end_ns));
    if (!seen[v]) {
      seen[v] = 1;
      run->start_ns[v] = start;
      run->end_ns[v] = end;
    } else {
      run->start_ns[v] = std::min(run->start_ns[v], start);
      run->end_ns[v] = std::max(run->end_ns[v], end);
    }
  }
  for (size_t v = 0; v < n; ++v) {
    if (seen[v]) {
      ++a.matched;
    } else if (ExpectsSample(g, static_cast<int32_t>(v))) {
      if (a.missing++ == 0) a.first_missing = static_cast<int32_t>(v);
    }
  }
  return a;
}

std::string DescribeMissing(const TaskGraph& g, const TimingApplied& applied, int64_t expected) {
  if (applied.missing == 0) return "";
  const Node& node = g.nodes[applied.first_missing];
  const TenantTemplate& t = *g.templates[node.tenant];
  const Task& task = t.trace->tasks[g.Tmpl(node).task];
  return "CUPTI reported no time for " + std::to_string(applied.missing) + " of " +
         std::to_string(expected) + " GPU operations (first: " + t.trace->Name(task) +
         " of tenant " + t.trace->tenant + ", request " + std::to_string(node.request) + ")";
}

}  // namespace cotenant::replay
