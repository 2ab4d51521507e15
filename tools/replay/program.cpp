#include "tools/replay/program.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "sim/error.h"

namespace cotenant::replay {
namespace {

bool IsVirtual(NodeKind k) {
  return k == NodeKind::kStartGate || k == NodeKind::kEndGate || k == NodeKind::kBarrier;
}
bool IsHostNode(NodeKind k) { return k == NodeKind::kHost || k == NodeKind::kSync; }

/// The dependencies a gate or barrier stands for: per stream (GPU nodes) or
/// per host thread (host nodes), the latest node; plus the latest release time.
struct DepSet {
  std::map<int64_t, int32_t> latest;  ///< key: (gpu << 32) | track -> node
  TimeNs release_ns = 0;
};

class ProgramBuilder {
 public:
  explicit ProgramBuilder(const TaskGraph& g) : g_(g), n_(static_cast<int32_t>(g.nodes.size())) {}

  ReplayProgram Build() {
    topo_pos_.assign(n_, 0);
    for (size_t i = 0; i < g_.topo.size(); ++i) topo_pos_[g_.topo[i]] = static_cast<int32_t>(i);
    stream_pos_.assign(n_, -1);
    for (const auto& order : g_.stream_nodes)
      for (size_t i = 0; i < order.size(); ++i) stream_pos_[order[i]] = static_cast<int32_t>(i);
    in_.resize(n_);
    for (uint32_t v = 0; v < static_cast<uint32_t>(n_); ++v) {
      for (auto e : boost::make_iterator_range(boost::out_edges(v, g_.graph))) {
        const EdgeKind kind = g_.graph[e].kind;
        if (kind == EdgeKind::kStream) continue;  // the stream itself keeps this order
        in_[boost::target(e, g_.graph)].push_back({static_cast<int32_t>(v), kind});
      }
    }
    Place();
    Resolve();
    return std::move(p_);
  }

 private:
  struct InEdge {
    int32_t from;
    EdgeKind kind;
  };

  void AddOp(int32_t thread, OpKind kind, int32_t v) {
    Op op;
    op.kind = kind;
    op.node = v;
    p_.owner[v] = thread;
    p_.position[v] = static_cast<int32_t>(p_.threads[thread].ops.size());
    p_.threads[thread].ops.push_back(std::move(op));
  }

  /// Host nodes on their threads in topological order, each followed by the
  /// GPU nodes it launches; unlaunched GPU nodes on per-tenant issuer threads.
  void Place() {
    p_.owner.assign(n_, -1);
    p_.position.assign(n_, -1);
    p_.signalled.assign(n_, 0);
    p_.threads.resize(g_.thread_count);
    for (int32_t t = 0; t < g_.thread_count; ++t) p_.threads[t].graph_thread = t;
    std::vector<uint8_t> launched(n_, 0);
    std::vector<int32_t> gpu;
    for (int32_t v : g_.topo) {
      const Node& node = g_.nodes[v];
      if (!IsHostNode(node.kind)) continue;
      COTENANT_CHECK(node.thread >= 0 && node.thread < g_.thread_count);
      p_.threads[node.thread].tenant = node.tenant;
      AddOp(node.thread, node.kind == NodeKind::kSync ? OpKind::kSync : OpKind::kHost, v);
      gpu.clear();
      for (auto e :
           boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(v), g_.graph))) {
        const int32_t w = static_cast<int32_t>(boost::target(e, g_.graph));
        if (g_.graph[e].kind == EdgeKind::kLaunch && IsGpuNode(g_.nodes[w].kind)) gpu.push_back(w);
      }
      std::sort(gpu.begin(), gpu.end(),
                [&](int32_t a, int32_t b) { return topo_pos_[a] < topo_pos_[b]; });
      for (int32_t w : gpu) {
        if (launched[w]) continue;
        launched[w] = 1;
        AddOp(node.thread, OpKind::kGpu, w);
      }
    }
    std::map<int32_t, int32_t> issuer;  // tenant -> thread
    for (int32_t v : g_.topo) {
      const Node& node = g_.nodes[v];
      if (!IsGpuNode(node.kind) || launched[v]) continue;
      auto [it, fresh] = issuer.emplace(node.tenant, static_cast<int32_t>(p_.threads.size()));
      if (fresh) {
        ThreadProgram t;
        t.tenant = node.tenant;
        p_.threads.push_back(std::move(t));
      }
      AddOp(it->second, OpKind::kGpu, v);
    }
  }

  /// Adds real node u to `set`, keeping the latest per stream / thread.
  void Add(DepSet* set, int32_t u) const {
    const Node& node = g_.nodes[u];
    const bool gpu = IsGpuNode(node.kind);
    const int64_t track = gpu ? node.stream : p_.owner[u];
    const int64_t key = (static_cast<int64_t>(gpu) << 32) | track;
    auto [it, fresh] = set->latest.emplace(key, u);
    if (!fresh && Later(u, it->second)) it->second = u;
  }

  /// True when u comes after w on their common stream or thread.
  bool Later(int32_t u, int32_t w) const {
    if (IsGpuNode(g_.nodes[u].kind)) return stream_pos_[u] > stream_pos_[w];
    return p_.position[u] > p_.position[w];
  }

  void Merge(DepSet* into, const DepSet& from) const {
    into->release_ns = std::max(into->release_ns, from.release_ns);
    for (const auto& [key, u] : from.latest) Add(into, u);
  }

  /// The dependencies of node v through its in-edges (launch edges excluded:
  /// the op's place after its launcher stands for them).
  DepSet Gather(int32_t v) const {
    DepSet set;
    if (g_.nodes[v].kind == NodeKind::kStartGate) set.release_ns = g_.release_ns[v];
    for (const InEdge& e : in_[v]) {
      if (e.kind == EdgeKind::kLaunch) continue;
      if (IsVirtual(g_.nodes[e.from].kind)) {
        Merge(&set, resolved_.at(e.from));
      } else {
        Add(&set, e.from);
      }
    }
    return set;
  }

  void Resolve() {
    for (int32_t v : g_.topo) {
      if (IsVirtual(g_.nodes[v].kind)) resolved_[v] = Gather(v);
    }
    // What earlier ops already waited for: per thread (host ops) and per
    // stream (GPU ops, with the stream position of the op that waited).
    std::vector<std::map<int64_t, int32_t>> thread_waited(p_.threads.size());
    std::vector<std::map<int64_t, std::pair<int32_t, int32_t>>> stream_waited(
        g_.stream_nodes.size());
    for (ThreadProgram& t : p_.threads) {
      const int32_t thread = static_cast<int32_t>(&t - p_.threads.data());
      for (Op& op : t.ops) {
        const int32_t v = op.node;
        const DepSet set = Gather(v);
        op.release_ns = set.release_ns;
        const bool gpu_op = op.kind == OpKind::kGpu;
        for (const auto& [key, u] : set.latest) {
          const bool gpu_dep = IsGpuNode(g_.nodes[u].kind);
          if (p_.owner[u] == thread && p_.position[u] > p_.position[v]) {
            throw InputError("replay: " + g_.Describe(v) + " depends on " + g_.Describe(u) +
                             ", which its host thread issues later; the GPU cannot wait for "
                             "work not yet enqueued");
          }
          // Covered by a wait of an earlier op (of this thread, or of this
          // op's stream earlier in stream order) on the same or a later node?
          if (gpu_op) {
            auto& waited = stream_waited[g_.nodes[v].stream];
            auto it = waited.find(key);
            if (it != waited.end() && it->second.second < stream_pos_[v] &&
                !Later(u, it->second.first))
              continue;
            waited[key] = {u, stream_pos_[v]};
          } else {
            auto it = thread_waited[thread].find(key);
            if (it != thread_waited[thread].end() && !Later(u, it->second)) continue;
            thread_waited[thread][key] = u;
          }
          if (gpu_dep) {
            // Stream order already covers an earlier node of the op's own stream.
            if (gpu_op && g_.nodes[u].stream == g_.nodes[v].stream) continue;
            op.gpu_waits.push_back(u);
            ++p_.gpu_waits;
          } else {
            if (p_.owner[u] == thread) continue;  // program order covers it
            op.host_waits.push_back(u);
            ++p_.host_waits;
          }
          p_.signalled[u] = 1;
        }
        // Event syncs block on their record marker's event.
        if (op.kind == OpKind::kSync) {
          const TemplateNode& tn = g_.Tmpl(g_.nodes[v]);
          if (static_cast<SyncScope>(tn.sync_scope) == SyncScope::kEvent && tn.target >= 0)
            p_.signalled[v - g_.nodes[v].tmpl + tn.target] = 1;
        }
      }
    }
  }

  const TaskGraph& g_;
  const int32_t n_;
  ReplayProgram p_;
  std::vector<int32_t> topo_pos_, stream_pos_;
  std::vector<std::vector<InEdge>> in_;
  std::map<int32_t, DepSet> resolved_;
};

}  // namespace

ReplayProgram BuildReplayProgram(const TaskGraph& g) {
  ReplayProgram p = ProgramBuilder(g).Build();
  // Side streams for kernels with a what-if priority or SM cap of their own.
  p.side_stream_of.assign(g.nodes.size(), -1);
  std::map<std::tuple<int32_t, int32_t, int32_t>, int32_t> index;
  for (size_t v = 0; v < g.nodes.size(); ++v) {
    const Node& node = g.nodes[v];
    if (node.kind != NodeKind::kKernel) continue;
    const KernelLaunch& k = g.kernels[node.tenant][g.Tmpl(node).kernel];
    if (k.priority == g.tenant_priority[node.tenant] &&
        k.partition == g.tenant_partition[node.tenant]) {
      continue;
    }
    const auto key = std::make_tuple(node.stream, k.priority, k.partition);
    auto [it, fresh] = index.emplace(key, static_cast<int32_t>(p.side_streams.size()));
    if (fresh) p.side_streams.push_back({node.stream, k.priority, k.partition});
    p.side_stream_of[v] = it->second;
  }
  return p;
}

std::vector<ThreadSummary> SummarizeProgram(const TaskGraph& g, const ReplayProgram& p) {
  std::vector<ThreadSummary> out;
  for (const ThreadProgram& t : p.threads) {
    ThreadSummary row;
    row.tenant = t.tenant >= 0 ? g.templates[t.tenant]->name : "?";
    row.issuer = t.graph_thread < 0;
    for (const Op& op : t.ops) {
      row.host_calls += op.kind == OpKind::kHost;
      row.gpu_tasks += op.kind == OpKind::kGpu;
      row.syncs += op.kind == OpKind::kSync;
      row.waits += static_cast<int64_t>(op.host_waits.size() + op.gpu_waits.size());
      if (op.kind == OpKind::kGpu && g.nodes[op.node].kind == NodeKind::kKernel)
        row.side_launches += p.side_stream_of.empty() ? 0 : p.side_stream_of[op.node] >= 0;
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace cotenant::replay
