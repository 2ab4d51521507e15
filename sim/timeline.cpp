#include "sim/timeline.h"

#include <algorithm>
#include <vector>

namespace cotenant {

void AppendTimeline(const TaskGraph& g, const std::function<TimeNs(int32_t)>& start_of,
                    const std::function<TimeNs(int32_t)>& end_of, SimResult* result) {
  std::vector<int32_t> offset;
  for (const TenantTemplate* t : g.templates) {
    offset.push_back(static_cast<int32_t>(result->strings.size()));
    result->strings.insert(result->strings.end(), t->trace->strings.begin(),
                           t->trace->strings.end());
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int32_t v = static_cast<int32_t>(i);
    const Node& n = g.nodes[i];
    if (n.tmpl < 0 || n.kind == NodeKind::kMarker) continue;
    const TimeNs start = start_of(v);
    if (start < 0) continue;
    const TenantTemplate& t = *g.templates[n.tenant];
    const TemplateNode& tn = t.nodes[n.tmpl];
    const Task& task = t.trace->tasks[tn.task];
    TimelineEntry e;
    e.tenant = n.tenant;
    e.request = n.request;
    e.sub_batch = n.sub_batch;
    e.task = tn.task;
    e.name = task.name >= 0 ? offset[n.tenant] + task.name : -1;
    e.op = task.op >= 0 ? offset[n.tenant] + task.op : -1;
    e.kind = static_cast<uint8_t>(task.kind);
    e.gpu = n.kind == NodeKind::kKernel || n.kind == NodeKind::kCopy || n.kind == NodeKind::kFixed;
    e.track = e.gpu ? task.stream : task.thread;
    e.start_ns = start;
    e.end_ns = std::max(start, end_of(v));
    result->timeline.push_back(e);
  }
}

}  // namespace cotenant
