// The CUDA runner: executes a ReplayProgram on a real GPU. One host thread
// per program thread; streams with clamped priorities; SM partitions as
// green contexts; real events for cross-stream and cross-tenant waits, with
// a host-side flag per event so no wait is enqueued before its record; CPU
// gaps and API times spun on the host. GPU work is timed by the project's
// profiler (libcotenant_inject.so in replay mode: CUPTI activity records
// tagged with each node's external id) or, without it, by %globaltimer
// stamps the replay kernel writes.
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "profiler/cupti/replay_client.h"
#include "sim/error.h"
#include "tools/replay/cuda/cuda_check.h"
#include "tools/replay/cuda/cuda_runner.h"
#include "tools/replay/cuda/replay_kernel.h"
#include "tools/replay/timing.h"

namespace cotenant::replay {
namespace {

using Clock = std::chrono::steady_clock;

/// Bytes of DRAM traffic per work unit of the memory part.
constexpr double kBytesPerUnit = 64.0;
/// Cycles of one spin iteration (a dependent FMA), for the first guess.
constexpr double kCyclesPerIter = 4.0;
constexpr int kThreadsNoShape = 256;

template <typename Fn>
Fn DriverEntry(const char* symbol) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult status{};
  COTENANT_CUDA(cudaGetDriverEntryPointByVersion(symbol, &fn, 12040, cudaEnableDefault, &status));
  if (fn == nullptr || status != cudaDriverEntryPointSuccess)
    CudaFailed(symbol, "not provided by this driver (green contexts need 12.4+)");
  return reinterpret_cast<Fn>(fn);
}

void SpinFor(TimeNs ns) {
  if (ns <= 0) return;
  const auto until = Clock::now() + std::chrono::nanoseconds(ns);
  while (Clock::now() < until) {
  }
}

/// Launch configuration of one template kernel.
struct KernelConfig {
  dim3 grid, block;
  ReplayKernelParams params;
  int32_t report = -1;  ///< index into ReplayReport::kernels
};

/// One replay on the device: everything it creates lives as long as it.
class CudaReplay {
 public:
  CudaReplay(const LoadedWorkload& lw, const TaskGraph& g, const ReplayProgram& p,
             const ReplayOptions& o)
      : lw_(lw), g_(g), p_(p), o_(o) {}

  ReplayReport Run() {
    Init();
    MakeContextsAndStreams();
    ConfigureKernels();
    for (int32_t i = 0; i < o_.repeat; ++i) {
      Log("run " + std::to_string(i + 1) + "/" + std::to_string(o_.repeat));
      rep_.runs.push_back(RunOnce());
    }
    return std::move(rep_);
  }

  ~CudaReplay() {
    for (cudaEvent_t e : events_)
      if (e != nullptr) cudaEventDestroy(e);
    for (cudaEvent_t e : fence_events_)
      if (e != nullptr) cudaEventDestroy(e);
    for (cudaStream_t s : streams_)
      if (s != nullptr) cudaStreamDestroy(s);
  }

 private:
  void Log(const std::string& s) {
    if (o_.log) o_.log(s);
  }

  /// Before CUDA starts: point the driver at the injection library in
  /// replay mode when CUPTI timing is wanted.
  void PrepareCuptiTiming() {
    const bool have = !o_.inject_library.empty();
    if (o_.timing == Timing::kCupti && !have)
      throw InputError("--timing cupti: libcotenant_inject.so was not found");
    cupti_wanted_ = o_.timing != Timing::kStamps && have;
    if (!cupti_wanted_) return;
    const char* current = std::getenv("CUDA_INJECTION64_PATH");
    if (current != nullptr && *current != '\0' && o_.inject_library != current) {
      const std::string why =
          std::string("CUDA_INJECTION64_PATH already names ") + current + " (another profiler?)";
      if (o_.timing == Timing::kCupti)
        throw InputError("--timing cupti: " + why + "; unset it, or use --timing stamps");
      rep_.notes.push_back(why + ": GPU times come from %globaltimer stamps");
      cupti_wanted_ = false;
      return;
    }
    setenv("CUDA_INJECTION64_PATH", o_.inject_library.c_str(), 1);
    setenv("COTENANT_REPLAY", "1", 1);
    unsetenv("COTENANT_COUNTERS");
    unsetenv("COTENANT_NVTX");
  }

  /// After CUDA started: find the timing interface in the library the driver
  /// loaded (replay_client.h).
  void AttachCuptiTiming() {
    rep_.timing = "stamps";
    if (!cupti_wanted_) return;
    auto unusable = [&](const std::string& why) {
      if (o_.timing == Timing::kCupti) throw InputError("--timing cupti: " + why);
      rep_.notes.push_back(why + ": GPU times come from %globaltimer stamps");
    };
    void* lib = dlopen(o_.inject_library.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (lib == nullptr) return unusable("the CUDA driver did not load " + o_.inject_library);
    auto ready = reinterpret_cast<CotenantReplayReadyFn>(dlsym(lib, profiler::kReplayReadySymbol));
    push_ = reinterpret_cast<CotenantPushIdFn>(dlsym(lib, profiler::kPushIdSymbol));
    pop_ = reinterpret_cast<CotenantPopIdFn>(dlsym(lib, profiler::kPopIdSymbol));
    timestamp_ = reinterpret_cast<CotenantTimestampFn>(dlsym(lib, profiler::kTimestampSymbol));
    collect_ = reinterpret_cast<CotenantCollectFn>(dlsym(lib, profiler::kCollectSymbol));
    dlclose(lib);  // the driver's reference keeps it loaded
    if (ready == nullptr || push_ == nullptr || pop_ == nullptr || timestamp_ == nullptr ||
        collect_ == nullptr) {
      return unusable(o_.inject_library + " has no replay timing interface (an older build?)");
    }
    if (ready() != 1)
      return unusable("CUPTI did not start in replay mode (see the messages above)");
    cupti_ = true;
    rep_.timing = "cupti";
  }

  void Init() {
    // Must be set before the runtime creates the context.
    setenv("CUDA_DEVICE_MAX_CONNECTIONS", std::to_string(o_.max_connections).c_str(), 1);
    rep_.max_connections = o_.max_connections;
    PrepareCuptiTiming();
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
      // Without any driver the runtime says "driver version is insufficient".
      void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
      if (driver == nullptr) driver = dlopen("libcuda.so.1", RTLD_LAZY);
      const bool no_driver = driver == nullptr;
      if (driver != nullptr) dlclose(driver);
      throw InputError(std::string("replay needs a CUDA GPU: cudaGetDeviceCount: ") +
                       (e == cudaSuccess ? "no device"
                        : no_driver      ? "no CUDA driver on this machine (libcuda.so.1 not found)"
                                         : cudaGetErrorString(e)));
    }
    if (o_.device >= count)
      throw InputError("--device " + std::to_string(o_.device) + ": only " + std::to_string(count) +
                       " CUDA devices");
    COTENANT_CUDA(cudaSetDevice(o_.device));
    COTENANT_CUDA(cudaFree(nullptr));  // create the primary context
    AttachCuptiTiming();
    COTENANT_CUDA(cudaDriverGetVersion(&rep_.driver_version));
    COTENANT_CUDA(cudaRuntimeGetVersion(&rep_.runtime_version));
    cudaDeviceProp prop{};
    COTENANT_CUDA(cudaGetDeviceProperties(&prop, o_.device));
    rep_.device_name = prop.name;
    sm_count_ = prop.multiProcessorCount;
    if (sm_count_ != lw_.gpu.sm_count)
      rep_.notes.push_back("the device has " + std::to_string(sm_count_) + " SMs, the spec " +
                           lw_.gpu.key + " " + std::to_string(lw_.gpu.sm_count));
    COTENANT_CUDA(cudaDeviceGetStreamPriorityRange(&least_priority_, &greatest_priority_));
    const size_t bytes = std::max<size_t>(2 * static_cast<size_t>(prop.l2CacheSize), 64u << 20);
    COTENANT_CUDA(cudaMalloc(reinterpret_cast<void**>(&dram_), bytes));
    COTENANT_CUDA(cudaMemset(dram_, 0, bytes));
    dram_elems_ = static_cast<long long>(bytes / sizeof(float));
    int64_t copy_bytes = 1;
    for (const TenantTemplate* t : g_.templates)
      for (const Task& task : t->trace->tasks)
        if (task.kind == TaskKind::kMemcpy || task.kind == TaskKind::kMemset)
          copy_bytes = std::max(copy_bytes, task.bytes);
    copy_bytes_ = static_cast<size_t>(copy_bytes);
    COTENANT_CUDA(cudaMallocHost(&host_buf_, copy_bytes_));
    COTENANT_CUDA(cudaMalloc(&dev_buf_, copy_bytes_));
    COTENANT_CUDA(cudaMalloc(&dev_buf2_, copy_bytes_));
    COTENANT_CUDA(cudaStreamCreateWithFlags(&sizing_stream_, cudaStreamNonBlocking));
    streams_.push_back(sizing_stream_);
  }

  /// A green context per SM partition, then every stream of the graph.
  void MakeContextsAndStreams() {
    std::vector<CUgreenCtx> green(g_.partitions.sm_counts.size(), nullptr);
    if (!green.empty()) {
      CuErrorStringFn() = DriverEntry<CuGetErrorStringFn>("cuGetErrorString");
      auto get_resource = DriverEntry<CUresult (*)(CUdevice, CUdevResource*, CUdevResourceType)>(
          "cuDeviceGetDevResource");
      auto split =
          DriverEntry<CUresult (*)(CUdevResource*, unsigned*, const CUdevResource*, CUdevResource*,
                                   unsigned, unsigned)>("cuDevSmResourceSplitByCount");
      auto gen_desc = DriverEntry<CUresult (*)(CUdevResourceDesc*, CUdevResource*, unsigned)>(
          "cuDevResourceGenerateDesc");
      auto create = DriverEntry<CUresult (*)(CUgreenCtx*, CUdevResourceDesc, CUdevice, unsigned)>(
          "cuGreenCtxCreate");
      CUdevResource left{};
      COTENANT_CU(get_resource(static_cast<CUdevice>(o_.device), &left, CU_DEV_RESOURCE_TYPE_SM));
      const unsigned align = std::max(1u, left.sm.smCoscheduledAlignment);
      const unsigned min_size = std::max(1u, left.sm.minSmPartitionSize);
      for (size_t i = 0; i < green.size(); ++i) {
        const unsigned want = static_cast<unsigned>(g_.partitions.sm_counts[i]);
        unsigned ask = std::max(min_size, (want + align - 1) / align * align);
        CUdevResource part{}, rest{};
        unsigned groups = 1;
        COTENANT_CU(split(&part, &groups, &left, &rest, 0, ask));
        if (groups != 1)
          CudaFailed("cuDevSmResourceSplitByCount", "no SMs left for partition " +
                                                        std::to_string(i) + " of " +
                                                        std::to_string(want) + " SMs");
        if (part.sm.smCount != want)
          rep_.notes.push_back(
              "partition " + std::to_string(i) + ": asked " + std::to_string(want) + " SMs, got " +
              std::to_string(part.sm.smCount) + " (minimum " + std::to_string(min_size) +
              ", alignment " + std::to_string(align) + ")");
        CUdevResourceDesc desc{};
        COTENANT_CU(gen_desc(&desc, &part, 1));
        COTENANT_CU(
            create(&green[i], desc, static_cast<CUdevice>(o_.device), CU_GREEN_CTX_DEFAULT_STREAM));
        left = rest;
      }
      rep_.notes.push_back("SMs left outside every partition: " + std::to_string(left.sm.smCount));
    }
    auto stream_create = green.empty()
                             ? nullptr
                             : DriverEntry<CUresult (*)(CUstream*, CUgreenCtx, unsigned, int)>(
                                   "cuGreenCtxStreamCreate");
    stream_of_.assign(g_.streams.size(), nullptr);
    bool clamped = false;
    for (size_t s = 0; s < g_.streams.size(); ++s) {
      const int32_t ti = g_.streams[s].tenant;
      int prio = g_.tenant_priority[ti];
      const int clamped_prio = std::min(least_priority_, std::max(greatest_priority_, prio));
      clamped = clamped || clamped_prio != prio;
      const int32_t part = g_.tenant_partition[ti];
      if (part >= 0) {
        CUstream cs = nullptr;
        COTENANT_CU(stream_create(&cs, green[part], CU_STREAM_NON_BLOCKING, clamped_prio));
        stream_of_[s] = cs;
      } else {
        COTENANT_CUDA(
            cudaStreamCreateWithPriority(&stream_of_[s], cudaStreamNonBlocking, clamped_prio));
      }
      streams_.push_back(stream_of_[s]);
    }
    // Side streams for kernels with a what-if priority or SM cap of their own.
    for (const SideStream& side : p_.side_streams) {
      const int prio = std::min(least_priority_, std::max(greatest_priority_, side.priority));
      clamped = clamped || prio != side.priority;
      cudaStream_t st = nullptr;
      if (side.partition >= 0) {
        CUstream cs = nullptr;
        COTENANT_CU(stream_create(&cs, green[side.partition], CU_STREAM_NON_BLOCKING, prio));
        st = cs;
      } else {
        COTENANT_CUDA(cudaStreamCreateWithPriority(&st, cudaStreamNonBlocking, prio));
      }
      side_of_.push_back(st);
      streams_.push_back(st);
    }
    if (!p_.side_streams.empty())
      rep_.notes.push_back(std::to_string(p_.side_streams.size()) +
                           " side stream(s) carry kernels with a priority or SM cap of their own");
    if (clamped)
      rep_.notes.push_back("stream priorities clamped to the device's range [" +
                           std::to_string(greatest_priority_) + ", " +
                           std::to_string(least_priority_) + "]");
  }

  /// Occupancy matching and kernel sizing of every distinct kernel.
  void ConfigureKernels() {
    int regs = 0, static_smem = 0;
    COTENANT_CUDA(QueryReplayKernel(&regs, &static_smem, lw_.gpu.sm.max_smem_per_block));
    const ReplayKernelResources res{regs, static_smem};
    configs_.resize(g_.templates.size());
    std::map<std::tuple<std::string, int64_t, int32_t, int32_t, int32_t, TimeNs, double>, int32_t>
        distinct;
    std::vector<double> errors;
    for (size_t ti = 0; ti < g_.templates.size(); ++ti) {
      const TenantTemplate& t = *g_.templates[ti];
      configs_[ti].resize(t.kernels.size());
      for (size_t ki = 0; ki < t.kernels.size(); ++ki) {
        const KernelLaunch& k = t.kernels[ki];
        const Task& task = t.trace->tasks[t.nodes[k.task].task];
        KernelConfig& c = configs_[ti][ki];
        OccupancyMatch m;
        if (task.HasShape()) {
          c.grid = dim3(task.grid[0], task.grid[1], task.grid[2]);
          c.block = dim3(task.block[0], task.block[1], task.block[2]);
          m = MatchOccupancy(lw_.gpu, task.ThreadsPerBlock(), task.regs, task.smem, res);
        } else {
          m = MatchOccupancy(lw_.gpu, kThreadsNoShape, regs, static_smem, res);
          c.block = dim3(kThreadsNoShape);
          c.grid = dim3(std::max(1, m.replay_blocks_per_sm) * sm_count_);
        }
        c.params.dynamic_smem = m.dynamic_smem;
        c.params.buffer = dram_;
        c.params.buffer_elems = dram_elems_;
        const auto key = std::make_tuple(t.trace->Name(task), k.blocks, k.threads_per_block, k.regs,
                                         k.smem, k.dur_ns, k.mem_bound);
        auto [it, fresh] = distinct.emplace(key, static_cast<int32_t>(rep_.kernels.size()));
        c.report = it->second;
        if (!fresh) {
          ++rep_.kernels[c.report].launches;
          c.params.spin_iters = configs_by_report_[c.report].spin_iters;
          c.params.bytes_per_block = configs_by_report_[c.report].bytes_per_block;
          continue;
        }
        if (!m.exact) rep_.notes.push_back("kernel " + t.trace->Name(task) + ": " + m.note);
        KernelReport kr;
        kr.name = t.trace->Name(task);
        kr.launches = 1;
        kr.target_ns = k.dur_ns;
        kr.occupancy = m;
        const double blocks = static_cast<double>(c.grid.x) * c.grid.y * c.grid.z;
        const double waves =
            std::max(1.0, blocks / (std::max(1, m.replay_blocks_per_sm) * double(sm_count_)));
        SizingOptions co;
        co.iterations = o_.sizing_iterations;
        co.tolerance_pct = o_.sizing_tolerance_pct;
        co.min_work = 1.0;
        kr.sizing = SizeKernel(
            static_cast<double>(k.dur_ns),
            InitialWork(k.dur_ns, waves, lw_.gpu.clock_mhz, kCyclesPerIter),
            [&](double w) { return TimeAlone(c, SplitWork(w, k.mem_bound, kBytesPerUnit)); }, co);
        const KernelWork kw = SplitWork(kr.sizing.work, k.mem_bound, kBytesPerUnit);
        c.params.spin_iters = kw.spin_iters;
        c.params.bytes_per_block = kw.bytes_per_block;
        kr.replay_dram_bytes = static_cast<int64_t>(blocks) * kw.bytes_per_block;
        kr.traced_dram_bytes = task.dram_bytes;
        configs_by_report_.push_back(kw);
        errors.push_back(kr.sizing.error_pct);
        rep_.kernels.push_back(std::move(kr));
      }
    }
    rep_.sizing = SummarizeErrors(errors);
    Log("calibrated " + std::to_string(rep_.kernels.size()) + " distinct kernels");
  }

  /// Median of three timed runs of one kernel alone (after one warm-up), ns.
  double TimeAlone(const KernelConfig& c, const KernelWork& w) {
    ReplayKernelParams p = c.params;
    p.spin_iters = w.spin_iters;
    p.bytes_per_block = w.bytes_per_block;
    cudaEvent_t a, b;
    COTENANT_CUDA(cudaEventCreate(&a));
    COTENANT_CUDA(cudaEventCreate(&b));
    COTENANT_CUDA(LaunchReplayKernel(c.grid, c.block, p, sizing_stream_));
    float ms[3];
    for (float& m : ms) {
      COTENANT_CUDA(cudaEventRecord(a, sizing_stream_));
      COTENANT_CUDA(LaunchReplayKernel(c.grid, c.block, p, sizing_stream_));
      COTENANT_CUDA(cudaEventRecord(b, sizing_stream_));
      COTENANT_CUDA(cudaEventSynchronize(b));
      COTENANT_CUDA(cudaEventElapsedTime(&m, a, b));
    }
    COTENANT_CUDA(cudaEventDestroy(a));
    COTENANT_CUDA(cudaEventDestroy(b));
    std::sort(ms, ms + 3);
    return static_cast<double>(ms[1]) * 1e6;
  }

  /// The %globaltimer now, on the host clock: a stamp kernel's reading,
  /// taken halfway between launch and completion.
  void SyncClocks(unsigned long long* stamp_dev) {
    const auto h0 = Clock::now();
    COTENANT_CUDA(LaunchStamp(stamp_dev, sizing_stream_));
    COTENANT_CUDA(cudaStreamSynchronize(sizing_stream_));
    const auto h1 = Clock::now();
    unsigned long long gt = 0;
    COTENANT_CUDA(cudaMemcpy(&gt, stamp_dev, sizeof(gt), cudaMemcpyDeviceToHost));
    gt0_ = gt;
    host_at_gt0_ = h0 + (h1 - h0) / 2;
  }

  MeasuredRun RunOnce() {
    const size_t n = g_.nodes.size();
    MeasuredRun run = EmptyRun(g_);
    // Completion events and flags.
    for (cudaEvent_t e : events_)
      if (e != nullptr) COTENANT_CUDA(cudaEventDestroy(e));
    events_.assign(n, nullptr);
    for (size_t v = 0; v < n; ++v)
      if (p_.signalled[v] && IsGpuNode(g_.nodes[v].kind))
        COTENANT_CUDA(cudaEventCreateWithFlags(&events_[v], cudaEventDisableTiming));
    // Two fence events per kernel on a side stream: into it, and back.
    for (cudaEvent_t e : fence_events_)
      if (e != nullptr) COTENANT_CUDA(cudaEventDestroy(e));
    fence_events_.assign(2 * n, nullptr);
    for (size_t v = 0; v < n; ++v) {
      if (p_.side_stream_of[v] < 0) continue;
      COTENANT_CUDA(cudaEventCreateWithFlags(&fence_events_[2 * v], cudaEventDisableTiming));
      COTENANT_CUDA(cudaEventCreateWithFlags(&fence_events_[2 * v + 1], cudaEventDisableTiming));
    }
    flags_ = std::make_unique<std::atomic<uint8_t>[]>(n);
    for (size_t v = 0; v < n; ++v) flags_[v].store(0);
    // Kernel stamps: [start, end] per node, start = max so atomicMin works.
    std::vector<unsigned long long> init(2 * n + 2);
    for (size_t v = 0; v < n; ++v) init[2 * v] = ~0ull;
    unsigned long long* stamps = nullptr;
    COTENANT_CUDA(
        cudaMalloc(reinterpret_cast<void**>(&stamps), init.size() * sizeof(unsigned long long)));
    COTENANT_CUDA(
        cudaMemcpy(stamps, init.data(), init.size() * sizeof(init[0]), cudaMemcpyHostToDevice));
    stamps_ = stamps;
    COTENANT_CUDA(cudaDeviceSynchronize());
    if (cupti_) {
      // Drop what CUPTI holds from before this run (calibration, set-up).
      if (collect_([](void*, uint64_t, uint64_t, uint64_t) {}, nullptr) < 0)
        CudaFailed("cotenant_inject_collect", "CUPTI timing failed (see the messages above)");
    } else {
      SyncClocks(stamps + 2 * n);
    }
    abort_.store(false);
    unabsorbed_ns_.store(0);
    error_.clear();
    origin_ = Clock::now();
    if (cupti_) cupti_origin_ = timestamp_();
    std::vector<std::thread> threads;
    for (size_t t = 0; t < p_.threads.size(); ++t)
      threads.emplace_back([this, t, &run] { RunThread(static_cast<int32_t>(t), &run); });
    for (std::thread& t : threads) t.join();
    if (!error_.empty()) {
      cudaFree(stamps);
      throw std::runtime_error(error_);
    }
    if (const int64_t extra = unabsorbed_ns_.load(); extra > 0) {
      rep_.notes.push_back("run " + std::to_string(rep_.runs.size() + 1) +
                           ": the real CUDA calls took " + std::to_string(extra / 1000) +
                           " us more than the traced API time they replace (summed over threads)");
    }
    COTENANT_CUDA(cudaDeviceSynchronize());
    if (cupti_) {
      COTENANT_CUDA(cudaFree(stamps));
      std::vector<TimingSample> samples;
      const int64_t got = collect_(
          [](void* ctx, uint64_t id, uint64_t start, uint64_t end) {
            static_cast<std::vector<TimingSample>*>(ctx)->push_back({id, start, end});
          },
          &samples);
      if (got < 0)
        CudaFailed("cotenant_inject_collect", "CUPTI timing failed (see the messages above)");
      int64_t expected = 0;
      for (size_t v = 0; v < n; ++v) expected += ExpectsSample(g_, static_cast<int32_t>(v));
      const TimingApplied applied = ApplyTimings(g_, samples, cupti_origin_, &run);
      if (applied.missing > 0) throw std::runtime_error(DescribeMissing(g_, applied, expected));
      return run;
    }
    COTENANT_CUDA(
        cudaMemcpy(init.data(), stamps, init.size() * sizeof(init[0]), cudaMemcpyDeviceToHost));
    COTENANT_CUDA(cudaFree(stamps));
    const TimeNs gt_offset =
        std::chrono::duration_cast<std::chrono::nanoseconds>(host_at_gt0_ - origin_).count();
    for (size_t v = 0; v < n; ++v) {
      if (g_.nodes[v].kind != NodeKind::kKernel || init[2 * v] == ~0ull) continue;
      run.start_ns[v] = static_cast<TimeNs>(init[2 * v] - gt0_) + gt_offset;
      run.end_ns[v] = static_cast<TimeNs>(init[2 * v + 1] - gt0_) + gt_offset;
    }
    return run;
  }

  TimeNs Now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - origin_).count();
  }

  /// A host time to record: on CUPTI's clock when CUPTI times the GPU work,
  /// so host and GPU times share one clock.
  TimeNs HostNow() const {
    if (!cupti_) return Now();
    const uint64_t t = timestamp_();
    return t > cupti_origin_ ? static_cast<TimeNs>(t - cupti_origin_) : 0;
  }

  void WaitFlag(int32_t v) {
    while (!flags_[v].load(std::memory_order_acquire)) {
      if (abort_.load()) throw std::runtime_error("aborted");
      std::this_thread::yield();
    }
  }

  void RunThread(int32_t thread, MeasuredRun* run) {
    try {
      ApiTimeLedger ledger;
      for (const Op& op : p_.threads[thread].ops) RunOp(op, run, &ledger);
      unabsorbed_ns_.fetch_add(ledger.debt());
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (error_.empty() && std::string(e.what()) != "aborted") error_ = e.what();
      abort_.store(true);
    }
  }

  void RunOp(const Op& op, MeasuredRun* run, ApiTimeLedger* ledger) {
    const int32_t v = op.node;
    const Node& node = g_.nodes[v];
    const TemplateNode& tn = g_.Tmpl(node);
    const TenantTemplate& t = *g_.templates[node.tenant];
    const Task& task = t.trace->tasks[tn.task];
    while (Now() < op.release_ns) {
      if (abort_.load()) throw std::runtime_error("aborted");
    }
    for (int32_t u : op.host_waits) WaitFlag(u);
    const cudaStream_t stream = node.stream >= 0 ? stream_of_[node.stream] : nullptr;
    for (int32_t u : op.gpu_waits) WaitFlag(u);
    const auto enqueue_start = Clock::now();
    for (int32_t u : op.gpu_waits) {
      if (op.kind == OpKind::kGpu) {
        COTENANT_CUDA(cudaStreamWaitEvent(stream, events_[u], 0));
      } else {
        COTENANT_CUDA(cudaEventSynchronize(events_[u]));
      }
    }
    switch (op.kind) {
      case OpKind::kHost: {
        SpinFor(tn.gap_ns);  // the CPU time before the call
        run->start_ns[v] = HostNow();
        // The call's own time, less what the real CUDA calls of this thread
        // already took (the launch itself follows as a kGpu op).
        SpinFor(ledger->Spin(tn.dur_ns));
        run->end_ns[v] = HostNow();
        break;
      }
      case OpKind::kSync: {
        SpinFor(tn.gap_ns);
        run->start_ns[v] = HostNow();
        switch (static_cast<SyncScope>(tn.sync_scope)) {
          case SyncScope::kStream:
            COTENANT_CUDA(cudaStreamSynchronize(stream));
            break;
          case SyncScope::kDevice: {
            const int32_t first = g_.tenant_first_stream[node.tenant];
            for (int32_t s = first; s < first + g_.tenant_stream_count[node.tenant]; ++s)
              COTENANT_CUDA(cudaStreamSynchronize(stream_of_[s]));
            break;
          }
          case SyncScope::kEvent: {
            const int32_t target = v - node.tmpl + tn.target;
            WaitFlag(target);
            COTENANT_CUDA(cudaEventSynchronize(events_[target]));
            break;
          }
          case SyncScope::kNone:
            break;
        }
        run->end_ns[v] = HostNow();
        break;
      }
      case OpKind::kGpu: {
        const bool tag = cupti_ && ExpectsSample(g_, v);
        if (tag && push_(TimingId(v)) != 0)
          CudaFailed("cuptiActivityPushExternalCorrelationId", "failed (see the messages above)");
        Enqueue(node, tn, task, stream);
        if (tag && pop_() != 0)
          CudaFailed("cuptiActivityPopExternalCorrelationId", "failed (see the messages above)");
        if (events_[v] != nullptr) COTENANT_CUDA(cudaEventRecord(events_[v], stream));
        ledger->Owe(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - enqueue_start)
                .count());
        break;
      }
    }
    flags_[v].store(1, std::memory_order_release);
  }

  void Enqueue(const Node& node, const TemplateNode& tn, const Task& task, cudaStream_t stream) {
    const int32_t v = static_cast<int32_t>(&node - g_.nodes.data());
    switch (node.kind) {
      case NodeKind::kKernel: {
        const KernelConfig& c = configs_[node.tenant][tn.kernel];
        ReplayKernelParams p = c.params;
        p.stamps = cupti_ ? nullptr : stamps_ + 2 * v;
        const int32_t side = p_.side_stream_of[v];
        if (side < 0) {
          COTENANT_CUDA(LaunchReplayKernel(c.grid, c.block, p, stream));
          break;
        }
        // On its side stream, fenced into its own stream's order.
        cudaEvent_t in = fence_events_[2 * v], out = fence_events_[2 * v + 1];
        COTENANT_CUDA(cudaEventRecord(in, stream));
        COTENANT_CUDA(cudaStreamWaitEvent(side_of_[side], in, 0));
        COTENANT_CUDA(LaunchReplayKernel(c.grid, c.block, p, side_of_[side]));
        COTENANT_CUDA(cudaEventRecord(out, side_of_[side]));
        COTENANT_CUDA(cudaStreamWaitEvent(stream, out, 0));
        break;
      }
      case NodeKind::kCopy:
      case NodeKind::kFixed: {
        const size_t bytes = static_cast<size_t>(std::max<int64_t>(0, task.bytes));
        if (bytes == 0) break;
        if (task.kind == TaskKind::kMemset) {
          COTENANT_CUDA(cudaMemsetAsync(dev_buf_, 0, bytes, stream));
        } else if (task.dir == CopyDir::kH2D) {
          COTENANT_CUDA(
              cudaMemcpyAsync(dev_buf_, host_buf_, bytes, cudaMemcpyHostToDevice, stream));
        } else if (task.dir == CopyDir::kD2H) {
          COTENANT_CUDA(
              cudaMemcpyAsync(host_buf_, dev_buf_, bytes, cudaMemcpyDeviceToHost, stream));
        } else {
          COTENANT_CUDA(
              cudaMemcpyAsync(dev_buf2_, dev_buf_, bytes, cudaMemcpyDeviceToDevice, stream));
        }
        break;
      }
      default:  // markers: the completion event recorded after them is the real record
        break;
    }
  }

  const LoadedWorkload& lw_;
  const TaskGraph& g_;
  const ReplayProgram& p_;
  const ReplayOptions o_;
  ReplayReport rep_;
  int sm_count_ = 0, least_priority_ = 0, greatest_priority_ = 0;
  float* dram_ = nullptr;
  long long dram_elems_ = 0;
  void* host_buf_ = nullptr;
  void* dev_buf_ = nullptr;
  void* dev_buf2_ = nullptr;
  size_t copy_bytes_ = 0;
  cudaStream_t sizing_stream_ = nullptr;
  std::vector<cudaStream_t> streams_, stream_of_, side_of_;
  std::vector<cudaEvent_t> fence_events_;  ///< per node: into and out of its side stream
  bool cupti_wanted_ = false, cupti_ = false;
  CotenantPushIdFn push_ = nullptr;
  CotenantPopIdFn pop_ = nullptr;
  CotenantTimestampFn timestamp_ = nullptr;
  CotenantCollectFn collect_ = nullptr;
  uint64_t cupti_origin_ = 0;
  std::vector<std::vector<KernelConfig>> configs_;
  std::vector<KernelWork> configs_by_report_;
  std::vector<cudaEvent_t> events_;
  std::unique_ptr<std::atomic<uint8_t>[]> flags_;
  unsigned long long* stamps_ = nullptr;
  unsigned long long gt0_ = 0;
  Clock::time_point host_at_gt0_, origin_;
  std::atomic<bool> abort_{false};
  std::atomic<int64_t> unabsorbed_ns_{0};  ///< real API time no traced API time absorbed
  std::mutex error_mu_;
  std::string error_;
};

class CudaRunner : public Runner {
 public:
  ReplayReport Run(const LoadedWorkload& lw, const TaskGraph& g, const ReplayProgram& program,
                   const ReplayOptions& options) override {
    return CudaReplay(lw, g, program, options).Run();
  }
};

}  // namespace

std::unique_ptr<Runner> NewCudaRunner() { return std::make_unique<CudaRunner>(); }

}  // namespace cotenant::replay
