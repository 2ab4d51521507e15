// The `block` contention model: per-SM resources, thread blocks dispatched
// one by one in (priority, start order). Rules: docs/models.md.
//
// Cost: blocks of one kernel dispatched together with the same length form
// one cohort, so a wave of 10,000 blocks is one entry. Every block of a
// kernel runs at the kernel's speed, so each kernel keeps an "iso clock"
// (isolated ns done per block since it started) and its cohorts ordered by
// the clock reading at which they end: an event costs O(kernels), not
// O(cohorts). A dispatch round looks only at SMs freed since the last one
// (a kernel left with blocks after its turn fitted nowhere then) and at all
// SMs for a kernel that just started.
#include "sim/models/block.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/occupancy.h"
#include "sim/units.h"

namespace cotenant {
namespace {

/// A block whose remaining isolated time is at most this (iso-ns) is done.
constexpr double kDoneEpsilon = 1e-6;

/// What one block takes from an SM, or what an SM holds.
struct SmResources {
  int32_t blocks = 0;  ///< block slots (a whole-SM block takes them all)
  int32_t threads = 0;
  int32_t warps = 0;
  int32_t regs = 0;  ///< registers, after allocation granularity
  int32_t smem = 0;  ///< bytes, after granularity, incl. the per-block reservation
};

/// Isolated ns a kernel's blocks have progressed, as whole ns plus a
/// fraction in [0, 1), so that differences stay exact however long it runs.
struct IsoClock {
  int64_t whole = 0;
  double frac = 0.0;

  void Add(double ns) {
    frac += ns;
    const double f = std::floor(frac);
    whole += static_cast<int64_t>(f);
    frac -= f;
  }
  /// this - earlier, in iso-ns.
  double Minus(const IsoClock& earlier) const {
    return static_cast<double>(whole - earlier.whole) + (frac - earlier.frac);
  }
};

/// Dispatch order: (priority, start sequence); lower first.
using KernelKey = std::pair<int32_t, int64_t>;

/// Blocks of one kernel dispatched at the same time with the same length.
struct Cohort {
  int64_t count = 0;
  std::vector<std::pair<int32_t, int32_t>> sms;  ///< (SM, blocks on it), SM ascending
};

/// A cohort ends when its kernel's clock reaches (whole, frac); seq breaks ties.
using CohortKey = std::tuple<int64_t, double, int64_t>;

struct Kernel {
  KernelKey key;
  KernelLaunch launch;
  int32_t blocks_per_sm = 1;  ///< B >= 1 (1 for whole-SM blocks)
  bool whole_sm = false;      ///< each block takes a whole SM
  SmResources demand;         ///< per block
  int32_t sm_begin = 0;       ///< allowed SMs: [sm_begin, sm_end)
  int32_t sm_end = 0;
  int64_t total_blocks = 0;
  int64_t dispatched = 0;               ///< blocks handed to SMs so far (= next dispatch index)
  int64_t resident = 0;                 ///< blocks on SMs now
  int64_t waves = 1;                    ///< ceil(total_blocks / (B * spec.sm_count))
  double full_sm = 1.0;                 ///< SM-equivalents it holds alone in its first wave
  bool fresh = true;                    ///< not yet offered every allowed SM in a dispatch round
  bool ended = false;                   ///< every block done; waits in finished_ to be reported
  std::vector<int32_t> on_sm;           ///< resident blocks per allowed SM (index - sm_begin)
  IsoClock clock;                       ///< iso-ns its blocks have progressed
  std::map<CohortKey, Cohort> cohorts;  ///< resident blocks, by when they end
  double speed = 1.0;                   ///< iso-ns of progress per ns, set at every recompute
  TimeNs end_ns = kNever;               ///< when its first cohort ends at the current speed
};

class BlockModel final : public ContentionModel {
 public:
  BlockModel(const GpuSpec& spec, const SmPartitions& partitions);

  const char* Name() const override { return "block"; }
  void Start(const KernelLaunch& k, TimeNs now) override;
  TimeNs NextEventTime() override { return next_ns_; }
  void AdvanceTo(TimeNs now, std::vector<int32_t>* done) override;
  ModelStats Stats() const override { return stats_; }
  int64_t Running() const override { return static_cast<int64_t>(kernels_.size()); }

 private:
  /// Moves every kernel's clock forward to `now` at its speed and
  /// integrates the statistics over the elapsed time.
  void Progress(TimeNs now);
  /// Removes finished cohorts, frees their SM resources, and queues kernels
  /// whose last block ended. Returns true when anything was freed.
  bool Retire();
  /// One dispatch round over all kernels in (priority, start) order.
  void Dispatch();
  /// Places as many blocks of `k` as fit on `candidates` (ascending SMs,
  /// all within k's allowed set), breadth-first.
  void DispatchKernel(Kernel* k, const std::vector<int32_t>& candidates);
  /// How many more blocks of `k` fit on SM `sm` now.
  int64_t FitCount(const Kernel& k, int32_t sm) const;
  /// Isolated length of the block with dispatch index `index`.
  TimeNs BlockLength(const Kernel& k, int64_t index) const;
  /// Adds or removes `n` blocks of `k` on SM `sm`.
  void Occupy(Kernel* k, int32_t sm, int32_t n);
  /// Speeds, completion times and the next event time.
  void Recompute();

  GpuSpec spec_;
  std::vector<std::pair<int32_t, int32_t>> partitions_;  ///< [begin, end) SMs of each partition
  std::vector<SmResources> sms_;                         ///< what each SM holds now
  std::vector<char> freed_;                              ///< SM freed since the last round
  std::vector<int32_t> freed_list_;
  std::map<KernelKey, Kernel> kernels_;  ///< started and not yet reported
  std::vector<KernelKey> finished_;      ///< finished, reported at the next AdvanceTo
  TimeNs now_ns_ = 0;
  TimeNs next_ns_ = kNever;
  int64_t next_kernel_seq_ = 0;
  int64_t next_cohort_seq_ = 0;
  int64_t resident_blocks_ = 0;
  double held_sm_ = 0.0;      ///< SM-equivalents held by all kernels now
  double dram_demand_ = 0.0;  ///< bytes/ns demanded now
  ModelStats stats_;
  // Scratch space for Dispatch, kept to avoid reallocations.
  std::vector<int32_t> all_sms_;
  std::vector<int32_t> candidates_;
  std::vector<int32_t> fit_;
  std::vector<int32_t> placements_;
};

BlockModel::BlockModel(const GpuSpec& spec, const SmPartitions& partitions) : spec_(spec) {
  COTENANT_CHECK(spec_.sm_count >= 1);
  COTENANT_CHECK(spec_.sm.max_blocks >= 1);
  COTENANT_CHECK_MSG(spec_.EffectiveDramBytesPerNs() > 0.0, "peak DRAM bandwidth must be > 0");
  int32_t begin = 0;
  for (int32_t count : partitions.sm_counts) {
    COTENANT_CHECK(count >= 0);
    COTENANT_CHECK_MSG(begin + count <= spec_.sm_count, "SM partitions exceed the GPU's SMs");
    partitions_.emplace_back(begin, begin + count);
    begin += count;
  }
  sms_.resize(static_cast<size_t>(spec_.sm_count));
  freed_.assign(static_cast<size_t>(spec_.sm_count), 0);
}

void BlockModel::Start(const KernelLaunch& launch, TimeNs now) {
  COTENANT_CHECK_MSG(now >= now_ns_, "time went backwards");
  COTENANT_CHECK_MSG(now <= next_ns_, "Start past the model's next event");
  Progress(now);
  Retire();

  Kernel k;
  k.key = KernelKey(launch.priority, next_kernel_seq_++);
  k.launch = launch;
  if (launch.partition < 0) {
    k.sm_begin = 0;
    k.sm_end = spec_.sm_count;
  } else {
    COTENANT_CHECK_MSG(launch.partition < static_cast<int32_t>(partitions_.size()),
                       "kernel names an unknown SM partition");
    k.sm_begin = partitions_[static_cast<size_t>(launch.partition)].first;
    k.sm_end = partitions_[static_cast<size_t>(launch.partition)].second;
  }
  const int32_t allowed = k.sm_end - k.sm_begin;
  COTENANT_CHECK_MSG(allowed >= 1, "kernel's SM partition is empty");
  const SmLimits& lim = spec_.sm;
  if (launch.blocks <= 0) {
    // No launch shape: it fills the whole GPU, one whole-SM block per SM
    // (one wave of dur_ns); within a partition those blocks take several rounds.
    k.whole_sm = true;
    k.total_blocks = spec_.sm_count;
  } else {
    const Occupancy occ =
        ComputeOccupancy(spec_, launch.threads_per_block, launch.regs, launch.smem);
    k.demand = SmResources{1, launch.threads_per_block, occ.warps_per_block, occ.regs_per_block,
                           occ.smem_per_block};
    if (launch.blocks_per_sm > 0) {
      // Occupancy given (measured): B blocks must fit on an empty SM, so no
      // block takes more than 1/B of any resource.
      k.blocks_per_sm = launch.blocks_per_sm;
      const int32_t b = k.blocks_per_sm;
      k.demand.blocks = std::min(k.demand.blocks, lim.max_blocks / b);
      k.demand.threads = std::min(k.demand.threads, lim.max_threads / b);
      k.demand.warps = std::min(k.demand.warps, lim.max_warps / b);
      k.demand.regs = std::min(k.demand.regs, lim.registers / b);
      k.demand.smem = std::min(k.demand.smem, lim.smem_bytes / b);
    } else {
      const bool fits_empty = k.demand.threads <= lim.max_threads &&
                              k.demand.warps <= lim.max_warps && k.demand.regs <= lim.registers &&
                              k.demand.smem <= lim.smem_bytes;
      k.whole_sm = occ.blocks_per_sm <= 0 || !fits_empty;
      k.blocks_per_sm = k.whole_sm ? 1 : occ.blocks_per_sm;
    }
    k.total_blocks = launch.blocks;
  }
  if (k.whole_sm) {
    k.demand =
        SmResources{lim.max_blocks, lim.max_threads, lim.max_warps, lim.registers, lim.smem_bytes};
    k.blocks_per_sm = 1;
  }
  const int64_t per_wave = static_cast<int64_t>(k.blocks_per_sm) * spec_.sm_count;
  k.waves = (k.total_blocks + per_wave - 1) / per_wave;
  k.full_sm =
      std::min(static_cast<double>(allowed), static_cast<double>(k.total_blocks) / k.blocks_per_sm);
  k.on_sm.assign(static_cast<size_t>(allowed), 0);

  const KernelKey key = k.key;
  if (launch.dur_ns <= 0) {
    // Nothing to run: it ends when it starts, without taking SMs.
    k.dispatched = k.total_blocks;
    k.ended = true;
    finished_.push_back(key);
  }
  kernels_.emplace(key, std::move(k));
  Dispatch();
  Recompute();
}

void BlockModel::AdvanceTo(TimeNs now, std::vector<int32_t>* done) {
  COTENANT_CHECK_MSG(now >= now_ns_, "time went backwards");
  COTENANT_CHECK_MSG(now <= next_ns_, "advanced past the model's next event");
  Progress(now);
  if (Retire()) Dispatch();
  std::sort(finished_.begin(), finished_.end());
  for (const KernelKey& key : finished_) {
    auto it = kernels_.find(key);
    COTENANT_CHECK(it != kernels_.end());
    done->push_back(it->second.launch.task);
    kernels_.erase(it);
    ++stats_.kernels;
  }
  finished_.clear();
  Recompute();
}

void BlockModel::Progress(TimeNs now) {
  const TimeNs dt = now - now_ns_;
  if (dt > 0 && resident_blocks_ > 0) {
    const double ddt = static_cast<double>(dt);
    stats_.busy_ns += dt;
    stats_.sm_ns += held_sm_ * ddt;
    stats_.dram_ns += std::min(1.0, dram_demand_ / spec_.EffectiveDramBytesPerNs()) * ddt;
  }
  for (auto& entry : kernels_) {
    Kernel& k = entry.second;
    if (k.cohorts.empty()) continue;
    if (dt > 0) k.clock.Add(k.speed * static_cast<double>(dt));
    if (k.end_ns <= now) {
      // Its first cohort ends now, whatever rounding says.
      const CohortKey& first = k.cohorts.begin()->first;
      const IsoClock end{std::get<0>(first), std::get<1>(first)};
      if (end.Minus(k.clock) > 0.0) k.clock = end;
    }
  }
  now_ns_ = now;
}

void BlockModel::Occupy(Kernel* k, int32_t sm, int32_t n) {
  SmResources& r = sms_[static_cast<size_t>(sm)];
  r.blocks += n * k->demand.blocks;
  r.threads += n * k->demand.threads;
  r.warps += n * k->demand.warps;
  r.regs += n * k->demand.regs;
  r.smem += n * k->demand.smem;
  k->on_sm[static_cast<size_t>(sm - k->sm_begin)] += n;
}

bool BlockModel::Retire() {
  bool freed = false;
  for (auto& entry : kernels_) {
    Kernel& k = entry.second;
    while (!k.cohorts.empty()) {
      auto it = k.cohorts.begin();
      const IsoClock end{std::get<0>(it->first), std::get<1>(it->first)};
      if (end.Minus(k.clock) > kDoneEpsilon) break;
      for (const auto& [sm, n] : it->second.sms) {
        Occupy(&k, sm, -n);
        if (!freed_[static_cast<size_t>(sm)]) {
          freed_[static_cast<size_t>(sm)] = 1;
          freed_list_.push_back(sm);
        }
      }
      k.resident -= it->second.count;
      resident_blocks_ -= it->second.count;
      COTENANT_CHECK(k.resident >= 0 && resident_blocks_ >= 0);
      k.cohorts.erase(it);
      freed = true;
    }
    if (!k.ended && k.resident == 0 && k.dispatched == k.total_blocks) {
      k.ended = true;
      finished_.push_back(k.key);
    }
  }
  return freed;
}

void BlockModel::Dispatch() {
  ++stats_.recomputes;
  std::sort(freed_list_.begin(), freed_list_.end());
  if (all_sms_.empty()) {
    for (int32_t s = 0; s < spec_.sm_count; ++s) all_sms_.push_back(s);
  }
  for (auto& entry : kernels_) {
    Kernel& k = entry.second;
    if (k.dispatched == k.total_blocks) continue;
    // A kernel left with blocks after its turn fitted on none of its SMs;
    // since then only the freed SMs can have room for it.
    const std::vector<int32_t>& pool = k.fresh ? all_sms_ : freed_list_;
    candidates_.clear();
    auto lo = std::lower_bound(pool.begin(), pool.end(), k.sm_begin);
    auto hi = std::lower_bound(lo, pool.end(), k.sm_end);
    candidates_.assign(lo, hi);
    k.fresh = false;
    if (!candidates_.empty()) DispatchKernel(&k, candidates_);
  }
  for (int32_t sm : freed_list_) freed_[static_cast<size_t>(sm)] = 0;
  freed_list_.clear();
}

int64_t BlockModel::FitCount(const Kernel& k, int32_t sm) const {
  const SmResources& used = sms_[static_cast<size_t>(sm)];
  const SmLimits& lim = spec_.sm;
  int64_t n = k.blocks_per_sm - k.on_sm[static_cast<size_t>(sm - k.sm_begin)];
  const auto limit = [&n](int32_t capacity, int32_t in_use, int32_t need) {
    if (need > 0) n = std::min<int64_t>(n, (capacity - in_use) / need);
  };
  limit(lim.max_blocks, used.blocks, k.demand.blocks);
  limit(lim.max_threads, used.threads, k.demand.threads);
  limit(lim.max_warps, used.warps, k.demand.warps);
  limit(lim.registers, used.regs, k.demand.regs);
  limit(lim.smem_bytes, used.smem, k.demand.smem);
  return std::max<int64_t>(0, n);
}

TimeNs BlockModel::BlockLength(const Kernel& k, int64_t index) const {
  // Wave w of W gets floor((w+1)*dur/W) - floor(w*dur/W) ns, so the waves
  // add up to dur exactly. Waves are whole-GPU waves counted by dispatch
  // index, wherever and whenever the block runs.
  const int64_t per_wave = static_cast<int64_t>(k.blocks_per_sm) * spec_.sm_count;
  const int64_t w = std::min(index / per_wave, k.waves - 1);
  using Wide = __int128;
  const Wide dur = k.launch.dur_ns;
  const Wide lo = Wide(w) * dur / k.waves;
  const Wide hi = Wide(w + 1) * dur / k.waves;
  return static_cast<TimeNs>(hi - lo);
}

void BlockModel::DispatchKernel(Kernel* k, const std::vector<int32_t>& candidates) {
  fit_.assign(candidates.size(), 0);
  int64_t max_fit = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const int64_t f = FitCount(*k, candidates[i]);
    fit_[i] = static_cast<int32_t>(f);
    max_fit = std::max(max_fit, f);
  }
  if (max_fit == 0) return;
  // Breadth-first: one block per SM per pass, lowest SM first. The j-th
  // block of this kernel fits on SM s iff j < fit(s), as its blocks are alike.
  placements_.clear();
  int64_t left = k->total_blocks - k->dispatched;
  for (int64_t pass = 0; pass < max_fit && left > 0; ++pass) {
    for (size_t i = 0; i < candidates.size() && left > 0; ++i) {
      if (fit_[i] > pass) {
        placements_.push_back(candidates[i]);
        --left;
      }
    }
  }
  if (k->dispatched == 0) LogDispatch(k->launch.task, now_ns_);
  // Consecutive placements with the same length form one cohort.
  size_t first = 0;
  while (first < placements_.size()) {
    const TimeNs length = BlockLength(*k, k->dispatched);
    size_t last = first + 1;
    while (last < placements_.size() &&
           BlockLength(*k, k->dispatched + static_cast<int64_t>(last - first)) == length) {
      ++last;
    }
    Cohort c;
    c.count = static_cast<int64_t>(last - first);
    std::sort(placements_.begin() + static_cast<std::ptrdiff_t>(first),
              placements_.begin() + static_cast<std::ptrdiff_t>(last));
    for (size_t i = first; i < last; ++i) {
      const int32_t sm = placements_[i];
      if (c.sms.empty() || c.sms.back().first != sm) c.sms.emplace_back(sm, 0);
      ++c.sms.back().second;
    }
    for (const auto& [sm, n] : c.sms) Occupy(k, sm, n);
    k->dispatched += c.count;
    k->resident += c.count;
    resident_blocks_ += c.count;
    const CohortKey end(k->clock.whole + length, k->clock.frac, next_cohort_seq_++);
    k->cohorts.emplace(end, std::move(c));
    first = last;
  }
}

void BlockModel::Recompute() {
  const double peak = spec_.EffectiveDramBytesPerNs();
  held_sm_ = 0.0;
  dram_demand_ = 0.0;
  for (const auto& entry : kernels_) {
    const Kernel& k = entry.second;
    if (k.resident == 0) continue;
    held_sm_ += static_cast<double>(k.resident) / k.blocks_per_sm;
  }
  // Each kernel's traffic, grown by L2 sharing with the others (which needs held_sm_).
  const double l2 = spec_.model.l2_corun_traffic;
  for (const auto& entry : kernels_) {
    const Kernel& k = entry.second;
    if (k.resident == 0) continue;
    const double held = static_cast<double>(k.resident) / k.blocks_per_sm;
    const double others = (held_sm_ - held) / spec_.sm_count;
    dram_demand_ +=
        k.launch.dram_bytes_per_ns * std::min(1.0, held / k.full_sm) * (1.0 + l2 * others);
  }
  const double m = std::max(1.0, dram_demand_ / peak);
  const double c = spec_.model.corun_slowdown;
  next_ns_ = finished_.empty() ? kNever : now_ns_;
  for (auto& entry : kernels_) {
    Kernel& k = entry.second;
    if (k.cohorts.empty()) continue;
    const double held = static_cast<double>(k.resident) / k.blocks_per_sm;
    const double others = (held_sm_ - held) / spec_.sm_count;
    const double mb = k.launch.mem_bound;
    k.speed = 1.0 / ((1.0 - mb) * (1.0 + c * others) + mb * m * (1.0 + l2 * others));
    const CohortKey& first = k.cohorts.begin()->first;
    const IsoClock end{std::get<0>(first), std::get<1>(first)};
    const TimeNs d = DurationFromWork(end.Minus(k.clock), k.speed);
    k.end_ns = d == kNever ? kNever : now_ns_ + d;
    next_ns_ = std::min(next_ns_, k.end_ns);
  }
}

}  // namespace

std::unique_ptr<ContentionModel> MakeBlockModel(const GpuSpec& spec,
                                                const SmPartitions& partitions) {
  return std::make_unique<BlockModel>(spec, partitions);
}

}  // namespace cotenant
