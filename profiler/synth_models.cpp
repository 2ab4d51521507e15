#include "profiler/synth_models.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "sim/error.h"
#include "sim/occupancy.h"

namespace cotenant::profiler {
namespace {

int64_t DivUp(int64_t x, int64_t d) { return (x + d - 1) / d; }
int32_t GridDim(int64_t g) { return static_cast<int32_t>(std::clamp<int64_t>(g, 1, INT32_MAX)); }

/// An activation tensor, NCHW.
struct Act {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t Elems() const { return n * c * h * w; }
};

/// Collects the operators PyTorch eager runs for a model, and their kernels.
///
/// Host work per operator (HostWork): `modules` counts nn.Module calls entered just
/// before the op (its own module, plus containers queued by Modules()); `dispatches`
/// counts the ATen ops of its call chain as the PyTorch profiler lists them, e.g.
/// conv2d -> convolution -> _convolution -> cudnn_convolution plus the output's empty
/// (5), batch_norm -> _batch_norm_impl_index -> cudnn_batch_norm plus empty (4),
/// linear -> t -> addmm plus empty (4).
///
/// Convolutions on tensor cores get cuDNN's layout transposes: the NCHW input goes
/// through nchwToNhwcKernel, and so does a k x k (k > 1) filter (a 1x1 filter's KCRS
/// and KRSC layouts are the same bytes); the xmma kernel ("..._nhwckrsc_nchw_...")
/// writes NCHW itself. Sources: the kernel names of cuDNN 8's implicit-GEMM fprop
/// kernels, and the profile in pytorch/pytorch#119458 (cuDNN 8.9, sm86, 32
/// nchwToNhwcKernel launches for 20 convolutions); NVIDIA's "Convolutional Layers
/// User's Guide" (Tensor Layouts in Memory: NCHW inputs are transposed for tensor
/// cores). That cuDNN 8.1 without cudnn.benchmark does the same is our reading.
class Builder {
 public:
  Builder(const DtypeInfo& dt, bool tf32_conv, bool tf32_matmul, const GpuSpec& spec)
      : dt_(dt), spec_(spec) {
    arch_ = "sm" + std::to_string(spec.compute_capability);
    const bool ampere = spec.compute_capability >= 80;
    const bool fp32 = dt.dtype == SynthDtype::kFp32;
    conv_tensor_ = !fp32 || (tf32_conv && ampere);
    conv_tag_ = fp32 ? (conv_tensor_ ? dt.xmma_tf32 : dt.xmma) : dt.xmma;
    gemm_tag_ = fp32 ? (tf32_matmul && ampere ? dt.xmma_tf32 : dt.xmma) : dt.xmma;
  }

  std::vector<SynthOp>& ops() { return ops_; }

  /// Container modules (Sequential, blocks, the model) entered before the next operator.
  void Modules(int n) { pending_ += n; }

  // --- Operators -------------------------------------------------------------------

  /// x.half() / x.bfloat16(): the FP32 input cast (reads 4 bytes, writes the element).
  /// No operator in FP32.
  void CastInput(int64_t elems) {
    if (dt_.dtype == SynthDtype::kFp32) return;
    Begin("aten::to", false, 1, 3);
    Elementwise(
        "void at::native::vectorized_elementwise_kernel<4, at::native::copy_kernel_cuda<"
        "float, " +
            dt_.aten + ">>",
        elems, static_cast<double>(elems * (4 + dt_.bytes)), static_cast<double>(elems));
  }

  /// nn.Conv2d (or F.conv2d when !module) with a kh x kw filter. groups == 1: cuDNN
  /// implicit GEMM (M = N*Ho*Wo, N = Cout, K = Cin*kh*kw); depthwise (groups == Cin ==
  /// Cout): PyTorch's own kernel on CUDA cores. A bias is a second kernel (add_).
  Act ConvRect(const Act& in, int64_t cout, int kh, int kw, int stride, int ph, int pw,
               int64_t groups = 1, bool bias = false) {
    Act out{in.n, cout, (in.h + 2 * ph - kh) / stride + 1, (in.w + 2 * pw - kw) / stride + 1};
    const int64_t weights = cout * (in.c / groups) * kh * kw;
    const double bytes = static_cast<double>((in.Elems() + weights + out.Elems()) * dt_.bytes);
    if (groups == 1) {
      Begin("aten::conv2d", true, 1, bias ? 6 : 5, LibrarySetup::kCudnnConv);
      if (conv_tensor_) {
        Transpose(in.Elems());
        if (kh * kw > 1) Transpose(weights);
      }
      const KernelClass cls = in.c == 3              ? KernelClass::kConvFirst
                              : (kh == 1 && kw == 1) ? KernelClass::kConv1x1
                                                     : KernelClass::kConv;
      const std::string name =
          conv_tensor_ ? arch_ + "_xmma_fprop_implicit_gemm_" + conv_tag_ + "_nhwckrsc_nchw"
                       : "implicit_convolve_sgemm";
      Gemm(name, cls, out.n * out.h * out.w, cout, in.c * kh * kw, 1, bytes, conv_tensor_);
    } else {
      COTENANT_CHECK(groups == in.c && groups == cout);
      Begin("aten::conv2d", true, 1, 6);
      SynthKernelDesc d = Desc("void at::native::conv_depthwise2d_forward_kernel<" + dt_.aten + ">",
                               KernelClass::kDepthwise);
      d.flops = 2.0 * static_cast<double>(out.Elems()) * kh * kw;
      d.bytes = bytes;
      d.block = {256, 1, 1};
      d.grid = {GridDim(DivUp(out.Elems(), 256)), 1, 1};
      d.regs = 40;
      Push(d);
    }
    if (bias) {
      Elementwise(
          "void at::native::vectorized_elementwise_kernel<4, at::native::"
          "CUDAFunctor_add<" +
              dt_.aten + ">>",
          out.Elems(), static_cast<double>(out.Elems() * 2 * dt_.bytes),
          static_cast<double>(out.Elems()));
    }
    return out;
  }
  Act Conv(const Act& in, int64_t cout, int k, int stride, int pad, int64_t groups = 1,
           bool bias = false) {
    return ConvRect(in, cout, k, k, stride, pad, pad, groups, bias);
  }

  /// nn.BatchNorm2d in inference: one cuDNN kernel reading and writing the tensor.
  void BatchNorm(const Act& a) {
    Begin("aten::batch_norm", true, 1, 4, LibrarySetup::kCudnnBn);
    SynthKernelDesc d =
        Desc("void cudnn::bn_fw_inf_1C11_kernel_NCHW<" + dt_.cuda + ", float, true, 1>",
             KernelClass::kReduction);
    d.flops = 2.0 * static_cast<double>(a.Elems());
    d.bytes = static_cast<double>(a.Elems() * 2 * dt_.bytes);
    d.block = {256, 1, 1};
    d.grid = {GridDim(DivUp(a.Elems(), 1024)), 1, 1};
    Push(d);
  }

  /// In-place or out-of-place unary elementwise op (relu_, hardtanh_, gelu, tanh, div by
  /// a scalar, mul/add by a scalar): one kernel reading and writing `elems` elements.
  void Unary(const char* op, const char* functor, int64_t elems, bool module,
             double flops_per_elem = 1.0) {
    Begin(op, module, 1, 1);
    Elementwise(std::string("void at::native::vectorized_elementwise_kernel<4, at::native::") +
                    functor + "<" + dt_.aten + ">>",
                elems, static_cast<double>(elems * 2 * dt_.bytes),
                flops_per_elem * static_cast<double>(elems));
  }
  void Relu(int64_t elems, bool module = true) {
    Unary("aten::relu_", "relu_functor", elems, module);
  }

  /// Binary add of two same-sized tensors (aten::add or aten::add_), functional.
  void Add(const char* op, int64_t elems) {
    Begin(op, false, 1, 1);
    Elementwise("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<" +
                    dt_.aten + ">>",
                elems, static_cast<double>(elems * 3 * dt_.bytes), static_cast<double>(elems));
  }

  /// nn.MaxPool2d / F.max_pool2d (NCHW kernel, one output per thread).
  Act MaxPool(const Act& in, int k, int stride, int pad, bool module = true) {
    Act out{in.n, in.c, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
    Begin("aten::max_pool2d", module, 1, 3);
    Pool("void at::native::max_pool_forward_nchw<" + dt_.aten + ", float>", in, out, k);
    return out;
  }

  /// F.avg_pool2d (Inception branches: k 3, stride 1, pad 1, count_include_pad).
  Act AvgPool(const Act& in, int k, int stride, int pad) {
    Act out{in.n, in.c, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
    Begin("aten::avg_pool2d", false, 1, 2);
    Pool("void at::native::avg_pool2d_out_cuda_frame<" + dt_.aten + ", float>", in, out, k);
    return out;
  }

  /// Adaptive average pool to 1x1 (a mean reduction kernel).
  Act GlobalAvgPool(const Act& in, bool module = true) {
    Act out{in.n, in.c, 1, 1};
    Begin("aten::adaptive_avg_pool2d", module, 1, 3);
    SynthKernelDesc d = Desc("void at::native::reduce_kernel<512, 1, at::native::ReduceOp<" +
                                 dt_.aten + ", at::native::MeanOps<float, float>>>",
                             KernelClass::kReduction);
    d.flops = static_cast<double>(in.Elems());
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * dt_.bytes);
    d.block = {32, 16, 1};
    d.grid = {GridDim(DivUp(out.Elems(), 16)), 1, 1};
    Push(d);
    return out;
  }

  /// nn.AdaptiveAvgPool2d to size x size (VGG's 7x7 -> 7x7).
  Act AdaptiveAvgPool(const Act& in, int64_t size) {
    Act out{in.n, in.c, size, size};
    Begin("aten::adaptive_avg_pool2d", true, 1, 3);
    SynthKernelDesc d =
        Desc("void at::native::adaptive_average_pool<" + dt_.aten + ">", KernelClass::kReduction);
    d.flops = static_cast<double>(in.Elems());
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * dt_.bytes);
    d.block = {32, 8, 1};
    d.grid = {GridDim(in.n * in.c), 1, 1};
    Push(d);
    return out;
  }

  /// An operator that launches nothing: a view (view, permute, transpose, select,
  /// unsqueeze, flatten of a contiguous tensor) or eval-mode dropout (a module).
  void NoKernel(const char* op, bool module = false, int dispatches = 1) {
    Begin(op, module, 1, dispatches);
  }

  /// torch.cat of `parts` tensors into `out_elems` elements.
  void Cat(int64_t out_elems) {
    Begin("aten::cat", false, 1, 2);
    SynthKernelDesc d = Desc("void at::native::(anonymous namespace)::CatArrayBatchedCopy<" +
                                 dt_.aten + ", unsigned int, 4, 64, 64>",
                             KernelClass::kTranspose);
    d.bytes = static_cast<double>(out_elems * 2 * dt_.bytes);
    d.block = {512, 1, 1};
    d.grid = {GridDim(std::min<int64_t>(DivUp(out_elems, 512), int64_t{spec_.sm_count} * 4)), 1, 1};
    Push(d);
  }

  /// nn.Linear: y[M,N] = x[M,K] W[N,K]^T + b, bias fused in the GEMM epilogue.
  void Linear(int64_t m, int64_t n, int64_t k) {
    Begin("aten::linear", true, 1, 4, LibrarySetup::kCublas);
    Gemm(arch_ + "_xmma_gemm_" + gemm_tag_ + "_tn_n", KernelClass::kGemm, m, n, k, 1,
         static_cast<double>((m * k + n * k + m * n) * dt_.bytes), true);
  }

  /// torch.matmul of two 4-D head tensors [B,h,M,K] x [B,h,K,N] (eager attention): the
  /// permuted operands that cannot be folded into 3-D are copied (`copies` tensors of
  /// `copy_elems` elements each), then one batched GEMM.
  void Matmul(int copies, int64_t copy_elems, int64_t batch, int64_t m, int64_t n, int64_t k) {
    Begin("aten::matmul", false, 1, 8, LibrarySetup::kCublas);
    for (int i = 0; i < copies; ++i) Copy(copy_elems);
    Gemm(arch_ + "_xmma_gemm_" + gemm_tag_ + "_nn_n", KernelClass::kBmm, m, n, k, batch,
         static_cast<double>(batch * (m * k + k * n + m * n) * dt_.bytes), true);
  }

  /// Tensor.contiguous() of a permuted tensor: one strided copy.
  void Contiguous(int64_t elems) {
    Begin("aten::contiguous", false, 1, 3);
    Copy(elems);
  }

  /// nn.Embedding: gathers `rows` rows of `dim` elements (int64 indices).
  void Embedding(int64_t rows, int64_t dim) {
    Begin("aten::embedding", true, 1, 3);
    const int64_t out = rows * dim;
    SynthKernelDesc d = Desc("void at::native::indexSelectLargeIndex<" + dt_.aten +
                                 ", long, unsigned int, 2, 2, -2, true>",
                             KernelClass::kReduction);
    d.bytes = static_cast<double>(out * 2 * dt_.bytes + rows * 8);
    d.block = {128, 1, 1};
    d.grid = {GridDim(std::min<int64_t>(DivUp(out, 128), int64_t{spec_.sm_count} * 8)), 1, 1};
    Push(d);
  }

  /// F.softmax over the last dimension (`cols` <= 1024): one warp per row or two.
  void Softmax(int64_t rows, int64_t cols) {
    Begin("aten::softmax", false, 1, 2);
    SynthKernelDesc d = Desc("void (anonymous namespace)::softmax_warp_forward<" + dt_.aten + ", " +
                                 dt_.aten + ", float, 7, false, false>",
                             KernelClass::kReduction);
    d.flops = 5.0 * static_cast<double>(rows * cols);
    d.bytes = static_cast<double>(rows * cols * 2 * dt_.bytes);
    d.block = {32, 4, 1};
    d.grid = {GridDim(DivUp(rows, 8)), 1, 1};
    Push(d);
  }

  /// nn.LayerNorm: one block per row.
  void LayerNorm(int64_t rows, int64_t cols) {
    Begin("aten::layer_norm", true, 1, 3);
    SynthKernelDesc d =
        Desc("void at::native::vectorized_layer_norm_kernel<" + dt_.aten + ", float>",
             KernelClass::kReduction);
    d.flops = 8.0 * static_cast<double>(rows * cols);
    d.bytes = static_cast<double>(rows * cols * 2 * dt_.bytes);
    d.block = {32, 4, 1};
    d.grid = {GridDim(rows), 1, 1};
    Push(d);
  }

 private:
  void Begin(const char* op, bool module, int python, int dispatches,
             LibrarySetup setup = LibrarySetup::kNone) {
    SynthOp o;
    o.op = op;
    o.host.modules = pending_ + (module ? 1 : 0);
    o.host.python_calls = python;
    o.host.dispatches = dispatches;
    o.host.setup = setup;
    pending_ = 0;
    ops_.push_back(std::move(o));
  }

  SynthKernelDesc Desc(const std::string& name, KernelClass cls) const {
    SynthKernelDesc d;
    d.name = name;
    d.cls = cls;
    return d;
  }

  void Push(const SynthKernelDesc& d) {
    COTENANT_CHECK(!ops_.empty());
    ops_.back().kernels.push_back(d);
  }

  /// A PyTorch vectorized elementwise kernel: 128 threads x 4 elements per block.
  void Elementwise(const std::string& name, int64_t elems, double bytes, double flops) {
    SynthKernelDesc d = Desc(name, KernelClass::kElementwise);
    d.flops = flops;
    d.bytes = bytes;
    d.block = {128, 1, 1};
    d.grid = {GridDim(DivUp(elems, 512)), 1, 1};
    d.regs = 20;
    Push(d);
  }

  /// cuDNN's NCHW -> NHWC layout transpose of `elems` elements.
  void Transpose(int64_t elems) {
    SynthKernelDesc d = Desc(
        "void cudnn::ops::nchwToNhwcKernel<" + dt_.cuda + ", " + dt_.cuda + ", float, false, true>",
        KernelClass::kTranspose);
    d.bytes = static_cast<double>(elems * 2 * dt_.bytes);
    d.block = {256, 1, 1};
    d.grid = {GridDim(DivUp(elems, 1024)), 1, 1};
    Push(d);
  }

  /// A strided copy (reshape of a permuted tensor, .contiguous()).
  void Copy(int64_t elems) {
    SynthKernelDesc d = Desc(
        "void at::native::elementwise_kernel<128, 4, "
        "at::native::direct_copy_kernel_cuda<" +
            dt_.aten + ">>",
        KernelClass::kTranspose);
    d.bytes = static_cast<double>(elems * 2 * dt_.bytes);
    d.block = {128, 1, 1};
    d.grid = {GridDim(DivUp(elems, 512)), 1, 1};
    d.regs = 24;
    Push(d);
  }

  /// A pooling kernel, one output per thread, k x k window.
  void Pool(const std::string& name, const Act& in, const Act& out, int k) {
    SynthKernelDesc d = Desc(name, KernelClass::kReduction);
    d.flops = static_cast<double>(out.Elems()) * k * k;
    d.bytes = static_cast<double>((in.Elems() + out.Elems()) * dt_.bytes);
    d.block = {256, 1, 1};
    d.grid = {GridDim(DivUp(out.Elems(), 256)), 1, 1};
    Push(d);
  }

  /// A cuBLAS/cuDNN GEMM over `batch` products of M x N x K: 128x128 output tiles (256
  /// threads, 128 regs, 96 KB smem) when they fill the GPU, else 64x64 tiles (128
  /// threads, 96 regs, 32 KB), split along K when even those leave SMs idle.
  void Gemm(const std::string& base, KernelClass cls, int64_t m, int64_t n, int64_t k,
            int64_t batch, double bytes, bool tensor) {
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
    std::string name = base;
    if (tensor) {
      name += "_tilesize" + std::to_string(tile) + "x" + std::to_string(tile) + "x64" +
              (split > 1 ? "_splitk" : "") + "_kernel";
    }
    SynthKernelDesc d = Desc(name, cls);
    d.flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) *
              static_cast<double>(batch);
    d.bytes = bytes;
    d.tiles = tiles * split;
    d.grid = {GridDim(DivUp(m, tile)), GridDim(DivUp(n, tile)), GridDim(batch * split)};
    d.block = {threads, 1, 1};
    d.regs = regs;
    d.smem = smem;
    Push(d);
  }

  const DtypeInfo& dt_;
  const GpuSpec& spec_;
  std::string arch_;
  bool conv_tensor_ = true;
  std::string conv_tag_, gemm_tag_;
  int pending_ = 0;
  std::vector<SynthOp> ops_;
};

// --- Vision models -------------------------------------------------------------------

/// torchvision ResNet (v1.5: stride on the 3x3 conv of each bottleneck) with `blocks`
/// bottlenecks per stage. Kernels: cast 1; stem 2 transposes + conv + bn + relu +
/// maxpool = 6; per bottleneck 14 (1x1: transpose + conv + bn + relu; 3x3: 2 transposes
/// + conv + bn + relu; 1x1: transpose + conv + bn; add_ + relu); per stage's downsample
/// 3 (transpose + conv + bn); avgpool 1, fc 1. ResNet-50 (3-4-6-3): 1 + 6 + 16 x 14 +
/// 4 x 3 + 2 = 245 (53 convolutions); ResNet-101 (3-4-23-3): 483 (104); ResNet-152
/// (3-8-36-3): 721 (155). FP32 without TF32 convs: no transposes, no cast.
void BuildResNet(Builder& b, const Act& input, const int (&blocks)[4]) {
  Act x = input;
  b.Modules(1);  // ResNet
  x = b.Conv(x, 64, 7, 2, 3);
  b.BatchNorm(x);
  b.Relu(x.Elems());
  x = b.MaxPool(x, 3, 2, 1);
  const int64_t widths[] = {64, 128, 256, 512};
  const int strides[] = {1, 2, 2, 2};
  for (int s = 0; s < 4; ++s) {
    b.Modules(1);  // layerN (Sequential)
    for (int i = 0; i < blocks[s]; ++i) {
      const int stride = i == 0 ? strides[s] : 1;
      const Act in = x;
      b.Modules(1);  // Bottleneck
      Act y = b.Conv(in, widths[s], 1, 1, 0);
      b.BatchNorm(y);
      b.Relu(y.Elems());
      y = b.Conv(y, widths[s], 3, stride, 1);
      b.BatchNorm(y);
      b.Relu(y.Elems());
      y = b.Conv(y, widths[s] * 4, 1, 1, 0);
      b.BatchNorm(y);
      if (i == 0) {
        b.Modules(1);  // downsample (Sequential)
        const Act d = b.Conv(in, widths[s] * 4, 1, stride, 0);
        b.BatchNorm(d);
      }
      b.Add("aten::add_", y.Elems());
      b.Relu(y.Elems());
      x = y;
    }
  }
  x = b.GlobalAvgPool(x);
  b.NoKernel("aten::flatten", false, 2);
  b.Linear(x.n, 1000, 2048);
}

void BuildResNet50(Builder& b, const Act& in) { BuildResNet(b, in, {3, 4, 6, 3}); }
void BuildResNet101(Builder& b, const Act& in) { BuildResNet(b, in, {3, 4, 23, 3}); }
void BuildResNet152(Builder& b, const Act& in) { BuildResNet(b, in, {3, 8, 36, 3}); }

/// torchvision MobileNetV2 (width 1.0). Kernels: cast 1; stem 2 transposes + conv + bn +
/// relu6 = 5; 17 inverted residuals: the first (t=1) dw(3) + project(transpose + conv +
/// bn = 3) = 6, the other 16 expand(4) + dw(3) + project(3) = 10 each = 160, plus 10
/// residual adds; last 1x1 transpose + conv + bn + relu6 4; avgpool 1, classifier linear
/// 1. Total 188 (52 convolutions, 17 of them depthwise).
void BuildMobileNetV2(Builder& b, const Act& input) {
  Act x = input;
  b.Modules(3);  // MobileNetV2, features, Conv2dNormActivation
  x = b.Conv(x, 32, 3, 2, 1);
  b.BatchNorm(x);
  b.Unary("aten::hardtanh_", "hardtanh_functor", x.Elems(), true);
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
      b.Modules(2);  // InvertedResidual, its conv Sequential
      if (st.t != 1) {
        b.Modules(1);  // Conv2dNormActivation
        y = b.Conv(y, hidden, 1, 1, 0);
        b.BatchNorm(y);
        b.Unary("aten::hardtanh_", "hardtanh_functor", y.Elems(), true);
      }
      b.Modules(1);  // Conv2dNormActivation
      y = b.Conv(y, hidden, 3, stride, 1, hidden);
      b.BatchNorm(y);
      b.Unary("aten::hardtanh_", "hardtanh_functor", y.Elems(), true);
      y = b.Conv(y, st.c, 1, 1, 0);
      b.BatchNorm(y);
      if (residual) b.Add("aten::add", y.Elems());
      x = y;
    }
  }
  b.Modules(1);  // Conv2dNormActivation
  x = b.Conv(x, 1280, 1, 1, 0);
  b.BatchNorm(x);
  b.Unary("aten::hardtanh_", "hardtanh_functor", x.Elems(), true);
  x = b.GlobalAvgPool(x, /*module=*/false);  // nn.functional.adaptive_avg_pool2d
  b.NoKernel("aten::flatten", false, 2);
  b.Modules(1);                                  // classifier
  b.NoKernel("aten::dropout", /*module=*/true);  // eval: returns its input
  b.Linear(x.n, 1000, 1280);
}

/// torchvision VGG without batch norm; `cfg` lists conv widths, 0 for a max pool.
/// Kernels: cast 1; per conv 5 (2 transposes + conv + bias add + relu); 5 maxpools;
/// adaptive avgpool 1; classifier linear+relu, linear+relu, linear 5. VGG-16
/// (configuration D, 13 convs): 1 + 65 + 5 + 1 + 5 = 77; VGG-19 (E, 16 convs): 92.
void BuildVgg(Builder& b, const Act& input, const std::vector<int64_t>& cfg) {
  Act x = input;
  b.Modules(2);  // VGG, features
  for (int64_t c : cfg) {
    if (c == 0) {
      x = b.MaxPool(x, 2, 2, 0);
    } else {
      x = b.Conv(x, c, 3, 1, 1, 1, /*bias=*/true);
      b.Relu(x.Elems());
    }
  }
  x = b.AdaptiveAvgPool(x, 7);
  b.NoKernel("aten::flatten", false, 2);
  b.Modules(1);  // classifier
  b.Linear(x.n, 4096, 512 * 7 * 7);
  b.Relu(x.n * 4096);
  b.NoKernel("aten::dropout", true);
  b.Linear(x.n, 4096, 4096);
  b.Relu(x.n * 4096);
  b.NoKernel("aten::dropout", true);
  b.Linear(x.n, 1000, 4096);
}

void BuildVgg16(Builder& b, const Act& in) {
  BuildVgg(b, in, {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0});
}
void BuildVgg19(Builder& b, const Act& in) {
  BuildVgg(b, in, {64,  64,  0,   128, 128, 0,   256, 256, 256, 256, 0,
                   512, 512, 512, 512, 0,   512, 512, 512, 512, 0});
}

/// Inception's BasicConv2d: conv (no bias) + batch norm (eps 0.001) + F.relu(inplace).
Act BasicConvRect(Builder& b, const Act& in, int64_t cout, int kh, int kw, int stride, int ph,
                  int pw) {
  b.Modules(1);  // BasicConv2d
  Act y = b.ConvRect(in, cout, kh, kw, stride, ph, pw);
  b.BatchNorm(y);
  b.Relu(y.Elems(), /*module=*/false);
  return y;
}
Act BasicConv(Builder& b, const Act& in, int64_t cout, int k, int stride = 1, int pad = 0) {
  return BasicConvRect(b, in, cout, k, k, stride, pad, pad);
}
Act WithChannels(Act a, int64_t c) {
  a.c = c;
  return a;
}

/// torchvision Inception3 (inception_v3) at 299x299, eval mode: the auxiliary classifier
/// does not run (torchvision skips AuxLogits unless training), and transform_input is on,
/// as torchvision sets it for the pretrained weights: per channel a select, unsqueeze,
/// mul and add (2 kernels), then a cat. 94 convolutions (40 of them 1x1). Kernels: cast 1;
/// transform_input 7; per BasicConv2d conv + bn + relu + a transpose of the input + one of
/// the filter unless 1x1: 94 x 3 + 94 + 54 = 430; stem max pools 2; Mixed_5b-d (A) avg
/// pool + cat 2 each = 6; Mixed_6a (B) max pool + cat 2; Mixed_6b-e (C) 2 each = 8;
/// Mixed_7a (D) 2; Mixed_7b-c (E) avg pool + 3 cats = 4 each = 8; avgpool 1, fc 1.
/// Total 468.
void BuildInceptionV3(Builder& b, const Act& input) {
  const int64_t n = input.n;
  const int64_t plane = input.h * input.w;
  b.Modules(1);                     // Inception3
  for (int ch = 0; ch < 3; ++ch) {  // transform_input
    b.NoKernel("aten::select");
    b.NoKernel("aten::unsqueeze");
    b.Unary("aten::mul", "MulFunctor", n * plane, false);
    b.Unary("aten::add", "CUDAFunctor_add", n * plane, false);
  }
  b.Cat(input.Elems());
  Act x = BasicConv(b, input, 32, 3, 2);  // Conv2d_1a_3x3: 149
  x = BasicConv(b, x, 32, 3);             // Conv2d_2a_3x3: 147
  x = BasicConv(b, x, 64, 3, 1, 1);       // Conv2d_2b_3x3
  x = b.MaxPool(x, 3, 2, 0);              // 73
  x = BasicConv(b, x, 80, 1);             // Conv2d_3b_1x1
  x = BasicConv(b, x, 192, 3);            // Conv2d_4a_3x3: 71
  x = b.MaxPool(x, 3, 2, 0);              // 35
  for (int64_t pool : {32, 64, 64}) {     // Mixed_5b, 5c, 5d (InceptionA)
    b.Modules(1);
    BasicConv(b, x, 64, 1);
    Act t = BasicConv(b, x, 48, 1);
    BasicConv(b, t, 64, 5, 1, 2);
    t = BasicConv(b, x, 64, 1);
    t = BasicConv(b, t, 96, 3, 1, 1);
    BasicConv(b, t, 96, 3, 1, 1);
    t = b.AvgPool(x, 3, 1, 1);
    BasicConv(b, t, pool, 1);
    x = WithChannels(x, 64 + 64 + 96 + pool);
    b.Cat(x.Elems());
  }
  {  // Mixed_6a (InceptionB): 35 -> 17
    b.Modules(1);
    const Act a = BasicConv(b, x, 384, 3, 2);
    Act t = BasicConv(b, x, 64, 1);
    t = BasicConv(b, t, 96, 3, 1, 1);
    BasicConv(b, t, 96, 3, 2);
    b.MaxPool(x, 3, 2, 0, /*module=*/false);
    x = WithChannels(a, 384 + 96 + x.c);
    b.Cat(x.Elems());
  }
  for (int64_t c7 : {128, 160, 160, 192}) {  // Mixed_6b-e (InceptionC)
    b.Modules(1);
    BasicConv(b, x, 192, 1);
    Act t = BasicConv(b, x, c7, 1);
    t = BasicConvRect(b, t, c7, 1, 7, 1, 0, 3);
    BasicConvRect(b, t, 192, 7, 1, 1, 3, 0);
    t = BasicConv(b, x, c7, 1);
    t = BasicConvRect(b, t, c7, 7, 1, 1, 3, 0);
    t = BasicConvRect(b, t, c7, 1, 7, 1, 0, 3);
    t = BasicConvRect(b, t, c7, 7, 1, 1, 3, 0);
    BasicConvRect(b, t, 192, 1, 7, 1, 0, 3);
    t = b.AvgPool(x, 3, 1, 1);
    BasicConv(b, t, 192, 1);
    x = WithChannels(x, 768);
    b.Cat(x.Elems());
  }
  {  // Mixed_7a (InceptionD): 17 -> 8
    b.Modules(1);
    Act t = BasicConv(b, x, 192, 1);
    const Act a = BasicConv(b, t, 320, 3, 2);
    t = BasicConv(b, x, 192, 1);
    t = BasicConvRect(b, t, 192, 1, 7, 1, 0, 3);
    t = BasicConvRect(b, t, 192, 7, 1, 1, 3, 0);
    BasicConv(b, t, 192, 3, 2);
    b.MaxPool(x, 3, 2, 0, /*module=*/false);
    x = WithChannels(a, 320 + 192 + x.c);
    b.Cat(x.Elems());
  }
  for (int e = 0; e < 2; ++e) {  // Mixed_7b, 7c (InceptionE)
    b.Modules(1);
    BasicConv(b, x, 320, 1);
    Act t = BasicConv(b, x, 384, 1);
    BasicConvRect(b, t, 384, 1, 3, 1, 0, 1);
    BasicConvRect(b, t, 384, 3, 1, 1, 1, 0);
    b.Cat(WithChannels(x, 768).Elems());
    t = BasicConv(b, x, 448, 1);
    t = BasicConv(b, t, 384, 3, 1, 1);
    BasicConvRect(b, t, 384, 1, 3, 1, 0, 1);
    BasicConvRect(b, t, 384, 3, 1, 1, 1, 0);
    b.Cat(WithChannels(x, 768).Elems());
    t = b.AvgPool(x, 3, 1, 1);
    BasicConv(b, t, 192, 1);
    x = WithChannels(x, 2048);
    b.Cat(x.Elems());
  }
  x = b.GlobalAvgPool(x);
  b.NoKernel("aten::dropout", true);
  b.NoKernel("aten::flatten", false, 2);
  b.Linear(n, 1000, 2048);
}

// --- BERT ----------------------------------------------------------------------------

/// Hugging Face BertModel (bert-base-uncased), eager attention, no attention mask.
/// Encoder layers: 12 x 19 kernels (Q, K, V linears 3; scores matmul = copy q + copy k^T
/// + bmm 3; scale div 1; softmax 1; context matmul = copy v + bmm 2; permute contiguous 1;
/// output linear, add, layer norm 3; FFN linear, gelu, linear, add, layer norm 5) = 228;
/// views (view + permute of Q, K, V; k.transpose; context permute and view) and the four
/// eval-mode dropouts launch nothing. `full` adds the embeddings (word, token type, add,
/// position, add_, layer norm: 6) and the pooler (linear + tanh: 2): 236.
void BuildBert(Builder& b, int64_t batch, int64_t seq, bool full) {
  const int64_t tokens = batch * seq;
  const int64_t hidden = tokens * kBertHidden;
  const int64_t head_dim = kBertHidden / kBertHeads;
  const int64_t heads = batch * kBertHeads;
  if (full) {
    b.Modules(2);                      // BertModel, BertEmbeddings
    b.NoKernel("aten::slice");         // position_ids[:, :seq]
    b.NoKernel("aten::expand");        // buffered token_type_ids
    b.Embedding(tokens, kBertHidden);  // word embeddings
    b.Embedding(tokens, kBertHidden);  // token type embeddings
    b.Add("aten::add", hidden);
    b.Embedding(seq, kBertHidden);  // position embeddings, broadcast over the batch
    b.Add("aten::add_", hidden);
    b.LayerNorm(tokens, kBertHidden);
    b.NoKernel("aten::dropout", true);
  }
  b.Modules(1);  // BertEncoder
  for (int layer = 0; layer < kBertLayers; ++layer) {
    b.Modules(3);                  // BertLayer, BertAttention, BertSelfAttention
    for (int i = 0; i < 3; ++i) {  // query, key, value, each viewed as [B, 12, S, 64]
      b.Linear(tokens, kBertHidden, kBertHidden);
      b.NoKernel("aten::view");
      b.NoKernel("aten::permute");
    }
    b.NoKernel("aten::transpose");                   // k^T
    b.Matmul(2, hidden, heads, seq, seq, head_dim);  // scores: copies of q and k^T
    b.Unary("aten::div", "div_true_functor", heads * seq * seq, false);
    b.Softmax(heads * seq, seq);
    b.NoKernel("aten::dropout", true);
    b.Matmul(1, hidden, heads, seq, head_dim, seq);  // context: copy of v
    b.NoKernel("aten::permute");
    b.Contiguous(hidden);
    b.NoKernel("aten::view");
    b.Modules(1);  // BertSelfOutput
    b.Linear(tokens, kBertHidden, kBertHidden);
    b.NoKernel("aten::dropout", true);
    b.Add("aten::add", hidden);
    b.LayerNorm(tokens, kBertHidden);
    b.Modules(1);  // BertIntermediate
    b.Linear(tokens, kBertFfn, kBertHidden);
    b.Unary("aten::gelu", "GeluCUDAKernelImpl", tokens * kBertFfn, true, 10.0);
    b.Modules(1);  // BertOutput
    b.Linear(tokens, kBertHidden, kBertFfn);
    b.NoKernel("aten::dropout", true);
    b.Add("aten::add", hidden);
    b.LayerNorm(tokens, kBertHidden);
  }
  if (full) {
    b.Modules(1);                // BertPooler
    b.NoKernel("aten::select");  // first token
    b.Linear(batch, kBertHidden, kBertHidden);
    b.Unary("aten::tanh", "tanh_functor", batch * kBertHidden, true, 10.0);
  }
}

}  // namespace

const std::vector<ModelInfo>& SynthModels() {
  static const std::vector<ModelInfo> models = {
      {"resnet50", true, false, 224},     {"resnet101", true, false, 224},
      {"resnet152", true, false, 224},    {"mobilenetv2", true, false, 224},
      {"vgg16", true, false, 224},        {"vgg19", true, false, 224},
      {"inception_v3", true, false, 299}, {"bert-base", false, false, 0},
      {"bert-base-full", false, true, 0},
  };
  return models;
}

std::vector<SynthOp> BuildModelOps(const ModelInfo& model, const ModelShape& shape,
                                   const DtypeInfo& dtype, bool tf32_conv, bool tf32_matmul,
                                   const GpuSpec& spec) {
  Builder b(dtype, tf32_conv, tf32_matmul, spec);
  const std::string name = model.name;
  if (!model.vision) {
    BuildBert(b, shape.batch, shape.seq, model.bert_full);
    return std::move(b.ops());
  }
  const Act in{shape.batch, 3, model.image, model.image};
  b.CastInput(in.Elems());
  if (name == "resnet50")
    BuildResNet50(b, in);
  else if (name == "resnet101")
    BuildResNet101(b, in);
  else if (name == "resnet152")
    BuildResNet152(b, in);
  else if (name == "mobilenetv2")
    BuildMobileNetV2(b, in);
  else if (name == "vgg16")
    BuildVgg16(b, in);
  else if (name == "vgg19")
    BuildVgg19(b, in);
  else if (name == "inception_v3")
    BuildInceptionV3(b, in);
  else
    COTENANT_CHECK(false);
  return std::move(b.ops());
}

}  // namespace cotenant::profiler
