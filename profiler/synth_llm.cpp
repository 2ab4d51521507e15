#include "profiler/synth_llm.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "sim/error.h"
#include "sim/occupancy.h"

namespace cotenant::profiler {
namespace {

int64_t DivUp(int64_t x, int64_t d) { return (x + d - 1) / d; }
int32_t GridDim(int64_t g) { return static_cast<int32_t>(std::clamp<int64_t>(g, 1, INT32_MAX)); }
double D(int64_t x) { return static_cast<double>(x); }

/// Rows of a GEMM tile for `m` rows: 64 up to 64 rows (decode), else 128. A GEMM's rows
/// are padded up to whole tiles (tile_efficiency); the columns are taken as filling theirs.
/// An assumption in the spirit of cuBLAS's small-M heuristics, not read from cuBLAS.
int64_t TileRows(int64_t m) { return m <= 64 ? 64 : 128; }
constexpr int64_t kTileCols = 128;
/// Rows per expert block of vLLM's fused_moe kernel (moe_align_block_size pads each
/// expert's token count to it): 16, an assumption (vLLM's default config for small
/// batches; its tuned configs use 16-128).
constexpr int64_t kMoeBlockRows = 16;
/// Tokens per block of vLLM's paged KV cache (its default block_size) and per partition
/// of the paged decode attention kernel (paged_attention_v2's PARTITION_SIZE).
constexpr int64_t kKvBlockTokens = 16, kDecodePartition = 512;
/// Query rows per block of the fused prefill attention kernel (FlashAttention's
/// kBlockM for head dim 128).
constexpr int64_t kFlashRows = 128;

/// Builds one iteration's operators (see BuildLlmOps).
class LlmBuilder {
 public:
  LlmBuilder(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec)
      : c_(c), spec_(spec), fp8_(dtype.dtype == SynthDtype::kFp8) {
    act_ = fp8_ ? FindDtype("bf16") : dtype;
    w_ = fp8_ ? 1 : act_.bytes;
    a_ = act_.bytes;
    kv_ = fp8_ ? 1 : act_.bytes;
    arch_ = "sm" + std::to_string(spec.compute_capability);
  }

  std::vector<SynthOp>& ops() { return ops_; }
  void SetGraph(bool on) { graph_ = on; }

  /// vocab embedding: gathers `t` rows of the table (int64 token ids).
  void Embedding(int64_t t) {
    Begin("vllm::embedding");
    SynthKernelDesc d = Desc("void at::native::indexSelectLargeIndex<" + act_.aten +
                                 ", long, unsigned int, 2, 2, -2, true>",
                             KernelClass::kReduction);
    d.bytes = D(t * c_.hidden * 2 * a_ + t * 8);
    d.block = {128, 1, 1};
    d.grid = {GridDim(std::min<int64_t>(DivUp(t * c_.hidden, 128), int64_t{spec_.sm_count} * 8)), 1,
              1};
    Push(d);
  }

  /// RMSNorm of `t` rows; `fused_add` first adds the residual (vLLM's fused_add_rms_norm:
  /// reads x and the residual, writes both).
  void RmsNorm(int64_t t, bool fused_add) {
    Begin(fused_add ? "vllm::fused_add_rms_norm" : "vllm::rms_norm");
    SynthKernelDesc d =
        Desc(fused_add ? "void vllm::fused_add_rms_norm_kernel<" + act_.aten + ", 8>"
                       : "void vllm::rms_norm_kernel<" + act_.aten + ">",
             KernelClass::kReduction);
    const int64_t tensors = fused_add ? 2 : 1;
    d.flops = D((fused_add ? 5 : 4) * t * c_.hidden);
    d.bytes = D(tensors * 2 * t * c_.hidden * a_ + c_.hidden * a_);
    d.block = {GridDim(std::min<int64_t>(c_.hidden / 8, 1024)), 1, 1};
    d.grid = {GridDim(t), 1, 1};
    Push(d);
  }

  /// FP8 only: the dynamic per-tensor quantisation of a GEMM input of `elems` elements
  /// (vLLM's scaled_fp8_quant), bf16 in, e4m3 out. Nothing in bf16/fp16.
  void Quant(int64_t elems) {
    if (!fp8_) return;
    Begin("vllm::scaled_fp8_quant");
    Elementwise("void vllm::scaled_fp8_quant_kernel<" + act_.aten + ", c10::Float8_e4m3fn>", elems,
                D(elems * (a_ + 1)), D(2 * elems));
  }

  /// A linear layer y[m, n] = x[m, k] W[n, k]^T (+ bias of n). `quantised`: FP8 weights and
  /// input where the request is fp8 (the router, the shared-expert gate and the LM head
  /// stay in bf16, as vLLM leaves them unquantised).
  void Linear(const char* op, int64_t m, int64_t n, int64_t k, bool quantised, bool bias = false) {
    Begin(op, LibrarySetup::kCublas);
    const bool f8 = quantised && fp8_;
    const int64_t in = f8 ? 1 : a_, w = f8 ? 1 : a_;
    const std::string name =
        f8 ? "void cutlass::device_kernel<vllm::cutlass_3x_gemm<cutlass::float_e4m3_t, "
             "cutlass::bfloat16_t>>"
           : arch_ + "_xmma_gemm_" + act_.xmma + "_tn_n";
    Gemm(name, KernelClass::kGemm, m, n, k,
         D(m * k * in + n * k * w + m * n * a_ + (bias ? n * a_ : 0)), f8, !f8);
  }

  /// Rotary embedding applied in place to the q and k heads of `t` tokens, reading the
  /// cos/sin cache row of each token.
  void Rotary(int64_t t) {
    Begin("vllm::rotary_embedding");
    const int64_t elems = t * (c_.heads + c_.kv_heads) * c_.head_dim;
    Elementwise("void vllm::rotary_embedding_kernel<" + act_.aten + ", true>", elems,
                D(2 * elems * a_ + t * c_.head_dim * a_), D(3 * elems));
  }

  /// Writes the k and v of `t` tokens into the paged KV cache (in the cache's dtype),
  /// with one int64 slot index per token.
  void CacheWrite(int64_t t) {
    Begin("vllm::reshape_and_cache_flash");
    const int64_t elems = t * 2 * c_.kv_heads * c_.head_dim;
    Elementwise("void vllm::reshape_and_cache_flash_kernel<" + act_.cuda + ", " +
                    (fp8_ ? std::string("uint8_t, (vllm::Fp8KVCacheDataType)1>")
                          : act_.cuda + ", (vllm::Fp8KVCacheDataType)0>"),
                elems, D(elems * (a_ + kv_) + t * 8), 0.0);
  }

  /// Causal prefill attention of `batch` prompts of `seq` tokens in one fused kernel:
  /// QK^T and PV cost 2 x head_dim flops each per (query, key) pair a query sees; a
  /// causal prompt of S tokens has S(S+1)/2 such pairs (the causal halving of S^2, the
  /// diagonal included), fewer with a sliding window. Q, K, V and O cross DRAM once.
  void PrefillAttention(int64_t batch, int64_t seq) {
    Begin("vllm::unified_attention");
    const int64_t w = c_.sliding_window > 0 ? std::min(c_.sliding_window, seq) : seq;
    const double pairs = D(w) * D(w + 1) / 2.0 + D(seq - w) * D(w);
    const int64_t t = batch * seq;
    SynthKernelDesc d =
        Desc(spec_.compute_capability >= 90
                 ? "void cutlass::device_kernel<flash::enable_sm90_or_later<flash::"
                   "FlashAttnFwdSm90<" +
                       act_.aten + ", causal>>>"
                 : "void flash::flash_fwd_kernel<Flash_fwd_kernel_traits<" +
                       std::to_string(c_.head_dim) + ", 128, 64, 4, " + act_.aten + ">, causal>",
             KernelClass::kFlashAttention);
    d.flops = 4.0 * D(batch) * D(c_.heads) * D(c_.head_dim) * pairs;
    d.bytes = D(t * c_.head_dim * (2 * c_.heads + 2 * c_.kv_heads) * a_);
    d.tiles = batch * c_.heads * DivUp(seq, kFlashRows);
    d.grid = {GridDim(DivUp(seq, kFlashRows)), GridDim(c_.heads), GridDim(batch)};
    d.block = {128, 1, 1};
    d.regs = 255;
    d.smem = 96 * 1024;
    FitSmem(d);
    Push(d);
  }

  /// Decode attention of `batch` single-token queries over `seq` cached tokens each
  /// (fewer with a sliding window): the K and V of every cached token are read once in
  /// the cache's dtype, plus Q, O and the block table (int32 per 16-token block).
  void DecodeAttention(int64_t batch, int64_t seq) {
    Begin("vllm::unified_attention");
    const int64_t ctx = c_.sliding_window > 0 ? std::min(c_.sliding_window, seq) : seq;
    SynthKernelDesc d = Desc(
        "void vllm::paged_attention_v2_kernel<" + act_.cuda + ", " +
            (fp8_ ? std::string("uint8_t") : act_.cuda) + ", " + std::to_string(c_.head_dim) +
            ", 16, 128, " + (fp8_ ? "(vllm::Fp8KVCacheDataType)1" : "(vllm::Fp8KVCacheDataType)0") +
            ", false, 512>",
        KernelClass::kPagedAttention);
    d.flops = 4.0 * D(batch) * D(c_.heads) * D(c_.head_dim) * D(ctx);
    d.bytes = D(batch * ctx * 2 * c_.kv_heads * c_.head_dim * kv_ +
                batch * 2 * c_.heads * c_.head_dim * a_ + batch * DivUp(seq, kKvBlockTokens) * 4);
    d.grid = {GridDim(c_.heads), GridDim(batch), GridDim(DivUp(ctx, kDecodePartition))};
    d.block = {128, 1, 1};
    d.regs = 64;
    d.smem = 16 * 1024;
    Push(d);
  }

  /// Prefill attention of a mixed iteration: one fused kernel over prefill chunks, chunk i
  /// with k_i new queries after c_i cached tokens. A query at position p (1-based) sees
  /// min(p, window) keys, so a chunk has S(c_i + k_i) - S(c_i) (query, key) pairs with
  /// S(n) = sum over p <= n of min(p, window); Q and O of the new tokens and K and V of
  /// all c_i + k_i tokens cross DRAM once. With nothing cached this is PrefillAttention.
  void ChunkedPrefillAttention(const std::vector<PrefillChunk>& chunks) {
    Begin("vllm::unified_attention");
    const int64_t w = c_.sliding_window > 0 ? c_.sliding_window : INT64_MAX;
    auto pairs_to = [w](int64_t n) {
      const int64_t m = std::min(n, w);
      return D(m) * D(m + 1) / 2.0 + D(n - m) * D(m);
    };
    double pairs = 0.0;
    int64_t q_tokens = 0, kv_tokens = 0, tiles = 0, max_rows = 0;
    for (const PrefillChunk& ch : chunks) {
      pairs += pairs_to(ch.context_before + ch.tokens) - pairs_to(ch.context_before);
      q_tokens += ch.tokens;
      kv_tokens += ch.context_before + ch.tokens;
      tiles += c_.heads * DivUp(ch.tokens, kFlashRows);
      max_rows = std::max(max_rows, DivUp(ch.tokens, kFlashRows));
    }
    SynthKernelDesc d = Desc("", KernelClass::kFlashAttention);
    d.flops = 4.0 * D(c_.heads) * D(c_.head_dim) * pairs;
    d.bytes = D((q_tokens * 2 * c_.heads + kv_tokens * 2 * c_.kv_heads) * c_.head_dim * a_);
    d.tiles = tiles;
    d.grid = {GridDim(max_rows), GridDim(c_.heads), GridDim(static_cast<int64_t>(chunks.size()))};
    d.block = {128, 1, 1};
    d.regs = 255;
    d.smem = 96 * 1024;
    FitSmem(d);
    Push(d);
  }

  /// Decode attention of a mixed iteration: one kernel over decodes of different
  /// contexts, each as DecodeAttention prices one.
  void MixedDecodeAttention(const std::vector<int64_t>& contexts) {
    Begin("vllm::unified_attention");
    int64_t ctx_sum = 0, block_sum = 0, max_ctx = 0;
    const int64_t batch = static_cast<int64_t>(contexts.size());
    for (const int64_t seq : contexts) {
      const int64_t ctx = c_.sliding_window > 0 ? std::min(c_.sliding_window, seq) : seq;
      ctx_sum += ctx;
      block_sum += DivUp(seq, kKvBlockTokens);
      max_ctx = std::max(max_ctx, ctx);
    }
    SynthKernelDesc d = Desc("", KernelClass::kPagedAttention);
    d.flops = 4.0 * D(c_.heads) * D(c_.head_dim) * D(ctx_sum);
    d.bytes = D(ctx_sum * 2 * c_.kv_heads * c_.head_dim * kv_ +
                batch * 2 * c_.heads * c_.head_dim * a_ + block_sum * 4);
    d.grid = {GridDim(c_.heads), GridDim(batch), GridDim(DivUp(max_ctx, kDecodePartition))};
    d.block = {128, 1, 1};
    d.regs = 64;
    d.smem = 16 * 1024;
    Push(d);
  }

  /// SiLU(gate) x up over `rows` rows of `width` outputs (vLLM's silu_and_mul: reads
  /// 2 x width, writes width).
  void SiluMul(int64_t rows, int64_t width) {
    Begin("vllm::silu_and_mul");
    const int64_t out = rows * width;
    Elementwise("void vllm::act_and_mul_kernel<" + act_.aten + ", &vllm::silu_kernel<" + act_.aten +
                    ">, true>",
                out, D(3 * out * a_), D(5 * out));
  }

  /// A dense SwiGLU MLP of `ffn` on `t` tokens: gate_up GEMM (gate and up fused, 2 x ffn
  /// columns), silu_and_mul, down GEMM; FP8 quantises both GEMM inputs.
  void Mlp(int64_t t, int64_t ffn, const char* gate_up_op, const char* down_op) {
    Quant(t * c_.hidden);
    Linear(gate_up_op, t, 2 * ffn, c_.hidden, true);
    SiluMul(t, ffn);
    Quant(t * ffn);
    Linear(down_op, t, c_.hidden, ffn, true);
  }

  /// A mixture-of-experts layer on `t` tokens, as vLLM's fused_moe runs it: the router
  /// GEMM (bf16), top-k softmax, the alignment of token ids to expert blocks, the routed
  /// experts' gate_up and down as two grouped GEMMs around silu_and_mul, the sum of each
  /// token's top-k outputs; then the shared expert (a dense MLP) with its sigmoid gate
  /// (a 1-column GEMM) and one elementwise kernel for sigmoid(gate) x shared + routed.
  /// Routing assumption: the t x top_k assignments spread evenly over the experts, so
  /// min(experts, t x top_k) experts receive tokens and each of those reads its weights
  /// once; each expert's rows are padded to kMoeBlockRows.
  void Moe(int64_t t) {
    const int64_t h = c_.hidden, e = c_.experts, f = c_.moe_ffn;
    const int64_t assigned = t * c_.top_k;
    const int64_t active = std::min(e, assigned);
    const int64_t rows = DivUp(assigned, active);  // per active expert, evenly
    const int64_t padded = active * DivUp(rows, kMoeBlockRows) * kMoeBlockRows;
    const double tile_eff = D(assigned) / D(padded);
    Linear("vllm::moe_gate", t, e, h, false);
    Begin("vllm::topk_softmax");
    {
      SynthKernelDesc d =
          Desc("void vllm::moe::topkGatingSoftmax<4, 64, 4, 16, int>", KernelClass::kReduction);
      d.flops = D(5 * t * e);
      d.bytes = D(t * e * a_ + assigned * (4 + 4));
      d.block = {128, 1, 1};
      d.grid = {GridDim(DivUp(t, 4)), 1, 1};
      Push(d);
    }
    Begin("vllm::moe_align_block_size");
    Elementwise("void vllm::moe::moe_align_block_size_kernel<int>", assigned,
                D(assigned * 4 * 2 + (e + 1) * 4), 0.0);
    const int64_t in = fp8_ ? 1 : a_;
    const std::string grouped = "fused_moe_kernel";
    Quant(t * h);
    Begin("vllm::fused_moe");
    GroupedGemm(grouped, assigned, active, padded, 2 * f, h,
                D(assigned * h * in + active * 2 * f * h * w_ + assigned * 2 * f * a_), tile_eff);
    SiluMul(assigned, f);
    Quant(assigned * f);
    Begin("vllm::fused_moe");
    GroupedGemm(grouped, assigned, active, padded, h, f,
                D(assigned * f * in + active * h * f * w_ + assigned * h * a_), tile_eff);
    Begin("vllm::moe_sum");
    {
      SynthKernelDesc d =
          Desc("void vllm::moe::moe_sum_kernel<" + act_.aten + ", 4>", KernelClass::kReduction);
      d.flops = D(assigned * h);
      d.bytes = D((assigned + t) * h * a_);
      d.block = {GridDim(std::min<int64_t>(h, 1024)), 1, 1};
      d.grid = {GridDim(t), 1, 1};
      Push(d);
    }
    if (c_.shared_ffn > 0) {
      Mlp(t, c_.shared_ffn, "vllm::shared_expert.gate_up_proj", "vllm::shared_expert.down_proj");
      Linear("vllm::shared_expert_gate", t, 1, h, false);
      Begin("vllm::shared_expert_combine");
      Elementwise("triton_poi_fused_add_mul_sigmoid_0", t * h, D(3 * t * h * a_ + t * a_),
                  D(3 * t * h));
    }
  }

  /// The LM head on `rows` hidden states (bf16 even in fp8) and the sampler: a softmax
  /// of the logits in fp32 and one top-p/argmax reduction over the vocabulary per row.
  void LmHeadAndSample(int64_t rows) {
    Linear("vllm::lm_head", rows, c_.vocab, c_.hidden, false);
    const int64_t elems = rows * c_.vocab;
    Begin("vllm::sampler.softmax");
    {
      SynthKernelDesc d = Desc(
          "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, "
          "at::native::(anonymous namespace)::SoftMaxForwardEpilogue>",
          KernelClass::kReduction);
      d.flops = D(5 * elems);
      d.bytes = D(elems * (a_ + 4));
      d.block = {1024, 1, 1};
      d.grid = {GridDim(rows), 1, 1};
      Push(d);
    }
    Begin("vllm::sampler.sample");
    {
      SynthKernelDesc d = Desc(
          "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, "
          "at::native::ArgMaxOps<float>, unsigned int, long, 4>>",
          KernelClass::kReduction);
      d.flops = D(2 * elems);
      d.bytes = D(elems * 4 + rows * 8);
      d.block = {32, 16, 1};
      d.grid = {GridDim(rows), 1, 1};
      Push(d);
    }
  }

 private:
  void Begin(const char* op, LibrarySetup setup = LibrarySetup::kNone) {
    SynthOp o;
    o.op = op;
    o.host.modules = 0;
    o.host.python_calls = 1;
    o.host.dispatches = 1;
    o.host.setup = setup;
    o.graph = graph_;
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

  /// Halves shared memory until a block of `d` fits this GPU (specs other than the
  /// bundled ones).
  void FitSmem(SynthKernelDesc& d) const {
    const int32_t threads = d.block[0] * d.block[1] * d.block[2];
    while (d.smem > 0 && ComputeOccupancy(spec_, threads, d.regs, d.smem).blocks_per_sm == 0)
      d.smem /= 2;
    while (d.regs > 32 && ComputeOccupancy(spec_, threads, d.regs, d.smem).blocks_per_sm == 0)
      d.regs /= 2;
  }

  /// A vectorized elementwise kernel: 128 threads x 4 elements per block.
  void Elementwise(const std::string& name, int64_t elems, double bytes, double flops) {
    SynthKernelDesc d = Desc(name, KernelClass::kElementwise);
    d.flops = flops;
    d.bytes = bytes;
    d.block = {128, 1, 1};
    d.grid = {GridDim(DivUp(elems, 512)), 1, 1};
    d.regs = 24;
    Push(d);
  }

  /// A GEMM of m x n x k: TileRows(m) x 128 tiles (64-row tiles: 128 threads, 96 regs,
  /// 32 KB; 128-row tiles: 256 threads, 128 regs, 96 KB), split along K (up to 16 ways,
  /// at least 256 deep each) when the tiles do not fill the GPU's resident-block slots,
  /// as split-K decode GEMMs do. The rows padded up to whole tiles set the tile
  /// efficiency.
  void Gemm(const std::string& base, KernelClass cls, int64_t m, int64_t n, int64_t k, double bytes,
            bool f8, bool xmma_name) {
    const int64_t tm = TileRows(m);
    const int64_t tiles = DivUp(m, tm) * DivUp(n, kTileCols);
    SynthKernelDesc d = Desc(base, cls);
    d.block = {tm == 64 ? 128 : 256, 1, 1};
    d.regs = tm == 64 ? 96 : 128;
    d.smem = (tm == 64 ? 32 : 96) * 1024;
    FitSmem(d);
    const int64_t per_sm = ComputeOccupancy(spec_, d.block[0], d.regs, d.smem).blocks_per_sm;
    const int64_t slots = std::max<int64_t>(int64_t{spec_.sm_count} * per_sm, 1);
    int64_t split = 1;
    if (tiles < slots) split = std::clamp<int64_t>(std::min(DivUp(slots, tiles), k / 256), 1, 16);
    if (xmma_name) {
      d.name += "_tilesize" + std::to_string(tm) + "x" + std::to_string(kTileCols) + "x64" +
                (split > 1 ? "_splitk" : "") + "_kernel";
    }
    d.flops = 2.0 * D(m) * D(n) * D(k);
    d.bytes = bytes;
    d.tiles = tiles * split;
    d.tile_efficiency = D(m) / D(DivUp(m, tm) * tm);
    d.fp8 = f8;
    d.grid = {GridDim(DivUp(n, kTileCols)), GridDim(DivUp(m, tm)), GridDim(split)};
    Push(d);
  }

  /// The grouped GEMM of the routed experts: `assigned` rows spread over `active`
  /// experts (padded to `padded` rows in all), each n x k, in one launch.
  void GroupedGemm(const std::string& name, int64_t assigned, int64_t active, int64_t padded,
                   int64_t n, int64_t k, double bytes, double tile_eff) {
    SynthKernelDesc d = Desc(name, KernelClass::kGroupedGemm);
    d.flops = 2.0 * D(assigned) * D(n) * D(k);
    d.bytes = bytes;
    d.tiles = (padded / kMoeBlockRows) * DivUp(n, kTileCols);
    d.tile_efficiency = tile_eff;
    d.fp8 = fp8_;
    d.grid = {GridDim(d.tiles), 1, 1};
    d.block = {128, 1, 1};
    d.regs = 128;
    d.smem = 64 * 1024;
    (void)active;
    FitSmem(d);
    Push(d);
  }

  const LlmConfig& c_;
  const GpuSpec& spec_;
  bool fp8_ = false;
  DtypeInfo act_;
  int64_t w_ = 2, a_ = 2, kv_ = 2;
  std::string arch_;
  bool graph_ = false;
  std::vector<SynthOp> ops_;
};

}  // namespace

// Shapes from each model's config.json on Hugging Face (profiler/README.md cites them).
const std::vector<LlmConfig>& LlmModels() {
  //  name, hf, hidden, layers, heads, kv_heads, head_dim, ffn, vocab, max_context, tied,
  //  qkv_bias, sliding_window, experts, top_k, moe_ffn, shared_ffn, rope_theta
  static const std::vector<LlmConfig> models = {
      {"llama-3.2-1b", "meta-llama/Llama-3.2-1B", 2048, 16, 32, 8, 64, 8192, 128256, 131072, true,
       false, 0, 0, 0, 0, 0, 500000.0},
      {"llama-3.2-3b", "meta-llama/Llama-3.2-3B", 3072, 28, 24, 8, 128, 8192, 128256, 131072, true,
       false, 0, 0, 0, 0, 0, 500000.0},
      {"llama-3.1-8b", "meta-llama/Llama-3.1-8B", 4096, 32, 32, 8, 128, 14336, 128256, 131072,
       false, false, 0, 0, 0, 0, 0, 500000.0},
      {"qwen2.5-7b", "Qwen/Qwen2.5-7B", 3584, 28, 28, 4, 128, 18944, 152064, 131072, false, true, 0,
       0, 0, 0, 0, 1000000.0},
      {"mistral-7b", "mistralai/Mistral-7B-v0.1", 4096, 32, 32, 8, 128, 14336, 32000, 32768, false,
       false, 4096, 0, 0, 0, 0, 10000.0},
      {"qwen1.5-moe-a2.7b", "Qwen/Qwen1.5-MoE-A2.7B", 2048, 24, 16, 16, 128, 0, 151936, 8192, false,
       true, 0, 60, 4, 1408, 5632, 1000000.0},
  };
  return models;
}

const LlmConfig* FindLlmModel(const std::string& name) {
  for (const LlmConfig& c : LlmModels())
    if (name == c.name) return &c;
  return nullptr;
}

int64_t LlmParams(const LlmConfig& c) {
  const int64_t h = c.hidden;
  const int64_t q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim;
  int64_t layer = h * q + 2 * h * kv + q * h + 2 * h;  // q, k, v, o, two RMSNorm weights
  if (c.qkv_bias) layer += q + 2 * kv;
  if (c.experts > 0) {
    layer += h * c.experts + c.experts * 3 * h * c.moe_ffn;   // router, experts
    if (c.shared_ffn > 0) layer += 3 * h * c.shared_ffn + h;  // shared expert, its gate
  } else {
    layer += 3 * h * c.ffn;  // gate, up, down
  }
  const int64_t embed = c.vocab * h;
  return embed + c.layers * layer + h + (c.tied ? 0 : embed);
}

int64_t LlmKvBytesPerToken(const LlmConfig& c, int64_t elem) {
  return c.layers * 2 * c.kv_heads * c.head_dim * elem;
}

const char* LlmPhaseName(LlmPhase phase) {
  return phase == LlmPhase::kPrefill ? "prefill" : "decode";
}

// Per layer (T tokens): [fused_add_]rms_norm, [quant], QKV GEMM [T, hidden] x [hidden,
// (heads + 2 kv_heads) head_dim], rotary, KV-cache write, attention, [quant], O GEMM,
// fused_add_rms_norm (the residual add of the attention block), then the MLP (or MoE);
// the MLP's residual add is the next layer's fused_add_rms_norm (the final norm's after
// the last layer). Dense layers: 10 kernels (14 in fp8, one quant per GEMM input).
std::vector<SynthOp> BuildLlmOps(const LlmConfig& c, LlmPhase phase, int64_t batch, int64_t seq,
                                 const DtypeInfo& dtype, const GpuSpec& spec) {
  LlmBuilder b(c, dtype, spec);
  const bool decode = phase == LlmPhase::kDecode;
  const int64_t t = decode ? batch : batch * seq;
  const int64_t q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim;
  b.SetGraph(decode);
  b.Embedding(t);
  for (int64_t layer = 0; layer < c.layers; ++layer) {
    b.RmsNorm(t, layer > 0);
    b.Quant(t * c.hidden);
    b.Linear("vllm::qkv_proj", t, q + 2 * kv, c.hidden, true, c.qkv_bias);
    b.Rotary(t);
    b.CacheWrite(t);
    if (decode)
      b.DecodeAttention(batch, seq);
    else
      b.PrefillAttention(batch, seq);
    b.Quant(t * q);
    b.Linear("vllm::o_proj", t, c.hidden, q, true);
    b.RmsNorm(t, true);
    if (c.experts > 0)
      b.Moe(t);
    else
      b.Mlp(t, c.ffn, "vllm::gate_up_proj", "vllm::down_proj");
  }
  b.RmsNorm(t, true);
  b.SetGraph(false);
  // Prefill: only the last token of each prompt goes through the LM head (vLLM and
  // SGLang compute logits for the positions they sample from).
  b.LmHeadAndSample(batch);
  return std::move(b.ops());
}

std::vector<SynthKernelDesc> LlmMixedAttentionKernels(const LlmConfig& c,
                                                      const IterationShape& shape,
                                                      const DtypeInfo& dtype, const GpuSpec& spec) {
  LlmBuilder b(c, dtype, spec);
  if (!shape.prefills.empty()) b.ChunkedPrefillAttention(shape.prefills);
  if (!shape.decode_contexts.empty()) b.MixedDecodeAttention(shape.decode_contexts);
  std::vector<SynthKernelDesc> out;
  for (SynthOp& op : b.ops())
    for (SynthKernelDesc& k : op.kernels) out.push_back(std::move(k));
  return out;
}

}  // namespace cotenant::profiler
