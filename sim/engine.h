// The discrete-event engine: runs a TaskGraph with a contention model.
// Events are ordered by (time, sequence), so equal input gives equal output.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "sim/graph.h"
#include "sim/models/contention_model.h"
#include "sim/units.h"

namespace cotenant {

class Engine : private DispatchListener {
 public:
  /// Buffers an engine takes over for its run and hands back when it is
  /// destroyed, so that runs on one thread (search) reuse their memory.
  /// Holds nothing between runs. (Defined below.)
  struct Memory;

  /// `graph`, `spec` and `model` must outlive the engine; so must `memory`
  /// (may be null: the engine allocates its own).
  Engine(const TaskGraph& graph, const GpuSpec& spec, ContentionModel* model,
         Memory* memory = nullptr);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs to completion. Throws InputError when tasks can never run
  /// (a deadlock), naming where the work is stuck.
  void Run();

  /// Called now and then with (tasks done, tasks in all), for progress bars.
  void set_progress(std::function<void(int64_t, int64_t)> f) { progress_ = std::move(f); }

  TimeNs start_ns(int32_t node) const { return st_[node].start; }
  TimeNs end_ns(int32_t node) const { return st_[node].end; }
  int64_t events() const { return events_; }

 private:
  /// kHostStart: a sync starts, or (with host_corun_slowdown > 0) a host
  /// task starts and its duration is decided.
  enum class EventType : uint8_t { kNodeDone, kHostStart, kGateOpen, kQueuePoke };
  struct Event {
    TimeNs time;
    uint64_t seq;
    int32_t target;  ///< node, or queue for kQueuePoke
    EventType type;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  void Push(TimeNs t, EventType type, int32_t target);
  void SwapMemory();  ///< exchanges the buffers below with memory_'s
  void Handle(const Event& e);
  /// A node's static predecessors are all done: start it (host/gate) or issue it (GPU).
  void Activate(int32_t v);
  void Complete(int32_t v);       ///< v ends at now_: release its successors
  void Issue(int32_t v);          ///< GPU node enters its stream (and queue, in stream order)
  void TryStartQueue(int32_t q);  ///< start the head of a hardware queue if it can
  void StartSync(int32_t v);
  /// Host task v starts at now_: decides its duration and schedules its end.
  void StartHost(int32_t v);
  /// `dur_ns` of CPU work (a host task or a thread gap) of `tenant` that
  /// starts now: ceil(dur * (1 + host_corun_slowdown * k)), k = other
  /// tenants with a request in flight. The one rounding of that rule.
  TimeNs HostDuration(TimeNs dur_ns, int32_t tenant) const;
  /// Updates the in-flight counts when a start or end gate of `tenant` completes.
  void CountInFlight(NodeKind gate, int32_t tenant);
  void FinishSync(int32_t v, TimeNs done_at);
  [[noreturn]] void ReportDeadlock() const;

  const TaskGraph& g_;
  const GpuSpec& spec_;
  ContentionModel* model_;
  Memory* memory_;
  /// Pending events, a min-heap by (time, seq) kept with std::push_heap and
  /// std::pop_heap (as std::priority_queue does, on a vector that can be reused).
  std::vector<Event> heap_;
  uint64_t seq_ = 0;
  TimeNs now_ = 0;
  int64_t events_ = 0;
  int64_t done_count_ = 0;

  /// Per-node state and the node's graph fields the engine needs, in one
  /// cache line, so that handling a node touches one line.
  struct NodeState {
    TimeNs ready = 0;          ///< earliest start from finished predecessors
    TimeNs start = -1;         ///< when it started (a kernel: when it first got SMs)
    TimeNs end = -1;           ///< when it ended, -1 = not yet
    int32_t pending = 0;       ///< unfinished predecessors that gate starting/issuing
    int32_t pending_wait = 0;  ///< GPU nodes: unfinished GPU-side waits
    int32_t sync_left = 0;     ///< syncs: GPU tasks still waited for
    int32_t tenant = -1;       ///< copies of the Node fields
    int32_t tmpl = -1;
    int32_t stream = -1;
    int32_t queue = -1;   ///< hardware queue of a GPU node
    int32_t kernel = -1;  ///< kernels: index into the template's kernels
    NodeKind kind = NodeKind::kHost;
    uint8_t issued = 0;
    uint8_t running = 0;
  };
  void OnDispatch(int32_t task, TimeNs now) override { st_[task].start = now; }
  const TemplateNode& Tmpl(const NodeState& s) const {
    return g_.templates[s.tenant]->nodes[s.tmpl];
  }

  std::vector<NodeState> st_;
  std::vector<size_t> next_enqueue_;         ///< per stream: next node to enter its queue
  std::vector<int32_t> last_enqueued_;       ///< per stream: last node that entered its queue
  std::vector<std::vector<int32_t>> queue_;  ///< per hardware queue: FIFO of nodes
  std::vector<size_t> queue_head_;
  std::vector<TimeNs> queue_poke_;                                  ///< pending poke time per queue
  TimeNs copy_free_[2] = {0, 0};                                    ///< copy engines: h2d, d2h
  std::unordered_map<int32_t, std::vector<int32_t>> sync_waiters_;  ///< GPU node -> syncs
  std::vector<int32_t> model_done_;
  /// Host co-run slowdown: per tenant, its requests in flight (start gate
  /// opened, end gate not yet done); and the tenants with at least one.
  /// Every request of a graph has both gates (BuildTaskGraph), so a tenant
  /// without gates has no tasks and is never in flight.
  std::vector<int32_t> requests_in_flight_;
  int32_t tenants_in_flight_ = 0;
  const double host_corun_;  ///< spec_.model.host_corun_slowdown
  std::function<void(int64_t, int64_t)> progress_;
};

struct Engine::Memory {
 private:
  friend class Engine;
  std::vector<NodeState> st;
  std::vector<size_t> next_enqueue;
  std::vector<int32_t> last_enqueued;
  std::vector<std::vector<int32_t>> queue;
  std::vector<size_t> queue_head;
  std::vector<TimeNs> queue_poke;
  std::vector<Event> heap;
  std::vector<int32_t> model_done;
  std::vector<int32_t> requests_in_flight;
};

}  // namespace cotenant
