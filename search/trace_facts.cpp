#include "search/trace_facts.h"

#include <algorithm>
#include <set>

#include "sim/error.h"
#include "sim/template.h"

namespace cotenant::search {

std::vector<TimeNs> OperatorTimes(const Trace& trace, const GpuSpec& spec) {
  // The operator numbering of BuildTemplate: kernels in issue order (their
  // launch's start, else their own; ties by template order), a new operator
  // at each change of label (unlabelled kernels are one operator each).
  const TenantTemplate t = BuildTemplate(trace, spec, {}, "", "");
  std::vector<TimeNs> issue(t.nodes.size(), -1);
  for (const TemplateEdge& e : t.edges) {
    if (e.kind == EdgeKind::kLaunch) issue[e.to] = trace.tasks[t.nodes[e.from].task].start_ns;
  }
  std::vector<int32_t> kernels;
  for (int32_t v = 0; v < static_cast<int32_t>(t.nodes.size()); ++v) {
    if (issue[v] < 0) issue[v] = trace.tasks[t.nodes[v].task].start_ns;
    if (t.nodes[v].kind == NodeKind::kKernel) kernels.push_back(v);
  }
  std::sort(kernels.begin(), kernels.end(), [&](int32_t a, int32_t b) {
    return issue[a] != issue[b] ? issue[a] < issue[b] : a < b;
  });
  std::vector<TimeNs> ops;
  int32_t prev = -2;
  for (int32_t v : kernels) {
    const int32_t label = trace.tasks[t.nodes[v].task].op;
    if (label < 0 || label != prev) ops.push_back(0);
    prev = label;
    ops.back() += t.nodes[v].dur_ns;
  }
  COTENANT_CHECK(static_cast<int32_t>(ops.size()) == t.operators);
  return ops;
}

int64_t StreamCount(const Trace& trace) {
  std::set<int64_t> ids;
  for (const Task& task : trace.tasks)
    if (task.stream != kAbsent) ids.insert(task.stream);
  return static_cast<int64_t>(ids.size());
}

int64_t TraceBatch(const Trace& trace) {
  const nlohmann::json& meta = trace.meta;
  if (meta.is_object() && meta.contains("batch") && meta["batch"].is_number_integer())
    return meta["batch"].get<int64_t>();
  return -1;
}

}  // namespace cotenant::search
