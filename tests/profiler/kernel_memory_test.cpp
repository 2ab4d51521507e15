// Memory intensity of imported kernels (profiler/kernel_memory.h): operator
// byte counts worked by hand, name classes, provenance, counters winning,
// the peak-bandwidth clamp, and the Kineto and NVTX paths end to end.
#include "profiler/kernel_memory.h"

#include <catch2/catch.hpp>

#include "profiler/capture.h"
#include "profiler/kineto.h"
#include "sim/trace.h"
#include "tests/common/fixtures.h"

namespace cotenant::profiler {
namespace {

using cotenant::testing::kData;

OpInputs In(std::vector<std::vector<int64_t>> dims, std::vector<std::string> types = {}) {
  OpInputs in;
  in.dims = std::move(dims);
  in.types = std::move(types);
  return in;
}

double Bytes(const std::string& op, const OpInputs& in) {
  const std::optional<double> b = OpBytes(op, in);
  REQUIRE(b.has_value());
  return *b;
}

GpuSpec H100() { return testing::H100Sxm(); }

Task KernelTask(Trace& t, int64_t id, const std::string& name, TimeNs dur_ns) {
  Task k;
  k.id = id;
  k.kind = TaskKind::kKernel;
  k.stream = 7;
  k.start_ns = id * 100000;
  k.dur_ns = dur_ns;
  k.name = t.Intern(name);
  return k;
}

Range R(const std::string& name, OpInputs in = {}) {
  Range r;
  r.name = name;
  r.inputs = std::move(in);
  return r;
}

}  // namespace

TEST_CASE("DtypeBytes: PyTorch dtype names as the profiler writes them", "[memory]") {
  CHECK(DtypeBytes("float") == 4);
  CHECK(DtypeBytes("c10::Half") == 2);
  CHECK(DtypeBytes("c10::BFloat16") == 2);
  CHECK(DtypeBytes("double") == 8);
  CHECK(DtypeBytes("long int") == 8);
  CHECK(DtypeBytes("long") == 8);
  CHECK(DtypeBytes("int") == 4);
  CHECK(DtypeBytes("bool") == 1);
  CHECK(DtypeBytes("Scalar") == 0);
  CHECK(DtypeBytes("") == 0);
  CHECK(DtypeBytes("TensorList") == 0);
}

TEST_CASE("OpBytes: compulsory traffic of the common aten operators", "[memory]") {
  const std::vector<std::string> f3 = {"float", "float", "float", "Scalar", "Scalar"};
  // addmm(bias [768], x [8, 768], W [768, 768]) fp32, out [8, 768]:
  // (768 + 8*768 + 768*768 + 8*768) * 4 = (768 + 6144 + 589824 + 6144) * 4
  // = 602880 * 4 = 2411520.
  CHECK(Bytes("aten::addmm", In({{768}, {8, 768}, {768, 768}, {}, {}}, f3)) == 2411520.0);
  // The same in fp16: 602880 * 2.
  CHECK(Bytes("aten::addmm", In({{768}, {8, 768}, {768, 768}, {}, {}},
                                {"c10::Half", "c10::Half", "c10::Half", "Scalar", "Scalar"})) ==
        1205760.0);
  // linear(x [4, 8, 768], W [3072, 768], b [3072]) fp32: in 24576 + 2359296
  // + 3072, out 32 * 3072 = 98304: (24576 + 2359296 + 3072 + 98304) * 4 = 9940992.
  CHECK(Bytes("aten::linear",
              In({{4, 8, 768}, {3072, 768}, {3072}}, {"float", "float", "float"})) == 9940992.0);
  // mm([64, 128], [128, 32]) fp32: (8192 + 4096 + 2048) * 4 = 57344.
  CHECK(Bytes("aten::mm", In({{64, 128}, {128, 32}}, {"float", "float"})) == 57344.0);
  // bmm([12, 128, 64], [12, 64, 128]) fp16: (98304 + 98304 + 12*128*128) * 2
  // = (98304 + 98304 + 196608) * 2 = 786432.
  CHECK(Bytes("aten::bmm", In({{12, 128, 64}, {12, 64, 128}}, {"c10::Half", "c10::Half"})) ==
        786432.0);
  // baddbmm(self [2, 4, 4], [2, 4, 3], [2, 3, 4]) fp32: (32 + 24 + 24 + 32) * 4 = 448.
  CHECK(Bytes("aten::baddbmm", In({{2, 4, 4}, {2, 4, 3}, {2, 3, 4}, {}, {}}, f3)) == 448.0);
  // conv2d(x [8, 64, 56, 56], W [128, 64, 3, 3], b [128]) fp16, same padding
  // stride 1: x 1605632, W 73728, b 128, out 8*128*56*56 = 3211264:
  // (1605632 + 73728 + 128 + 3211264) * 2 = 9781504.
  CHECK(Bytes("aten::conv2d", In({{8, 64, 56, 56}, {128, 64, 3, 3}, {128}, {}, {}, {}, {}},
                                 {"c10::Half", "c10::Half", "c10::Half", "ScalarList", "ScalarList",
                                  "ScalarList", "Int"})) == 9781504.0);
  // softmax(x [8, 12, 128, 128], dim) fp32: read + write 1572864 * 4 each = 12582912.
  CHECK(Bytes("aten::softmax", In({{8, 12, 128, 128}, {}, {}}, {"float", "Scalar", ""})) ==
        12582912.0);
  // add(x [8, 768], y [768]) fp16 (broadcast): (6144 + 768 + 6144) * 2 = 26112.
  CHECK(Bytes("aten::add", In({{8, 768}, {768}, {}}, {"c10::Half", "c10::Half", "Scalar"})) ==
        26112.0);
  // where(cond [1000] bool, x [1000] fp16, y [] fp16 0-d): 1000 + 2000 + 2, out 1000 * 2:
  // 5002.
  CHECK(Bytes("aten::where", In({{1000}, {1000}, {}}, {"bool", "c10::Half", "c10::Half"})) ==
        5002.0);
  // relu_(x [1000]) fp32 in place: read + write = 8000.
  CHECK(Bytes("aten::relu_", In({{1000}}, {"float"})) == 8000.0);
  // copy_(dst [1000] fp16, src [1000] fp32): 2000 + 4000 = 6000.
  CHECK(Bytes("aten::copy_", In({{1000}, {1000}, {}}, {"c10::Half", "float", "Scalar"})) == 6000.0);
  // layer_norm(x [8, 128, 768], shape, w [768], b [768]) fp32:
  // (786432 + 768 + 768 + 786432) * 4 = 6297600.
  CHECK(Bytes("aten::layer_norm",
              In({{8, 128, 768}, {}, {768}, {768}, {}, {}},
                 {"float", "ScalarList", "float", "float", "Scalar", "Scalar"})) == 6297600.0);
  // embedding(W [30522, 768] fp32, idx [8, 128] int64): idx 1024 * 8 = 8192,
  // rows 1024 * 768 * 4 = 3145728 read and written: 8192 + 2 * 3145728 = 6299648.
  CHECK(Bytes("aten::embedding", In({{30522, 768}, {8, 128}, {}, {}, {}},
                                    {"float", "long int", "Scalar", "Scalar", "Scalar"})) ==
        6299648.0);
  // attention: Q, K, V [2, 12, 128, 64] fp16, O like Q: 4 * 196608 * 2 = 1572864.
  CHECK(Bytes("aten::scaled_dot_product_attention",
              In({{2, 12, 128, 64}, {2, 12, 128, 64}, {2, 12, 128, 64}},
                 {"c10::Half", "c10::Half", "c10::Half"})) == 1572864.0);
  // max_pool2d(x [8, 64, 112, 112]) fp16, 2-wide stride 2: in 6422528 * 2,
  // out 6422528 / 4 * 2: 12845056 + 3211264 = 16056320.
  CHECK(Bytes("aten::max_pool2d", In({{8, 64, 112, 112}, {}, {}},
                                     {"c10::Half", "ScalarList", "ScalarList"})) == 16056320.0);
  // adaptive_avg_pool2d(x [8, 2048, 7, 7]) fp32 to 1 x 1: 802816 * 4 + 16384 * 4 = 3276800.
  CHECK(Bytes("aten::adaptive_avg_pool2d", In({{8, 2048, 7, 7}, {}}, {"float", "ScalarList"})) ==
        3276800.0);
  // cat([[2, 3], [4, 3]]) fp32, read and written: (6 + 12) * 4 * 2 = 144.
  CHECK(Bytes("aten::cat",
              OpInputsFromJson(nlohmann::json::parse("[[[2, 3], [4, 3]], []]"), nullptr)) == 144.0);
  // index_select(W [1000, 64] fp32, 0, idx [10] int64): 80 + 2 * 10 * 64 * 4 = 5200.
  CHECK(Bytes("aten::index_select", In({{1000, 64}, {}, {10}}, {"float", "Scalar", "long int"})) ==
        5200.0);
  // mean(x [8, 2048, 7, 7]) fp32: the input only, 802816 * 4 = 3211264.
  CHECK(Bytes("aten::mean", In({{8, 2048, 7, 7}, {}, {}, {}},
                               {"float", "ScalarList", "Scalar", ""})) == 3211264.0);
  // With Kineto's "Concrete Inputs": conv2d(x [8, 3, 224, 224], W [64, 3, 7, 7]) fp16,
  // stride 2, padding 3, dilation 1: out side (224 + 6 - 6 - 1) / 2 + 1 = 112,
  // out 8 * 64 * 112 * 112 = 6422528; in 1204224 + 9408:
  // (1204224 + 9408 + 6422528) * 2 = 15272320.
  OpInputs conv =
      In({{8, 3, 224, 224}, {64, 3, 7, 7}, {}, {}, {}, {}, {}},
         {"c10::Half", "c10::Half", "", "ScalarList", "ScalarList", "ScalarList", "Int"});
  conv.values = {"", "", "", "[2, 2]", "[3, 3]", "[1, 1]", "1"};
  CHECK(Bytes("aten::conv2d", conv) == 15272320.0);
  // cudnn_convolution(self, weight, padding, stride, dilation, ...): the same call.
  OpInputs cudnn = In({{8, 3, 224, 224}, {64, 3, 7, 7}, {}, {}, {}, {}},
                      {"c10::Half", "c10::Half", "ScalarList", "ScalarList", "ScalarList", "Int"});
  cudnn.values = {"", "", "[3, 3]", "[2, 2]", "[1, 1]", "1"};
  CHECK(Bytes("aten::cudnn_convolution", cudnn) == 15272320.0);
  // max_pool2d(x [8, 64, 112, 112], kernel 3, stride 2, padding 0) fp16: side
  // (112 + 0 - 2 - 1) / 2 + 1 = 55, out 8 * 64 * 55 * 55 = 1548800:
  // (6422528 + 1548800) * 2 = 15942656.
  OpInputs pool = In({{8, 64, 112, 112}, {}, {}, {}, {}, {}},
                     {"c10::Half", "ScalarList", "ScalarList", "ScalarList", "ScalarList", "Bool"});
  pool.values = {"", "[3, 3]", "[2, 2]", "[0, 0]", "[1, 1]", "False"};
  CHECK(Bytes("aten::max_pool2d", pool) == 15942656.0);
  pool.values[2] = "[]";  // no stride: the kernel's, 3: side (112 - 3) / 3 + 1 = 37
  // out 8 * 64 * 37 * 37 = 700928: (6422528 + 700928) * 2 = 14246912.
  CHECK(Bytes("aten::max_pool2d", pool) == 14246912.0);
  // adaptive_avg_pool2d(x [8, 2048, 7, 7], [2, 2]) fp32: (802816 + 8 * 2048 * 4) * 4 = 3473408.
  OpInputs adaptive = In({{8, 2048, 7, 7}, {}}, {"float", "ScalarList"});
  adaptive.values = {"", "[2, 2]"};
  CHECK(Bytes("aten::adaptive_avg_pool2d", adaptive) == 3473408.0);
  // Kineto args to OpInputs with values.
  const nlohmann::json values = nlohmann::json::parse(R"(["", "[2, 2]"])");
  const OpInputs kv = OpInputsFromJson(nlohmann::json::parse("[[1, 2], []]"), nullptr, &values);
  CHECK(kv.values == std::vector<std::string>{"", "[2, 2]"});
  // Not modelled, or no tensor: no figure.
  CHECK_FALSE(OpBytes("aten::nonzero", In({{100}}, {"float"})));
  CHECK_FALSE(OpBytes("aten::add", In({{}, {}}, {"Scalar", "Scalar"})));
  CHECK_FALSE(OpBytes("aten::addmm", In({{768}}, {"float"})));
  // A zero-sized matrix would make the batch 0/0: no figure, not NaN.
  CHECK_FALSE(OpBytes("aten::bmm", In({{0, 0, 4}, {2, 4, 3}}, {"float", "float"})));
}

TEST_CASE("Shapes from emit_nvtx range names and Kineto args", "[memory]") {
  const OpInputs n = ParseNvtxSizes(
      "aten::addmm, seq = 3, op_id = 7, sizes = [[768], [8, 768], "
      "[768, 768], [], []], input_op_ids = [(1, 0)]");
  REQUIRE(n.dims.size() == 5);
  CHECK(n.dims[1] == std::vector<int64_t>{8, 768});
  CHECK(n.dims[3].empty());
  CHECK(n.types.empty());
  // Without dtypes: float32 assumed.
  CHECK(Bytes("aten::addmm, seq = 3, sizes = [[768], [8, 768], [768, 768], [], []]", n) ==
        2411520.0);
  CHECK(ParseNvtxSizes("aten::addmm, seq = 3").empty());
  CHECK(ParseNvtxSizes("aten::addmm, sizes = [[8, x]]").empty());
  CHECK(InputsOfRange(R("aten::relu, sizes = [[10]]")).dims.size() == 1);

  const OpInputs k =
      OpInputsFromJson(nlohmann::json::parse("[[8, 768], [], \"bad\", [[1], [2]]]"), nullptr);
  REQUIRE(k.dims.size() == 5);  // the tensor list spreads over two positions
  CHECK(k.dims[2].empty());     // malformed: not a tensor
  CHECK(k.dims[4] == std::vector<int64_t>{2});
}

TEST_CASE("Kernel name classes", "[memory]") {
  CHECK(ClassifyKernelName("sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x64") ==
        NameClass::kGemm);
  CHECK(ClassifyKernelName("ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_nn") ==
        NameClass::kGemm);
  CHECK(ClassifyKernelName("void cutlass::Kernel<cutlass_80_tensorop_s1688gemm>(Params)") ==
        NameClass::kGemm);
  CHECK(ClassifyKernelName("sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc") ==
        NameClass::kConv);
  CHECK(ClassifyKernelName("void cudnn::winograd_nonfused::winogradForwardData4x4<float>") ==
        NameClass::kConv);
  CHECK(ClassifyKernelName("void at::native::vectorized_elementwise_kernel<4, "
                           "at::native::FillFunctor<float>>") == NameClass::kElementwise);
  CHECK(ClassifyKernelName("void at::native::unrolled_elementwise_kernel<at::native::copy_>") ==
        NameClass::kElementwise);
  CHECK(ClassifyKernelName("void at::native::reduce_kernel<512, 1>") == NameClass::kReduction);
  CHECK(ClassifyKernelName("void (anonymous namespace)::softmax_warp_forward<float>") ==
        NameClass::kReduction);
  CHECK(ClassifyKernelName("void at::native::vectorized_layer_norm_kernel<float>") ==
        NameClass::kReduction);
  CHECK(ClassifyKernelName("void cudnn::bn_fw_inf_1C11_kernel_NCHW<float>") ==
        NameClass::kReduction);
  CHECK(ClassifyKernelName("ncclKernel_AllReduce_RING_LL_Sum_float") == NameClass::kNccl);
  CHECK(ClassifyKernelName("void at::native::copy_device_to_device") == NameClass::kCopy);
  CHECK(ClassifyKernelName("triton_poi_fused_add_0") == NameClass::kElementwise);
  CHECK(ClassifyKernelName("triton_red_fused_sum_1") == NameClass::kReduction);
  CHECK(ClassifyKernelName("relu_kernel") == NameClass::kUnknown);
  CHECK_FALSE(NameClassDefaults(NameClass::kUnknown, H100()));
  // Elementwise on H100: mem_bound 0.9, DRAM share 0.8 (synth efficiency table).
  const NameClassFigures e = *NameClassDefaults(NameClass::kElementwise, H100());
  CHECK(e.mem_bound == 0.9);
  CHECK(e.dram_share == 0.8);
}

TEST_CASE("EstimateMemory: provenance, counters win, op bytes split by duration, clamp",
          "[memory]") {
  const GpuSpec spec = H100();  // 3350 GB/s = 3350 bytes per ns, 132 SMs
  REQUIRE(spec.dram_gbps == 3350.0);
  Trace t;
  // 1: measured counter: kept.
  Task counted = KernelTask(t, 1, "void at::native::vectorized_elementwise_kernel<4>", 10000);
  counted.dram_bytes = 123;
  counted.dram_source = DramSource::kCounter;
  // 2, 3: two kernels of one addmm call (range 0), 30 us and 10 us: 3/4 and 1/4 of 2411520.
  Task g1 = KernelTask(t, 2, "sm90_xmma_gemm_f32f32", 30000);
  Task g2 = KernelTask(t, 3, "splitKreduce_kernel", 10000);
  // 4: an elementwise kernel without shapes, 10 us, grid 66 of 132 SMs:
  // 0.9 x 0.8 x 3350 x 10000 x 0.5 = 12060000.
  Task e = KernelTask(t, 4, "void at::native::vectorized_elementwise_kernel<4>", 10000);
  e.grid = {66, 1, 1};
  e.block = {128, 1, 1};
  // 5: a 1 us relu of 1e9 floats: 8e9 bytes would be 8e9 / 1000 B/ns, over the peak: cut to
  // 3350000.
  Task big = KernelTask(t, 5, "relu_kernel", 1000);
  // 6: nothing known.
  Task unknown = KernelTask(t, 6, "my_kernel", 1000);
  // 7: a memcpy is not a kernel: untouched, not counted.
  Task copy;
  copy.id = 7;
  copy.kind = TaskKind::kMemcpy;
  copy.stream = 7;
  copy.dur_ns = 100;
  copy.dir = CopyDir::kD2D;
  copy.bytes = 64;
  t.tasks = {counted, g1, g2, e, big, unknown, copy};
  const std::vector<Range> ranges = {
      R("aten::addmm",
        In({{768}, {8, 768}, {768, 768}, {}, {}}, {"float", "float", "float", "Scalar", "Scalar"})),
      R("aten::relu, sizes = [[1000000000]]"),
      // A range on the counted kernel: the counter still wins.
      R("aten::add, sizes = [[10]]")};
  const MemoryReport r = EstimateMemory(t, spec, ranges, {{1, 2}, {2, 0}, {3, 0}, {5, 1}});
  CHECK(r.gpu == "h100-sxm");
  CHECK(r.kernels == 6);
  CHECK(r.counter == 1);
  CHECK(r.shape == 3);
  CHECK(r.name == 1);
  CHECK(r.none == 1);
  CHECK(r.clamped == 1);
  CHECK(t.tasks[0].dram_bytes == 123);
  CHECK(t.tasks[0].dram_source == DramSource::kCounter);
  CHECK(t.tasks[1].dram_bytes == 1808640);  // 2411520 * 3/4
  CHECK(t.tasks[2].dram_bytes == 602880);   // 2411520 * 1/4
  CHECK(t.tasks[1].dram_source == DramSource::kShape);
  CHECK(t.tasks[1].mem_bound == Approx(1808640.0 / (30000.0 * 3350.0)));
  CHECK(t.tasks[3].dram_bytes == 12060000);
  CHECK(t.tasks[3].mem_bound == 0.9);
  CHECK(t.tasks[3].dram_source == DramSource::kName);
  CHECK(t.tasks[4].dram_bytes == 3350000);
  CHECK(t.tasks[4].mem_bound == 1.0);
  CHECK(t.tasks[5].dram_bytes == kAbsent);
  CHECK(t.tasks[5].dram_source == DramSource::kNone);
  CHECK(t.tasks[6].dram_source == DramSource::kNone);
  // Physics: no kernel moves more than the peak over its duration.
  for (const Task& k : t.tasks) {
    if (k.kind == TaskKind::kKernel && k.dram_bytes >= 0) {
      CHECK(static_cast<double>(k.dram_bytes) <= spec.dram_gbps * static_cast<double>(k.dur_ns));
    }
  }
  CHECK(MemoryCoverageText(r.counter, r.shape, r.name, r.none) ==
        "1 counter, 3 shape estimate, 1 name class, 1 none (of 6 kernels)");
  // Written and read back, the provenance survives.
  const Trace back = ParseTrace(TraceToJsonText(t), "t.json");
  CHECK(back.tasks[0].dram_source == DramSource::kCounter);
  CHECK(back.tasks[1].dram_source == DramSource::kShape);
  CHECK(back.tasks[3].dram_source == DramSource::kName);
  CHECK(back.tasks[5].dram_source == DramSource::kNone);
}

TEST_CASE("EstimateMemory: an unmodelled call passes its kernels to the enclosing call",
          "[memory]") {
  Trace t;
  Task k = KernelTask(t, 1, "my_gather_kernel", 10000);
  Task other = KernelTask(t, 2, "my_kernel", 10000);
  t.tasks = {k, other};
  std::vector<Range> ranges = {
      R("ProfilerStep#1"), R("aten::embedding", In({{1000, 64}, {10}}, {"float", "long int"})),
      R("aten::index_select", In({{1000, 64}, {}, {10}, {}}, {"float", "Scalar", "long int", ""})),
      R("aten::nonzero", In({{10}}, {"float"})), R("aten::unique", In({{10}}, {"float"}))};
  for (Range& r : ranges) r.thread = 1;
  ranges[0].start_ns = 0, ranges[0].end_ns = 100;
  ranges[1].start_ns = 10, ranges[1].end_ns = 50;
  ranges[2].start_ns = 20, ranges[2].end_ns = 40;
  ranges[3].start_ns = 60, ranges[3].end_ns = 70;  // inside the step only
  ranges[4].start_ns = 62, ranges[4].end_ns = 65;
  // index_select is not modelled here as labelled (its inputs lack the index
  // at position 2): a copy of the embedding's bytes goes to its kernel.
  ranges[2].inputs = In({{1000, 64}}, {"float"});
  const MemoryReport r = EstimateMemory(t, H100(), ranges, {{1, 2}, {2, 4}});
  CHECK(r.shape == 1);
  CHECK(r.none == 1);  // the step range never models anything
  CHECK(t.tasks[0].dram_bytes == 80 + 2 * 10 * 64 * 4);
  CHECK(t.tasks[1].dram_source == DramSource::kNone);
}

TEST_CASE("NVTX path: BuildTrace carries the labelling range to EstimateMemory", "[memory]") {
  Capture c;
  ApiCall launch;
  launch.name = "cudaLaunchKernel";
  launch.thread = 1;
  launch.start_ns = 1000;
  launch.end_ns = 2000;
  launch.correlation = 5;
  c.api.push_back(launch);
  GpuActivity k;
  k.name = "ampere_sgemm_128x64_tn";
  k.stream = 7;
  k.start_ns = 3000;
  k.end_ns = 43000;  // 40 us
  k.correlation = 5;
  c.gpu.push_back(k);
  Range outer;
  outer.name = "aten::linear, seq = 2, sizes = [[8, 768], [768, 768], [768]]";
  outer.thread = 1;
  outer.start_ns = 0;
  outer.end_ns = 5000;
  Range inner = outer;
  inner.name = "aten::addmm, seq = 3, sizes = [[768], [8, 768], [768, 768], [], []]";
  inner.start_ns = 500;
  inner.end_ns = 4000;
  c.ranges = {outer, inner};
  BuildReport b;
  Trace t = BuildTrace(c, {}, &b);
  REQUIRE(b.kernel_ranges.size() == 1);
  CHECK(b.kernel_ranges[0].second == 1);  // the innermost range
  const MemoryReport r = EstimateMemory(t, H100(), c.ranges, b.kernel_ranges);
  CHECK(r.shape == 1);
  for (const Task& task : t.tasks) {
    if (task.kind != TaskKind::kKernel) continue;
    CHECK(task.dram_bytes == 2411520);  // float32 assumed: no dtypes in NVTX names
    CHECK(task.dram_source == DramSource::kShape);
  }
}

TEST_CASE("Kineto import: record_shapes args give shape estimates", "[memory][kineto]") {
  KinetoReport kr;
  const Trace t = ImportKineto(kData + "/kineto/current.json", {}, &kr, nullptr);
  CHECK(kr.memory.gpu == "h100-sxm");  // from the device name
  CHECK(kr.memory.kernels == 4);
  CHECK(kr.memory.shape == 1);
  CHECK(kr.memory.name == 2);  // the second gemm has no shapes; the Triton pointwise kernel
  CHECK(kr.memory.none == 1);  // relu_kernel: no shapes, no class
  CHECK(kr.memory.counter == 0);
  int shape = 0;
  for (const Task& k : t.tasks) {
    if (k.kind == TaskKind::kKernel && k.dram_source == DramSource::kShape) {
      ++shape;
      CHECK(t.Op(k) == "aten::addmm");
      CHECK(k.dram_bytes == 2411520);
      CHECK(k.mem_bound == Approx(2411520.0 / (40001.0 * 3350.0)));
    }
  }
  CHECK(shape == 1);
  CHECK(t.meta["memory"]["gpu"] == "h100-sxm");
  CHECK(t.meta["memory"]["shape"] == 1);
}

}  // namespace cotenant::profiler
