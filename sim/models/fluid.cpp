#include "sim/models/fluid.h"

#include <algorithm>
#include <cmath>
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
///    interference: corun_slowdown and l2_corun_traffic 0): released SMs go
///    to the waiting kernels in dispatch order; only kernels whose share or
///    speed changes are updated;
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
    free_.resize(capacity_.size());
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
      if (capacity_.size() > 1) held_by_.resize(held_by_.size() + capacity_.size());
    }
    Active& r = pool_[slot];
    r = Active{};  // (trivially copyable: no allocation per kernel)
    r.in = k;
    r.seq = next_seq_++;
    const int32_t cap =
        k.partition >= 0 ? static_cast<int32_t>(capacity_[k.partition + 1]) : spec_.sm_count;
    COTENANT_CHECK(cap > 0);
    r.shape = Shape(k, cap);
    r.remaining = r.shape.total_ns;
    r.at_ns = now;
    SetPhase(r, r.remaining <= r.shape.wave_ns + kEps ? 2 : 1);
    // SetRate's speed at DRAM factor 1 and co-run factor 1, the usual case,
    // computed here, off the chain of divisions of a share recomputation.
    r.speed1 = 1.0 / ((1.0 - k.mem_bound) * 1.0 + k.mem_bound * 1.0);
    r.set_first = k.partition >= 0 ? static_cast<uint32_t>(k.partition) + 1 : 0;
    r.set_last = k.partition >= 0 ? r.set_first + 1 : static_cast<uint32_t>(capacity_.size());
    if (capacity_.size() > 1) {
      double* held_by = HeldBy(slot);
      for (size_t s = 0; s < capacity_.size(); ++s) held_by[s] = 0.0;  // (a few: no memset call)
    }
    auto pos = std::upper_bound(order_.begin(), order_.end(), slot,
                                [&](int32_t a, int32_t b) { return Before(a, b); });
    order_.insert(pos, slot);
    wake_[slot] = kNever;
    Touch(slot);
    dirty_ = true;
  }

  TimeNs NextEventTime() override {
    if (dirty_) Recompute();
    return next_event_;
  }

  /// Ends the kernel in `slot`: reports it done, frees its SMs and the slot.
  void Retire(int32_t slot, std::vector<int32_t>* done) {
    Active& r = pool_[slot];
    done->push_back(r.in.task);
    ++stats_.kernels;
    Release(r, r.held);
    r.alive = false;
    free_slots_.push_back(slot);
  }

  void AdvanceTo(TimeNs now, std::vector<int32_t>* done) override {
    COTENANT_CHECK_MSG(now >= now_, "fluid model: time went backwards");
    if (NextEventTime() > now) return;  // nothing inside the model changes before then
    Accumulate(now);
    if (order_.size() == 1) {  // (most events) the loop below for one kernel, which is due
      const int32_t slot = order_[0];
      COTENANT_CHECK(wake_[slot] <= now);  // (its wake-up is the model's next event)
      Active& r = pool_[slot];
      BringTo(r, now);
      if (r.remaining <= kEps) {
        Retire(slot, done);
        order_.clear();
        waiting_.clear();  // (it holds running kernels only)
      } else {
        if (r.phase == 1 && r.remaining <= r.shape.wave_ns + kEps) SetPhase(r, 2);
        Touch(slot);  // a phase change or a wave boundary
      }
      dirty_ = true;
      return;
    }
    due_.clear();
    for (int32_t slot : order_) {
      if (wake_[slot] <= now) due_.push_back(slot);
    }
    if (due_.size() > 1)
      std::sort(due_.begin(), due_.end(), [&](int32_t a, int32_t b) { return Before(a, b); });
    bool removed = false;
    for (int32_t slot : due_) {
      Active& r = pool_[slot];
      BringTo(r, now);
      if (r.remaining <= kEps) {
        Retire(slot, done);
        removed = true;
        continue;
      }
      if (r.phase == 1 && r.remaining <= r.shape.wave_ns + kEps) SetPhase(r, 2);
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
    double speed = 1.0;           ///< DRAM/co-run slowdown factor of its blocks
    double speed1 = 1.0;          ///< its speed with no DRAM overload nor co-run (see Start)
    double rate = 0.0;            ///< progress of `remaining` per ns
    TimeNs event_ns = kNever;     ///< its next phase change or end at the current rate
    TimeNs boundary_ns = kNever;  ///< when its blocks in flight end (only when asked)
    bool alive = true;
    bool dispatched = false;  ///< has held SMs at some point
    bool touched = false;     ///< in touched_: share or rate must be recomputed
    bool waiting = false;     ///< in waiting_
    double demand = 0.0;      ///< SMs its current wave needs (see SetPhase)
    /// The SM sets it takes SMs from, [set_first, set_last): its partition's,
    /// else all. Its HeldBy() entries outside stay exactly 0.0 (never taken,
    /// and giving back min(excess, 0.0) leaves 0.0), so sums and loops over
    /// its sets skip them without changing a bit.
    uint32_t set_first = 0, set_last = 1;
    double Demand() const { return demand; }
  };
  /// Sets r's phase and the demand that goes with it (kept in a field: the
  /// share loops read it often, and a branch on the phase mispredicts).
  static void SetPhase(Active& r, int phase) {
    r.phase = phase;
    r.demand = phase == 1 ? r.shape.full_sms : r.shape.last_sms;
  }

  /// SMs slot `slot` holds per SM set (only with partitions): capacity_.size() entries.
  double* HeldBy(int32_t slot) {
    return held_by_.data() + static_cast<size_t>(slot) * capacity_.size();
  }

  /// True when the running kernels have at most one priority: order_ is
  /// sorted by priority, so its ends tell.
  bool OnePriority() const {
    return order_.empty() || pool_[order_.front()].in.priority == pool_[order_.back()].in.priority;
  }

  /// The kernel's shape, cached per KernelLaunch::key.
  const FluidShape& Shape(const KernelLaunch& k, int32_t cap) {
    if (k.key < 0) {
      scratch_shape_ = ComputeFluidShape(spec_, k, cap);
      return scratch_shape_;
    }
    const size_t i = static_cast<size_t>(k.key);
    if (i >= shapes_.size()) shapes_.resize(std::max(i + 1, 2 * shapes_.size()));
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

  /// Gives back `sms` of r's share (set 0 only; the full path owns HeldBy).
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
                         ? r.in.dram_bytes_per_ns * MinOneRatio(r.held, r.shape.full_sms)
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
  /// max(1, DRAM demand / peak); without the division when the demand is
  /// at most the peak (then the quotient is at most 1: division is monotonic).
  double DramFactor() const {
    if (!(peak_ > 0.0) || dram_demand_ <= peak_) return 1.0;
    return std::max(1.0, dram_demand_ / peak_);
  }

  /// min(1, a / b) for b > 0; without the division when a >= b (then the
  /// quotient is at least 1: division is monotonic), so the same bits.
  static double MinOneRatio(double a, double b) { return a >= b ? 1.0 : std::min(1.0, a / b); }

  /// Sets r's speed and rate for DRAM factor m, schedules its next event.
  void SetRate(Active& r, double m, double speed_corun) {
    const double mb = r.in.mem_bound;
    const double speed = 1.0 / ((1.0 - mb) * speed_corun + mb * m);
    const double d = r.Demand();
    SetSpeedAndRate(r, speed, speed * (d > 0.0 ? MinOneRatio(r.held, d) : 1.0));
  }

  /// Sets r's speed and rate, computed as SetRate does (Share has them
  /// already: no division twice), and schedules its next event.
  void SetSpeedAndRate(Active& r, double speed, double rate) {
    r.speed = speed;
    r.rate = rate;
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
    const bool simple = incremental_ && capacity_.size() == 1 && OnePriority() &&
                        spec_.model.corun_slowdown == 0.0 && spec_.model.l2_corun_traffic == 0.0 &&
                        !boundaries_;
    if (simple) {
      Incremental();
    } else if (order_.size() == 1) {
      ShareOne(order_[0]);
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
    for (size_t s = 0; s < sets; ++s) free_[s] = capacity_[s];  // (sized in the constructor)
    for (int32_t slot : order_) {  // running blocks keep their SMs (no preemption) ...
      Active& r = pool_[slot];
      const bool boundary = r.boundary_ns <= now_;  // ... until they end at a wave boundary
      r.boundary_ns = kNever;
      wake_[slot] = r.event_ns;
      const double d = r.Demand();
      if (sets == 1) {
        r.next_held = std::min(boundary ? 0.0 : r.held, d);
        free_[0] -= r.next_held;
        continue;
      }
      double* held_by = HeldBy(slot);
      if (boundary) std::fill_n(held_by, sets, 0.0);
      // next_held: the sum of held_by once the excess is given back (computed
      // again only when some is: the same bits as a fresh sum).
      const double sum = SumHeld(r, held_by);
      double excess = sum - d;
      bool gave = false;
      for (size_t s = r.set_last; s-- > r.set_first && excess > 0.0;) {
        const double give = std::min(excess, held_by[s]);
        held_by[s] -= give;
        excess -= give;
        gave = true;
      }
      r.next_held = gave ? SumHeld(r, held_by) : sum;
      for (size_t s = r.set_first; s < r.set_last; ++s) free_[s] -= held_by[s];
    }
    // ... and free SMs go to kernels in dispatch order; with each kernel's
    // share known, the aggregates, recomputed from scratch (the incremental
    // path resumes from them), in the same order.
    double total_held = 0.0, dram_demand = 0.0, free0 = capacity_[0];
    bool none_free = false;  // (one SM set: nothing left to hand out)
    for (int32_t slot : order_) {
      Active& r = pool_[slot];
      if (sets == 1) {
        none_free = none_free || free_[0] <= kEps;
        if (!none_free) {
          const double take = std::min(r.Demand() - r.next_held, free_[0]);
          if (take > 0.0) {
            r.next_held += take;
            free_[0] -= take;
          }
        }
      } else {
        double* held_by = HeldBy(slot);
        double want = r.Demand() - r.next_held;  // (= the sum of held_by, see above)
        bool took = false;
        for (size_t s = r.set_first; s < r.set_last && want > kEps; ++s) {
          const double take = std::min(want, std::max(0.0, free_[s]));
          held_by[s] += take;
          free_[s] -= take;
          want -= take;
          took = true;
        }
        if (took) r.next_held = SumHeld(r, held_by);
      }
      total_held += r.next_held;
      free0 -= r.next_held;
      r.dram = r.shape.full_sms > 0.0
                   ? r.in.dram_bytes_per_ns * MinOneRatio(r.next_held, r.shape.full_sms)
                   : 0.0;
      dram_demand += r.dram;
    }
    const double l2 = spec_.model.l2_corun_traffic;
    if (l2 != 0.0) {
      // L2 shared with co-running kernels: each kernel's traffic grows by
      // l2 * (share held by the others), which needs every share first.
      dram_demand = 0.0;
      for (int32_t slot : order_) {
        Active& r = pool_[slot];
        r.dram *= 1.0 + l2 * (total_held - r.next_held) / static_cast<double>(spec_.sm_count);
        dram_demand += r.dram;
      }
    }
    total_held_ = total_held;
    dram_demand_ = dram_demand;
    free0_ = free0;
    const double m = DramFactor();
    m_applied_ = m;
    int32_t starved_priority = INT32_MAX, lowest_holder = INT32_MIN;
    waiting_.clear();
    for (int32_t slot : order_) {
      Active& r = pool_[slot];
      r.waiting = r.next_held + kEps < r.Demand();
      if (r.waiting) {
        waiting_.push_back(slot);
        starved_priority = std::min(starved_priority, r.in.priority);
      }
      if (r.next_held > kEps) lowest_holder = std::max(lowest_holder, r.in.priority);
      ApplyShare(r, m);
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

  /// Share() when one kernel runs (most events: kernels mostly run one after
  /// another): the same operations on the same values, so the same bits,
  /// without the lists and the loops over kernels. One kernel never
  /// needs a wave-boundary wake-up (it is never starved while a kernel of
  /// lower priority holds SMs).
  void ShareOne(int32_t slot) {
    Active& r = pool_[slot];
    const bool boundary = r.boundary_ns <= now_;
    r.boundary_ns = kNever;
    wake_[slot] = r.event_ns;
    const double d = r.Demand();
    double held;  // becomes r.next_held
    if (capacity_.size() == 1) {
      held = std::min(boundary ? 0.0 : r.held, d);
      const double free = capacity_[0] - held;
      if (!(free <= kEps)) {
        const double take = std::min(d - held, free);
        if (take > 0.0) held += take;
      }
    } else {
      double* held_by = HeldBy(slot);
      if (boundary) std::fill_n(held_by, capacity_.size(), 0.0);
      const double sum = SumHeld(r, held_by);
      double excess = sum - d;
      bool gave = false;
      for (size_t s = r.set_last; s-- > r.set_first && excess > 0.0;) {
        const double give = std::min(excess, held_by[s]);
        held_by[s] -= give;
        excess -= give;
        gave = true;
      }
      held = gave ? SumHeld(r, held_by) : sum;
      double want = d - held;
      bool took = false;
      for (size_t s = r.set_first; s < r.set_last && want > kEps; ++s) {
        const double free = capacity_[s] - held_by[s];  // (Share's free_[s])
        const double take = std::min(want, std::max(0.0, free));
        held_by[s] += take;
        want -= take;
        took = true;
      }
      if (took) held = SumHeld(r, held_by);
    }
    r.next_held = held;
    total_held_ = 0.0 + held;
    free0_ = capacity_[0] - held;
    r.dram =
        r.shape.full_sms > 0.0 ? r.in.dram_bytes_per_ns * MinOneRatio(held, r.shape.full_sms) : 0.0;
    dram_demand_ = 0.0 + r.dram;
    const double m = DramFactor();
    m_applied_ = m;
    waiting_.clear();
    r.waiting = held + kEps < d;
    if (r.waiting) waiting_.push_back(slot);
    ApplyShare(r, m);
    boundaries_ = false;
  }

  /// The last step of Share() for one kernel: its speed and rate at share
  /// r.next_held and DRAM factor m; a kernel whose rate changes is rescheduled.
  void ApplyShare(Active& r, double m) {
    const double corun = spec_.model.corun_slowdown;
    const double l2 = spec_.model.l2_corun_traffic;
    const double others = corun == 0.0 && l2 == 0.0
                              ? 0.0
                              : (total_held_ - r.next_held) / static_cast<double>(spec_.sm_count);
    const double d = r.Demand();
    const double mb = r.in.mem_bound;
    const double speed_corun = 1.0 + corun * others;
    // The memory-bound part moves (1 + l2 * others) times its bytes at 1/m of
    // its bandwidth (with l2 = 0, exactly m).
    const double mem = l2 == 0.0 ? m : m * (1.0 + l2 * others);
    // (The same expression as SetRate; r.speed1 is its value at mem = speed_corun = 1.)
    const double speed =
        mem == 1.0 && speed_corun == 1.0 ? r.speed1 : 1.0 / ((1.0 - mb) * speed_corun + mb * mem);
    const double rate = speed * (d > 0.0 ? MinOneRatio(r.next_held, d) : 1.0);
    if (!r.touched && rate == r.rate && speed == r.speed && r.next_held == r.held) return;
    BringTo(r, now_);
    r.held = r.next_held;
    SetSpeedAndRate(r, speed, rate);  // = SetRate(r, mem, 1.0 + corun * others)
  }

  /// Sum of r's HeldBy() row `held_by`, in set order. Only the sets r may
  /// take from count: the others stay exactly 0.0 (see Active::set_first).
  static double SumHeld(const Active& r, const double* held_by) {
    double h = 0.0;
    for (size_t s = r.set_first; s < r.set_last; ++s) h += held_by[s];
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
  std::vector<double> held_by_;     ///< per slot, per SM set: SMs held (see HeldBy)
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
