// The `block` contention model driven directly, on a 4-SM test GPU, with
// hand-computed completion times.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/gpu_spec.h"
#include "sim/models/block.h"
#include "sim/models/contention_model.h"
#include "sim/units.h"

namespace cotenant {
namespace {

// 4 SMs; per SM 2048 threads, 64 warps, 32 blocks, 64K registers (unit 256),
// 100 KB shared memory (unit 128, no reservation); 1000 GB/s = 1000 B/ns
// fully usable; no co-run slowdown.
GpuSpec TestGpu() {
  GpuSpec g;
  g.key = "test4";
  g.name = "4-SM test GPU";
  g.sm_count = 4;
  g.sm.max_threads = 2048;
  g.sm.max_blocks = 32;
  g.sm.max_warps = 64;
  g.sm.registers = 65536;
  g.sm.max_regs_per_thread = 255;
  g.sm.reg_alloc_unit = 256;
  g.sm.smem_bytes = 102400;
  g.sm.max_smem_per_block = 102400;
  g.sm.smem_alloc_unit = 128;
  g.sm.smem_reserved_per_block = 0;
  g.sm.warp_size = 32;
  g.dram_gbps = 1000.0;
  g.model.dram_efficiency = 1.0;
  g.model.corun_slowdown = 0.0;
  g.sm_partition_granularity = 1;
  g.sm_partition_min = 1;
  return g;
}

// Default shape: 1024 threads x 32 registers, no shared memory. 32 warps
// and 32 x 1024 = 32768 registers per block: 2 blocks per SM (threads,
// warps and registers all allow 2), so 8 blocks fill the test GPU.
KernelLaunch Kern(int32_t task, int64_t blocks, TimeNs dur_ns) {
  KernelLaunch k;
  k.task = task;
  k.blocks = blocks;
  k.threads_per_block = 1024;
  k.regs = 32;
  k.smem = 0;
  k.dur_ns = dur_ns;
  return k;
}

KernelLaunch WithPriority(KernelLaunch k, int32_t priority) {
  k.priority = priority;
  return k;
}

KernelLaunch WithPartition(KernelLaunch k, int32_t partition) {
  k.partition = partition;
  return k;
}

KernelLaunch WithMemory(KernelLaunch k, double mem_bound, double dram_bytes_per_ns) {
  k.mem_bound = mem_bound;
  k.dram_bytes_per_ns = dram_bytes_per_ns;
  return k;
}

KernelLaunch WithShape(KernelLaunch k, int32_t threads, int32_t regs, int32_t smem) {
  k.threads_per_block = threads;
  k.regs = regs;
  k.smem = smem;
  return k;
}

struct Arrival {
  TimeNs at_ns;
  KernelLaunch launch;
};

struct Outcome {
  std::map<int32_t, TimeNs> end_ns;  ///< task -> when it was reported done
  std::vector<int32_t> done_order;   ///< tasks in report order
  std::vector<TimeNs> events;        ///< distinct times the model asked to be advanced to
  ModelStats stats;
};

// A minimal engine: advance to the earlier of the model's next event and
// the next arrival, record what ended, then start what arrives.
Outcome Run(const GpuSpec& gpu, const SmPartitions& partitions, std::vector<Arrival> arrivals) {
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival& a, const Arrival& b) { return a.at_ns < b.at_ns; });
  auto model = MakeBlockModel(gpu, partitions);
  REQUIRE(std::string(model->Name()) == "block");
  Outcome out;
  size_t next = 0;
  std::vector<int32_t> done;
  for (int guard = 0; guard < 1000000; ++guard) {
    const TimeNs t_model = model->NextEventTime();
    const TimeNs t_arrival = next < arrivals.size() ? arrivals[next].at_ns : kNever;
    const TimeNs t = std::min(t_model, t_arrival);
    if (t == kNever) break;
    done.clear();
    model->AdvanceTo(t, &done);
    if (t == t_model && (out.events.empty() || out.events.back() != t)) out.events.push_back(t);
    for (int32_t task : done) {
      out.end_ns[task] = t;
      out.done_order.push_back(task);
    }
    while (next < arrivals.size() && arrivals[next].at_ns == t) {
      model->Start(arrivals[next++].launch, t);
    }
  }
  REQUIRE(next == arrivals.size());
  REQUIRE(model->Running() == 0);
  REQUIRE(model->NextEventTime() == kNever);
  out.stats = model->Stats();
  return out;
}

Outcome Run(const GpuSpec& gpu, std::vector<Arrival> arrivals) {
  return Run(gpu, SmPartitions{}, std::move(arrivals));
}

}  // namespace

TEST_CASE("block: alone, a one-wave kernel takes its dur_ns", "[block]") {
  const GpuSpec gpu = TestGpu();
  // 8 blocks = 2 per SM x 4 SMs: one wave of 1000 ns.
  Outcome o = Run(gpu, {{0, Kern(1, 8, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.events == std::vector<TimeNs>{1000});
  CHECK(o.stats.busy_ns == 1000);
  CHECK(o.stats.sm_ns == Approx(4.0 * 1000));  // 8 blocks / 2 per SM = 4 SMs held
  CHECK(o.stats.dram_ns == 0.0);
  CHECK(o.stats.kernels == 1);
  CHECK(o.stats.recomputes >= 1);

  // Started later: same length. A single block still takes a whole wave.
  o = Run(gpu, {{500, Kern(1, 8, 1000)}, {2000, Kern(2, 1, 300)}});
  CHECK(o.end_ns.at(1) == 1500);
  CHECK(o.end_ns.at(2) == 2300);
  CHECK(o.stats.busy_ns == 1300);
  CHECK(o.stats.sm_ns == Approx(4.0 * 1000 + 0.5 * 300));
}

TEST_CASE("block: alone, a 2.5-wave kernel takes its dur_ns", "[block]") {
  const GpuSpec gpu = TestGpu();
  // 20 blocks, 8 per wave: 3 waves of floor((w+1)*1000/3) - floor(w*1000/3)
  // = 333, 333, 334 ns; the last (4 blocks) runs alone.
  Outcome o = Run(gpu, {{0, Kern(1, 20, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.events == std::vector<TimeNs>{333, 666, 1000});
  // SMs held: 4 for 333, 4 for 333, 2 for 334.
  CHECK(o.stats.sm_ns == Approx(4.0 * 333 + 4.0 * 333 + 2.0 * 334));

  // dur 1001: 333, 334, 334 (floor(1001/3) = 333, floor(2002/3) = 667).
  o = Run(gpu, {{0, Kern(1, 20, 1001)}});
  CHECK(o.end_ns.at(1) == 1001);
  CHECK(o.events == std::vector<TimeNs>{333, 667, 1001});

  // dur 2 over 3 waves: 0, 1, 1 ns; zero-length blocks end at dispatch.
  o = Run(gpu, {{10, Kern(1, 20, 2)}});
  CHECK(o.end_ns.at(1) == 12);
}

TEST_CASE("block: alone, a kernel without launch shape takes its dur_ns", "[block]") {
  const GpuSpec gpu = TestGpu();
  // blocks = 0: one whole-SM block on each of the 4 SMs, 700 ns each.
  KernelLaunch k = Kern(1, 0, 700);
  k.threads_per_block = 0;
  Outcome o = Run(gpu, {{0, k}});
  CHECK(o.end_ns.at(1) == 700);
  CHECK(o.stats.sm_ns == Approx(4.0 * 700));

  // A block too big for an SM (200 KB of shared memory > 100 KB) counts as
  // taking a whole SM: 1 block per SM, 8 blocks = 2 waves of 500 ns.
  o = Run(gpu, {{0, WithShape(Kern(2, 8, 1000), 128, 32, 200 * 1024)}});
  CHECK(o.end_ns.at(2) == 1000);
  CHECK(o.events == std::vector<TimeNs>{500, 1000});
}

TEST_CASE("block: alone, every shape takes exactly its dur_ns", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Waves of floor((w+1)*dur/W) - floor(w*dur/W) ns add up to dur for any
  // block count (partial waves included) and any dur, even dur < waves.
  for (int64_t blocks : {1, 3, 7, 8, 9, 15, 16, 17, 100, 1001}) {
    for (TimeNs dur : {1, 2, 999, 1000, 12345}) {
      for (int32_t threads : {64, 256, 1024}) {
        const KernelLaunch k = WithShape(Kern(1, blocks, dur), threads, 32, 0);
        const Outcome o = Run(gpu, {{77, k}});
        INFO("blocks " << blocks << " dur " << dur << " threads " << threads);
        CHECK(o.end_ns.at(1) == 77 + dur);
      }
    }
  }
  // The whole GPU given as a partition is the same as no partition.
  const Outcome o = Run(gpu, SmPartitions{{4}}, {{0, WithPartition(Kern(1, 20, 1000), 0)}});
  CHECK(o.end_ns.at(1) == 1000);
}

TEST_CASE("block: a given blocks_per_sm overrides the occupancy calculator", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Measured 1 block per SM (the calculator says 2): 4 blocks per wave, 8
  // blocks = 2 waves of 500 ns.
  KernelLaunch k = Kern(1, 8, 1000);
  k.blocks_per_sm = 1;
  Outcome o = Run(gpu, {{0, k}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.events == std::vector<TimeNs>{500, 1000});
  CHECK(o.stats.sm_ns == Approx(4.0 * 1000));

  // Measured 4 per SM (the calculator says 2): each block takes at most a
  // quarter of every resource, 16 blocks run as one wave.
  k = Kern(2, 16, 1000);
  k.blocks_per_sm = 4;
  o = Run(gpu, {{0, k}});
  CHECK(o.end_ns.at(2) == 1000);
  CHECK(o.events == std::vector<TimeNs>{1000});
}

TEST_CASE("block: kernels whose footprints fit together overlap fully", "[block]") {
  const GpuSpec gpu = TestGpu();
  // 4 blocks each: breadth-first, one per SM; 2 slots per SM hold both.
  Outcome o = Run(gpu, {{0, Kern(1, 4, 1000)}, {200, Kern(2, 4, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 1200);  // not 2000: it did not wait
  // Held: 2 SMs for [0,200), 4 for [200,1000), 2 for [1000,1200).
  CHECK(o.stats.sm_ns == Approx(2.0 * 200 + 4.0 * 800 + 2.0 * 200));
  CHECK(o.stats.busy_ns == 1200);
}

TEST_CASE("block: two GPU-filling kernels serialize", "[block]") {
  const GpuSpec gpu = TestGpu();
  Outcome o = Run(gpu, {{0, Kern(1, 8, 1000)}, {0, Kern(2, 8, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 2000);
  CHECK(o.done_order == std::vector<int32_t>{1, 2});

  // Without launch shapes too: 700 then 700.
  KernelLaunch a = Kern(3, 0, 700), b = Kern(4, 0, 700);
  o = Run(gpu, {{0, a}, {100, b}});
  CHECK(o.end_ns.at(3) == 700);
  CHECK(o.end_ns.at(4) == 1400);
}

TEST_CASE("block: a later kernel fills the slots of an earlier kernel's last wave", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Kernel 1: 12 blocks = 2 waves of 500 ns; its second wave is 4 blocks
  // (1 per SM), leaving 1 slot per SM. Kernel 2 (4 blocks, 1000 ns, one
  // wave) finds no slot at 0, gets the 4 spare slots at 500 when kernel 1
  // enters its last wave, and ends at 1500 (2000 if it waited for kernel 1).
  Outcome o = Run(gpu, {{0, Kern(1, 12, 1000)}, {0, Kern(2, 4, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 1500);
  CHECK(o.events == std::vector<TimeNs>{500, 1000, 1500});

  // The dispatch listener hears when each kernel first got SMs.
  struct Log : DispatchListener {
    std::vector<TimeNs> first_sm_ns = std::vector<TimeNs>(3, -1);
    void OnDispatch(int32_t task, TimeNs now) override { first_sm_ns[task] = now; }
  } log;
  auto model = MakeBlockModel(gpu, SmPartitions{});
  std::vector<TimeNs>& first_sm_ns = log.first_sm_ns;
  model->set_dispatch_listener(&log);
  std::vector<int32_t> done;
  model->Start(Kern(1, 12, 1000), 0);
  model->Start(Kern(2, 4, 1000), 0);
  CHECK(first_sm_ns == std::vector<TimeNs>{-1, 0, -1});
  model->AdvanceTo(model->NextEventTime(), &done);
  CHECK(first_sm_ns == std::vector<TimeNs>{-1, 0, 500});
}

TEST_CASE("block: a higher-priority kernel never preempts, then goes first", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Low 1 fills the GPU at 0; low 2 arrives at 100, high (priority -1) at
  // 200. Low 1 keeps its blocks to 1000; then high takes every freed slot
  // (1000 -> 2000) although low 2 arrived first; low 2 runs 2000 -> 3000.
  Outcome o = Run(
      gpu,
      {{0, Kern(1, 8, 1000)}, {100, Kern(2, 8, 1000)}, {200, WithPriority(Kern(3, 8, 1000), -1)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(3) == 2000);
  CHECK(o.end_ns.at(2) == 3000);
  CHECK(o.done_order == std::vector<int32_t>{1, 3, 2});
}

TEST_CASE("block: a pending kernel that does not fit lets later kernels use what is left",
          "[block]") {
  const GpuSpec gpu = TestGpu();
  // Kernel 1: 4 blocks of 1024 threads, 1 per SM, half of every SM.
  // Kernel 2 (priority -1): 2048-thread blocks (64 warps, 65536 registers:
  // 1 per SM, needs an empty SM); arrives at 100 and fits nowhere.
  // Kernel 3 (priority 0) arrives at 200 and takes the other half of every
  // SM ("left-over" policy): 200 -> 1200. Kernel 2 waits for an empty SM:
  // at 1000 kernel 3 still sits on every SM, so it runs 1200 -> 2200.
  Outcome o = Run(gpu, {{0, Kern(1, 4, 1000)},
                        {100, WithPriority(WithShape(Kern(2, 4, 1000), 2048, 32, 0), -1)},
                        {200, Kern(3, 4, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(3) == 1200);
  CHECK(o.end_ns.at(2) == 2200);
}

TEST_CASE("block: kernels ending together are reported by priority, then start order", "[block]") {
  const GpuSpec gpu = TestGpu();
  Outcome o = Run(
      gpu, {{0, Kern(1, 2, 1000)}, {0, WithPriority(Kern(2, 2, 1000), -1)}, {0, Kern(3, 2, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 1000);
  CHECK(o.end_ns.at(3) == 1000);
  CHECK(o.done_order == std::vector<int32_t>{2, 1, 3});
}

TEST_CASE("block: an SM cap of half the GPU doubles a compute-bound GPU-filling kernel",
          "[block]") {
  const GpuSpec gpu = TestGpu();
  const SmPartitions halves{{2, 2}};
  // Partition 0 = SMs {0,1}: the 8 blocks of one whole-GPU wave (1000 ns
  // each) run 4 at a time: 0 -> 1000 -> 2000.
  Outcome o = Run(gpu, halves, {{0, WithPartition(Kern(1, 8, 1000), 0)}});
  CHECK(o.end_ns.at(1) == 2000);
  CHECK(o.stats.sm_ns == Approx(2.0 * 2000));
  // Exact for odd durations too: every block of wave 0 is 999 ns.
  o = Run(gpu, halves, {{0, WithPartition(Kern(1, 8, 999), 0)}});
  CHECK(o.end_ns.at(1) == 1998);

  // Without launch shape a kernel fills the whole GPU: one whole-SM block per
  // SM of the GPU (4), one wave of 700 ns. In a 2-SM partition those 4 blocks
  // take two rounds: 1400 ns (as in fluid). It runs alongside a kernel in the
  // other partition.
  KernelLaunch n = WithPartition(Kern(2, 0, 700), 1);
  o = Run(gpu, halves, {{0, WithPartition(Kern(1, 8, 1000), 0)}, {0, n}});
  CHECK(o.end_ns.at(1) == 2000);
  CHECK(o.end_ns.at(2) == 1400);
  CHECK(o.stats.sm_ns == Approx(2.0 * 2000 + 2.0 * 1400));

  // 2.5 whole-GPU waves (333, 333, 334 ns) on half the GPU: 5 rounds of 4
  // blocks: 333, 333, 333, 333 (blocks 12-15 are still wave 1), 334 = 1666.
  o = Run(gpu, halves, {{0, WithPartition(Kern(3, 20, 1000), 0)}});
  CHECK(o.end_ns.at(3) == 1666);
  CHECK(o.events == std::vector<TimeNs>{333, 666, 999, 1332, 1666});
}

TEST_CASE("block: partitioned and shared kernels on the same SMs", "[block]") {
  const GpuSpec gpu = TestGpu();
  const SmPartitions halves{{2, 2}};
  // Partition kernel first: it fills SMs 0-1 (2 blocks each). The shared
  // kernel (partition -1) gets SMs 2-3 (4 blocks) at 0 and its last 4
  // blocks, one per SM, at 1000.
  Outcome o = Run(gpu, halves, {{0, WithPartition(Kern(1, 4, 1000), 0)}, {0, Kern(2, 8, 1000)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 2000);

  // Shared kernel first: it takes all 8 slots, including partition 0's SMs;
  // the partition kernel waits for them and may not use partition 1.
  o = Run(gpu, halves, {{0, Kern(2, 8, 1000)}, {0, WithPartition(Kern(1, 4, 1000), 0)}});
  CHECK(o.end_ns.at(2) == 1000);
  CHECK(o.end_ns.at(1) == 2000);

  // Only SMs 0-1 partitioned: SMs 2-3 stay free for shared kernels while
  // the partition kernel (8 blocks) takes two rounds on SMs 0-1.
  const SmPartitions one{{2}};
  o = Run(gpu, one, {{0, WithPartition(Kern(1, 8, 1000), 0)}, {0, Kern(2, 4, 1000)}});
  CHECK(o.end_ns.at(1) == 2000);
  CHECK(o.end_ns.at(2) == 1000);
}

TEST_CASE("block: DRAM overload slows memory-bound kernels in proportion", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Alone: demand 1000 B/ns = peak, m = 1: 1000 ns.
  Outcome o = Run(gpu, {{0, WithMemory(Kern(1, 4, 1000), 1.0, 1000.0)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.stats.dram_ns == Approx(1000.0));

  // Two such kernels, 4 blocks each (one per SM, fitting together): each
  // holds 2 SM-equivalents of a full 2, D = 2000, m = 2, speed 1/2: 2000 ns.
  o = Run(gpu, {{0, WithMemory(Kern(1, 4, 1000), 1.0, 1000.0)},
                {0, WithMemory(Kern(2, 4, 1000), 1.0, 1000.0)}});
  CHECK(o.end_ns.at(1) == 2000);
  CHECK(o.end_ns.at(2) == 2000);
  CHECK(o.stats.dram_ns == Approx(2000.0));

  // Demand scales with the share of its first wave a kernel holds: 8
  // blocks (full = 4 SMs) held at 1 per SM next to a compute kernel
  // (2 SMs of 4) demand 1600 * 2/4 = 800 <= 1000: no slowdown. Its two
  // rounds of 4 blocks end at 1000 and 2000.
  o = Run(gpu, {{0, Kern(1, 4, 2000)}, {0, WithMemory(Kern(2, 8, 1000), 1.0, 1600.0)}});
  CHECK(o.end_ns.at(1) == 2000);
  CHECK(o.end_ns.at(2) == 2000);
  CHECK(o.stats.dram_ns == Approx(0.8 * 2000));
}

TEST_CASE("block: half memory-bound kernels follow the speed formula", "[block]") {
  GpuSpec gpu = TestGpu();
  // mem_bound 0.5, 1000 B/ns each: together m = 2, speed = 1/(0.5 + 0.5*2)
  // = 2/3. Kernel 2 (500 ns) ends at 500 * 3/2 = 750; kernel 1 has done
  // 500 of 1000 ns by then and finishes alone at speed 1: 1250.
  Outcome o = Run(gpu, {{0, WithMemory(Kern(1, 4, 1000), 0.5, 1000.0)},
                        {0, WithMemory(Kern(2, 4, 500), 0.5, 1000.0)}});
  CHECK(o.end_ns.at(2) == 750);
  CHECK(o.end_ns.at(1) == 1250);
  CHECK(o.stats.dram_ns == Approx(750.0 + 500.0));

  // With co-run slowdown 0.5: others = 2/4 SMs, compute part 1 + 0.5*0.5 =
  // 1.25; speed = 1/(0.5*1.25 + 0.5*2) = 1/1.625: 1625 ns for both.
  gpu.model.corun_slowdown = 0.5;
  o = Run(gpu, {{0, WithMemory(Kern(1, 4, 1000), 0.5, 1000.0)},
                {0, WithMemory(Kern(2, 4, 1000), 0.5, 1000.0)}});
  CHECK(o.end_ns.at(1) == 1625);
  CHECK(o.end_ns.at(2) == 1625);
  // Alone, co-run slowdown does not apply: 1000 ns.
  o = Run(gpu, {{0, WithMemory(Kern(1, 4, 1000), 0.5, 1000.0)}});
  CHECK(o.end_ns.at(1) == 1000);
}

TEST_CASE("block: resource-limited co-residence on one SM", "[block]") {
  const GpuSpec gpu = TestGpu();
  // Shared-memory-heavy: 128 threads, 32 regs, 60 KB: 1 block per SM
  // (100 KB / 60 KB), 4 warps x 1024 = 4096 registers.
  const KernelLaunch smem_heavy = WithShape(Kern(1, 4, 1000), 128, 32, 60 * 1024);
  // Register-heavy: 128 threads x 255 regs = 8160 -> 8192 per warp, 4 warps
  // = 32768 per block: 2 per SM alone, 8 blocks = one wave.
  const KernelLaunch reg_heavy = WithShape(Kern(2, 8, 1000), 128, 255, 0);
  // Next to a smem-heavy block only 65536 - 4096 = 61440 registers are
  // free: one register-heavy block per SM at 0, the other 4 at 1000.
  Outcome o = Run(gpu, {{0, smem_heavy}, {0, reg_heavy}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(2) == 2000);

  // A lighter kernel (128 regs: 16384 per block) fits 3 per SM beside it:
  // its 8 blocks (2 per SM) all run at once.
  o = Run(gpu, {{0, smem_heavy}, {0, WithShape(Kern(3, 8, 1000), 128, 128, 0)}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(3) == 1000);

  // Two smem-heavy kernels cannot share an SM (120 KB > 100 KB): serialize.
  KernelLaunch other = smem_heavy;
  other.task = 4;
  o = Run(gpu, {{0, smem_heavy}, {0, other}});
  CHECK(o.end_ns.at(1) == 1000);
  CHECK(o.end_ns.at(4) == 2000);
}

TEST_CASE("block: a zero-duration kernel ends when it starts", "[block]") {
  const GpuSpec gpu = TestGpu();
  auto model = MakeBlockModel(gpu, SmPartitions{});
  std::vector<int32_t> done;
  model->Start(Kern(1, 8, 1000), 0);
  CHECK(model->NextEventTime() == 1000);
  model->AdvanceTo(100, &done);
  CHECK(done.empty());
  model->Start(Kern(2, 8, 0), 100);
  CHECK(model->Running() == 2);
  CHECK(model->NextEventTime() == 100);
  model->AdvanceTo(100, &done);
  CHECK(done == std::vector<int32_t>{2});
  CHECK(model->Running() == 1);
  CHECK(model->NextEventTime() == 1000);
  done.clear();
  model->AdvanceTo(1000, &done);
  CHECK(done == std::vector<int32_t>{1});
  CHECK(model->Running() == 0);
  CHECK(model->NextEventTime() == kNever);
  CHECK(model->Stats().kernels == 2);
}

TEST_CASE("block: same input, same output", "[block]") {
  GpuSpec gpu = TestGpu();
  gpu.model.corun_slowdown = 0.3;
  gpu.model.dram_efficiency = 0.8;
  const SmPartitions parts{{1, 2}};
  std::vector<Arrival> arrivals;
  for (int32_t i = 0; i < 40; ++i) {
    KernelLaunch k = Kern(i, 1 + (i * 7) % 23, 100 + (i * 37) % 401);
    k.mem_bound = (i % 5) * 0.2;
    k.dram_bytes_per_ns = 150.0 * (i % 7);
    k.priority = i % 3 == 0 ? -1 : 0;
    k.partition = i % 4 == 0 ? (i / 4) % 2 : -1;
    if (i % 6 == 1) k = WithShape(k, 256, 96, 24 * 1024);
    if (i % 11 == 2) k.blocks = 0;
    arrivals.push_back({static_cast<TimeNs>((i * 53) % 900), k});
  }
  const Outcome a = Run(gpu, parts, arrivals);
  const Outcome b = Run(gpu, parts, arrivals);
  CHECK(a.end_ns.size() == 40);
  CHECK(a.end_ns == b.end_ns);
  CHECK(a.done_order == b.done_order);
  CHECK(a.events == b.events);
  CHECK(a.stats.busy_ns == b.stats.busy_ns);
  CHECK(a.stats.sm_ns == b.stats.sm_ns);
  CHECK(a.stats.dram_ns == b.stats.dram_ns);
  CHECK(a.stats.recomputes == b.stats.recomputes);
  CHECK(a.stats.kernels == 40);
}

}  // namespace cotenant
