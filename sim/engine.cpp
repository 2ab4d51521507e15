#include "sim/engine.h"

#include <algorithm>

#include "sim/error.h"

namespace cotenant {

Engine::Engine(const TaskGraph& graph, const GpuSpec& spec, ContentionModel* model, Memory* memory)
    : g_(graph),
      spec_(spec),
      model_(model),
      memory_(memory),
      host_corun_(spec.model.host_corun_slowdown) {
  if (memory_ != nullptr) SwapMemory();  // (every buffer is assigned or cleared below)
  const size_t n = g_.nodes.size();
  st_.resize(n);
  for (size_t v = 0; v < n; ++v) {
    const Node& node = g_.nodes[v];
    NodeState s;  // (whole: written once, over what an earlier run left)
    s.tenant = node.tenant;
    s.tmpl = node.tmpl;
    s.stream = node.stream;
    s.kind = node.kind;
    if (node.stream >= 0) s.queue = g_.streams[node.stream].queue;
    if (node.kind == NodeKind::kKernel) s.kernel = g_.Tmpl(node).kernel;
    st_[v] = s;
  }
  for (uint32_t v = 0; v < n; ++v) {
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g_.graph))) {
      const uint32_t w = boost::target(e, g_.graph);
      const EdgeKind kind = g_.graph[e].kind;
      if (kind == EdgeKind::kStream) continue;  // enforced by the queues
      if (kind == EdgeKind::kWait && IsGpuNode(st_[w].kind)) {
        ++st_[w].pending_wait;
      } else {
        ++st_[w].pending;
      }
    }
  }
  next_enqueue_.assign(g_.stream_nodes.size(), 0);
  last_enqueued_.assign(g_.stream_nodes.size(), -1);
  queue_.resize(g_.queue_count);
  for (std::vector<int32_t>& q : queue_) q.clear();
  queue_head_.assign(g_.queue_count, 0);
  queue_poke_.assign(g_.queue_count, kNever);
  heap_.clear();
  model_done_.clear();
  requests_in_flight_.assign(g_.templates.size(), 0);
  model_->set_dispatch_listener(this);
}

Engine::~Engine() {
  if (memory_ != nullptr) SwapMemory();
}

void Engine::SwapMemory() {
  st_.swap(memory_->st);
  next_enqueue_.swap(memory_->next_enqueue);
  last_enqueued_.swap(memory_->last_enqueued);
  queue_.swap(memory_->queue);
  queue_head_.swap(memory_->queue_head);
  queue_poke_.swap(memory_->queue_poke);
  heap_.swap(memory_->heap);
  model_done_.swap(memory_->model_done);
  requests_in_flight_.swap(memory_->requests_in_flight);
}

void Engine::Push(TimeNs t, EventType type, int32_t target) {
  COTENANT_CHECK(t >= now_);
  heap_.push_back(Event{t, seq_++, target, type});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>());
}

void Engine::Run() {
  const int32_t n = static_cast<int32_t>(g_.nodes.size());
  for (int32_t v = 0; v < n; ++v) {
    if (st_[v].pending == 0) Activate(v);
  }
  while (true) {
    const TimeNs t_model = model_->NextEventTime();
    const TimeNs t_heap = heap_.empty() ? kNever : heap_.front().time;
    const TimeNs t = std::min(t_model, t_heap);
    if (t == kNever) break;
    COTENANT_CHECK_MSG(t >= now_, "engine: the clock went backwards");
    now_ = t;
    model_done_.clear();
    model_->AdvanceTo(t, &model_done_);
    for (int32_t v : model_done_) {
      ++events_;
      Complete(v);
    }
    while (!heap_.empty() && heap_.front().time == t) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Event>());
      const Event e = heap_.back();
      heap_.pop_back();
      ++events_;
      Handle(e);
    }
  }
  if (done_count_ != n) ReportDeadlock();
}

void Engine::Handle(const Event& e) {
  switch (e.type) {
    case EventType::kNodeDone:
      Complete(e.target);
      break;
    case EventType::kHostStart:
      if (st_[e.target].kind == NodeKind::kSync) {
        StartSync(e.target);
      } else {
        StartHost(e.target);
      }
      break;
    case EventType::kGateOpen:
      st_[e.target].start = now_;
      Complete(e.target);
      break;
    case EventType::kQueuePoke:
      queue_poke_[e.target] = kNever;
      TryStartQueue(e.target);
      break;
  }
}

void Engine::Activate(int32_t v) {
  const NodeState& node = st_[v];
  if (IsGpuNode(node.kind)) {  // (first: half the nodes; a test predicts better than the switch)
    Issue(v);
    return;
  }
  // Host nodes of a serving chain may carry a release time (0 elsewhere).
  const TimeNs at = std::max(std::max(st_[v].ready, now_), g_.release_ns[v]);
  switch (node.kind) {
    case NodeKind::kHost:
      st_[v].start = at;
      if (host_corun_ > 0.0) {
        // Its duration depends on who is in flight when it starts: decided
        // then, after the gates that open at that time (queued before it).
        Push(at, EventType::kHostStart, v);
      } else {
        Push(at + Tmpl(node).dur_ns, EventType::kNodeDone, v);
      }
      break;
    case NodeKind::kSync:
      Push(at, EventType::kHostStart, v);
      break;
    case NodeKind::kStartGate:
      Push(std::max(at, g_.release_ns[v]), EventType::kGateOpen, v);
      break;
    case NodeKind::kEndGate:
    case NodeKind::kBarrier:
      st_[v].start = at;
      Push(at, EventType::kNodeDone, v);
      break;
    case NodeKind::kKernel:
    case NodeKind::kCopy:
    case NodeKind::kFixed:
    case NodeKind::kMarker:
      Issue(v);
      break;
  }
}

void Engine::Issue(int32_t v) {
  st_[v].issued = 1;
  const int32_t s = st_[v].stream;
  const std::vector<int32_t>& order = g_.stream_nodes[s];
  const int32_t q = st_[v].queue;
  bool grew = false;
  while (next_enqueue_[s] < order.size() && st_[order[next_enqueue_[s]]].issued) {
    const int32_t w = order[next_enqueue_[s]++];
    queue_[q].push_back(w);
    last_enqueued_[s] = w;
    grew = true;
  }
  if (grew) TryStartQueue(q);
}

void Engine::TryStartQueue(int32_t q) {
  // A task starts only when every earlier task in its hardware queue has ended.
  if (queue_head_[q] >= queue_[q].size()) return;
  const int32_t v = queue_[q][queue_head_[q]];
  if (st_[v].running || st_[v].pending_wait > 0) return;
  if (st_[v].ready > now_) {
    if (queue_poke_[q] > st_[v].ready) {
      queue_poke_[q] = st_[v].ready;
      Push(st_[v].ready, EventType::kQueuePoke, q);
    }
    return;
  }
  st_[v].running = 1;
  st_[v].start = now_;
  const NodeState& node = st_[v];
  if (node.kind == NodeKind::kKernel) {  // (no template node: one cache line less per kernel)
    KernelLaunch k = g_.kernels[node.tenant][node.kernel];
    k.task = v;
    model_->Start(k, now_);
    return;
  }
  const TemplateNode& tn = Tmpl(node);
  switch (node.kind) {
    case NodeKind::kCopy: {
      // One copy engine per direction: copies of one direction run one at a time.
      TimeNs& free_at = copy_free_[tn.copy_dir == static_cast<uint8_t>(CopyDir::kH2D) ? 0 : 1];
      st_[v].start = std::max(now_, free_at);
      free_at = st_[v].start + tn.dur_ns;
      Push(free_at, EventType::kNodeDone, v);
      break;
    }
    case NodeKind::kFixed:
      Push(now_ + tn.dur_ns, EventType::kNodeDone, v);
      break;
    case NodeKind::kMarker:
      Push(now_, EventType::kNodeDone, v);
      break;
    default:
      COTENANT_CHECK_MSG(false, "non-GPU node in a hardware queue");
  }
}

void Engine::StartSync(int32_t v) {
  st_[v].start = now_;
  const NodeState& node = st_[v];
  const TemplateNode& tn = Tmpl(node);
  // A sync waits for the last GPU task issued before it on its scope: decided
  // now, since the schedule decides which task that is.
  auto wait_for = [&](int32_t target) {
    if (target < 0 || st_[target].end >= 0) return;
    sync_waiters_[target].push_back(v);
    ++st_[v].sync_left;
  };
  switch (static_cast<SyncScope>(tn.sync_scope)) {
    case SyncScope::kStream:
      wait_for(last_enqueued_[node.stream]);
      break;
    case SyncScope::kDevice: {
      // The tenant's context: every stream of the tenant.
      const int32_t first = g_.tenant_first_stream[node.tenant];
      for (int32_t s = first; s < first + g_.tenant_stream_count[node.tenant]; ++s)
        wait_for(last_enqueued_[s]);
      break;
    }
    case SyncScope::kEvent:
      wait_for(v - node.tmpl + tn.target);
      break;
    case SyncScope::kNone:
      break;
  }
  if (st_[v].sync_left == 0) FinishSync(v, now_);
}

void Engine::StartHost(int32_t v) {
  const NodeState& node = st_[v];
  Push(now_ + HostDuration(Tmpl(node).dur_ns, node.tenant), EventType::kNodeDone, v);
}

TimeNs Engine::HostDuration(TimeNs dur_ns, int32_t tenant) const {
  if (host_corun_ == 0.0) return dur_ns;
  const int32_t others = tenants_in_flight_ - (requests_in_flight_[tenant] > 0 ? 1 : 0);
  if (others <= 0) return dur_ns;
  // dur_ns of work at rate 1 / (1 + s*k): ceil(dur * (1 + s*k)), floating dust forgiven.
  return DurationFromWork(static_cast<double>(dur_ns),
                          1.0 / (1.0 + host_corun_ * static_cast<double>(others)));
}

void Engine::CountInFlight(NodeKind gate, int32_t tenant) {
  int32_t& n = requests_in_flight_[tenant];
  if (gate == NodeKind::kStartGate) {
    if (n++ == 0) ++tenants_in_flight_;
  } else if (--n == 0) {
    --tenants_in_flight_;
  }
}

void Engine::FinishSync(int32_t v, TimeNs done_at) {
  const TemplateNode& tn = Tmpl(st_[v]);
  // The call returns sync_latency after the GPU work ends (never more than it took in the trace).
  const TimeNs cost = std::min(tn.dur_ns, spec_.model.sync_latency_ns);
  Push(std::max(done_at, now_) + cost, EventType::kNodeDone, v);
}

void Engine::Complete(int32_t v) {
  st_[v].end = now_;
  ++done_count_;
  if ((done_count_ & 0xFFFF) == 0 && progress_)
    progress_(done_count_, static_cast<int64_t>(g_.nodes.size()));
  const NodeState& node = st_[v];
  if (node.kind == NodeKind::kStartGate || node.kind == NodeKind::kEndGate) {
    CountInFlight(node.kind, node.tenant);
  }
  if (IsGpuNode(node.kind)) {
    const int32_t q = node.queue;
    COTENANT_CHECK(queue_[q][queue_head_[q]] == v);
    st_[v].running = 0;
    ++queue_head_[q];
    if (!sync_waiters_.empty()) {
      auto it = sync_waiters_.find(v);
      if (it != sync_waiters_.end()) {
        for (int32_t s : it->second)
          if (--st_[s].sync_left == 0) FinishSync(s, now_);
        sync_waiters_.erase(it);
      }
    }
  }
  for (auto e : boost::make_iterator_range(boost::out_edges(static_cast<uint32_t>(v), g_.graph))) {
    const int32_t w = static_cast<int32_t>(boost::target(e, g_.graph));
    const EdgeKind kind = g_.graph[e].kind;
    if (kind == EdgeKind::kStream) continue;
    TimeNs delay = 0;
    if (kind == EdgeKind::kThread) {
      delay = HostDuration(Tmpl(st_[w]).gap_ns, st_[w].tenant);  // (CPU time: starts now)
    } else if (kind == EdgeKind::kLaunch) {
      delay = spec_.model.launch_latency_ns;
    }
    st_[w].ready = std::max(st_[w].ready, now_ + delay);
    if (kind == EdgeKind::kWait && IsGpuNode(st_[w].kind)) {
      if (--st_[w].pending_wait == 0 && st_[w].issued) TryStartQueue(st_[w].queue);
    } else if (--st_[w].pending == 0) {
      Activate(w);
    }
  }
  if (IsGpuNode(node.kind)) TryStartQueue(node.queue);
}

void Engine::ReportDeadlock() const {
  std::string where;
  int stuck = 0;
  for (size_t q = 0; q < queue_.size() && stuck < 3; ++q) {
    if (queue_head_[q] >= queue_[q].size()) continue;
    const int32_t v = queue_[q][queue_head_[q]];
    where += (stuck ? "; " : "") + g_.Describe(v) + " waits at the head of hardware queue " +
             std::to_string(q);
    ++stuck;
  }
  if (stuck == 0) {
    for (size_t v = 0; v < g_.nodes.size(); ++v) {
      if (st_[v].end < 0 && st_[v].kind == NodeKind::kSync && st_[v].start >= 0) {
        where = g_.Describe(static_cast<int32_t>(v)) + " waits for GPU work that never ends";
        break;
      }
    }
  }
  const int64_t left = static_cast<int64_t>(g_.nodes.size()) - done_count_;
  throw InputError("workload deadlocks: " + std::to_string(left) + " tasks never run" +
                   (where.empty() ? "" : " (" + where + ")") +
                   "; streams sharing a hardware queue may wait on each other: try a larger "
                   "max_connections");
}

}  // namespace cotenant
