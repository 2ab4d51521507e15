// The synthetic trace generator: layer-derived kernel counts, the roofline, the
// host timeline, determinism and the random mode. GPU specs are built here so the
// test does not read files.
#include "profiler/synth.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <unordered_map>

#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/occupancy.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

/// H100 SXM5 (tests/common/fixtures.h).
GpuSpec H100() { return testing::H100Sxm(); }

/// Round figures for hand calculation: 1000 tensor TFLOPS, 50 FP32 TFLOPS, 2500 GB/s.
/// Derated: tensor 0.6 * 1000e12 flop/s = 600000 flop/ns, CUDA cores 0.6 * 50e12 =
/// 30000 flop/ns, DRAM 0.8 * 2500 GB/s = 2000 B/ns; PCIe 50 B/ns.
GpuSpec RoundSpec() {
  GpuSpec s = H100();
  s.key = "round";
  s.tensor_tflops = 1000;
  s.fp32_tflops = 50;
  s.dram_gbps = 2500;
  s.pcie_gbps = 50;
  return s;
}

std::vector<const Task*> OfKind(const Trace& t, TaskKind kind) {
  std::vector<const Task*> out;
  for (const Task& task : t.tasks)
    if (task.kind == kind) out.push_back(&task);
  return out;
}

int64_t CountOp(const Trace& t, const std::string& op) {
  int64_t n = 0;
  for (const Task& task : t.tasks)
    if (task.kind == TaskKind::kKernel && t.Op(task) == op) ++n;
  return n;
}

}  // namespace

TEST_CASE("synth: model names", "[synth]") {
  CHECK(SynthModelNames() ==
        std::vector<std::string>{"resnet50", "mobilenetv2", "vgg16", "bert-base"});
}

TEST_CASE("synth: kernel counts follow the layers", "[synth]") {
  const GpuSpec spec = H100();
  for (int batch : {1, 32}) {
    // ResNet-50 v1.5: 53 convolutions (stem 1 + 16 bottlenecks x 3 + 4 downsamples),
    // each followed by a batch norm (53); ReLUs: stem 1 + 16 x 3 = 49; 16 residual
    // add_; plus input cast, max pool, average pool and fc:
    // 53 + 53 + 49 + 16 + 4 = 175.
    const Trace r = SynthesizeModel("resnet50", batch, spec);
    CHECK(OfKind(r, TaskKind::kKernel).size() == 175);
    CHECK(CountOp(r, "aten::conv2d") == 53);
    CHECK(CountOp(r, "aten::batch_norm") == 53);
    CHECK(CountOp(r, "aten::relu_") == 49);
    CHECK(CountOp(r, "aten::add_") == 16);
    CHECK(CountOp(r, "aten::linear") == 1);

    // MobileNetV2: 52 convolutions (stem 1, block 1: 2, 16 blocks x 3, last 1x1 1),
    // 52 batch norms, 35 ReLU6 (stem 1 + block 1: 1 + 16 x 2 + last 1), 10 residual
    // adds, plus cast, average pool and classifier: 52 + 52 + 35 + 10 + 3 = 152.
    const Trace m = SynthesizeModel("mobilenetv2", batch, spec);
    CHECK(OfKind(m, TaskKind::kKernel).size() == 152);
    CHECK(CountOp(m, "aten::conv2d") == 52);
    CHECK(CountOp(m, "aten::hardtanh_") == 35);
    CHECK(CountOp(m, "aten::add") == 10);

    // VGG-16: 13 convolutions, each conv + bias add + ReLU (39 kernels), 5 max
    // pools, adaptive average pool, 3 linears with 2 ReLUs, input cast:
    // 39 + 5 + 1 + 5 + 1 = 51.
    const Trace v = SynthesizeModel("vgg16", batch, spec);
    CHECK(OfKind(v, TaskKind::kKernel).size() == 51);
    CHECK(CountOp(v, "aten::conv2d") == 26);
    CHECK(CountOp(v, "aten::max_pool2d") == 5);
    CHECK(CountOp(v, "aten::linear") == 3);

    // BERT-base: embeddings 6; 12 layers x 19 (6 linears, 2 bmm, 4 copies, div,
    // softmax, gelu, 2 adds, 2 layer norms); pooler linear + tanh 2: 6 + 228 + 2 = 236.
    const Trace b = SynthesizeModel("bert-base", batch, spec);
    CHECK(OfKind(b, TaskKind::kKernel).size() == 236);
    CHECK(CountOp(b, "aten::linear") == 12 * 6 + 1);
    CHECK(CountOp(b, "aten::softmax") == 12);
    CHECK(CountOp(b, "aten::layer_norm") == 12 * 2 + 1);
    CHECK(CountOp(b, "aten::matmul") == 12 * 5);
  }
}

TEST_CASE("synth: roofline of a hand-computed GEMM layer", "[synth]") {
  const GpuSpec spec = RoundSpec();
  // BERT-base FFN GEMMs at batch 8: M = 8*128 = 1024 tokens, N = 3072, K = 768 (and
  // the output projection N = 768, K = 3072, which moves and computes the same).
  //   flops   = 2 * 1024 * 3072 * 768 = 4,831,838,208 -> / 600000 = 8053.06 -> 8054 ns
  //   bytes   = (1024*768 + 3072*768 + 1024*3072) * 2 = 12,582,912 -> / 2000 = 6291.456
  //             -> 6292 ns
  //   dur     = max(8054, 6292) + 2000 = 10054 ns; mem_bound = 6292 / 10054
  const RooflineCost c = SynthRoofline(4831838208.0, 12582912.0, true, spec);
  CHECK(c.compute_ns == 8054);
  CHECK(c.memory_ns == 6292);
  CHECK(c.dur_ns == 10054);
  CHECK(c.mem_bound == Approx(6292.0 / 10054.0));

  const Trace t = SynthesizeModel("bert-base", 8, spec);
  int ffn = 0;
  for (const Task* k : OfKind(t, TaskKind::kKernel)) {
    if (t.Op(*k) != "aten::linear" || k->dram_bytes != 12582912) continue;
    ++ffn;
    CHECK(k->dur_ns == 10054);
    CHECK(k->mem_bound == Approx(6292.0 / 10054.0));
    CHECK(k->HasShape());
  }
  CHECK(ffn == 24);  // 12 layers x (intermediate + output)

  // The intermediate GEMM's launch shape: 8 x 24 = 192 tiles of 128x128 >= 132 SMs.
  const Task* first_ffn = nullptr;
  for (const Task* k : OfKind(t, TaskKind::kKernel))
    if (k->dram_bytes == 12582912 && first_ffn == nullptr) first_ffn = k;
  REQUIRE(first_ffn != nullptr);
  CHECK(first_ffn->grid == std::array<int32_t, 3>{8, 24, 1});
  CHECK(first_ffn->block == std::array<int32_t, 3>{256, 1, 1});
  CHECK(first_ffn->regs == 128);
  CHECK(first_ffn->smem == 98304);

  // A memory-bound elementwise kernel: GELU on 1024 x 3072 = 3,145,728 elements,
  // 4 bytes each (read + write FP16) = 12,582,912 B -> 6292 ns;
  // 10 flop/element = 31,457,280 / 30000 = 1048.6 -> 1049 ns; dur = 6292 + 2000 = 8292.
  int gelus = 0;
  for (const Task* k : OfKind(t, TaskKind::kKernel)) {
    if (t.Op(*k) != "aten::gelu") continue;
    ++gelus;
    CHECK(k->dur_ns == 8292);
    CHECK(k->dram_bytes == 12582912);
  }
  CHECK(gelus == 12);
}

TEST_CASE("synth: launches and GPU tasks pair up on one host thread", "[synth]") {
  const GpuSpec spec = H100();
  for (const std::string& model : SynthModelNames()) {
    const Trace t = SynthesizeModel(model, 8, spec, 3);
    std::unordered_map<int64_t, const Task*> launch_by_corr;
    std::set<int64_t> ids;
    for (const Task& task : t.tasks) {
      CHECK(ids.insert(task.id).second);
      if (task.kind != TaskKind::kLaunch) continue;
      CHECK(task.thread == kSynthThread);
      CHECK(task.dur_ns >= 3000);
      CHECK(task.dur_ns <= 6000);
      CHECK(launch_by_corr.emplace(task.correlation, &task).second);
    }
    size_t gpu = 0;
    TimeNs stream_end = 0;
    for (const Task& task : t.tasks) {
      if (!IsGpuWork(task.kind)) continue;
      ++gpu;
      CHECK(task.stream == kSynthStream);
      auto it = launch_by_corr.find(task.correlation);
      REQUIRE(it != launch_by_corr.end());
      // Isolated placement: launch end + launch latency, or the previous task's end.
      CHECK(task.start_ns ==
            std::max(it->second->end_ns() + spec.model.launch_latency_ns, stream_end));
      stream_end = task.end_ns();
      if (task.kind == TaskKind::kKernel) {
        CHECK(task.mem_bound >= 0.0);
        CHECK(task.mem_bound < 1.0);
        CHECK(ComputeOccupancy(spec, task.ThreadsPerBlock(), task.regs, task.smem).blocks_per_sm >
              0);
      }
    }
    CHECK(gpu == launch_by_corr.size());
    // Host calls never overlap and leave 2-10 us of CPU time between them.
    TimeNs host_end = -1;
    for (const Task& task : t.tasks) {
      if (task.thread != kSynthThread) continue;
      if (host_end >= 0) {
        CHECK(task.start_ns - host_end >= 2000);
        CHECK(task.start_ns - host_end <= 10000);
      }
      host_end = task.end_ns();
    }
    // Input copy first, output copy last, then a stream sync that outlasts the GPU.
    const auto copies = OfKind(t, TaskKind::kMemcpy);
    REQUIRE(copies.size() == 2);
    CHECK(copies[0]->dir == CopyDir::kH2D);
    CHECK(copies[1]->dir == CopyDir::kD2H);
    CHECK(copies[0]->bytes == (model == "bert-base" ? 8 * 128 * 8 : 8 * 3 * 224 * 224 * 4));
    const Task& sync = t.tasks.back();
    CHECK(sync.kind == TaskKind::kSync);
    CHECK(sync.scope == SyncScope::kStream);
    CHECK(sync.stream == kSynthStream);
    CHECK(sync.end_ns() >= stream_end + spec.model.sync_latency_ns);
  }
}

TEST_CASE("synth: copy durations come from PCIe bandwidth", "[synth]") {
  // ResNet-50 batch 1: 3*224*224*4 = 602,112 B at 50 B/ns = 12042.24 -> 12043 ns.
  const Trace t = SynthesizeModel("resnet50", 1, RoundSpec());
  const auto copies = OfKind(t, TaskKind::kMemcpy);
  REQUIRE(copies.size() == 2);
  CHECK(copies[0]->bytes == 602112);
  CHECK(copies[0]->dur_ns == 12043);
  CHECK(copies[1]->bytes == 2000);  // FP16 logits
}

TEST_CASE("synth: deterministic for a seed", "[synth]") {
  const GpuSpec spec = H100();
  const std::string a = TraceToJsonText(SynthesizeModel("mobilenetv2", 8, spec, 42));
  const std::string b = TraceToJsonText(SynthesizeModel("mobilenetv2", 8, spec, 42));
  CHECK(a == b);
  // Another seed moves the host jitter, not the kernels.
  const Trace c = SynthesizeModel("mobilenetv2", 8, spec, 43);
  const Trace d = SynthesizeModel("mobilenetv2", 8, spec, 42);
  CHECK(TraceToJsonText(c) != a);
  const auto kc = OfKind(c, TaskKind::kKernel);
  const auto kd = OfKind(d, TaskKind::kKernel);
  REQUIRE(kc.size() == kd.size());
  for (size_t i = 0; i < kc.size(); ++i) CHECK(kc[i]->dur_ns == kd[i]->dur_ns);
}

TEST_CASE("synth: metadata says the trace is synthetic", "[synth]") {
  const Trace t = SynthesizeModel("vgg16", 32, H100(), 5);
  CHECK(t.tenant == "vgg16");
  CHECK(t.device_gpu == "h100-sxm");
  CHECK(t.meta.at("source").get<std::string>() ==
        "cotenant synth (synthetic: roofline of h100-sxm, not measured)");
  CHECK(t.meta.at("synthetic").get<bool>());
  CHECK(t.meta.at("model").get<std::string>() == "vgg16");
  CHECK(t.meta.at("batch").get<int>() == 32);
  CHECK(t.meta.at("seed").get<uint64_t>() == 5);
}

TEST_CASE("synth: traces pass the reader", "[synth]") {
  const GpuSpec spec = H100();
  for (const std::string& model : SynthModelNames()) {
    const Trace t = SynthesizeModel(model, 1, spec);
    const Trace back = ParseTrace(TraceToJsonText(t), model + ".json");
    CHECK(back.tasks.size() == t.tasks.size());
    CHECK(TraceToJsonText(back) == TraceToJsonText(t));
  }
  const Trace r = SynthesizeRandom(500, 3, spec, 9);
  CHECK(ParseTrace(TraceToJsonText(r), "random.json").tasks.size() == r.tasks.size());
}

TEST_CASE("synth: bad model and batch", "[synth]") {
  const GpuSpec spec = H100();
  try {
    SynthesizeModel("resnet5", 1, spec);
    FAIL("expected InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("found \"resnet5\"") != std::string::npos);
    CHECK(msg.find("did you mean \"resnet50\"?") != std::string::npos);
  }
  CHECK_THROWS_AS(SynthesizeModel("resnet50", 0, spec), InputError);
  CHECK_THROWS_AS(SynthesizeModel("resnet50", 1025, spec), InputError);
  CHECK_THROWS_WITH(SynthesizeModel("bert-base", -3, spec),
                    "batch: expected an integer in 1..1024, found -3");
  CHECK_THROWS_AS(SynthesizeRandom(0, 2, spec, 1), InputError);
  CHECK_THROWS_AS(SynthesizeRandom(10, 0, spec, 1), InputError);
}

TEST_CASE("synth: random mode", "[synth]") {
  const GpuSpec spec = H100();
  const Trace t = SynthesizeRandom(1000, 4, spec, 11);
  const auto kernels = OfKind(t, TaskKind::kKernel);
  CHECK(kernels.size() == 1000);
  CHECK(OfKind(t, TaskKind::kLaunch).size() == 1000);
  // One event_record / stream_wait pair before kernels 50, 100, ..., 950.
  const auto records = OfKind(t, TaskKind::kEventRecord);
  const auto waits = OfKind(t, TaskKind::kStreamWait);
  CHECK(records.size() == 19);
  CHECK(waits.size() == 19);
  std::set<int64_t> streams;
  for (const Task* k : kernels) {
    streams.insert(k->stream);
    CHECK(k->dur_ns >= 1000);
    CHECK(k->dur_ns <= 200000);
    CHECK(ComputeOccupancy(spec, k->ThreadsPerBlock(), k->regs, k->smem).blocks_per_sm > 0);
  }
  CHECK(streams == std::set<int64_t>{7, 8, 9, 10});
  // Each wait follows the record of its event, on another stream; the waiting
  // stream's later tasks start after the recording stream's work before the record.
  for (size_t i = 0; i < waits.size(); ++i) {
    CHECK(records[i]->event == waits[i]->event);
    CHECK(records[i]->stream != waits[i]->stream);
    CHECK(records[i]->end_ns() <= waits[i]->start_ns);
    TimeNs recorded = 0;
    for (const Task& task : t.tasks)
      if (IsGpuWork(task.kind) && task.stream == records[i]->stream &&
          task.start_ns <= records[i]->start_ns)
        recorded = std::max(recorded, task.end_ns());
    for (const Task& task : t.tasks)
      if (IsGpuWork(task.kind) && task.stream == waits[i]->stream &&
          task.start_ns > waits[i]->start_ns)
        CHECK(task.start_ns >= recorded);
  }
  CHECK(t.tasks.back().kind == TaskKind::kSync);
  CHECK(t.tasks.back().scope == SyncScope::kDevice);
  CHECK(t.meta.at("synthetic").get<bool>());

  // Deterministic per seed; one stream has no events.
  CHECK(TraceToJsonText(SynthesizeRandom(300, 2, spec, 5)) ==
        TraceToJsonText(SynthesizeRandom(300, 2, spec, 5)));
  const Trace one = SynthesizeRandom(120, 1, spec, 5);
  CHECK(OfKind(one, TaskKind::kKernel).size() == 120);
  CHECK(OfKind(one, TaskKind::kEventRecord).empty());
}

}  // namespace cotenant::profiler
