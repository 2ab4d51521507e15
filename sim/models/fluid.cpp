#include "sim/models/fluid.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>

#include "sim/error.h"
#include "sim/occupancy.h"

namespace cotenant {

FluidShape ComputeFluidShape(const GpuSpec& spec, const KernelLaunch& k, int32_t cap_sms) {
  FluidShape s;
  const double cap = static_cast<double>(cap_sms);
  // No launch shape: it fills the whole GPU, one whole-SM block per SM.
  const int64_t blocks = k.blocks > 0 ? k.blocks : spec.sm_count;
  const int32_t b = k.blocks <= 0 ? 1
                    : k.blocks_per_sm > 0
                        ? k.blocks_per_sm
                        : ComputeOccupancy(spec, k.threads_per_block, k.regs, k.smem).blocks_per_sm;
  s.blocks_per_sm = std::max(1, b);
  const int64_t slots_full = int64_t{s.blocks_per_sm} * spec.sm_count;
  const int64_t slots_cap = int64_t{s.blocks_per_sm} * cap_sms;
  s.waves_full = (blocks + slots_full - 1) / slots_full;
  s.waves_cap = (blocks + slots_cap - 1) / slots_cap;
  s.wave_ns = static_cast<double>(k.dur_ns) / static_cast<double>(s.waves_full);
  s.full_sms = std::min(cap, static_cast<double>(blocks) / s.blocks_per_sm);
  s.last_sms = static_cast<double>(blocks - (s.waves_cap - 1) * slots_cap) / s.blocks_per_sm;
  // waves_cap == waves_full on the whole GPU, so total_ns is exactly dur_ns there.
  s.total_ns = static_cast<double>(k.dur_ns) * static_cast<double>(s.waves_cap) /
               static_cast<double>(s.waves_full);
  return s;
}

double KernelSmWork(const GpuSpec& spec, const KernelLaunch& k) {
  const FluidShape s = ComputeFluidShape(spec, k, spec.sm_count);
  return static_cast<double>(s.waves_cap - 1) * s.wave_ns * s.full_sms + s.wave_ns * s.last_sms;
}

namespace {

constexpr double kEps = 1e-6;  // ns of progress (or SMs) treated as zero

/// State is kept per kernel as "remaining work as of at_ns" and a rate, so an
/// event touches only the kernels whose rate changes. Two ways to recompute
/// shares, with the same rules:
///  - incremental (one SM set, one priority among running kernels, no co-run
///    interference): released SMs go to the waiting kernels in dispatch
///    order; only kernels whose share or speed changes are updated;
///  - full (partitions, mixed priorities, interference): every share is
///    recomputed in dispatch order, with wave-boundary wake-ups for starved
///    higher-priority kernels.
class FluidModel final : public ContentionModel {
 public:
  FluidModel(const GpuSpec& spec, const SmPartitions& partitions, bool incremental)
      : spec_(spec), incremental_(incremental) {
    int32_t used = 0;
    for (int32_t c : partitions.sm_counts) used += c;
    COTENANT_CHECK(used <= spec.sm_count);
    capacity_.push_back(spec.sm_count - used);  // set 0: SMs outside every partition
    for (int32_t c : partitions.sm_counts) capacity_.push_back(c);
    free0_ = capacity_[0];
    peak_ = spec.EffectiveDramBytesPerNs();
  }

  const char* Name() const override { return "fluid"; }

  void Start(const KernelLaunch& k, TimeNs now) override {
    Accumulate(now);
    int32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<int32_t>(pool_.size());
      pool_.emplace_back();
      wake_.push_back(kNever);
    }
    Active& r = pool_[slot];
    r = Active{};
    r.in = k;
    r.seq = next_seq_++;
    const int32_t cap =
        k.partition >= 0 ? static_cast<int32_t>(capacity_[k.partition + 1]) : spec_.sm_count;
    COTENANT_CHECK(cap > 0);
    r.shape = Shape(k, cap);
    r.remaining = r.shape.total_ns;
    r.at_ns = now;
    r.phase = r.remaining <= r.shape.wave_ns + kEps ? 2 : 1;
    if (capacity_.size() > 1) r.held_by.assign(capacity_.size(), 0.0);
    auto pos = std::upper_bound(order_.begin(), order_.end(), slot,
                                [&](int32_t a, int32_t b) { return Before(a, b); });
    order_.insert(pos, slot);
    wake_[slot] = kNever;
    ++priority_count_[k.priority];
    Touch(slot);
    dirty_ = true;
  }

  TimeNs NextEventTime() override {
    if (dirty_) Recompute();
    return next_event_;
  }

  void AdvanceTo(TimeNs now, std::vector<int32_t>* done) override {
    COTENANT_CHECK_MSG(now >= now_, "fluid model: time went backwards");
    if (NextEventTime() > now) return;  // nothing inside the model changes before then
    Accumulate(now);
    due_.clear();
    for (int32_t slot : order_) {
      if (wake_[slot] <= now) due_.push_back(slot);
    }
    std::sort(due_.begin(), due_.end(), [&](int32_t a, int32_t b) { return Before(a, b); });
    bool removed = false;
    for (int32_t slot : due_) {
      Active& r = pool_[slot];
      BringTo(r, now);
      if (r.remaining <= kEps) {
        done->push_back(r.in.task);
        ++stats_.kernels;
        Release(r, r.held);
        r.alive = false;
        if (--priority_count_[r.in.priority] == 0) priority_count_.erase(r.in.priority);
        free_slots_.push_back(slot);
        removed = true;
        continue;
      }
      if (r.phase == 1 && r.remaining <= r.shape.wave_ns + kEps) r.phase = 2;
      Touch(slot);  // a phase change or a wave boundary
    }
    if (removed) {
      order_.erase(
          std::remove_if(order_.begin(), order_.end(), [&](int32_t s) { return !pool_[s].alive; }),
          order_.end());
      waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                    [&](int32_t s) { return !pool_[s].alive; }),
                     waiting_.end());
    }
    dirty_ = true;
  }

  ModelStats Stats() const override { return stats_; }
  int64_t Running() const override { return static_cast<int64_t>(order_.size()); }

 private:
  struct Active {
    KernelLaunch in;
    FluidShape shape;
    int64_t seq = 0;
    double remaining = 0.0;  ///< time left at full allocation, ns, as of at_ns
    TimeNs at_ns = 0;
    double iso_done = 0.0;        ///< isolated time its blocks have run, as of at_ns
    int phase = 1;                ///< 1: full waves; 2: the last wave
    double held = 0.0;            ///< SMs held
    double next_held = 0.0;       ///< SMs it will hold after the share being computed
    double dram = 0.0;            ///< its DRAM demand at its current share, bytes/ns
    std::vector<double> held_by;  ///< SMs held per SM set (only with partitions)
    double speed = 1.0;           ///< DRAM/co-run slowdown factor of its blocks
    double rate = 0.0;            ///< progress of `remaining` per ns
    TimeNs event_ns = kNever;     ///< its next phase change or end at the current rate
    TimeNs boundary_ns = kNever;  ///< when its blocks in flight end (only when asked)
    bool alive = true;
    bool dispatched = false;  ///< has held SMs at some point
    bool touched = false;     ///< in touched_: share or rate must be recomputed
    bool waiting = false;     ///< in waiting_
    double Demand() const { return phase == 1 ? shape.full_sms : shape.last_sms; }
  };
  /// The kernel's shape, cached per KernelLaunch::key.
  const FluidShape& Shape(const KernelLaunch& k, int32_t cap) {
    if (k.key < 0) {
      scratch_shape_ = ComputeFluidShape(spec_, k, cap);
      return scratch_shape_;
    }
    const size_t i = static_cast<size_t>(k.key);
    if (i >= shapes_.size()) shapes_.resize(i + 1);
    if (shapes_[i].blocks_per_sm == 0) shapes_[i] = ComputeFluidShape(spec_, k, cap);
    return shapes_[i];
  }

  /// Dispatch order: priority, then start order.
  bool Before(int32_t a, int32_t b) const {
    const Active& x = pool_[a];
    const Active& y = pool_[b];
    return x.in.priority != y.in.priority ? x.in.priority < y.in.priority : x.seq < y.seq;
  }

  void Touch(int32_t slot) {
    Active& r = pool_[slot];
    if (r.touched) return;
    r.touched = true;
    touched_.push_back(slot);
  }

  static void BringTo(Active& r, TimeNs now) {
    const double d = static_cast<double>(now - r.at_ns);
    if (d > 0.0) {
      r.remaining -= r.rate * d;
      if (r.held > 0.0) r.iso_done += r.speed * d;
    }
    r.at_ns = now;
  }

  /// Gives back `sms` of r's share (set 0 only; the full path owns held_by).
  void Release(Active& r, double sms) {
    if (sms <= 0.0) return;
    r.held -= sms;
    free0_ += sms;
    total_held_ -= sms;
    SetDram(r);
  }

  /// Updates r's DRAM demand and the total after its share changed.
  void SetDram(Active& r) {
    const double c = r.shape.full_sms > 0.0
                         ? r.in.dram_bytes_per_ns * std::min(1.0, r.held / r.shape.full_sms)
                         : 0.0;
    dram_demand_ += c - r.dram;
    r.dram = c;
  }

  /// Integrates the statistics up to `now` (the state is constant between events).
  void Accumulate(TimeNs now) {
    COTENANT_CHECK_MSG(now >= now_, "fluid model: time went backwards");
    const TimeNs dt = now - now_;
    if (dt > 0 && total_held_ > kEps) {
      stats_.busy_ns += dt;
      stats_.sm_ns += total_held_ * static_cast<double>(dt);
      stats_.dram_ns += DramRatio() * static_cast<double>(dt);
    }
    now_ = now;
  }

  double DramRatio() const { return peak_ > 0.0 ? std::min(1.0, dram_demand_ / peak_) : 0.0; }
  double DramFactor() const { return peak_ > 0.0 ? std::max(1.0, dram_demand_ / peak_) : 1.0; }

  /// Sets r's speed and rate for DRAM factor m, schedules its next event.
  void SetRate(Active& r, double m, double speed_corun) {
    const double mb = r.in.mem_bound;
    r.speed = 1.0 / ((1.0 - mb) * speed_corun + mb * m);
    const double d = r.Demand();
    r.rate = r.speed * (d > 0.0 ? std::min(1.0, r.held / d) : 1.0);
    const double target = r.phase == 1 ? r.remaining - r.shape.wave_ns : r.remaining;
    if (target <= kEps) {
      r.event_ns = r.at_ns;
    } else {
      const TimeNs dt = DurationFromWork(target, r.rate);
      r.event_ns = dt == kNever ? kNever : r.at_ns + dt;
    }
    wake_[&r - pool_.data()] = std::min(r.event_ns, r.boundary_ns);
    if (!r.dispatched && r.held > kEps) {
      r.dispatched = true;
      LogDispatch(r.in.task, now_);
    }
  }

  void Recompute() {
    ++stats_.recomputes;
    const bool simple = incremental_ && capacity_.size() == 1 && priority_count_.size() <= 1 &&
                        spec_.model.corun_slowdown == 0.0 && !boundaries_;
    if (simple) {
      Incremental();
    } else {
      Share();
    }
    for (int32_t slot : touched_) pool_[slot].touched = false;
    touched_.clear();
    next_event_ = kNever;
    for (int32_t slot : order_) next_event_ = std::min(next_event_, wake_[slot]);
    dirty_ = false;
  }

  void Incremental() {
    // Touched kernels whose demand fell (last wave) give back the excess.
    for (int32_t slot : touched_) {
      Active& r = pool_[slot];
      BringTo(r, now_);
      const double excess = r.held - r.Demand();
      if (excess > 0.0) Release(r, excess);
      if (r.held + kEps < r.Demand() && !r.waiting) {
        r.waiting = true;
        waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), slot,
                                         [&](int32_t a, int32_t b) { return Before(a, b); }),
                        slot);
      }
    }
    // Free SMs go to waiting kernels in dispatch order.
    size_t satisfied = 0;
    for (int32_t slot : waiting_) {
      if (free0_ <= kEps) break;
      Active& r = pool_[slot];
      const double take = std::min(r.Demand() - r.held, free0_);
      if (take > 0.0) {
        BringTo(r, now_);
        r.held += take;
        free0_ -= take;
        total_held_ += take;
        SetDram(r);
        Touch(slot);
      }
      if (r.held + kEps >= r.Demand()) ++satisfied;
    }
    if (satisfied > 0) {
      waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                    [&](int32_t s) {
                                      Active& r = pool_[s];
                                      if (r.held + kEps < r.Demand()) return false;
                                      r.waiting = false;
                                      return true;
                                    }),
                     waiting_.end());
    }
    const double m = DramFactor();
    if (m != m_applied_) {  // every running kernel's speed changes
      m_applied_ = m;
      for (int32_t slot : order_) {
        Active& r = pool_[slot];
        if (r.held <= 0.0 && !r.touched) continue;
        BringTo(r, now_);
        SetRate(r, m, 1.0);
      }
    } else {
      for (int32_t slot : touched_) {
        Active& r = pool_[slot];
        if (!r.alive) continue;
        BringTo(r, now_);
        SetRate(r, m, 1.0);
      }
    }
  }

  /// The general case: hands out SMs in dispatch order, then derives speeds
  /// and rates; only kernels whose rate changes are rescheduled.
  void Share() {
    const size_t sets = capacity_.size();
    free_.assign(capacity_.begin(), capacity_.end());
    for (int32_t slot : order_) {  // running blocks keep their SMs (no preemption) ...
      Active& r = pool_[slot];
      r.next_held = r.held;
      if (r.boundary_ns <= now_) {  // ... until they end at a wave boundary
        r.next_held = 0.0;
        if (sets > 1) std::fill(r.held_by.begin(), r.held_by.end(), 0.0);
      }
      r.boundary_ns = kNever;
      wake_[slot] = r.event_ns;
      const double d = r.Demand();
      if (sets == 1) {
        r.next_held = std::min(r.next_held, d);
        free_[0] -= r.next_held;
        continue;
      }
      double excess = SumHeld(r) - d;
      for (size_t s = sets; s-- > 0 && excess > 0.0;) {
        const double give = std::min(excess, r.held_by[s]);
        r.held_by[s] -= give;
        excess -= give;
      }
      for (size_t s = 0; s < sets; ++s) free_[s] -= r.held_by[s];
    }
    for (int32_t slot : order_) {  // ... and free SMs go to kernels in dispatch order
      Active& r = pool_[slot];
      if (sets == 1) {
        if (free_[0] <= kEps) break;
        const double take = std::min(r.Demand() - r.next_held, free_[0]);
        if (take > 0.0) {
          r.next_held += take;
          free_[0] -= take;
        }
        continue;
      }
      double want = r.Demand() - SumHeld(r);
      const size_t first = r.in.partition >= 0 ? static_cast<size_t>(r.in.partition) + 1 : 0;
      const size_t last = r.in.partition >= 0 ? first + 1 : sets;
      for (size_t s = first; s < last && want > kEps; ++s) {
        const double take = std::min(want, std::max(0.0, free_[s]));
        r.held_by[s] += take;
        free_[s] -= take;
        want -= take;
      }
      r.next_held = SumHeld(r);
    }
    // Aggregates, recomputed from scratch (the incremental path resumes from them).
    total_held_ = 0.0;
    dram_demand_ = 0.0;
    for (int32_t slot : order_) {
      Active& r = pool_[slot];
      total_held_ += r.next_held;
      r.dram = r.shape.full_sms > 0.0
                   ? r.in.dram_bytes_per_ns * std::min(1.0, r.next_held / r.shape.full_sms)
                   : 0.0;
      dram_demand_ += r.dram;
    }
    free0_ = capacity_[0];
    for (int32_t slot : order_) free0_ -= pool_[slot].next_held;
    const double m = DramFactor();
    m_applied_ = m;
    const double sms = static_cast<double>(spec_.sm_count);
    const double corun = spec_.model.corun_slowdown;
    int32_t starved_priority = INT32_MAX, lowest_holder = INT32_MIN;
    waiting_.clear();
    for (int32_t slot : order_) {
      Active& r = pool_[slot];
      const double d = r.Demand();
      r.waiting = r.next_held + kEps < d;
      if (r.waiting) {
        waiting_.push_back(slot);
        starved_priority = std::min(starved_priority, r.in.priority);
      }
      if (r.next_held > kEps) lowest_holder = std::max(lowest_holder, r.in.priority);
      const double others = corun == 0.0 ? 0.0 : (total_held_ - r.next_held) / sms;
      const double mb = r.in.mem_bound;
      const double speed = 1.0 / ((1.0 - mb) * (1.0 + corun * others) + mb * m);
      const double rate = speed * (d > 0.0 ? std::min(1.0, r.next_held / d) : 1.0);
      if (!r.touched && rate == r.rate && speed == r.speed && r.next_held == r.held) continue;
      BringTo(r, now_);
      r.held = r.next_held;
      SetRate(r, m, 1.0 + corun * others);
    }
    // A starved kernel of higher priority takes SMs as the blocks of lower
    // ones end: wake up at their next wave boundary.
    boundaries_ = false;
    if (starved_priority >= lowest_holder) return;
    for (int32_t slot : order_) {
      Active& r = pool_[slot];
      if (r.in.priority <= starved_priority || r.held <= kEps || r.shape.wave_ns <= 0.0) continue;
      BringTo(r, now_);
      const double left = r.shape.wave_ns - std::fmod(r.iso_done, r.shape.wave_ns);
      r.boundary_ns = now_ + std::max<TimeNs>(1, DurationFromWork(left, r.speed));
      wake_[slot] = std::min(r.event_ns, r.boundary_ns);
      boundaries_ = true;
    }
  }

  static double SumHeld(const Active& r) {
    double h = 0.0;
    for (double x : r.held_by) h += x;
    return h;
  }

  const GpuSpec& spec_;
  const bool incremental_;
  std::vector<double> capacity_;  ///< SMs per set: 0 = outside partitions, 1.. = partitions
  std::vector<double> free_;      ///< scratch of Share()
  double free0_ = 0.0;            ///< free SMs of set 0 (incremental path)
  double peak_ = 0.0;
  std::vector<Active> pool_;  ///< kernel states, reused through free_slots_
  std::vector<int32_t> free_slots_;
  std::vector<int32_t> order_;    ///< running kernels in dispatch order: priority, then start
  std::vector<int32_t> waiting_;  ///< running kernels short of their demand, dispatch order
  std::vector<int32_t> touched_;
  std::vector<int32_t> due_;
  std::map<int32_t, int32_t> priority_count_;  ///< running kernels per priority
  std::vector<TimeNs> wake_;        ///< per slot: min(event_ns, boundary_ns), for the scans
  std::vector<FluidShape> shapes_;  ///< by KernelLaunch::key; blocks_per_sm 0 = not computed
  FluidShape scratch_shape_;
  TimeNs next_event_ = kNever;
  int64_t next_seq_ = 0;
  TimeNs now_ = 0;
  bool dirty_ = false;
  bool boundaries_ = false;  ///< wave-boundary wake-ups are pending
  double total_held_ = 0.0;
  double dram_demand_ = 0.0;  ///< bytes/ns the running kernels ask for at their shares
  double m_applied_ = 1.0;    ///< DRAM slowdown factor the current rates were set with
  ModelStats stats_;
};

}  // namespace

std::unique_ptr<ContentionModel> MakeFluidModel(const GpuSpec& spec, const SmPartitions& partitions,
                                                bool incremental) {
  return std::make_unique<FluidModel>(spec, partitions, incremental);
}

}  // namespace cotenant
