// LLM models in synthetic traces: parameter counts from the published configs, GQA
// shapes, MoE expert reads, the physical bounds of decode (weights at DRAM bandwidth) and
// prefill (FLOPs at the tensor peak), the CUDA Graph of a decode step, FP8 and errors.
// Figures are worked out by hand in the comments; no timing assertions.
#include "profiler/synth_llm.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

GpuSpec H100() {
  GpuSpec s = testing::H100Sxm();
  s.dram_bytes = 80LL << 30;
  return s;
}

/// A100 SXM4 80GB figures (compute capability 8.0: no FP8).
GpuSpec A100() {
  GpuSpec s = H100();
  s.key = "a100-like";
  s.compute_capability = 80;
  s.sm_count = 108;
  s.tensor_tflops = 312;
  s.fp32_tflops = 19.5;
  s.dram_gbps = 2039;
  s.sm.smem_bytes = 167936;
  s.sm.max_smem_per_block = 166912;
  return s;
}

SynthRequest Llm(const std::string& model, const std::string& phase, int batch, int seq,
                 const std::string& dtype = "") {
  SynthRequest req;
  req.model = model;
  req.phase = phase;
  req.batch = batch;
  req.seq = seq;
  req.dtype = dtype;
  return req;
}

std::vector<SynthKernelInfo> OfOp(const std::vector<SynthKernelInfo>& ks, const std::string& op) {
  std::vector<SynthKernelInfo> out;
  for (const SynthKernelInfo& k : ks)
    if (k.op == op) out.push_back(k);
  return out;
}

double SumDurNs(const std::vector<SynthKernelInfo>& ks) {
  double sum = 0;
  for (const SynthKernelInfo& k : ks) sum += static_cast<double>(k.cost.dur_ns);
  return sum;
}

}  // namespace

TEST_CASE("synth llm: model names", "[synth][llm]") {
  CHECK(SynthLlmNames() == std::vector<std::string>{"llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b",
                                                    "qwen2.5-7b", "mistral-7b",
                                                    "qwen1.5-moe-a2.7b"});
}

TEST_CASE("synth llm: parameter counts from the configs match the published sizes",
          "[synth][llm]") {
  // Llama-3.1-8B (4096 hidden, 32 layers, 32 heads, 8 KV heads of 128, FFN 14336, vocab
  // 128256, untied): embeddings 128256 x 4096 = 525,336,576; per layer q 4096^2 =
  // 16,777,216, k and v 4096 x 1024 = 4,194,304 each, o 16,777,216, gate/up/down
  // 3 x 4096 x 14336 = 176,160,768, two norms 8192: 218,112,000; x 32 = 6,979,584,000;
  // final norm 4096; LM head 525,336,576. Total 8,030,261,248 (published: 8.03 B).
  CHECK(LlmParams(*FindLlmModel("llama-3.1-8b")) == 8030261248);
  // Llama-3.2-1B (2048, 16 layers, 32 heads of 64, 8 KV heads, FFN 8192, tied):
  // embeddings 262,668,288; per layer 2 x 4,194,304 + 2 x 1,048,576 + 50,331,648 + 4096 =
  // 60,821,504, x 16 = 973,144,064; final norm 2048. Total 1,235,814,400 (published 1.23 B).
  CHECK(LlmParams(*FindLlmModel("llama-3.2-1b")) == 1235814400);
  // Llama-3.2-3B (3072, 28 layers, 24 heads of 128, 8 KV heads, FFN 8192, tied):
  // embeddings 394,002,432; per layer 2 x 9,437,184 + 2 x 3,145,728 + 75,497,472 + 6144 =
  // 100,669,440, x 28 = 2,818,744,320; final norm 3072. Total 3,212,749,824 (3.21 B).
  CHECK(LlmParams(*FindLlmModel("llama-3.2-3b")) == 3212749824);
  // Mistral-7B-v0.1: the Llama-3.1-8B layers with vocab 32000: 2 x 131,072,000 +
  // 6,979,584,000 + 4096 = 7,241,732,096 (published 7.24 B).
  CHECK(LlmParams(*FindLlmModel("mistral-7b")) == 7241732096);
  // Qwen2.5-7B (3584, 28 layers, 28 heads of 128, 4 KV heads, FFN 18944, vocab 152064,
  // q/k/v biases): embeddings 544,997,376 twice; per layer q 12,845,056 + k, v 1,835,008
  // each + o 12,845,056 + biases 3584 + 512 + 512 + MLP 3 x 3584 x 18944 = 203,685,888 +
  // norms 7168 = 233,057,792, x 28 = 6,525,618,176; final norm 3584. Total 7,615,616,512
  // (published 7.61 B).
  CHECK(LlmParams(*FindLlmModel("qwen2.5-7b")) == 7615616512);
  // Qwen1.5-MoE-A2.7B (2048, 24 layers, 16 heads = 16 KV heads of 128, 60 experts of
  // 1408, shared expert 5632, vocab 151936, q/k/v biases): per layer attention
  // 4 x 4,194,304 + 3 x 2048 = 16,783,360, router 2048 x 60 = 122,880, experts 60 x 3 x
  // 2048 x 1408 = 519,045,120, shared expert 3 x 2048 x 5632 = 34,603,008 and its gate 2048,
  // norms 4096: 570,560,512, x 24 = 13,693,452,288; embeddings 311,164,928 twice; final
  // norm 2048. Total 14,315,784,192 (published 14.3 B).
  CHECK(LlmParams(*FindLlmModel("qwen1.5-moe-a2.7b")) == 14315784192);
}

TEST_CASE("synth llm: GQA shrinks the K and V columns of the QKV GEMM", "[synth][llm]") {
  // Llama-3.1-8B: N = (32 + 2 x 8) x 128 = 6144 (not 3 x 4096); decode batch 1: M = 1.
  auto qkv =
      OfOp(SynthModelKernels(Llm("llama-3.1-8b", "decode", 1, 1024), H100()), "vllm::qkv_proj");
  REQUIRE(qkv.size() == 32);
  CHECK(qkv[0].flops == 2.0 * 1 * 6144 * 4096);
  CHECK(qkv[0].bytes == (1.0 * 4096 + 6144.0 * 4096 + 1.0 * 6144) * 2);
  // Qwen2.5-7B: N = (28 + 2 x 4) x 128 = 4608, plus the bias of 4608 elements; prefill of
  // 2 x 16 tokens: M = 32.
  qkv = OfOp(SynthModelKernels(Llm("qwen2.5-7b", "prefill", 2, 16), H100()), "vllm::qkv_proj");
  REQUIRE(qkv.size() == 28);
  CHECK(qkv[0].flops == 2.0 * 32 * 4608 * 3584);
  CHECK(qkv[0].bytes == (32.0 * 3584 + 4608.0 * 3584 + 32.0 * 4608 + 4608) * 2);
  // Decode attention reads the KV cache of kv_heads only: batch 4, context 1000 tokens:
  // 4 x 1000 x 2 x 8 x 128 x 2 bytes + Q and O (4 x 2 x 32 x 128 x 2) + the block table
  // (4 x ceil(1000 / 16) = 63 blocks x 4 bytes).
  auto attn = OfOp(SynthModelKernels(Llm("llama-3.1-8b", "decode", 4, 1000), H100()),
                   "vllm::unified_attention");
  REQUIRE(attn.size() == 32);
  CHECK(attn[0].bytes == 4.0 * 1000 * 2 * 8 * 128 * 2 + 4.0 * 2 * 32 * 128 * 2 + 4.0 * 63 * 4);
  CHECK(attn[0].cls == KernelClass::kPagedAttention);
  // Mistral-7B's 4096-token sliding window caps what a decode step reads.
  attn = OfOp(SynthModelKernels(Llm("mistral-7b", "decode", 1, 8000), H100()),
              "vllm::unified_attention");
  CHECK(attn[0].bytes == 4096.0 * 2 * 8 * 128 * 2 + 2.0 * 32 * 128 * 2 + 500.0 * 4);
}

TEST_CASE("synth llm: kernel counts per layer", "[synth][llm]") {
  // Dense decode: embedding 1 + 32 layers x 10 (norm, QKV, rotary, cache write, attention,
  // O, add+norm, gate_up, silu_and_mul, down) + final norm 1 + LM head, softmax, sample 3.
  CHECK(SynthModelKernels(Llm("llama-3.1-8b", "decode", 1, 1024), H100()).size() == 325);
  CHECK(SynthModelKernels(Llm("llama-3.1-8b", "prefill", 1, 1024), H100()).size() == 325);
  // FP8 adds a quantisation before each of the 4 GEMMs of a layer: 325 + 128.
  CHECK(SynthModelKernels(Llm("llama-3.1-8b", "decode", 1, 1024, "fp8"), H100()).size() == 453);
  // MoE layer: attention block 7 + router, top-k softmax, align, grouped gate_up,
  // silu_and_mul, grouped down, moe_sum 7 + shared gate_up, silu_and_mul, down, gate,
  // combine 5 = 19; 24 layers: 456 + 2 + 3 = 461.
  CHECK(SynthModelKernels(Llm("qwen1.5-moe-a2.7b", "decode", 1, 1024), H100()).size() == 461);
}

TEST_CASE("synth llm: a batch-1 decode step cannot beat reading its weights once", "[synth][llm]") {
  // Llama-3.1-8B BF16, batch 1, context 1024, H100 SXM (3350 GB/s = 3350 B/ns). A decode
  // step reads every weight once except the embedding table, of which it gathers one
  // row: 2 x (8,030,261,248 - 525,336,576) = 15,009,849,344 bytes (the full 2 x params =
  // 16,060,522,496 would count the unread table). At 3350 B/ns: 4,480,552 ns.
  const auto ks = SynthModelKernels(Llm("llama-3.1-8b", "decode", 1, 1024), H100());
  const double weight_bytes = 2.0 * (8030261248.0 - 525336576.0);
  double bytes = 0;
  for (const SynthKernelInfo& k : ks) bytes += k.bytes;
  CHECK(bytes >= weight_bytes);
  CHECK(SumDurNs(ks) >= weight_bytes / 3350.0);
}

TEST_CASE("synth llm: a long prefill cannot beat its FLOPs at the tensor peak", "[synth][llm]") {
  // Llama-3.1-8B BF16, batch 1, 4096 prompt tokens, H100 SXM (989.4 dense TFLOPS =
  // 989,400 flop/ns). GEMM FLOPs: 2 x (layer matmul params 32 x 218,103,808 =
  // 6,979,321,856) x 4096 tokens, plus the LM head on the last token, 2 x 525,336,576;
  // causal attention: 32 layers x 4 x 32 heads x 128 x 4096 x 4097 / 2 (query-key pairs).
  // = 57,174,604,644,352 + 1,050,673,152 + 4,399,120,252,928 = 61,574,775,570,432 flops,
  // at the peak 62,234,460 ns.
  const auto ks = SynthModelKernels(Llm("llama-3.1-8b", "prefill", 1, 4096), H100());
  const double gemm = 2.0 * 6979321856.0 * 4096 + 2.0 * 525336576.0;
  const double attention = 32.0 * 4 * 32 * 128 * (4096.0 * 4097 / 2);
  double tensor_flops = 0;
  for (const SynthKernelInfo& k : ks)
    if (IsTensorClass(k.cls)) tensor_flops += k.flops;
  CHECK(tensor_flops == gemm + attention);
  CHECK(gemm + attention == 61574775570432.0);
  CHECK(SumDurNs(ks) >= (gemm + attention) / 989400.0);
}

TEST_CASE("synth llm: MoE decode reads only the routed experts' weights", "[synth][llm]") {
  // Qwen1.5-MoE-A2.7B BF16, batch 1: 4 assignments -> 4 experts read. Grouped gate_up:
  // input 4 x 2048 + weights 4 x (2 x 1408) x 2048 + output 4 x 2816 elements, 2 bytes:
  // 16,384 + 46,137,344 + 22,528 = 46,176,256. Grouped down: 4 x 1408 + 4 x 2048 x 1408
  // + 4 x 2048: 11,264 + 23,068,672 + 16,384 = 23,096,320. Shared expert (dense, 5632):
  // gate_up (2048 + 11264 x 2048 + 11264) x 2 = 46,163,968.
  const auto ks = SynthModelKernels(Llm("qwen1.5-moe-a2.7b", "decode", 1, 512), H100());
  const auto moe = OfOp(ks, "vllm::fused_moe");
  REQUIRE(moe.size() == 48);
  CHECK(moe[0].cls == KernelClass::kGroupedGemm);
  CHECK(moe[0].bytes == 46176256.0);
  CHECK(moe[1].bytes == 23096320.0);
  CHECK(moe[0].flops == 2.0 * 4 * 2816 * 2048);
  const auto shared = OfOp(ks, "vllm::shared_expert.gate_up_proj");
  REQUIRE(shared.size() == 24);
  CHECK(shared[0].bytes == 46163968.0);
  // Batch 64: 256 assignments reach all 60 experts, each read once: gate_up weights
  // 60 x 2816 x 2048 x 2 = 692,060,160 bytes plus 256 x 2048 + 256 x 2816 activations.
  const auto big = OfOp(SynthModelKernels(Llm("qwen1.5-moe-a2.7b", "decode", 64, 512), H100()),
                        "vllm::fused_moe");
  CHECK(big[0].bytes == 692060160.0 + (256.0 * 2048 + 256.0 * 2816) * 2);
}

TEST_CASE("synth llm: fp8 halves weight bytes and doubles the GEMM peak", "[synth][llm]") {
  const auto ks = SynthModelKernels(Llm("llama-3.1-8b", "decode", 1, 1024, "fp8"), H100());
  const auto qkv = OfOp(ks, "vllm::qkv_proj");
  // e4m3 input and weights, bf16 output: 4096 + 6144 x 4096 + 2 x 6144 bytes.
  CHECK(qkv[0].bytes == 4096.0 + 6144.0 * 4096 + 2.0 * 6144);
  CHECK(qkv[0].peak_tflops == Approx(2 * 989.4));
  // The LM head stays bf16; attention reads an fp8 KV cache at the bf16 peak.
  CHECK(OfOp(ks, "vllm::lm_head")[0].peak_tflops == Approx(989.4));
  const auto attn = OfOp(ks, "vllm::unified_attention");
  CHECK(attn[0].bytes == 1024.0 * 2 * 8 * 128 + 2.0 * 32 * 128 * 2 + 64.0 * 4);
  try {
    Synthesize(Llm("llama-3.1-8b", "decode", 1, 1024, "fp8"), A100());
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "dtype: fp8 needs compute capability 8.9 or newer, found 8.0 (gpu a100-like)");
  }
}

TEST_CASE("synth llm: no kernel beats the GPU's peaks", "[synth][llm]") {
  for (const GpuSpec& spec : {H100(), A100()}) {
    for (const std::string& model : SynthLlmNames()) {
      for (const char* dtype : {"bf16", "fp8"}) {
        if (dtype == std::string("fp8") && spec.compute_capability < 89) continue;
        for (const char* phase : {"prefill", "decode"}) {
          for (int batch : {1, 16}) {
            for (const SynthKernelInfo& k :
                 SynthModelKernels(Llm(model, phase, batch, 512, dtype), spec)) {
              INFO(spec.key << " " << model << " " << dtype << " " << phase << " " << k.name);
              const double dur = static_cast<double>(k.cost.dur_ns);
              CHECK(k.flops / dur <= 2 * spec.tensor_tflops * 1e3);
              CHECK(k.flops / dur <= k.peak_tflops * 1e3);
              CHECK(k.bytes / dur <= spec.dram_gbps);
              CHECK(k.eff.compute > 0.0);
              CHECK(k.eff.compute <= 1.0);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("synth llm: a decode step is one CUDA Graph launch", "[synth][llm]") {
  const Trace t = Synthesize(Llm("llama-3.1-8b", "decode", 8, 2048), H100());
  int64_t graph_launches = 0, kernel_launches = 0, corr = -1;
  for (const Task& task : t.tasks) {
    if (task.kind != TaskKind::kLaunch) continue;
    if (t.Name(task) == "cudaGraphLaunch") {
      ++graph_launches;
      corr = task.correlation;
    }
    if (t.Name(task) == "cudaLaunchKernel") ++kernel_launches;
  }
  CHECK(graph_launches == 1);
  CHECK(kernel_launches == 3);  // LM head, softmax, sample
  // Embedding + 32 x 10 + final norm share the graph launch's correlation.
  int64_t in_graph = 0;
  for (const Task& task : t.tasks)
    if (task.kind == TaskKind::kKernel && task.correlation == corr) ++in_graph;
  CHECK(in_graph == 322);
  CHECK(t.meta.at("phase").get<std::string>() == "decode");
  CHECK(t.meta.at("cuda_graph").get<bool>());
  CHECK(t.meta.at("dtype").get<std::string>() == "bf16");
  CHECK(t.meta.at("framework").get<std::string>() == "vllm");
  CHECK(t.meta.at("seq").get<int>() == 2048);
  CHECK(t.meta.at("synthetic").get<bool>());
  // Above vLLM's largest captured batch, and in prefill, every kernel is launched.
  for (const Trace& eager : {Synthesize(Llm("llama-3.2-1b", "decode", 513, 64), H100()),
                             Synthesize(Llm("llama-3.2-1b", "prefill", 2, 64), H100())}) {
    for (const Task& task : eager.tasks) CHECK(eager.Name(task) != "cudaGraphLaunch");
    CHECK_FALSE(eager.meta.at("cuda_graph").get<bool>());
  }
}

TEST_CASE("synth llm: deterministic for a seed; the seed moves host costs only", "[synth][llm]") {
  SynthRequest req = Llm("mistral-7b", "decode", 4, 300);
  req.seed = 42;
  const Trace a = Synthesize(req, H100());
  CHECK(TraceToJsonText(a) == TraceToJsonText(Synthesize(req, H100())));
  req.seed = 43;
  const Trace b = Synthesize(req, H100());
  CHECK(TraceToJsonText(a) != TraceToJsonText(b));
  REQUIRE(a.tasks.size() == b.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i)
    if (a.tasks[i].kind == TaskKind::kKernel) CHECK(a.tasks[i].dur_ns == b.tasks[i].dur_ns);
}

TEST_CASE("synth llm: host time of a decode step", "[synth][llm]") {
  // vllm profile without jitter, Llama-3.2-1B decode (graph): engine step 100 us; input
  // and output copies (Py 1 + D 3 = 2.5 us, memcpy 3 us) 11 us; graph replay Py 1 us +
  // cudaGraphLaunch 10 us; LM head (Py 1 + D 0.5 + cuBLAS 2 + launch 2 = 5.5 us), softmax
  // and sample (1.5 + 2 = 3.5 us each): 12.5 us. Total 134.5 us.
  SynthRequest req = Llm("llama-3.2-1b", "decode", 1, 128);
  req.jitter = false;
  const Trace t = Synthesize(req, H100());
  TimeNs host = 0;
  for (const Task& task : t.tasks)
    if (task.kind == TaskKind::kCpu || task.kind == TaskKind::kLaunch) host += task.dur_ns;
  CHECK(host == 134500);
}

TEST_CASE("synth llm: traces pass the reader", "[synth][llm]") {
  for (const std::string& model : SynthLlmNames()) {
    for (const char* phase : {"prefill", "decode"}) {
      const Trace t = Synthesize(Llm(model, phase, 2, 100), H100());
      const std::string text = TraceToJsonText(t);
      const Trace back = ParseTrace(text, model + ".json");
      CHECK(back.tasks.size() == t.tasks.size());
      CHECK(TraceToJsonText(back) == text);
    }
  }
}

TEST_CASE("synth llm: bad requests name the option", "[synth][llm]") {
  const GpuSpec spec = H100();
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8", "decode", 1, 16), spec),
                    Catch::Contains("found \"llama-3.1-8\"; did you mean \"llama-3.1-8b\"?"));
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8b", "", 1, 16), spec),
                    "phase: expected one of \"prefill\", \"decode\" for llama-3.1-8b, found none");
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8b", "decod", 1, 16), spec),
                    "phase: expected one of \"prefill\", \"decode\" for llama-3.1-8b, found "
                    "\"decod\"; did you mean \"decode\"?");
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8b", "decode", 1, 131073), spec),
                    "seq: expected an integer in 1..131072 (llama-3.1-8b's context window; "
                    "prompt tokens for prefill, context tokens for decode), found 131073");
  CHECK_THROWS_WITH(Synthesize(Llm("qwen1.5-moe-a2.7b", "prefill", 1, 0), spec),
                    Catch::StartsWith("seq: expected an integer in 1..8192"));
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8b", "decode", 1, 16, "fp32"), spec),
                    "dtype: expected one of \"bf16\", \"fp16\", \"fp8\" for llama-3.1-8b, found "
                    "\"fp32\"");
  SynthRequest req = Llm("llama-3.1-8b", "decode", 1, 16);
  req.framework = "pytorch-eager";
  CHECK_THROWS_WITH(Synthesize(req, spec),
                    "framework: LLM models run under \"vllm\", found \"pytorch-eager\"");
  // KV cache: 1024 x 131072 tokens x 131,072 bytes (32 layers x 2 x 8 x 128 x 2).
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.1-8b", "decode", 1024, 131072), spec),
                    Catch::StartsWith("batch x seq: the weights (16.1 GB) and the KV cache of "
                                      "1024 x 131072 tokens (17592.2 GB) exceed gpu h100-sxm"));
  CHECK_THROWS_WITH(Synthesize(Llm("llama-3.2-1b", "prefill", 64, 32768), spec),
                    "batch x seq: expected at most 1048576 prompt tokens in one prefill, found "
                    "2097152");
  // Options of LLMs on other models, and the other way round.
  req = SynthRequest();
  req.model = "resnet50";
  req.phase = "decode";
  CHECK_THROWS_WITH(Synthesize(req, spec), Catch::StartsWith("phase: applies to LLM models ("));
  req.phase = "";
  req.dtype = "fp8";
  CHECK_THROWS_WITH(Synthesize(req, spec), "dtype: fp8 applies to LLM models, not resnet50");
  req.dtype = "";
  req.framework = "vllm";
  CHECK_THROWS_WITH(Synthesize(req, spec),
                    "framework: \"vllm\" applies to LLM models, not resnet50");
}

}  // namespace cotenant::profiler
