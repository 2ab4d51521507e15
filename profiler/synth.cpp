#include "profiler/synth.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "profiler/synth_llm.h"
#include "profiler/synth_models.h"
#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/occupancy.h"
#include "sim/rng.h"

namespace cotenant::profiler {
namespace {

/// Random mode: host API call durations and the CPU time between calls, ns (uniform,
/// seeded), and the DRAM share its dram_bytes assume. Model traces use HostCostProfile.
constexpr TimeNs kLaunchMinNs = 3000, kLaunchMaxNs = 6000;
constexpr TimeNs kGapMinNs = 2000, kGapMaxNs = 10000;
constexpr double kRandomDramEfficiency = 0.8;
/// Shortest blocking sync call, ns.
constexpr TimeNs kSyncMinNs = 1000;
/// Random mode: an event_record / stream_wait pair every this many kernels.
constexpr int64_t kEventEvery = 50;
constexpr int64_t kMaxRandomKernels = 100000000;
constexpr int kMaxRandomStreams = 1024;

// --- Timeline ----------------------------------------------------------------------

/// Places host calls and GPU tasks in time as an isolated execution would.
class Timeline {
 public:
  Timeline(Trace& trace, const GpuSpec& spec, uint64_t seed, int streams)
      : trace_(trace),
        spec_(spec),
        rng_(seed),
        stream_free_(streams, 0),
        stream_last_start_(streams, 0) {}

  SplitMix64& rng() { return rng_; }
  TimeNs host() const { return host_; }
  TimeNs stream_free(int s) const { return stream_free_[s]; }
  TimeNs stream_last_start(int s) const { return stream_last_start_[s]; }
  void WaitHostUntil(TimeNs t) { host_ = std::max(host_, t); }

  /// CPU time between two host calls (random mode).
  void Gap() { host_ += rng_.Uniform(kGapMinNs, kGapMaxNs); }

  /// A cpu task of `dur_ns` labelled `op` at the host clock (one framework operator).
  void Cpu(int32_t op, TimeNs dur_ns) {
    Task t = HostTask(TaskKind::kCpu, op, dur_ns);
    t.op = op;
    trace_.tasks.push_back(t);
    host_ = t.end_ns();
  }

  /// A host task of `kind` named `name` lasting `dur_ns`, at the host clock.
  Task HostTask(TaskKind kind, int32_t name, TimeNs dur_ns) {
    Task t;
    t.id = next_id_++;
    t.kind = kind;
    t.name = name;
    t.thread = kSynthThread;
    t.start_ns = host_;
    t.dur_ns = dur_ns;
    return t;
  }

  /// A launch call of `dur_ns` at the host clock and the GPU task it enqueues on stream
  /// index `s`.
  void Launch(int32_t call_name, TimeNs dur_ns, Task gpu, int s) {
    const int64_t corr = next_corr_++;
    Task call = HostTask(TaskKind::kLaunch, call_name, dur_ns);
    call.correlation = corr;
    trace_.tasks.push_back(call);
    host_ = call.end_ns();
    gpu.id = next_id_++;
    gpu.stream = kSynthStream + s;
    gpu.correlation = corr;
    gpu.start_ns = std::max(host_ + spec_.model.launch_latency_ns, stream_free_[s]);
    stream_last_start_[s] = gpu.start_ns;
    stream_free_[s] = gpu.end_ns();
    trace_.tasks.push_back(gpu);
  }

  /// One launch call of `dur_ns` (a CUDA Graph launch) that enqueues all of `gpus` on
  /// stream index `s` in order; every GPU task shares the call's correlation.
  void LaunchMany(int32_t call_name, TimeNs dur_ns, std::vector<Task> gpus, int s) {
    const int64_t corr = next_corr_++;
    Task call = HostTask(TaskKind::kLaunch, call_name, dur_ns);
    call.correlation = corr;
    trace_.tasks.push_back(call);
    host_ = call.end_ns();
    for (Task& gpu : gpus) {
      gpu.id = next_id_++;
      gpu.stream = kSynthStream + s;
      gpu.correlation = corr;
      gpu.start_ns = std::max(host_ + spec_.model.launch_latency_ns, stream_free_[s]);
      stream_last_start_[s] = gpu.start_ns;
      stream_free_[s] = gpu.end_ns();
      trace_.tasks.push_back(gpu);
    }
  }

  /// A host call that also marks a point on stream index `s` (event record / wait).
  void Marker(TaskKind kind, int32_t call_name, int s, int64_t event) {
    Task t = HostTask(kind, call_name, rng_.Uniform(1000, 3000));
    t.stream = kSynthStream + s;
    t.event = event;
    trace_.tasks.push_back(t);
    host_ = t.end_ns();
  }

  /// A blocking sync call that returns sync latency after `gpu_done_ns`.
  void Sync(int32_t call_name, SyncScope scope, int s, TimeNs gpu_done_ns) {
    Task t = HostTask(TaskKind::kSync, call_name,
                      std::max(kSyncMinNs, gpu_done_ns + spec_.model.sync_latency_ns - host_));
    t.scope = scope;
    if (scope == SyncScope::kStream) t.stream = kSynthStream + s;
    trace_.tasks.push_back(t);
    host_ = t.end_ns();
  }

  void DelayStream(int s, TimeNs t) { stream_free_[s] = std::max(stream_free_[s], t); }

 private:
  Trace& trace_;
  const GpuSpec& spec_;
  SplitMix64 rng_;
  int64_t next_id_ = 1;
  int64_t next_corr_ = 1;
  TimeNs host_ = 0;
  std::vector<TimeNs> stream_free_;
  std::vector<TimeNs> stream_last_start_;
};

Task Memcpy(CopyDir dir, int64_t bytes, const GpuSpec& spec) {
  Task t;
  t.kind = TaskKind::kMemcpy;
  t.dir = dir;
  t.bytes = bytes;
  t.dur_ns = DurationFromWork(static_cast<double>(bytes), spec.pcie_gbps);  // GB/s = B/ns
  return t;
}

std::string GpuKey(const GpuSpec& spec) { return spec.key.empty() ? spec.name : spec.key; }

/// A request checked against `spec`, with its defaults filled in.
struct Resolved {
  const ModelInfo* model = nullptr;  ///< a vision or BERT model, or
  const LlmConfig* llm = nullptr;    ///< an LLM
  LlmPhase phase = LlmPhase::kPrefill;
  ModelShape shape;
  DtypeInfo dtype;
  const HostCostProfile* profile = nullptr;
  std::string library;
  const char* Name() const { return llm != nullptr ? llm->name : model->name; }
};

std::string CcText(const GpuSpec& spec) {
  return std::to_string(spec.compute_capability / 10) + "." +
         std::to_string(spec.compute_capability % 10);
}

std::string Gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

/// The LLM half of Resolve: phase, seq, dtype, framework and memory.
void ResolveLlm(const SynthRequest& req, const GpuSpec& spec, Resolved& r) {
  const LlmConfig& c = *r.llm;
  if (req.phase == "prefill") {
    r.phase = LlmPhase::kPrefill;
  } else if (req.phase == "decode") {
    r.phase = LlmPhase::kDecode;
  } else {
    const std::vector<std::string> phases = {"prefill", "decode"};
    throw InputError("phase: expected one of " + QuotedList(phases) + " for " + req.model +
                     ", found " + (req.phase.empty() ? "none" : "\"" + req.phase + "\"") +
                     DidYouMean(req.phase, phases));
  }
  if (req.seq < 1 || req.seq > c.max_context) {
    throw InputError("seq: expected an integer in 1.." + std::to_string(c.max_context) + " (" +
                     req.model +
                     "'s context window; prompt tokens for prefill, context tokens "
                     "for decode), found " +
                     std::to_string(req.seq));
  }
  r.shape.seq = req.seq;
  const int64_t tokens = int64_t{req.batch} * req.seq;
  if (r.phase == LlmPhase::kPrefill && tokens > kSynthMaxPrefillTokens) {
    throw InputError("batch x seq: expected at most " + std::to_string(kSynthMaxPrefillTokens) +
                     " prompt tokens in one prefill, found " + std::to_string(tokens));
  }
  r.dtype = FindDtype(req.dtype.empty() ? "bf16" : req.dtype);
  if (r.dtype.dtype == SynthDtype::kFp32) {
    throw InputError("dtype: expected one of \"bf16\", \"fp16\", \"fp8\" for " + req.model +
                     ", found \"fp32\"");
  }
  if (r.dtype.dtype == SynthDtype::kFp8 && spec.compute_capability < 89) {
    throw InputError("dtype: fp8 needs compute capability 8.9 or newer, found " + CcText(spec) +
                     " (gpu " + GpuKey(spec) + ")");
  }
  r.profile = &FindFramework(req.framework.empty() ? "vllm" : req.framework);
  if (!r.profile->serving) {
    throw InputError("framework: LLM models run under \"vllm\", found \"" + r.profile->name + "\"");
  }
  // Memory: weights (every parameter at the weight element size; in fp8 the
  // embeddings, norms and LM head really stay bf16, so this undercounts a little) and
  // the KV cache of every sequence (a sliding window caps the tokens kept).
  const int64_t weight_elem = r.dtype.dtype == SynthDtype::kFp8 ? 1 : r.dtype.bytes;
  const int64_t kv_elem = r.dtype.dtype == SynthDtype::kFp8 ? 1 : r.dtype.bytes;
  const int64_t kept =
      c.sliding_window > 0 ? std::min<int64_t>(c.sliding_window, req.seq) : req.seq;
  const double weights = static_cast<double>(LlmParams(c)) * static_cast<double>(weight_elem);
  const double kv = static_cast<double>(req.batch) * static_cast<double>(kept) *
                    static_cast<double>(LlmKvBytesPerToken(c, kv_elem));
  if (weights + kv > static_cast<double>(spec.dram_bytes)) {
    throw InputError("batch x seq: the weights (" + Gb(weights) + ") and the KV cache of " +
                     std::to_string(req.batch) + " x " + std::to_string(kept) + " tokens (" +
                     Gb(kv) + ") exceed gpu " + GpuKey(spec) + "'s memory (" +
                     Gb(static_cast<double>(spec.dram_bytes)) + ")");
  }
}

Resolved Resolve(const SynthRequest& req, const GpuSpec& spec) {
  Resolved r;
  r.llm = FindLlmModel(req.model);
  for (const ModelInfo& m : SynthModels())
    if (req.model == m.name) r.model = &m;
  if (r.model == nullptr && r.llm == nullptr) {
    std::vector<std::string> names = SynthModelNames();
    for (const std::string& n : SynthLlmNames()) names.push_back(n);
    throw InputError("model: expected one of " + QuotedList(names) + ", found \"" + req.model +
                     "\"" + DidYouMean(req.model, names));
  }
  if (req.batch < 1 || req.batch > kSynthMaxBatch) {
    throw InputError("batch: expected an integer in 1.." + std::to_string(kSynthMaxBatch) +
                     ", found " + std::to_string(req.batch));
  }
  r.shape.batch = req.batch;
  if (r.llm != nullptr) {
    ResolveLlm(req, spec, r);
  } else {
    if (!req.phase.empty()) {
      throw InputError("phase: applies to LLM models (" + QuotedList(SynthLlmNames()) + "), not " +
                       req.model + ", found \"" + req.phase + "\"");
    }
    if (r.model->vision) {
      if (req.seq != 0) {
        throw InputError("seq: applies to bert-base and bert-base-full, not " + req.model +
                         ", found " + std::to_string(req.seq));
      }
    } else {
      if (req.seq < 0 || req.seq > kBertMaxSeq) {
        throw InputError("seq: expected an integer in 1.." + std::to_string(kBertMaxSeq) +
                         " (0 = " + std::to_string(kBertDefaultSeq) + "), found " +
                         std::to_string(req.seq));
      }
      r.shape.seq = req.seq == 0 ? kBertDefaultSeq : req.seq;
    }
    r.dtype = FindDtype(req.dtype.empty() ? "fp16" : req.dtype);
    if (r.dtype.dtype == SynthDtype::kFp8) {
      throw InputError("dtype: fp8 applies to LLM models, not " + req.model);
    }
    r.profile = &FindFramework(req.framework.empty() ? "pytorch-eager" : req.framework);
    if (r.profile->serving) {
      throw InputError("framework: \"" + r.profile->name + "\" applies to LLM models, not " +
                       req.model);
    }
  }
  r.library = req.library.empty() ? DefaultLibrary(spec) : req.library;
  CheckLibrary(r.library);
  if (spec.tensor_tflops <= 0 || spec.fp32_tflops <= 0 || spec.dram_gbps <= 0 ||
      spec.pcie_gbps <= 0 || spec.sm_count <= 0) {
    throw InputError("gpu " + GpuKey(spec) +
                     ": expected positive sm_count, tensor_tflops, fp32_tflops, dram_gbps and "
                     "pcie_gbps");
  }
  if (r.dtype.dtype == SynthDtype::kBf16 && spec.compute_capability < 80) {
    throw InputError("dtype: bf16 needs compute capability 8.0 or newer, found " + CcText(spec) +
                     " (gpu " + GpuKey(spec) + ")");
  }
  return r;
}

/// The operators of `r` on `spec`.
std::vector<SynthOp> BuildOps(const Resolved& r, const GpuSpec& spec) {
  if (r.llm != nullptr)
    return BuildLlmOps(*r.llm, r.phase, r.shape.batch, r.shape.seq, r.dtype, spec);
  return BuildModelOps(*r.model, r.shape, r.dtype, r.profile->conv_tf32, r.profile->matmul_tf32,
                       spec);
}

/// The roofline of one kernel under `r` on `spec`.
SynthKernelInfo Cost(const SynthOp& op, const SynthKernelDesc& k, const Resolved& r,
                     const GpuSpec& spec) {
  SynthKernelInfo info;
  info.op = op.op;
  info.name = k.name;
  info.cls = k.cls;
  info.flops = k.flops;
  info.bytes = k.bytes;
  SynthKernelRoofline(k, r.dtype.dtype, *r.profile, r.library, spec, &info.peak_tflops, &info.eff,
                      &info.cost);
  return info;
}

/// `base_ns` scaled by a seeded factor in [1 - jitter, 1 + jitter] (permille steps).
TimeNs Jitter(TimeNs base_ns, double jitter, bool on, SplitMix64& rng) {
  if (!on || jitter <= 0.0 || base_ns <= 0) return base_ns;
  const int64_t j = static_cast<int64_t>(jitter * 1000.0 + 0.5);
  return base_ns + base_ns * rng.Uniform(-j, j) / 1000;
}

/// The GPU task of kernel `k` of `op` (labelled `label`), not yet placed.
Task KernelTask(Trace& trace, int32_t label, const SynthOp& op, const SynthKernelDesc& k,
                const Resolved& r, const GpuSpec& spec) {
  const SynthKernelInfo info = Cost(op, k, r, spec);
  Task t;
  t.kind = TaskKind::kKernel;
  t.name = trace.Intern(k.name);
  t.op = label;
  t.dur_ns = info.cost.dur_ns;
  t.grid = k.grid;
  t.block = k.block;
  t.regs = k.regs;
  t.smem = k.smem;
  t.dram_bytes = static_cast<int64_t>(k.bytes);
  t.mem_bound = info.cost.mem_bound;
  return t;
}

/// One serving-engine iteration of an LLM (see Synthesize).
Trace SynthesizeLlm(const SynthRequest& req, const Resolved& r, const GpuSpec& spec) {
  const HostCostProfile& hp = *r.profile;
  const LlmConfig& c = *r.llm;
  const std::vector<SynthOp> ops = BuildOps(r, spec);
  const int64_t batch = r.shape.batch, seq = r.shape.seq;
  const bool decode = r.phase == LlmPhase::kDecode;
  const bool graph = decode && hp.decode_cuda_graph && batch <= kLlmGraphMaxBatch;

  Trace trace;
  trace.tenant = c.name;
  trace.device_name = spec.name;
  trace.device_gpu = spec.key;
  trace.meta = nlohmann::json::object();
  trace.meta["source"] =
      "cotenant synth (synthetic: roofline of " + GpuKey(spec) + ", not measured)";
  trace.meta["synthetic"] = true;
  trace.meta["model"] = c.name;
  trace.meta["phase"] = LlmPhaseName(r.phase);
  trace.meta["batch"] = req.batch;
  trace.meta["seq"] = seq;
  trace.meta["dtype"] = r.dtype.name;
  trace.meta["framework"] = hp.name;
  trace.meta["cuda_graph"] = graph;
  trace.meta["library"] = r.library;
  trace.meta["gpu"] = GpuKey(spec);
  trace.meta["seed"] = req.seed;

  size_t kernels = 0;
  for (const SynthOp& op : ops) kernels += op.kernels.size();
  trace.tasks.reserve(ops.size() + 2 * kernels + 9);

  const int32_t launch_kernel = trace.Intern("cudaLaunchKernel");
  const int32_t graph_launch = trace.Intern("cudaGraphLaunch");
  const int32_t memcpy_async = trace.Intern("cudaMemcpyAsync");
  const int32_t stream_sync = trace.Intern("cudaStreamSynchronize");
  const int32_t copy_op = trace.Intern("aten::copy_");
  const int32_t step_op = trace.Intern("vllm::engine_step");
  const int32_t replay_op = trace.Intern("vllm::cuda_graph_replay");
  const int64_t tokens = decode ? batch : batch * seq;
  // Inputs: int32 token id, int64 position and int64 KV slot per token; per sequence an
  // int32 length and its block table (int32 per 16-token block).
  const int64_t in_bytes = tokens * (4 + 8 + 8) + batch * (4 + (seq + 15) / 16 * 4);
  const int64_t out_bytes = batch * 8;  // sampled int64 token ids
  const HostWork copy_work{0, 1, 3, LibrarySetup::kNone};

  Timeline tl(trace, spec, req.seed, 1);
  SplitMix64& rng = tl.rng();
  tl.Cpu(step_op, Jitter(hp.step_ns, hp.jitter, req.jitter, rng));
  tl.Cpu(copy_op, Jitter(HostWorkNs(hp, copy_work), hp.jitter, req.jitter, rng));
  tl.Launch(memcpy_async, Jitter(hp.memcpy_ns, hp.jitter, req.jitter, rng),
            Memcpy(CopyDir::kH2D, in_bytes, spec), 0);
  size_t i = 0;
  while (i < ops.size()) {
    if (graph && ops[i].graph) {
      std::vector<Task> gpus;
      for (; i < ops.size() && ops[i].graph; ++i) {
        const int32_t label = trace.Intern(ops[i].op);
        for (const SynthKernelDesc& k : ops[i].kernels)
          gpus.push_back(KernelTask(trace, label, ops[i], k, r, spec));
      }
      tl.Cpu(replay_op, Jitter(hp.python_ns, hp.jitter, req.jitter, rng));
      tl.LaunchMany(graph_launch, Jitter(hp.graph_launch_ns, hp.jitter, req.jitter, rng),
                    std::move(gpus), 0);
      continue;
    }
    const SynthOp& op = ops[i++];
    const int32_t label = trace.Intern(op.op);
    tl.Cpu(label, Jitter(HostWorkNs(hp, op.host), hp.jitter, req.jitter, rng));
    for (const SynthKernelDesc& k : op.kernels) {
      tl.Launch(launch_kernel, Jitter(hp.launch_ns, hp.jitter, req.jitter, rng),
                KernelTask(trace, label, op, k, r, spec), 0);
    }
  }
  tl.Cpu(copy_op, Jitter(HostWorkNs(hp, copy_work), hp.jitter, req.jitter, rng));
  tl.Launch(memcpy_async, Jitter(hp.memcpy_ns, hp.jitter, req.jitter, rng),
            Memcpy(CopyDir::kD2H, out_bytes, spec), 0);
  tl.Sync(stream_sync, SyncScope::kStream, 0, tl.stream_free(0));
  return trace;
}

}  // namespace

void SynthKernelRoofline(const SynthKernelDesc& k, SynthDtype request_dtype,
                         const HostCostProfile& profile, const std::string& library,
                         const GpuSpec& spec, double* peak_tflops, KernelEfficiency* eff,
                         RooflineCost* cost) {
  const bool conv = k.cls == KernelClass::kConv || k.cls == KernelClass::kConv1x1 ||
                    k.cls == KernelClass::kConvFirst;
  const bool tf32 = conv ? profile.conv_tf32 : profile.matmul_tf32;
  // FP8 requests run only the kernels marked fp8 on FP8 tensor cores, the rest in bf16.
  const SynthDtype dtype = k.fp8                               ? SynthDtype::kFp8
                           : request_dtype == SynthDtype::kFp8 ? SynthDtype::kBf16
                                                               : request_dtype;
  *peak_tflops = PeakTflops(k.cls, dtype, tf32, spec);
  *eff = SynthEfficiency(library, k.cls);
  if (IsTensorClass(k.cls)) eff->compute *= k.tile_efficiency;
  if (IsTensorClass(k.cls) && k.tiles > 0) {
    const int32_t threads = k.block[0] * k.block[1] * k.block[2];
    const int64_t per_sm = ComputeOccupancy(spec, threads, k.regs, k.smem).blocks_per_sm;
    eff->compute *= WaveEfficiency(k.tiles, int64_t{spec.sm_count} * per_sm);
  }
  *cost = SynthRoofline(k.flops, k.bytes, *peak_tflops, eff->compute, eff->dram, spec);
}

std::vector<std::string> SynthModelNames() {
  std::vector<std::string> names;
  for (const ModelInfo& m : SynthModels()) names.push_back(m.name);
  return names;
}

std::vector<std::string> SynthLlmNames() {
  std::vector<std::string> names;
  for (const LlmConfig& c : LlmModels()) names.push_back(c.name);
  return names;
}

std::vector<SynthKernelInfo> SynthModelKernels(const SynthRequest& req, const GpuSpec& spec) {
  const Resolved r = Resolve(req, spec);
  const std::vector<SynthOp> ops = BuildOps(r, spec);
  std::vector<SynthKernelInfo> out;
  for (const SynthOp& op : ops)
    for (const SynthKernelDesc& k : op.kernels) out.push_back(Cost(op, k, r, spec));
  return out;
}

Trace Synthesize(const SynthRequest& req, const GpuSpec& spec) {
  const Resolved r = Resolve(req, spec);
  if (r.llm != nullptr) return SynthesizeLlm(req, r, spec);
  const HostCostProfile& hp = *r.profile;
  const std::vector<SynthOp> ops = BuildOps(r, spec);

  Trace trace;
  trace.tenant = r.model->name;
  trace.device_name = spec.name;
  trace.device_gpu = spec.key;
  trace.meta = nlohmann::json::object();
  trace.meta["source"] =
      "cotenant synth (synthetic: roofline of " + GpuKey(spec) + ", not measured)";
  trace.meta["synthetic"] = true;
  trace.meta["model"] = r.model->name;
  trace.meta["batch"] = req.batch;
  trace.meta["seq"] = r.shape.seq;
  trace.meta["dtype"] = r.dtype.name;
  trace.meta["framework"] = hp.name;
  trace.meta["library"] = r.library;
  trace.meta["gpu"] = GpuKey(spec);
  trace.meta["seed"] = req.seed;

  size_t kernels = 0;
  for (const SynthOp& op : ops) kernels += op.kernels.size();
  trace.tasks.reserve(ops.size() + 2 * kernels + 7);

  const int32_t launch_kernel = trace.Intern("cudaLaunchKernel");
  const int32_t memcpy_async = trace.Intern("cudaMemcpyAsync");
  const int32_t stream_sync = trace.Intern("cudaStreamSynchronize");
  const int32_t copy_op = trace.Intern("aten::copy_");
  const int64_t batch = req.batch, seq = r.shape.seq, elem = r.dtype.bytes;
  const int64_t image = r.model->image;
  int64_t in_bytes = 0, out_bytes = 0;
  if (r.model->vision) {
    in_bytes = batch * 3 * image * image * 4;  // FP32 images
    out_bytes = batch * 1000 * elem;           // logits
  } else if (r.model->bert_full) {
    in_bytes = batch * seq * 8;              // int64 token ids
    out_bytes = batch * kBertHidden * elem;  // pooled output
  } else {
    in_bytes = batch * seq * kBertHidden * elem;  // hidden states
    out_bytes = in_bytes;                         // last hidden state
  }
  // x.cuda() / .cpu(): to -> _to_copy -> copy_ (3 dispatcher passes), one Python call.
  const HostWork copy_work{0, 1, 3, LibrarySetup::kNone};

  Timeline tl(trace, spec, req.seed, 1);
  SplitMix64& rng = tl.rng();
  tl.Cpu(copy_op, Jitter(HostWorkNs(hp, copy_work), hp.jitter, req.jitter, rng));
  tl.Launch(memcpy_async, Jitter(hp.memcpy_ns, hp.jitter, req.jitter, rng),
            Memcpy(CopyDir::kH2D, in_bytes, spec), 0);
  for (const SynthOp& op : ops) {
    const int32_t label = trace.Intern(op.op);
    tl.Cpu(label, Jitter(HostWorkNs(hp, op.host), hp.jitter, req.jitter, rng));
    for (const SynthKernelDesc& k : op.kernels) {
      tl.Launch(launch_kernel, Jitter(hp.launch_ns, hp.jitter, req.jitter, rng),
                KernelTask(trace, label, op, k, r, spec), 0);
    }
  }
  tl.Cpu(copy_op, Jitter(HostWorkNs(hp, copy_work), hp.jitter, req.jitter, rng));
  tl.Launch(memcpy_async, Jitter(hp.memcpy_ns, hp.jitter, req.jitter, rng),
            Memcpy(CopyDir::kD2H, out_bytes, spec), 0);
  tl.Sync(stream_sync, SyncScope::kStream, 0, tl.stream_free(0));
  return trace;
}

Trace SynthesizeModel(const std::string& model, int batch, const GpuSpec& spec, uint64_t seed) {
  SynthRequest req;
  req.model = model;
  req.batch = batch;
  req.seed = seed;
  return Synthesize(req, spec);
}

Trace SynthesizeRandom(int64_t kernels, int streams, const GpuSpec& spec, uint64_t seed) {
  if (kernels < 1 || kernels > kMaxRandomKernels) {
    throw InputError("kernels: expected an integer in 1.." + std::to_string(kMaxRandomKernels) +
                     ", found " + std::to_string(kernels));
  }
  if (streams < 1 || streams > kMaxRandomStreams) {
    throw InputError("streams: expected an integer in 1.." + std::to_string(kMaxRandomStreams) +
                     ", found " + std::to_string(streams));
  }
  if (spec.sm_count <= 0 || spec.dram_gbps <= 0) {
    throw InputError("gpu " + GpuKey(spec) + ": expected positive sm_count and dram_gbps");
  }

  Trace trace;
  trace.tenant = "random";
  trace.device_name = spec.name;
  trace.device_gpu = spec.key;
  trace.meta = nlohmann::json::object();
  trace.meta["source"] = "cotenant synth --random (synthetic: random kernels, not measured)";
  trace.meta["synthetic"] = true;
  trace.meta["model"] = "random";
  trace.meta["kernels"] = kernels;
  trace.meta["streams"] = streams;
  trace.meta["gpu"] = GpuKey(spec);
  trace.meta["seed"] = seed;
  const int64_t pairs = streams > 1 ? (kernels - 1) / kEventEvery : 0;
  trace.tasks.reserve(static_cast<size_t>(2 * kernels + 2 * pairs + 1));

  const int32_t launch_kernel = trace.Intern("cudaLaunchKernel");
  const int32_t event_record = trace.Intern("cudaEventRecord");
  const int32_t stream_wait = trace.Intern("cudaStreamWaitEvent");
  const int32_t device_sync = trace.Intern("cudaDeviceSynchronize");
  const int32_t names[] = {trace.Intern("synthetic_gemm_kernel"),
                           trace.Intern("synthetic_elementwise_kernel"),
                           trace.Intern("synthetic_reduce_kernel")};
  const int32_t ops[] = {trace.Intern("random::matmul"), trace.Intern("random::conv"),
                         trace.Intern("random::pointwise"), trace.Intern("random::reduce"),
                         trace.Intern("random::norm")};
  static constexpr int32_t kBlocks[] = {64, 128, 128, 256, 256, 256, 512, 1024};
  static constexpr int32_t kSmem[] = {0, 0, 0, 0, 8192, 16384, 32768, 49152};
  const double bytes_per_ns = spec.dram_gbps * kRandomDramEfficiency;

  Timeline tl(trace, spec, seed, streams);
  SplitMix64& rng = tl.rng();
  int64_t event = 1;
  int last_stream = 0;
  int32_t op = ops[0];
  int64_t op_left = 0;
  for (int64_t k = 0; k < kernels; ++k) {
    if (streams > 1 && k > 0 && k % kEventEvery == 0) {
      // Record on the stream of the previous kernel, wait on another one. The host
      // first catches up with both streams' latest starts, so that each marker's
      // start time also places it correctly in its stream's order.
      const int src = last_stream;
      const int dst = static_cast<int>((src + 1 + rng.Uniform(0, streams - 2)) % streams);
      tl.WaitHostUntil(std::max(tl.stream_last_start(src), tl.stream_last_start(dst)));
      const TimeNs recorded = tl.stream_free(src);
      tl.Marker(TaskKind::kEventRecord, event_record, src, event);
      tl.Gap();
      tl.Marker(TaskKind::kStreamWait, stream_wait, dst, event);
      tl.DelayStream(dst, recorded);
      tl.Gap();
      ++event;
    }
    if (op_left == 0) {
      op = ops[rng.Uniform(0, 4)];
      op_left = rng.Uniform(1, 4);
    }
    --op_left;
    const int s = static_cast<int>(rng.Uniform(0, streams - 1));
    Task t;
    t.kind = TaskKind::kKernel;
    t.op = op;
    t.block = {kBlocks[rng.Uniform(0, 7)], 1, 1};
    t.grid = {static_cast<int32_t>(rng.Uniform(1, int64_t{spec.sm_count} * 8)), 1, 1};
    t.regs = static_cast<int32_t>(rng.Uniform(2, 16) * 8);
    t.smem = kSmem[rng.Uniform(0, 7)];
    if (ComputeOccupancy(spec, t.block[0], t.regs, t.smem).blocks_per_sm == 0) {
      t.regs = 32;
      t.smem = 0;
    }
    t.name = t.smem > 0 ? names[0] : (t.regs <= 32 ? names[1] : names[2]);
    const double u = rng.Unit();
    t.dur_ns = 1000 + static_cast<TimeNs>(199000.0 * u * u * u);  // 1-200 us, mostly short
    t.mem_bound = static_cast<double>(rng.Uniform(0, 1000)) / 1000.0;
    t.dram_bytes = static_cast<int64_t>(t.mem_bound * static_cast<double>(t.dur_ns) * bytes_per_ns);
    const TimeNs launch_ns = rng.Uniform(kLaunchMinNs, kLaunchMaxNs);
    tl.Launch(launch_kernel, launch_ns, t, s);
    last_stream = s;
    tl.Gap();
  }
  TimeNs done = 0;
  for (int s = 0; s < streams; ++s) done = std::max(done, tl.stream_free(s));
  tl.Sync(device_sync, SyncScope::kDevice, 0, done);
  return trace;
}

Trace SynthesizeZooMember(const std::string& model, int64_t batch, int64_t seq_len,
                          const std::string& dtype, const std::string& framework,
                          const GpuSpec& spec) {
  SynthRequest r;
  r.model = model;
  r.batch = static_cast<int>(std::min<int64_t>(batch, kSynthMaxBatch + 1));
  r.seq = static_cast<int>(std::min<int64_t>(seq_len, 1 << 20));
  r.dtype = dtype;
  r.framework = framework;
  return Synthesize(r, spec);
}

}  // namespace cotenant::profiler
