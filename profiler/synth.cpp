#include "profiler/synth.h"

#include <algorithm>
#include <array>
#include <climits>
#include <string>
#include <utility>

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/occupancy.h"
#include "sim/rng.h"

namespace cotenant::profiler {
namespace {

/// Bytes per element of FP16 weights and activations.
constexpr int64_t kElem = 2;
/// Host API call durations and the CPU time between calls, ns (uniform, seeded).
constexpr TimeNs kLaunchMinNs = 3000, kLaunchMaxNs = 6000;
constexpr TimeNs kGapMinNs = 2000, kGapMaxNs = 10000;
/// Shortest blocking sync call, ns.
constexpr TimeNs kSyncMinNs = 1000;
/// Random mode: an event_record / stream_wait pair every this many kernels.
constexpr int64_t kEventEvery = 50;
constexpr int64_t kMaxRandomKernels = 100000000;
constexpr int kMaxRandomStreams = 1024;

int64_t DivUp(int64_t x, int64_t d) { return (x + d - 1) / d; }
int32_t GridDim(int64_t g) { return static_cast<int32_t>(std::clamp<int64_t>(g, 1, INT32_MAX)); }

/// One kernel of a model, before it is placed on the timeline.
struct KernelDesc {
  int32_t name = -1;
  int32_t op = -1;
  double flops = 0.0;
  double bytes = 0.0;
  bool tensor = false;
  std::array<int32_t, 3> grid{1, 1, 1};
  std::array<int32_t, 3> block{1, 1, 1};
  int32_t regs = 32;
  int32_t smem = 0;
};

/// An activation tensor, NCHW.
struct Act {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t Elems() const { return n * c * h * w; }
};

/// Collects the kernels PyTorch eager would launch for a model.
class ModelBuilder {
 public:
  ModelBuilder(Trace& trace, const GpuSpec& spec) : trace_(trace), spec_(spec) {
    arch_ = "sm" + std::to_string(spec.compute_capability);
  }

  std::vector<KernelDesc>& kernels() { return kernels_; }

  // --- Operators -----------------------------------------------------------------

  /// aten::to: the FP32 input cast to FP16 (reads 4 bytes, writes 2 per element).
  void CastInput(int64_t elems) {
    Elementwise("aten::to",
                "void at::native::vectorized_elementwise_kernel<4, "
                "at::native::copy_kernel_cuda<float, c10::Half>>",
                elems, static_cast<double>(elems) * (4 + kElem), static_cast<double>(elems));
  }

  /// aten::conv2d. groups == 1: implicit GEMM (M = N*Ho*Wo, N = Cout, K = Cin*k*k) on
  /// tensor cores; depthwise (groups == Cin == Cout): a direct kernel on CUDA cores.
  /// A bias is added by a second kernel of the same operator.
  Act Conv(const Act& in, int64_t cout, int k, int stride, int pad, int64_t groups = 1,
           bool bias = false) {
    Act out{in.n, cout, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
    const int64_t weights = cout * (in.c / groups) * k * k;
    const double bytes = static_cast<double>((in.Elems() + weights + out.Elems()) * kElem);
    if (groups == 1) {
      const int64_t m = out.n * out.h * out.w;
      const int64_t kk = in.c * k * k;
      Gemm("aten::conv2d", "fprop_implicit_gemm", "nchwkcrs_nchw", m, cout, kk, 1, bytes);
    } else {
      COTENANT_CHECK(groups == in.c && groups == cout);
      KernelDesc d =
          Desc("aten::conv2d", "void at::native::conv_depthwise2d_forward_kernel<c10::Half>");
      d.flops = 2.0 * static_cast<double>(out.Elems()) * k * k;
      d.bytes = bytes;
      d.block = {256, 1, 1};
      d.grid = {GridDim(DivUp(out.Elems(), 256)), 1, 1};
      d.regs = 40;
      kernels_.push_back(d);
    }
    if (bias) {
      Elementwise("aten::conv2d",
                  "void at::native::vectorized_elementwise_kernel<4, "
                  "at::native::CUDAFunctor_add<c10::Half>>",
                  out.Elems(), static_cast<double>(out.Elems() * 2 * kElem),
                  static_cast<double>(out.Elems()));
    }
    return out;
  }

  /// aten::batch_norm in inference: one cuDNN kernel reading and writing the tensor.
  void BatchNorm(const Act& a) {
    KernelDesc d =
        Desc("aten::batch_norm", "void cudnn::bn_fw_inf_1C11_kernel_NCHW<__half, float, true, 1>");
    d.flops = 2.0 * static_cast<double>(a.Elems());
    d.bytes = static_cast<double>(a.Elems() * 2 * kElem);
    d.block = {256, 1, 1};
    d.grid = {GridDim(DivUp(a.Elems(), 1024)), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
  }

  /// In-place unary elementwise (relu_, hardtanh_ for ReLU6, gelu, tanh, div by a scalar).
  void Unary(const char* op, const char* functor, int64_t elems, double flops_per_elem = 1.0) {
    Elementwise(op,
                std::string("void at::native::vectorized_elementwise_kernel<4, at::native::") +
                    functor + "<c10::Half>>",
                elems, static_cast<double>(elems * 2 * kElem),
                flops_per_elem * static_cast<double>(elems));
  }

  /// Binary add of two same-sized tensors (aten::add or aten::add_).
  void Add(const char* op, int64_t elems) {
    Elementwise(op,
                "void at::native::vectorized_elementwise_kernel<4, "
                "at::native::CUDAFunctor_add<c10::Half>>",
                elems, static_cast<double>(elems * 3 * kElem), static_cast<double>(elems));
  }

  /// aten::max_pool2d (NCHW kernel, one output per thread).
  Act MaxPool(const Act& in, int k, int stride, int pad) {
    Act out{in.n, in.c, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
    KernelDesc d =
        Desc("aten::max_pool2d", "void at::native::max_pool_forward_nchw<c10::Half, float>");
    d.flops = static_cast<double>(out.Elems()) * k * k;
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * kElem);
    d.block = {256, 1, 1};
    d.grid = {GridDim(DivUp(out.Elems(), 256)), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
    return out;
  }

  /// aten::adaptive_avg_pool2d to 1x1: a mean reduction kernel.
  Act GlobalAvgPool(const Act& in) {
    Act out{in.n, in.c, 1, 1};
    KernelDesc d = Desc("aten::adaptive_avg_pool2d",
                        "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<c10::Half, "
                        "at::native::MeanOps<float, float>>>");
    d.flops = static_cast<double>(in.Elems());
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * kElem);
    d.block = {32, 16, 1};
    d.grid = {GridDim(DivUp(out.Elems(), 16)), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
    return out;
  }

  /// aten::adaptive_avg_pool2d to an output as large as its input (VGG's 7x7 -> 7x7).
  Act AdaptiveAvgPool(const Act& in, int64_t size) {
    Act out{in.n, in.c, size, size};
    KernelDesc d =
        Desc("aten::adaptive_avg_pool2d", "void at::native::adaptive_average_pool<c10::Half>");
    d.flops = static_cast<double>(in.Elems());
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * kElem);
    d.block = {32, 8, 1};
    d.grid = {GridDim(in.n * in.c), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
    return out;
  }

  /// aten::linear: y[M,N] = x[M,K] W[N,K]^T + b, bias fused in the GEMM epilogue.
  void Linear(int64_t m, int64_t n, int64_t k) {
    Gemm("aten::linear", "gemm", "tn_n", m, n, k, 1,
         static_cast<double>((m * k + n * k + m * n) * kElem));
  }

  /// The bmm inside aten::matmul: `batch` products of [M,K] x [K,N].
  void Bmm(int64_t batch, int64_t m, int64_t n, int64_t k) {
    Gemm("aten::matmul", "gemm", "nn_n", m, n, k, batch,
         static_cast<double>(batch * (m * k + k * n + m * n) * kElem));
  }

  /// A strided copy (reshape of a permuted tensor, .contiguous()).
  void Copy(const char* op, int64_t elems) {
    KernelDesc d = Desc(op,
                        "void at::native::elementwise_kernel<128, 4, "
                        "at::native::direct_copy_kernel_cuda<c10::Half>>");
    d.flops = 0.0;
    d.bytes = static_cast<double>(elems * 2 * kElem);
    d.block = {128, 1, 1};
    d.grid = {GridDim(DivUp(elems, 512)), 1, 1};
    d.regs = 24;
    kernels_.push_back(d);
  }

  /// aten::embedding: gathers `rows` rows of `dim` elements (int64 indices).
  void Embedding(int64_t rows, int64_t dim) {
    const int64_t out = rows * dim;
    KernelDesc d = Desc("aten::embedding",
                        "void at::native::indexSelectLargeIndex<c10::Half, long, unsigned int, 2, "
                        "2, -2, true>");
    d.flops = 0.0;
    d.bytes = static_cast<double>(out * 2 * kElem + rows * 8);
    d.block = {128, 1, 1};
    d.grid = {GridDim(std::min<int64_t>(DivUp(out, 128), int64_t{spec_.sm_count} * 8)), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
  }

  /// aten::softmax over the last dimension (`cols` <= 1024): one warp per row or two.
  void Softmax(int64_t rows, int64_t cols) {
    KernelDesc d = Desc("aten::softmax",
                        "void (anonymous namespace)::softmax_warp_forward<c10::Half, c10::Half, "
                        "float, 7, false, false>");
    d.flops = 5.0 * static_cast<double>(rows * cols);
    d.bytes = static_cast<double>(rows * cols * 2 * kElem);
    d.block = {32, 4, 1};
    d.grid = {GridDim(DivUp(rows, 8)), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
  }

  /// aten::layer_norm: one block per row.
  void LayerNorm(int64_t rows, int64_t cols) {
    KernelDesc d =
        Desc("aten::layer_norm", "void at::native::vectorized_layer_norm_kernel<c10::Half, float>");
    d.flops = 8.0 * static_cast<double>(rows * cols);
    d.bytes = static_cast<double>(rows * cols * 2 * kElem);
    d.block = {32, 4, 1};
    d.grid = {GridDim(rows), 1, 1};
    d.regs = 32;
    kernels_.push_back(d);
  }

 private:
  KernelDesc Desc(const char* op, const std::string& name) {
    KernelDesc d;
    d.op = trace_.Intern(op);
    d.name = trace_.Intern(name);
    return d;
  }

  /// A PyTorch vectorized elementwise kernel: 128 threads x 4 elements per block.
  void Elementwise(const char* op, const std::string& name, int64_t elems, double bytes,
                   double flops) {
    KernelDesc d = Desc(op, name);
    d.flops = flops;
    d.bytes = bytes;
    d.block = {128, 1, 1};
    d.grid = {GridDim(DivUp(elems, 512)), 1, 1};
    d.regs = 20;
    kernels_.push_back(d);
  }

  /// A cuBLAS/cuDNN tensor-core GEMM over `batch` products of M x N x K: 128x128 output
  /// tiles (256 threads, 128 regs, 96 KB smem) when they fill the GPU, else 64x64 tiles
  /// (128 threads, 96 regs, 32 KB), split along K when even those leave SMs idle.
  void Gemm(const char* op, const char* kind, const char* layout, int64_t m, int64_t n, int64_t k,
            int64_t batch, double bytes) {
    const int64_t sms = std::max<int32_t>(spec_.sm_count, 1);
    int64_t tile = 128;
    int32_t threads = 256, regs = 128, smem = 96 * 1024;
    if (DivUp(m, 128) * DivUp(n, 128) * batch < sms) {
      tile = 64;
      threads = 128;
      regs = 96;
      smem = 32 * 1024;
    }
    // Shrink shared memory until a block fits this GPU (specs other than the bundled ones).
    while (smem > 0 && ComputeOccupancy(spec_, threads, regs, smem).blocks_per_sm == 0) smem /= 2;
    const int64_t tiles = DivUp(m, tile) * DivUp(n, tile) * batch;
    int64_t split = 1;
    if (batch == 1 && tiles < sms)
      split = std::clamp<int64_t>(std::min(DivUp(sms, tiles), k / 256), 1, 16);
    std::string name = arch_ + "_xmma_" + kind + "_f16f16_f16f32_f32_" + layout + "_tilesize" +
                       std::to_string(tile) + "x" + std::to_string(tile) + "x64" +
                       (split > 1 ? "_splitk" : "") + "_kernel";
    KernelDesc d = Desc(op, name);
    d.tensor = true;
    d.flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) *
              static_cast<double>(batch);
    d.bytes = bytes;
    d.grid = {GridDim(DivUp(m, tile)), GridDim(DivUp(n, tile)), GridDim(batch * split)};
    d.block = {threads, 1, 1};
    d.regs = regs;
    d.smem = smem;
    kernels_.push_back(d);
  }

  Trace& trace_;
  const GpuSpec& spec_;
  std::string arch_;
  std::vector<KernelDesc> kernels_;
};

// --- Models ----------------------------------------------------------------------

/// torchvision ResNet-50 (v1.5: stride on the 3x3 conv of each bottleneck).
/// Kernels: cast 1; stem conv+bn+relu+maxpool 4; 16 bottlenecks x (3 x (conv+bn) +
/// 2 relu + add + relu = 10) = 160, plus 4 downsamples x (conv+bn) = 8; avgpool 1, fc 1.
/// Total 175 (53 convolutions).
void BuildResNet50(ModelBuilder& b, int64_t batch) {
  Act x{batch, 3, 224, 224};
  b.CastInput(x.Elems());
  x = b.Conv(x, 64, 7, 2, 3);
  b.BatchNorm(x);
  b.Unary("aten::relu_", "relu_functor", x.Elems());
  x = b.MaxPool(x, 3, 2, 1);
  const int64_t widths[] = {64, 128, 256, 512};
  const int blocks[] = {3, 4, 6, 3};
  const int strides[] = {1, 2, 2, 2};
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < blocks[s]; ++i) {
      const int stride = i == 0 ? strides[s] : 1;
      const Act in = x;
      Act y = b.Conv(in, widths[s], 1, 1, 0);
      b.BatchNorm(y);
      b.Unary("aten::relu_", "relu_functor", y.Elems());
      y = b.Conv(y, widths[s], 3, stride, 1);
      b.BatchNorm(y);
      b.Unary("aten::relu_", "relu_functor", y.Elems());
      y = b.Conv(y, widths[s] * 4, 1, 1, 0);
      b.BatchNorm(y);
      if (i == 0) {
        const Act d = b.Conv(in, widths[s] * 4, 1, stride, 0);
        b.BatchNorm(d);
      }
      b.Add("aten::add_", y.Elems());
      b.Unary("aten::relu_", "relu_functor", y.Elems());
      x = y;
    }
  }
  x = b.GlobalAvgPool(x);
  b.Linear(batch, 1000, 2048);
}

/// torchvision MobileNetV2 (width 1.0). Kernels: cast 1; stem conv+bn+relu6 3;
/// 17 inverted residuals: the first (t=1) dw(3)+project(2) = 5, the other 16
/// expand(3)+dw(3)+project(2) = 8 each = 128, plus 10 residual adds; last 1x1
/// conv+bn+relu6 3; avgpool 1, classifier linear 1. Total 152 (52 convolutions).
void BuildMobileNetV2(ModelBuilder& b, int64_t batch) {
  Act x{batch, 3, 224, 224};
  b.CastInput(x.Elems());
  x = b.Conv(x, 32, 3, 2, 1);
  b.BatchNorm(x);
  b.Unary("aten::hardtanh_", "hardtanh_functor", x.Elems());
  struct Setting {
    int64_t t, c;
    int n, s;
  };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const Setting& st : settings) {
    for (int i = 0; i < st.n; ++i) {
      const int stride = i == 0 ? st.s : 1;
      const bool residual = stride == 1 && x.c == st.c;
      const int64_t hidden = x.c * st.t;
      Act y = x;
      if (st.t != 1) {
        y = b.Conv(y, hidden, 1, 1, 0);
        b.BatchNorm(y);
        b.Unary("aten::hardtanh_", "hardtanh_functor", y.Elems());
      }
      y = b.Conv(y, hidden, 3, stride, 1, hidden);
      b.BatchNorm(y);
      b.Unary("aten::hardtanh_", "hardtanh_functor", y.Elems());
      y = b.Conv(y, st.c, 1, 1, 0);
      b.BatchNorm(y);
      if (residual) b.Add("aten::add", y.Elems());
      x = y;
    }
  }
  x = b.Conv(x, 1280, 1, 1, 0);
  b.BatchNorm(x);
  b.Unary("aten::hardtanh_", "hardtanh_functor", x.Elems());
  x = b.GlobalAvgPool(x);
  b.Linear(batch, 1000, 1280);
}

/// torchvision VGG-16 (configuration D, no batch norm). Kernels: cast 1; 13 convs x
/// (conv + bias add + relu) = 39; 5 maxpools; adaptive avgpool 1; classifier
/// linear+relu, linear+relu, linear = 5. Total 51.
void BuildVgg16(ModelBuilder& b, int64_t batch) {
  Act x{batch, 3, 224, 224};
  b.CastInput(x.Elems());
  const int64_t cfg[] = {64, 64,  0,   128, 128, 0,   256, 256, 256,
                         0,  512, 512, 512, 0,   512, 512, 512, 0};
  for (int64_t c : cfg) {
    if (c == 0) {
      x = b.MaxPool(x, 2, 2, 0);
    } else {
      x = b.Conv(x, c, 3, 1, 1, 1, /*bias=*/true);
      b.Unary("aten::relu_", "relu_functor", x.Elems());
    }
  }
  x = b.AdaptiveAvgPool(x, 7);
  b.Linear(batch, 4096, 512 * 7 * 7);
  b.Unary("aten::relu_", "relu_functor", batch * 4096);
  b.Linear(batch, 4096, 4096);
  b.Unary("aten::relu_", "relu_functor", batch * 4096);
  b.Linear(batch, 1000, 4096);
}

constexpr int64_t kBertSeq = 128, kBertHidden = 768, kBertHeads = 12, kBertFfn = 3072;
constexpr int kBertLayers = 12;

/// Hugging Face BertModel (bert-base-uncased), eager attention, sequence length 128,
/// no padding mask. Kernels: embeddings (word, token type, add, position, add_,
/// layer norm) 6; 12 layers x 19 (Q, K, V linears 3; scores matmul = copy q + copy
/// k^T + bmm 3; scale div 1; softmax 1; context matmul = copy v + bmm 2; permute
/// contiguous 1; output linear, add, layer norm 3; FFN linear, gelu, linear, add,
/// layer norm 5) = 228; pooler linear + tanh 2. Total 236.
void BuildBertBase(ModelBuilder& b, int64_t batch) {
  const int64_t tokens = batch * kBertSeq;
  const int64_t hidden = tokens * kBertHidden;
  const int64_t head_dim = kBertHidden / kBertHeads;
  const int64_t heads = batch * kBertHeads;
  b.Embedding(tokens, kBertHidden);  // word embeddings
  b.Embedding(tokens, kBertHidden);  // token type embeddings
  b.Add("aten::add", hidden);
  b.Embedding(kBertSeq, kBertHidden);  // position embeddings, broadcast over the batch
  b.Add("aten::add_", hidden);
  b.LayerNorm(tokens, kBertHidden);
  for (int layer = 0; layer < kBertLayers; ++layer) {
    b.Linear(tokens, kBertHidden, kBertHidden);  // query
    b.Linear(tokens, kBertHidden, kBertHidden);  // key
    b.Linear(tokens, kBertHidden, kBertHidden);  // value
    b.Copy("aten::matmul", hidden);              // q [B,12,128,64] permuted -> contiguous
    b.Copy("aten::matmul", hidden);              // k^T
    b.Bmm(heads, kBertSeq, kBertSeq, head_dim);  // scores
    b.Unary("aten::div", "div_true_functor", heads * kBertSeq * kBertSeq);
    b.Softmax(heads * kBertSeq, kBertSeq);
    b.Copy("aten::matmul", hidden);              // v
    b.Bmm(heads, kBertSeq, head_dim, kBertSeq);  // context
    b.Copy("aten::contiguous", hidden);          // permute back to [B,128,12,64]
    b.Linear(tokens, kBertHidden, kBertHidden);  // attention output dense
    b.Add("aten::add", hidden);
    b.LayerNorm(tokens, kBertHidden);
    b.Linear(tokens, kBertFfn, kBertHidden);  // intermediate
    b.Unary("aten::gelu", "gelu_functor", tokens * kBertFfn, 10.0);
    b.Linear(tokens, kBertHidden, kBertFfn);  // output
    b.Add("aten::add", hidden);
    b.LayerNorm(tokens, kBertHidden);
  }
  b.Linear(batch, kBertHidden, kBertHidden);  // pooler dense on the first token
  b.Unary("aten::tanh", "tanh_functor", batch * kBertHidden, 10.0);
}

struct ModelInfo {
  const char* name;
  void (*build)(ModelBuilder&, int64_t);
  bool vision;
};

const std::vector<ModelInfo>& Models() {
  static const std::vector<ModelInfo> models = {{"resnet50", BuildResNet50, true},
                                                {"mobilenetv2", BuildMobileNetV2, true},
                                                {"vgg16", BuildVgg16, true},
                                                {"bert-base", BuildBertBase, false}};
  return models;
}

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

  /// CPU time between two host calls.
  void Gap() { host_ += rng_.Uniform(kGapMinNs, kGapMaxNs); }

  /// A launch call at the host clock and the GPU task it enqueues on stream index `s`.
  void Launch(int32_t call_name, Task gpu, int s) {
    const int64_t corr = next_corr_++;
    Task call;
    call.id = next_id_++;
    call.kind = TaskKind::kLaunch;
    call.name = call_name;
    call.thread = kSynthThread;
    call.start_ns = host_;
    call.dur_ns = rng_.Uniform(kLaunchMinNs, kLaunchMaxNs);
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

  /// A host call that also marks a point on stream index `s` (event record / wait).
  void Marker(TaskKind kind, int32_t call_name, int s, int64_t event) {
    Task t;
    t.id = next_id_++;
    t.kind = kind;
    t.name = call_name;
    t.thread = kSynthThread;
    t.stream = kSynthStream + s;
    t.event = event;
    t.start_ns = host_;
    t.dur_ns = rng_.Uniform(1000, 3000);
    trace_.tasks.push_back(t);
    host_ = t.end_ns();
  }

  /// A blocking sync call that returns sync latency after `gpu_done_ns`.
  void Sync(int32_t call_name, SyncScope scope, int s, TimeNs gpu_done_ns) {
    Task t;
    t.id = next_id_++;
    t.kind = TaskKind::kSync;
    t.name = call_name;
    t.thread = kSynthThread;
    t.scope = scope;
    if (scope == SyncScope::kStream) t.stream = kSynthStream + s;
    t.start_ns = host_;
    t.dur_ns = std::max(kSyncMinNs, gpu_done_ns + spec_.model.sync_latency_ns - host_);
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

}  // namespace

RooflineCost SynthRoofline(double flops, double bytes, bool tensor_core, const GpuSpec& spec) {
  // TFLOPS = 1e12 flop/s = 1e3 flop/ns; GB/s = 1 byte/ns.
  const double peak_flop_per_ns = (tensor_core ? spec.tensor_tflops * kSynthTensorEfficiency
                                               : spec.fp32_tflops * kSynthCudaCoreEfficiency) *
                                  1e3;
  const double bytes_per_ns = spec.dram_gbps * kSynthDramEfficiency;
  RooflineCost c;
  c.compute_ns = DurationFromWork(flops, peak_flop_per_ns);
  c.memory_ns = DurationFromWork(bytes, bytes_per_ns);
  c.dur_ns = std::max(c.compute_ns, c.memory_ns) + kSynthKernelOverheadNs;
  c.mem_bound = static_cast<double>(c.memory_ns) / static_cast<double>(c.dur_ns);
  return c;
}

std::vector<std::string> SynthModelNames() {
  std::vector<std::string> names;
  for (const ModelInfo& m : Models()) names.push_back(m.name);
  return names;
}

Trace SynthesizeModel(const std::string& model, int batch, const GpuSpec& spec, uint64_t seed) {
  const ModelInfo* info = nullptr;
  for (const ModelInfo& m : Models()) {
    if (model == m.name) info = &m;
  }
  if (info == nullptr) {
    const std::vector<std::string> names = SynthModelNames();
    throw InputError("model: expected one of " + QuotedList(names) + ", found \"" + model + "\"" +
                     DidYouMean(model, names));
  }
  if (batch < 1 || batch > kSynthMaxBatch) {
    throw InputError("batch: expected an integer in 1.." + std::to_string(kSynthMaxBatch) +
                     ", found " + std::to_string(batch));
  }
  if (spec.tensor_tflops <= 0 || spec.fp32_tflops <= 0 || spec.dram_gbps <= 0 ||
      spec.pcie_gbps <= 0) {
    throw InputError("gpu " + GpuKey(spec) +
                     ": expected positive tensor_tflops, fp32_tflops, dram_gbps and pcie_gbps");
  }

  Trace trace;
  trace.tenant = info->name;
  trace.device_name = spec.name;
  trace.device_gpu = spec.key;
  trace.meta = nlohmann::json::object();
  trace.meta["source"] =
      "cotenant synth (synthetic: roofline of " + GpuKey(spec) + ", not measured)";
  trace.meta["synthetic"] = true;
  trace.meta["model"] = info->name;
  trace.meta["batch"] = batch;
  trace.meta["gpu"] = GpuKey(spec);
  trace.meta["seed"] = seed;

  ModelBuilder builder(trace, spec);
  info->build(builder, batch);
  const std::vector<KernelDesc>& kernels = builder.kernels();
  trace.tasks.reserve(2 * kernels.size() + 5);

  const int32_t launch_kernel = trace.Intern("cudaLaunchKernel");
  const int32_t memcpy_async = trace.Intern("cudaMemcpyAsync");
  const int32_t stream_sync = trace.Intern("cudaStreamSynchronize");
  const int64_t in_bytes = info->vision ? int64_t{batch} * 3 * 224 * 224 * 4      // FP32 images
                                        : int64_t{batch} * kBertSeq * 8;          // int64 token ids
  const int64_t out_bytes = info->vision ? int64_t{batch} * 1000 * kElem          // FP16 logits
                                         : int64_t{batch} * kBertHidden * kElem;  // pooled

  Timeline tl(trace, spec, seed, 1);
  tl.Launch(memcpy_async, Memcpy(CopyDir::kH2D, in_bytes, spec), 0);
  for (const KernelDesc& k : kernels) {
    tl.Gap();
    const RooflineCost cost = SynthRoofline(k.flops, k.bytes, k.tensor, spec);
    Task t;
    t.kind = TaskKind::kKernel;
    t.name = k.name;
    t.op = k.op;
    t.dur_ns = cost.dur_ns;
    t.grid = k.grid;
    t.block = k.block;
    t.regs = k.regs;
    t.smem = k.smem;
    t.dram_bytes = static_cast<int64_t>(k.bytes);
    t.mem_bound = cost.mem_bound;
    tl.Launch(launch_kernel, t, 0);
  }
  tl.Gap();
  tl.Launch(memcpy_async, Memcpy(CopyDir::kD2H, out_bytes, spec), 0);
  tl.Gap();
  tl.Sync(stream_sync, SyncScope::kStream, 0, tl.stream_free(0));
  return trace;
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
  const double bytes_per_ns = spec.dram_gbps * kSynthDramEfficiency;

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
    tl.Launch(launch_kernel, t, s);
    last_stream = s;
    tl.Gap();
  }
  TimeNs done = 0;
  for (int s = 0; s < streams; ++s) done = std::max(done, tl.stream_free(s));
  tl.Sync(device_sync, SyncScope::kDevice, 0, done);
  return trace;
}

}  // namespace cotenant::profiler
