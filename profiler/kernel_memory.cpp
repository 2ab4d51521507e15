#include "profiler/kernel_memory.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "profiler/synth_kernels.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

/// One positional input: a tensor's shape and element size, or none.
struct Tensor {
  std::vector<int64_t> dims;
  int64_t elem = 0;  ///< bytes per element; 0 = not a tensor
  double Numel() const {
    double n = 1.0;
    for (int64_t d : dims) n *= static_cast<double>(std::max<int64_t>(d, 0));
    return n;
  }
  double Bytes() const { return elem > 0 ? Numel() * static_cast<double>(elem) : 0.0; }
  bool IsTensor() const { return elem > 0; }
  int64_t Dim(int i) const {  // from the end when i < 0
    const int n = static_cast<int>(dims.size());
    const int k = i < 0 ? n + i : i;
    return k >= 0 && k < n ? dims[static_cast<size_t>(k)] : -1;
  }
};

/// The inputs as tensors. Without types, a non-empty shape is a tensor of
/// kDefaultElementBytes; with types, a tensor is an input whose type has an
/// element size; a tensor list's elements ("TensorList" has no element
/// type) take the element size of the first typed tensor input, else the
/// default.
std::vector<Tensor> Tensors(const OpInputs& in) {
  const bool typed = in.types.size() == in.dims.size();
  int64_t first_elem = 0;
  if (typed) {
    for (const std::string& t : in.types) {
      if ((first_elem = DtypeBytes(t)) > 0) break;
    }
  }
  if (first_elem == 0) first_elem = kDefaultElementBytes;
  std::vector<Tensor> out(in.dims.size());
  for (size_t i = 0; i < in.dims.size(); ++i) {
    out[i].dims = in.dims[i];
    if (!typed) {
      out[i].elem = in.dims[i].empty() ? 0 : kDefaultElementBytes;
    } else if (in.types[i] == "TensorList") {
      out[i].elem = first_elem;
    } else {
      out[i].elem = DtypeBytes(in.types[i]);
    }
  }
  return out;
}

double SumBytes(const std::vector<Tensor>& t) {
  double sum = 0.0;
  for (const Tensor& x : t) sum += x.Bytes();
  return sum;
}

const Tensor* At(const std::vector<Tensor>& t, size_t i) {
  return i < t.size() && t[i].IsTensor() ? &t[i] : nullptr;
}

/// "aten::addmm, seq = 3" -> "addmm"; other names are kept.
std::string BaseOp(const std::string& op) {
  std::string n = op.substr(0, op.find(", "));
  if (n.rfind("aten::", 0) == 0) n = n.substr(6);
  return n;
}

bool OneOf(const std::string& n, std::initializer_list<const char*> names) {
  for (const char* x : names) {
    if (n == x) return true;
  }
  return false;
}

/// Operators read once and written once, with one output the size of their
/// largest input: elementwise, norms, softmax.
const std::unordered_set<std::string>& ElementwiseOps() {
  // clang-format off
  static const std::unordered_set<std::string> ops = {
      "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "relu", "relu_", "gelu",
      "gelu_", "silu", "silu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "dropout",
      "native_dropout", "to", "_to_copy", "contiguous", "clone", "neg", "exp", "pow", "rsqrt",
      "sqrt", "where", "masked_fill", "masked_fill_", "hardtanh", "hardtanh_", "leaky_relu",
      "threshold", "threshold_backward", "gelu_backward",
      "layer_norm", "native_layer_norm", "batch_norm", "_batch_norm_impl_index",
      "native_batch_norm", "cudnn_batch_norm", "_native_batch_norm_legit_no_training",
      "group_norm", "native_group_norm", "rms_norm", "_fused_rms_norm", "instance_norm",
      "softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax"};
  // clang-format on
  return ops;
}

/// Matrix products: inputs read once, output (rows x cols) written once in
/// the dtype of the first matrix.
std::optional<double> Product(const Tensor* a, const Tensor* b, const std::vector<Tensor>& all) {
  if (a == nullptr || b == nullptr || a->dims.empty() || b->dims.empty()) return std::nullopt;
  const int64_t k = a->Dim(-1);
  if (k <= 0) return std::nullopt;
  double out = 0.0;
  if (b->dims.size() == 1) {
    out = a->Numel() / static_cast<double>(k);  // matrix x vector
  } else if (a->dims.size() == 1) {
    out = b->Numel() / static_cast<double>(b->Dim(-2) > 0 ? b->Dim(-2) : 1);  // vector x matrix
  } else {
    const double m = static_cast<double>(a->Dim(-2)), n = static_cast<double>(b->Dim(-1));
    const double kb = static_cast<double>(std::max<int64_t>(b->Dim(-2), 1));
    const double batch = std::max(a->Numel() / (m * static_cast<double>(k)), b->Numel() / (kb * n));
    out = batch * m * n;
  }
  return SumBytes(all) + out * static_cast<double>(a->elem);
}

/// The integers of a "Concrete Inputs" value: "[2, 2]" -> {2, 2}, "3" ->
/// {3} repeated `n` times; nullopt when the value is missing or not that.
std::optional<std::vector<int64_t>> IntList(const OpInputs& in, size_t pos, size_t n) {
  if (pos >= in.values.size()) return std::nullopt;
  std::string v = in.values[pos];
  const bool list = !v.empty() && v.front() == '[';
  if (list) {
    if (v.back() != ']') return std::nullopt;
    v = v.substr(1, v.size() - 2);
  }
  std::vector<int64_t> out;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == ',')) ++i;
    if (i == v.size()) break;
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
    int64_t x = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
      if (x > (int64_t{1} << 40)) return std::nullopt;
      x = x * 10 + (v[i++] - '0');
    }
    out.push_back(x);
  }
  if (out.size() == 1 && n > 1) out.assign(n, out.front());
  if (out.size() != n) return std::nullopt;
  return out;
}

/// Output length of a window sliding over `in` (convolution and pooling,
/// PyTorch's formula without ceil mode): (in + 2 pad - dil (k - 1) - 1) /
/// stride + 1, rounded down; 0 when the window does not fit.
double WindowOut(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  if (stride <= 0) return 0.0;
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  return span < 0 ? 0.0 : static_cast<double>(span / stride + 1);
}

/// A byte figure as the trace's integer, rounded; kept inside int64 (only a
/// kernel lasting years at the peak bandwidth would reach the bound).
int64_t ToBytes(double b) { return std::llround(std::clamp(b, 0.0, 9.0e18)); }

/// Whether a range can carry input shapes: recorded ones (Kineto) or
/// emit_nvtx's "sizes = [...]" in its name.
bool HasShapes(const Range& r) {
  return !r.inputs.empty() || r.name.find("sizes = [") != std::string::npos;
}

/// The ranges with shapes around a range on its thread, innermost first,
/// found by a bounded walk back over the thread's ranges with shapes in
/// start order (ProfilerStep ranges never count).
class EnclosingRanges {
 public:
  explicit EnclosingRanges(const std::vector<Range>& ranges) : ranges_(ranges) {}

  std::vector<size_t> Of(size_t r) {
    if (!built_) Build();
    std::vector<size_t> out;
    const Range& x = ranges_[r];
    const auto it = by_thread_.find(x.thread);
    if (it == by_thread_.end()) return out;
    const std::vector<size_t>& list = it->second;
    // Past every candidate that sorts with or before x; walking back from
    // there meets x's enclosing ranges innermost first. Nested calls start
    // close to each other: 256 candidates are enough in practice and keep a
    // whole-run import linear.
    const size_t at =
        static_cast<size_t>(std::upper_bound(list.begin(), list.end(), r,
                                             [this](size_t a, size_t b) { return Before(a, b); }) -
                            list.begin());
    for (size_t k = at, steps = 0; k > 0 && steps < 256; --k, ++steps) {
      const size_t c = list[k - 1];
      const Range& y = ranges_[c];
      if (c != r && y.start_ns <= x.start_ns && y.end_ns >= x.end_ns) out.push_back(c);
    }
    return out;
  }

 private:
  /// Start order; the outer of two ranges that start together first.
  bool Before(size_t a, size_t b) const {
    const Range &x = ranges_[a], &y = ranges_[b];
    if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
    return x.end_ns > y.end_ns;
  }

  void Build() {
    built_ = true;
    for (size_t i = 0; i < ranges_.size(); ++i) {
      if (HasShapes(ranges_[i]) && ranges_[i].name.rfind("ProfilerStep#", 0) != 0) {
        by_thread_[ranges_[i].thread].push_back(i);
      }
    }
    for (auto& [thread, list] : by_thread_) {
      std::stable_sort(list.begin(), list.end(),
                       [this](size_t a, size_t b) { return Before(a, b); });
    }
  }

  const std::vector<Range>& ranges_;
  bool built_ = false;
  std::map<int64_t, std::vector<size_t>> by_thread_;  ///< ranges with shapes, in start order
};

}  // namespace

int64_t DtypeBytes(const std::string& type) {
  static const std::map<std::string, int64_t> kSizes = {
      {"float", 4},
      {"c10::Half", 2},
      {"c10::BFloat16", 2},
      {"double", 8},
      {"long int", 8},
      {"long", 8},
      {"int64_t", 8},
      {"int", 4},
      {"short int", 2},
      {"short", 2},
      {"signed char", 1},
      {"unsigned char", 1},
      {"bool", 1},
      {"c10::complex<float>", 8},
      {"c10::complex<double>", 16},
      {"c10::Float8_e4m3fn", 1},
      {"c10::Float8_e5m2", 1},
  };
  const auto it = kSizes.find(type);
  return it == kSizes.end() ? 0 : it->second;
}

OpInputs OpInputsFromJson(const json& dims, const json* types, const json* values) {
  OpInputs in;
  if (!dims.is_array()) return in;
  const bool typed = types != nullptr && types->is_array() && types->size() == dims.size();
  bool spread = false;
  const auto shape_of = [](const json& d) {
    std::vector<int64_t> s;
    if (!d.is_array()) return s;
    for (const json& x : d) {
      if (!x.is_number_integer()) return std::vector<int64_t>{};
      s.push_back(x.get<int64_t>());
    }
    return s;
  };
  for (size_t i = 0; i < dims.size(); ++i) {
    const json& d = dims[i];
    const std::string type =
        typed && (*types)[i].is_string() ? (*types)[i].get<std::string>() : std::string();
    if (d.is_array() && !d.empty() && d.front().is_array()) {  // a tensor list
      for (const json& e : d) {
        in.dims.push_back(shape_of(e));
        in.types.push_back(type.empty() ? "TensorList" : type);
      }
      spread = true;
      continue;
    }
    in.dims.push_back(shape_of(d));
    in.types.push_back(type);
  }
  if (!typed) in.types.clear();
  if (!spread && values != nullptr && values->is_array() && values->size() == dims.size()) {
    for (const json& v : *values) in.values.push_back(v.is_string() ? v.get<std::string>() : "");
  }
  return in;
}

OpInputs ParseNvtxSizes(const std::string& name) {
  OpInputs in;
  const size_t at = name.find("sizes = [");
  if (at == std::string::npos) return in;
  size_t i = at + 8;  // at '['
  // A small recursive-descent reader of nested integer lists.
  const auto skip = [&]() {
    while (i < name.size() && name[i] == ' ') ++i;
  };
  if (name[i] != '[') return in;
  ++i;
  for (;;) {
    skip();
    if (i >= name.size()) return OpInputs{};
    if (name[i] == ']') break;
    if (name[i] != '[') return OpInputs{};
    ++i;
    std::vector<int64_t> shape;
    for (;;) {
      skip();
      if (i >= name.size()) return OpInputs{};
      if (name[i] == ']') {
        ++i;
        break;
      }
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) return OpInputs{};
      int64_t v = 0;
      while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
        if (v > (int64_t{1} << 50)) return OpInputs{};
        v = v * 10 + (name[i++] - '0');
      }
      shape.push_back(v);
      skip();
      if (i < name.size() && name[i] == ',') ++i;
    }
    in.dims.push_back(std::move(shape));
    skip();
    if (i < name.size() && name[i] == ',') ++i;
  }
  return in;
}

OpInputs InputsOfRange(const Range& range) {
  return range.inputs.empty() ? ParseNvtxSizes(range.name) : range.inputs;
}

namespace {
std::optional<double> ModelBytes(const std::string& op, const OpInputs& inputs);
}  // namespace

std::optional<double> OpBytes(const std::string& op, const OpInputs& inputs) {
  // Zero-sized dimensions can make a formula 0/0: no figure rather than NaN.
  const std::optional<double> b = ModelBytes(op, inputs);
  if (!b || !std::isfinite(*b) || *b < 0.0) return std::nullopt;
  return b;
}

namespace {
std::optional<double> ModelBytes(const std::string& op, const OpInputs& inputs) {
  const std::string n = BaseOp(op);
  const std::vector<Tensor> t = Tensors(inputs);
  const double in = SumBytes(t);
  if (in <= 0.0) return std::nullopt;

  // Matrix products.
  if (OneOf(n, {"mm", "matmul", "bmm"})) return Product(At(t, 0), At(t, 1), t);
  if (OneOf(n, {"addmm", "baddbmm"})) return Product(At(t, 1), At(t, 2), t);
  if (n == "linear") {
    const Tensor *x = At(t, 0), *w = At(t, 1);
    if (x == nullptr || w == nullptr || w->dims.size() != 2 || x->Dim(-1) <= 0) return std::nullopt;
    const double out =
        x->Numel() / static_cast<double>(x->Dim(-1)) * static_cast<double>(w->Dim(0));
    return in + out * static_cast<double>(x->elem);
  }
  // Convolutions: output N x O x (input's spatial size): same padding and
  // stride 1 assumed (the profiler records no stride or padding values).
  if (OneOf(n, {"conv1d", "conv2d", "conv3d", "convolution", "_convolution", "cudnn_convolution",
                "cudnn_convolution_relu", "cudnn_convolution_add_relu", "mkldnn_convolution"})) {
    const Tensor *x = At(t, 0), *w = At(t, 1);
    if (x == nullptr || w == nullptr || x->dims.size() < 3 || w->dims.size() != x->dims.size()) {
      return std::nullopt;
    }
    // With Kineto's "Concrete Inputs" the stride, padding and dilation are
    // known; positions follow the operators' schemas.
    const size_t spatial = x->dims.size() - 2;
    const bool cudnn = n == "cudnn_convolution";
    const size_t at_stride = 3, at_pad = cudnn ? 2 : 4, at_dil = cudnn ? 4 : 5;
    const bool transposed = (n == "convolution" || n == "_convolution") &&
                            inputs.values.size() > 6 && inputs.values[6] == "True";
    std::optional<std::vector<int64_t>> stride = IntList(inputs, at_stride, spatial);
    std::optional<std::vector<int64_t>> pad = IntList(inputs, at_pad, spatial);
    std::optional<std::vector<int64_t>> dil = IntList(inputs, at_dil, spatial);
    if (at_pad < inputs.values.size() && inputs.values[at_pad] == "valid") {
      pad = std::vector<int64_t>(spatial, 0);
    }
    double out = static_cast<double>(x->Dim(0)) * static_cast<double>(w->Dim(0));
    for (size_t d = 0; d < spatial; ++d) {
      if (stride && pad && dil && !transposed) {
        out *= WindowOut(x->dims[2 + d], w->dims[2 + d], (*stride)[d], (*pad)[d], (*dil)[d]);
      } else {
        out *= static_cast<double>(x->dims[2 + d]);  // same padding, stride 1
      }
    }
    return in + out * static_cast<double>(x->elem);
  }
  // Attention: Q, K, V (and a mask) read once, O = Q's rows x V's last dim.
  if (OneOf(n, {"scaled_dot_product_attention", "_scaled_dot_product_flash_attention",
                "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
                "_flash_attention_forward", "_efficient_attention_forward"})) {
    const Tensor *q = At(t, 0), *v = At(t, 2);
    if (q == nullptr || v == nullptr || q->Dim(-1) <= 0) return std::nullopt;
    const double out =
        q->Numel() / static_cast<double>(q->Dim(-1)) * static_cast<double>(v->Dim(-1));
    return in + out * static_cast<double>(q->elem);
  }
  // Embedding: indices read, the gathered rows read and written.
  if (n == "embedding") {
    const Tensor *w = At(t, 0), *idx = At(t, 1);
    if (w == nullptr || idx == nullptr || w->dims.size() != 2) return std::nullopt;
    const double rows =
        idx->Numel() * static_cast<double>(w->Dim(1)) * static_cast<double>(w->elem);
    return idx->Bytes() + 2.0 * rows;
  }
  // index_select(self, dim, index) as embedding does it: dim 0 assumed
  // (the dim is not recorded).
  if (n == "index_select") {
    const Tensor *w = At(t, 0), *idx = At(t, 2);
    if (w == nullptr || idx == nullptr || w->dims.empty() || w->dims[0] <= 0) return std::nullopt;
    const double rows =
        idx->Numel() * w->Numel() / static_cast<double>(w->dims[0]) * static_cast<double>(w->elem);
    return idx->Bytes() + 2.0 * rows;
  }
  // Reductions to a smaller tensor: the input read; the output (its size
  // depends on the dims, which are not recorded) left out.
  if (OneOf(n, {"sum", "mean"})) {
    const Tensor* x = At(t, 0);
    if (x == nullptr) return std::nullopt;
    return x->Bytes();
  }
  // Concatenation: everything read once and written once.
  if (OneOf(n, {"cat", "stack", "_cat"})) return 2.0 * in;
  // Pooling: the input read, an output of a 2-wide stride-2 window per
  // spatial dimension written (the window and stride are not recorded).
  for (int d = 1; d <= 3; ++d) {
    const std::string sd = std::to_string(d) + "d";
    if (OneOf(n, {("max_pool" + sd).c_str(), ("avg_pool" + sd).c_str(),
                  ("max_pool" + sd + "_with_indices").c_str()})) {
      const Tensor* x = At(t, 0);
      if (x == nullptr || x->dims.size() < static_cast<size_t>(d)) return std::nullopt;
      // Kernel, stride, padding (and dilation for max pooling) from Kineto's
      // "Concrete Inputs" when recorded; an empty stride is the kernel.
      const size_t nd = static_cast<size_t>(d);
      const std::optional<std::vector<int64_t>> k = IntList(inputs, 1, nd);
      std::optional<std::vector<int64_t>> stride = IntList(inputs, 2, nd);
      if (k && 2 < inputs.values.size() && inputs.values[2] == "[]") stride = k;
      const std::optional<std::vector<int64_t>> pad = IntList(inputs, 3, nd);
      std::optional<std::vector<int64_t>> dil = IntList(inputs, 4, nd);
      if (n.rfind("avg", 0) == 0 || !dil) dil = std::vector<int64_t>(nd, 1);
      double out = x->Numel() / static_cast<double>(1 << d);
      if (k && stride && pad) {
        out = 1.0;
        const size_t lead = x->dims.size() - nd;
        for (size_t j = 0; j < lead; ++j) out *= static_cast<double>(x->dims[j]);
        for (size_t j = 0; j < nd; ++j) {
          out *= WindowOut(x->dims[lead + j], (*k)[j], (*stride)[j], (*pad)[j], (*dil)[j]);
        }
      }
      const double idx = n.find("with_indices") != std::string::npos ? out * 8.0 : 0.0;
      return x->Bytes() + out * static_cast<double>(x->elem) + idx;
    }
    if (OneOf(n, {("adaptive_avg_pool" + sd).c_str(), ("_adaptive_avg_pool" + sd).c_str(),
                  ("adaptive_max_pool" + sd).c_str()})) {
      // The output size from "Concrete Inputs", else 1 (global pooling).
      const Tensor* x = At(t, 0);
      if (x == nullptr || x->dims.size() < static_cast<size_t>(d) + 1) return std::nullopt;
      double out = 1.0;
      for (size_t k = 0; k + static_cast<size_t>(d) < x->dims.size(); ++k) {
        out *= static_cast<double>(x->dims[k]);
      }
      if (const auto size = IntList(inputs, 1, static_cast<size_t>(d))) {
        for (int64_t v : *size) out *= static_cast<double>(v);
      }
      return x->Bytes() + out * static_cast<double>(x->elem);
    }
  }
  // Copies: the source read and the destination written, both inputs.
  if (OneOf(n, {"copy_", "fill_", "zero_"})) return in;
  // Elementwise, norms, softmax: every tensor input read once, one output
  // the size of the largest input (the broadcast result) written once in
  // the first tensor's dtype.
  if (ElementwiseOps().count(n) != 0) {
    const Tensor* largest = nullptr;
    const Tensor* first = nullptr;
    int64_t widest = 0;
    for (const Tensor& x : t) {
      if (!x.IsTensor()) continue;
      if (first == nullptr) first = &x;
      if (largest == nullptr || x.Numel() > largest->Numel()) largest = &x;
      widest = std::max(widest, x.elem);
    }
    // where(condition, x, y): the condition is bool, the output has the
    // values' dtype.
    const int64_t out_elem = n == "where" ? widest : first->elem;
    return in + largest->Numel() * static_cast<double>(out_elem);
  }
  return std::nullopt;
}

}  // namespace

const char* NameClassName(NameClass c) {
  switch (c) {
    case NameClass::kGemm:
      return "gemm";
    case NameClass::kConv:
      return "conv";
    case NameClass::kElementwise:
      return "elementwise";
    case NameClass::kReduction:
      return "reduction";
    case NameClass::kNccl:
      return "nccl";
    case NameClass::kCopy:
      return "copy";
    case NameClass::kUnknown:
      break;
  }
  return "unknown";
}

NameClass ClassifyKernelName(const std::string& raw) {
  std::string n = raw;
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto has = [&n](std::initializer_list<const char*> words) {
    for (const char* w : words) {
      if (n.find(w) != std::string::npos) return true;
    }
    return false;
  };
  if (has({"nccl"})) return NameClass::kNccl;
  // TorchInductor's Triton kernels name their kind: pointwise, reduction,
  // persistent reduction, template (matmul).
  if (n.rfind("triton_poi", 0) == 0) return NameClass::kElementwise;
  if (n.rfind("triton_red", 0) == 0 || n.rfind("triton_per", 0) == 0) return NameClass::kReduction;
  if (n.rfind("triton_tem", 0) == 0) return NameClass::kGemm;
  if (has({"elementwise_kernel", "vectorized_elementwise", "unrolled_elementwise"})) {
    return NameClass::kElementwise;
  }
  if (has({"reduce_kernel", "softmax", "layer_norm", "layernorm", "batch_norm", "batchnorm",
           "group_norm", "rms_norm", "norm_kernel", "reduction", "bn_fw", "bn_bw"})) {
    return NameClass::kReduction;
  }
  if (has({"cudnn", "implicit_gemm", "implicit_convolve", "conv", "winograd", "fprop", "dgrad",
           "wgrad"})) {
    return NameClass::kConv;
  }
  if (has({"gemm", "cutlass", "cublas", "xmma", "gemv", "matmul"})) return NameClass::kGemm;
  if (has({"copy", "memcpy", "fill"})) return NameClass::kCopy;
  return NameClass::kUnknown;
}

std::optional<NameClassFigures> NameClassDefaults(NameClass c, const GpuSpec& spec) {
  // mem_bound defaults: a roofline argument. The ridge point of the GPUs in
  // configs/gpus is tens to hundreds of flop per DRAM byte (H100 SXM: 67
  // fp32 TFLOPS / 3.35 TB/s = 20 flop/B on CUDA cores, 989 fp16 tensor
  // TFLOPS / 3.35 TB/s = 295 flop/B; NVIDIA H100 datasheet). Elementwise and
  // copy kernels do about 1 flop per 4-12 bytes moved, reductions and norms
  // a few: far under the ridge, so DRAM-bound (0.9 and 0.8, the rest being
  // launch ramp and tail). An n x n x n GEMM does n/3 flop per fp16 byte,
  // over the ridge from n of a few hundred: compute-bound at the sizes that
  // dominate DL traces (0.2, an assumption for the smaller ones). NCCL
  // kernels move data at link speed (H100 NVLink 900 GB/s, datasheet)
  // under a third of the DRAM peak: 0.25.
  // dram_share: the share of dram_gbps the synth efficiency table gives the
  // class (profiler/synth_kernels.cpp, an assumption stated there);
  // NCCL 1.0 (its mem_bound already carries the link ratio).
  const std::string lib = DefaultLibrary(spec);
  switch (c) {
    case NameClass::kGemm:
      return NameClassFigures{0.2, SynthEfficiency(lib, KernelClass::kGemm).dram};
    case NameClass::kConv:
      return NameClassFigures{0.2, SynthEfficiency(lib, KernelClass::kConv).dram};
    case NameClass::kElementwise:
      return NameClassFigures{0.9, SynthEfficiency(lib, KernelClass::kElementwise).dram};
    case NameClass::kReduction:
      return NameClassFigures{0.8, SynthEfficiency(lib, KernelClass::kReduction).dram};
    case NameClass::kCopy:
      return NameClassFigures{0.9, SynthEfficiency(lib, KernelClass::kTranspose).dram};
    case NameClass::kNccl:
      return NameClassFigures{0.25, 1.0};
    case NameClass::kUnknown:
      break;
  }
  return std::nullopt;
}

MemoryReport EstimateMemory(Trace& trace, const GpuSpec& spec, const std::vector<Range>& ranges,
                            const std::vector<std::pair<int64_t, size_t>>& kernel_ranges) {
  MemoryReport report;
  report.gpu = spec.key;
  const double peak = spec.dram_gbps;  // GB/s = bytes per ns
  // kernel_ranges by task id (BuildTrace gives them so; sorted here if not).
  std::vector<std::pair<int64_t, size_t>> sorted_copy;
  const std::vector<std::pair<int64_t, size_t>>* by_id = &kernel_ranges;
  const auto id_less = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(kernel_ranges.begin(), kernel_ranges.end(), id_less)) {
    sorted_copy = kernel_ranges;
    std::stable_sort(sorted_copy.begin(), sorted_copy.end(), id_less);
    by_id = &sorted_copy;
  }
  // (labelling range, task index) of the kernels that need an estimate.
  std::vector<std::pair<size_t, size_t>> calls;
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    Task& t = trace.tasks[i];
    if (t.kind != TaskKind::kKernel) continue;
    ++report.kernels;
    if (DramSourceOf(t) != DramSource::kNone) {
      t.dram_source = DramSourceOf(t);
      continue;
    }
    const auto r =
        std::lower_bound(by_id->begin(), by_id->end(), std::make_pair(t.id, size_t{0}), id_less);
    if (r != by_id->end() && r->first == t.id && r->second < ranges.size()) {
      calls.emplace_back(r->second, i);
    }
  }
  std::sort(calls.begin(), calls.end());
  // A labelling call that is not modelled (aten::index_select inside
  // aten::embedding, aten::mean inside aten::adaptive_avg_pool2d) passes
  // its kernels to the innermost enclosing call that is.
  std::unordered_map<size_t, std::optional<double>> bytes_of;  // range -> OpBytes, once
  const auto bytes_at = [&](size_t r) -> std::optional<double> {
    if (!HasShapes(ranges[r])) return std::nullopt;
    auto it = bytes_of.find(r);
    if (it == bytes_of.end()) {
      it = bytes_of.emplace(r, OpBytes(ranges[r].name, InputsOfRange(ranges[r]))).first;
    }
    return it->second;
  };
  EnclosingRanges enclosing(ranges);
  std::vector<std::pair<size_t, size_t>> modelled;  // (call whose bytes are split, task index)
  for (size_t c = 0; c < calls.size();) {
    const size_t r = calls[c].first;
    size_t end = c;
    while (end < calls.size() && calls[end].first == r) ++end;
    std::optional<size_t> pick;
    if (bytes_at(r)) {
      pick = r;
    } else {
      for (size_t e : enclosing.Of(r)) {
        if (bytes_at(e)) {
          pick = e;
          break;
        }
      }
    }
    for (; c < end; ++c) {
      if (pick) modelled.emplace_back(*pick, calls[c].second);
    }
  }
  std::sort(modelled.begin(), modelled.end());
  std::vector<bool> done(trace.tasks.size(), false);
  for (size_t c = 0; c < modelled.size();) {
    const size_t r = modelled[c].first;
    size_t end = c;
    TimeNs total_ns = 0;
    while (end < modelled.size() && modelled[end].first == r) {
      total_ns += trace.tasks[modelled[end++].second].dur_ns;
    }
    const double kernels = static_cast<double>(end - c);
    const std::optional<double> bytes = bytes_at(r);
    for (; c < end; ++c) {
      const size_t i = modelled[c].second;
      Task& t = trace.tasks[i];
      const double part = total_ns > 0
                              ? static_cast<double>(t.dur_ns) / static_cast<double>(total_ns)
                              : 1.0 / kernels;
      double b = *bytes * part;
      const double limit = std::floor(peak * static_cast<double>(t.dur_ns));
      if (b > limit) {
        b = limit;
        ++report.clamped;
      }
      t.dram_bytes = ToBytes(b);
      t.mem_bound = t.dur_ns > 0 ? std::min(1.0, b / (peak * static_cast<double>(t.dur_ns))) : 0.0;
      t.dram_source = DramSource::kShape;
      done[i] = true;
    }
  }
  std::vector<int8_t> class_of_name(trace.strings.size(), -1);
  std::array<std::optional<NameClassFigures>, kNameClassCount> defaults;  // by NameClass
  for (size_t c = 0; c < defaults.size(); ++c) {
    defaults[c] = NameClassDefaults(static_cast<NameClass>(c), spec);
  }
  for (size_t i = 0; i < trace.tasks.size(); ++i) {
    Task& t = trace.tasks[i];
    if (t.kind != TaskKind::kKernel || done[i] || t.dram_source != DramSource::kNone) continue;
    // Kernel names repeat: classify each interned name once.
    NameClass cls = NameClass::kUnknown;
    if (t.name >= 0) {
      int8_t& cached = class_of_name[static_cast<size_t>(t.name)];
      if (cached < 0) cached = static_cast<int8_t>(ClassifyKernelName(trace.Name(t)));
      cls = static_cast<NameClass>(cached);
    }
    const std::optional<NameClassFigures>& f = defaults[static_cast<size_t>(cls)];
    if (!f) continue;
    const double fill =
        t.HasShape() && spec.sm_count > 0
            ? std::min(1.0, static_cast<double>(t.Blocks()) / static_cast<double>(spec.sm_count))
            : 1.0;
    t.dram_bytes = ToBytes(
        std::floor(f->mem_bound * f->dram_share * peak * static_cast<double>(t.dur_ns) * fill));
    t.mem_bound = f->mem_bound;
    t.dram_source = DramSource::kName;
  }
  for (const Task& t : trace.tasks) {
    if (t.kind != TaskKind::kKernel) continue;
    switch (t.dram_source) {
      case DramSource::kCounter:
        ++report.counter;
        break;
      case DramSource::kShape:
        ++report.shape;
        break;
      case DramSource::kName:
        ++report.name;
        break;
      case DramSource::kNone:
        ++report.none;
        break;
    }
  }
  return report;
}

MemoryReport EstimateImportedMemory(Trace& trace, const std::string& gpu,
                                    const std::vector<Range>& ranges,
                                    const std::vector<std::pair<int64_t, size_t>>& kernel_ranges) {
  std::string key = !gpu.empty() ? gpu : trace.device_gpu;
  if (key.empty()) key = SpecKeyForDevice(trace.device_name).value_or("");
  const bool guessed = key.empty();
  if (guessed) key = kMemoryFallbackGpu;
  const MemoryReport r = EstimateMemory(trace, LoadGpuSpec(key), ranges, kernel_ranges);
  nlohmann::json m = nlohmann::json::object();
  m["gpu"] = r.gpu;
  if (guessed) m["gpu_unknown"] = true;
  m["counter"] = r.counter;
  m["shape"] = r.shape;
  m["name"] = r.name;
  m["none"] = r.none;
  m["clamped"] = r.clamped;
  trace.meta["memory"] = std::move(m);
  return r;
}

std::string MemoryCoverageText(int64_t counter, int64_t shape, int64_t name, int64_t none) {
  return std::to_string(counter) + " counter, " + std::to_string(shape) + " shape estimate, " +
         std::to_string(name) + " name class, " + std::to_string(none) + " none (of " +
         std::to_string(counter + shape + name + none) + " kernels)";
}

}  // namespace cotenant::profiler
