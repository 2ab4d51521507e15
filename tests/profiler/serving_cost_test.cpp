// The iteration cost of the LLM serving loop: its attention kernels against synth's, its
// pure prefill and decode iterations against synthesized traces of the same shape, the
// physical bound of decode, the dense bucketing and the KV-cache capacity.
#include "profiler/serving_cost.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

GpuSpec H100() {
  GpuSpec s = testing::H100Sxm();
  s.dram_bytes = 80LL << 30;
  return s;
}

/// The first kernel of class `cls` in an iteration built by BuildLlmOps.
SynthKernelDesc FirstOf(const std::vector<SynthOp>& ops, KernelClass cls) {
  for (const SynthOp& op : ops)
    for (const SynthKernelDesc& k : op.kernels)
      if (k.cls == cls) return k;
  FAIL("no kernel of that class");
  return {};
}

/// Span of a synthesized iteration (first task start to last task end), without jitter.
TimeNs SynthSpan(const std::string& model, const std::string& phase, int batch, int seq) {
  SynthRequest req;
  req.model = model;
  req.phase = phase;
  req.batch = batch;
  req.seq = seq;
  req.jitter = false;
  const Trace t = Synthesize(req, H100());
  TimeNs lo = t.tasks.front().start_ns, hi = 0;
  for (const Task& task : t.tasks) {
    lo = std::min(lo, task.start_ns);
    hi = std::max(hi, task.end_ns());
  }
  return hi - lo;
}

}  // namespace

TEST_CASE("serving cost: mixed attention kernels match synth's uniform ones", "[serving]") {
  const GpuSpec gpu = H100();
  const DtypeInfo bf16 = FindDtype("bf16");
  for (const char* name : {"llama-3.1-8b", "mistral-7b"}) {
    const LlmConfig& c = *FindLlmModel(name);
    // One prompt of 6000 tokens (beyond Mistral's 4096-token window) with nothing cached.
    IterationShape p;
    p.prefills = {{6000, 0}};
    const SynthKernelDesc want = FirstOf(BuildLlmOps(c, LlmPhase::kPrefill, 1, 6000, bf16, gpu),
                                         KernelClass::kFlashAttention);
    const std::vector<SynthKernelDesc> got = LlmMixedAttentionKernels(c, p, bf16, gpu);
    REQUIRE(got.size() == 1);
    CHECK(got[0].flops == Approx(want.flops).epsilon(1e-12));
    CHECK(got[0].bytes == want.bytes);
    CHECK(got[0].tiles == want.tiles);
    // Three decodes of 1024-token contexts.
    IterationShape d;
    d.decode_contexts = {1024, 1024, 1024};
    const SynthKernelDesc want_d = FirstOf(BuildLlmOps(c, LlmPhase::kDecode, 3, 1024, bf16, gpu),
                                           KernelClass::kPagedAttention);
    const std::vector<SynthKernelDesc> got_d = LlmMixedAttentionKernels(c, d, bf16, gpu);
    REQUIRE(got_d.size() == 1);
    CHECK(got_d[0].flops == Approx(want_d.flops).epsilon(1e-12));
    CHECK(got_d[0].bytes == want_d.bytes);
  }
  // A chunk of 100 tokens after 1000 cached (Llama, no window) sees
  // S(1100) - S(1000) = 1100 x 1101 / 2 - 1000 x 1001 / 2 = 105,050 query-key pairs:
  // 4 x 32 heads x 128 x 105,050 flops.
  IterationShape chunk;
  chunk.prefills = {{100, 1000}};
  const auto ks = LlmMixedAttentionKernels(*FindLlmModel("llama-3.1-8b"), chunk, bf16, gpu);
  CHECK(ks[0].flops == 4.0 * 32 * 128 * 105050);
}

TEST_CASE("serving cost: pure prefill and decode iterations agree with synthesized traces",
          "[serving]") {
  // The serving cost sums the same kernels' rooflines and host costs as Synthesize, but
  // overlaps host and GPU as one max() instead of placing each launch; within 10 %.
  const LlmConfig& c = *FindLlmModel("llama-3.1-8b");
  LlmIterationCost cost(c, FindDtype("bf16"), H100());
  IterationShape decode;
  decode.decode_contexts = {1024};
  decode.sampled = 1;
  const TimeNs d = cost(decode);
  CHECK(static_cast<double>(d) ==
        Approx(SynthSpan("llama-3.1-8b", "decode", 1, 1024)).epsilon(0.1));
  // Physics: a batch-1 decode reads the weights but for the embedding table once,
  // 15,009,849,344 bytes, at 3350 B/ns: 4,480,552 ns (synth_llm_test has the sum).
  CHECK(d >= 4480552);
  IterationShape prefill;
  prefill.prefills = {{2048, 0}};
  prefill.sampled = 1;
  CHECK(static_cast<double>(cost(prefill)) ==
        Approx(SynthSpan("llama-3.1-8b", "prefill", 1, 2048)).epsilon(0.1));
  // A mixed iteration (2000 prompt tokens and one decode: 2001 tokens, priced at 2016,
  // the same 16 GEMM row tiles of 128) costs more than the prefill alone and less than
  // the two apart: the decode's GEMMs ride along with the prompt's. (At 2049 tokens a
  // 17th row tile adds a wave to every GEMM: synth's wave quantisation, +23 %.)
  prefill.prefills = {{2000, 0}};
  IterationShape mixed;
  mixed.decode_contexts = {1024};
  mixed.prefills = {{2000, 0}};
  mixed.sampled = 2;
  CHECK(cost(mixed) > cost(prefill));
  CHECK(cost(mixed) < cost(prefill) + d);
}

TEST_CASE("serving cost: dense tokens are bucketed, and the cache reuses buckets", "[serving]") {
  CHECK(LlmDenseTokenBucket(1) == 1);
  CHECK(LlmDenseTokenBucket(256) == 256);
  CHECK(LlmDenseTokenBucket(257) == 272);
  CHECK(LlmDenseTokenBucket(272) == 272);
  CHECK(LlmDenseTokenBucket(8191) == 8192);
  LlmIterationCost cost(*FindLlmModel("llama-3.2-1b"), FindDtype("bf16"), H100());
  IterationShape s;
  s.sampled = 1;
  for (int64_t t = 257; t <= 272; ++t) {
    s.prefills = {{t, 0}};
    cost(s);
  }
  CHECK(cost.cached() == 2);  // one dense bucket (272), one head (1 row)
}

TEST_CASE("serving cost: KV-cache capacity from the GPU's memory", "[serving]") {
  // Llama-3.1-8B BF16 on 80 GiB at 0.9: usable 77,309,411,328 bytes; weights
  // 2 x 8,030,261,248 = 16,060,522,496; activations 8192 x (3 x 14336 + 4 x 4096) x 2 =
  // 973,078,528 + logits 256 x 128,256 x 4 = 131,334,144 + 1 GiB = 2,178,154,496; left
  // 59,070,734,336 bytes / 131,072 per token (32 layers x 2 x 8 heads x 128 x 2) = 450,673.
  const LlmKvBudget b =
      LlmKvCapacity(*FindLlmModel("llama-3.1-8b"), FindDtype("bf16"), H100(), 0.9, 8192, 256);
  CHECK(b.usable_bytes == 77309411328);
  CHECK(b.weights_bytes == 16060522496);
  CHECK(b.activation_bytes == 2178154496);
  CHECK(b.kv_bytes_per_token == 131072);
  CHECK(b.capacity_tokens == 450673);
  // Other tenants' memory comes off the top; a GPU too small leaves nothing.
  CHECK(LlmKvCapacity(*FindLlmModel("llama-3.1-8b"), FindDtype("bf16"), H100(), 0.9, 8192, 256,
                      59070734336)
            .capacity_tokens == 0);
  CHECK(LlmKvCapacity(*FindLlmModel("llama-3.1-8b"), FindDtype("bf16"), H100(), 0.2, 8192, 256)
            .capacity_tokens == 0);
}

}  // namespace cotenant::profiler

namespace cotenant::profiler {

TEST_CASE("serving cost: an iteration for the task graph adds up to its cost", "[serving]") {
  // With an IterationWork, the cost splits the GPU time into groups of layers (at least
  // kLlmGraphKernelNs each, at most one per layer) plus the LM head; with the launch and sync
  // latencies the task graph adds, GPU-bound iterations take what operator() says, less the
  // rounding of the split (under one ns per group).
  const GpuSpec spec = H100();
  LlmIterationCost cost(*FindLlmModel("llama-3.1-8b"), FindDtype("bf16"), spec);
  IterationShape prefill;
  prefill.prefills = {{2048, 0}};
  prefill.sampled = 1;
  IterationShape decode;
  for (int i = 0; i < 64; ++i) decode.decode_contexts.push_back(1024);
  decode.sampled = 64;
  for (const IterationShape* shape : {&prefill, &decode}) {
    IterationWork w;
    const TimeNs c = cost(*shape, &w);
    REQUIRE(w.kernels.size() == 2);
    const IterationKernel& layers = w.kernels[0];
    const IterationKernel& head = w.kernels[1];
    CHECK(std::string(layers.name) == "layers");
    CHECK(head.repeat == 1);
    CHECK(layers.repeat >= 1);
    CHECK(layers.repeat <= 32);
    const TimeNs gpu = layers.repeat * layers.dur_ns + head.dur_ns;
    CHECK((layers.repeat == 32 || layers.dur_ns >= kLlmGraphKernelNs));
    const TimeNs whole = w.host_before_ns + spec.model.launch_latency_ns +
                         std::max(w.host_launch_ns, gpu) + spec.model.sync_latency_ns;
    CHECK(whole <= c);
    CHECK(whole > c - layers.repeat);
    // DRAM bytes: no kernel moves them faster than the GPU's peak bandwidth.
    CHECK(layers.dram_bytes / static_cast<double>(layers.dur_ns) <= spec.dram_gbps);
    CHECK(head.dram_bytes / static_cast<double>(head.dur_ns) <= spec.dram_gbps);
  }
  // A 2048-token prefill of an 8B model runs tens of ms: one kernel per layer. A decode
  // step of 64 sequences, a few ms: fewer, longer groups.
  IterationWork p, d;
  cost(prefill, &p);
  cost(decode, &d);
  CHECK(p.kernels[0].repeat == 32);
  CHECK(d.kernels[0].repeat < 32);
}

}  // namespace cotenant::profiler
