// Measured tables: reading (and refusing) them, predicting a row, the
// least-squares fit recovering parameters from a table the simulator
// generated with known ones, the validation summary worked out by hand, and
// the calibration file.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "sim/error.h"
#include "sim/trace_scale.h"
#include "tests/common/fixtures.h"
#include "tools/validation/least_squares.h"
#include "tools/validation/measured_table.h"
#include "tools/validation/table_fit.h"
#include "tools/validation/table_model.h"
#include "tools/validation/table_run.h"
#include "tools/validation/table_validate.h"

namespace cotenant::validation {
namespace {

using cotenant::testing::ErrorOf;
using cotenant::testing::FitGpu;
using cotenant::testing::Host;
using cotenant::testing::Kernel;

constexpr const char* kHeader = "gpu,dtype,models,batch,seq_len,latency_us\n";

/// A fake zoo: model "a" runs 4 operators of 60 us host time each launching a
/// whole-GPU kernel of batch x 30 us; model "b" 4 operators of 80 us host time
/// and half-GPU kernels of batch x 5 us. Small batches are host-bound, large
/// ones GPU-bound (with the scales of Truth() too), so solo rows separate the
/// host and GPU scales and the harness cost.
Trace FakeZoo(const MeasuredMember& m, const std::string&, const GpuSpec& spec) {
  TimeNs host = 0, kernel = 0;
  int32_t blocks = 0;
  if (m.model == "a") {
    host = 60000;
    kernel = 30000 * m.batch;
    blocks = 2 * spec.sm_count;
  } else if (m.model == "b") {
    host = 80000;
    kernel = 5000 * m.batch;
    blocks = spec.sm_count;
  } else {
    throw InputError("model: unknown model " + m.model);
  }
  Trace t;
  t.tenant = m.model;
  TimeNs at = 0;
  for (int i = 0; i < 4; ++i) {
    t.tasks.push_back(Host(2 * i + 1, TaskKind::kLaunch, at, host, 100 + i));
    Task k = Kernel(2 * i + 2, 7, at + host, kernel, blocks);
    k.correlation = 100 + i;
    if (m.model == "b") k.mem_bound = 0.8;  // DRAM-bound: the L2 term shows on b
    t.tasks.push_back(k);
    at += host;
  }
  return t;
}

/// Host and GPU scales, no batch term.
ModelScales Scales(double host, double gpu) {
  ModelScales s;
  s.host = host;
  s.gpu = gpu;
  return s;
}

GpuSpec TableGpu() {
  GpuSpec s = FitGpu();
  s.key = "test-gpu";
  return s;
}

/// Every solo (batches 1, 2, 4, 8) and pair of a and b, with the latency
/// `truth` predicts.
MeasuredTable GeneratedTable(const TableCalibration& truth) {
  std::string csv = kHeader;
  const int batches[] = {1, 2, 4, 8};
  for (const char* m : {"a", "b"})
    for (int b : batches)
      csv += std::string("test-gpu,fp16,") + m + "," + std::to_string(b) + ",0,1\n";
  for (int x : batches)
    for (int y : batches)
      csv += "test-gpu,fp16,a+b," + std::to_string(x) + "+" + std::to_string(y) + ",0+0,1\n";
  MeasuredTable t = ParseMeasuredTable(csv, "gen.csv");
  const TablePredictor p(t, TableGpu(), FakeZoo);
  MeasuredTable out = t;
  for (size_t i = 0; i < t.rows.size(); ++i) out.rows[i].latency_ns = p.Row(i, truth);
  out.IndexSolos();
  return out;
}

TableCalibration Truth() {
  TableCalibration c = IdentityCalibration(TableGpu());
  c.models["a"] = Scales(2.0, 1.5);
  c.models["b"] = Scales(0.5, 3.0);
  c.harness_ns = 40000;
  c.contention.corun_slowdown = 0.3;
  c.contention.host_corun_slowdown = 0.1;
  c.contention.l2_corun_traffic = 0.5;
  return c;
}

}  // namespace

TEST_CASE("measured table: reading a good table", "[validation][table]") {
  const MeasuredTable t = ParseMeasuredTable(
      "# comment\n"
      "gpu,dtype,models,batch,seq_len,latency_us,note\n"
      "a100-sxm4-40g,fp16,resnet50,8,0,8709.0,x\n"
      "a100-sxm4-40g,fp16,resnet50,8,0,8711.0,repeat\n"
      "a100-sxm4-40g,fp16, resnet50 + bert-base ,8+4,0+64,12000,\n"
      "\n",
      "/data/t.csv");
  REQUIRE(t.rows.size() == 3);
  CHECK(t.ignored_columns == std::vector<std::string>{"note"});
  CHECK(t.rows[0].line == 3);
  CHECK(t.rows[0].IsSolo());
  CHECK(t.rows[0].latency_ns == 8709000.0);
  const MeasuredRow& pair = t.rows[2];
  CHECK(pair.line == 5);
  REQUIRE(pair.members.size() == 2);
  CHECK(pair.members[0].model == "resnet50");
  CHECK(pair.members[1].model == "bert-base");
  CHECK(pair.members[1].batch == 4);
  CHECK(pair.members[1].seq_len == 64);
  CHECK(pair.Label() == "resnet50 b8 + bert-base b4 s64");
  CHECK(pair.Combination() == "bert-base+resnet50");
  // Repeated solo measurements are averaged.
  MeasuredMember r50;
  r50.model = "resnet50";
  r50.batch = 8;
  REQUIRE(t.Solo("a100-sxm4-40g", "fp16", r50) != nullptr);
  CHECK(*t.Solo("a100-sxm4-40g", "fp16", r50) == Approx(8710000.0));
  CHECK(t.Solo("a100-sxm4-40g", "bf16", r50) == nullptr);
}

TEST_CASE("measured table: a trace member and a quoted field", "[validation][table]") {
  const MeasuredTable t = ParseMeasuredTable(
      std::string(kHeader) + "g,fp32,traces/r.json+vgg16,1+2,0+0,\"5000\"\n", "/data/t.csv");
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].members[0].IsTrace());
  CHECK(t.rows[0].members[0].trace_path == "/data/traces/r.json");
  CHECK_FALSE(t.rows[0].members[1].IsTrace());
  CHECK(t.rows[0].latency_ns == 5000000.0);
}

TEST_CASE("measured table: bad tables are refused with file, line and column",
          "[validation][table]") {
  auto err = [](const std::string& text) {
    return ErrorOf([&] { ParseMeasuredTable(text, "t.csv"); });
  };
  CHECK(err("") ==
        "t.csv: expected a header line gpu,dtype,models,batch,seq_len,latency_us, found an empty "
        "table");
  CHECK(err(kHeader) == "t.csv: expected at least one row, found none");
  CHECK(err("gpu,dtype,models,batch,latency_us\ng,fp16,a,1,5\n") ==
        "t.csv:1: header: expected a column 'seq_len' (columns: "
        "gpu,dtype,models,batch,seq_len,latency_us), found 'gpu,dtype,models,batch,latency_us'");
  CHECK(err("gpu,gpu,dtype,models,batch,seq_len,latency_us\n") ==
        "t.csv:1: header: column 'gpu' appears twice");
  CHECK(err(std::string(kHeader) + "g,fp16,a,1,0\n") ==
        "t.csv:2: row: expected 6 comma-separated fields as in the header, found 5");
  CHECK(err(std::string(kHeader) + "g,fp8,a,1,0,5\n") ==
        "t.csv:2: dtype: expected fp16, bf16 or fp32, found 'fp8'");
  CHECK(err(std::string(kHeader) + "g,fp16,a+b,1,0+0,5\n") ==
        "t.csv:2: batch: expected 2 '+'-joined values, one per model, found 1 in '1'");
  CHECK(err(std::string(kHeader) + "g,fp16,a,0,0,5\n") ==
        "t.csv:2: batch: expected a whole number in 1..1048576, found '0'");
  CHECK(err(std::string(kHeader) + "g,fp16,a,1,-3,5\n") ==
        "t.csv:2: seq_len: expected a whole number in 0..1048576, found '-3'");
  CHECK(err(std::string(kHeader) + "g,fp16,a,1,0,-5\n") ==
        "t.csv:2: latency_us: expected a positive number of microseconds, found '-5'");
  CHECK(err(std::string(kHeader) + "g,fp16,a,1,0,nan\n") ==
        "t.csv:2: latency_us: expected a positive number of microseconds, found 'nan'");
  CHECK(err(std::string(kHeader) + "g,fp16,a+,1+1,0+0,5\n") ==
        "t.csv:2: models: expected a model name or trace path, found 'a+'");
  CHECK(err(std::string(kHeader) + "g,fp16,\"a,1,0,5\n") ==
        "t.csv:2: an unterminated quoted field");
  CHECK(err(std::string(kHeader) + ",fp16,a,1,0,5\n") ==
        "t.csv:2: gpu: expected a GPU spec key, found an empty field");
  CHECK(ErrorOf([] { ReadMeasuredTable("/nonexistent/t.csv"); }) ==
        "/nonexistent/t.csv: expected a measured table (CSV file), found no such file");
}

TEST_CASE("measured table: predictor errors name the row", "[validation][table]") {
  const MeasuredTable t = ParseMeasuredTable(
      std::string(kHeader) + "test-gpu,fp16,a,1,0,5\ntest-gpu,fp16,zz,1,0,5\n", "t.csv");
  CHECK(ErrorOf([&] { TablePredictor p(t, TableGpu(), FakeZoo); }) ==
        "t.csv:3: models: zz: model: unknown model zz");
  const MeasuredTable other =
      ParseMeasuredTable(std::string(kHeader) + "h100-sxm,fp16,a,1,0,5\n", "t.csv");
  CHECK(ErrorOf([&] { TablePredictor p(other, TableGpu(), FakeZoo); }) ==
        "t.csv:2: gpu: expected test-gpu (one GPU per table), found h100-sxm");
}

TEST_CASE("measured table: a solo row predicted by hand", "[validation][table]") {
  // a at batch 1: 4 launches of 60 us back to back; each kernel (30 us, the
  // whole GPU) waits for its launch plus 3 us launch latency and for the
  // previous kernel: kernel i starts at max(60(i+1) + 3, end of kernel i-1)
  // = 63, 123, 183, 243 us and ends 30 us later: 273 us. Plus a harness of 7 us.
  const MeasuredTable t =
      ParseMeasuredTable(std::string(kHeader) + "test-gpu,fp16,a,1,0,150\n", "t.csv");
  const TablePredictor p(t, TableGpu(), FakeZoo);
  TableCalibration c = IdentityCalibration(TableGpu());
  c.harness_ns = 7000;
  CHECK(p.Row(0, c) == 280000.0);
  // Host x2: launches end at 120, 240, 360, 480; the last kernel runs 483-513.
  c.models["a"] = Scales(2.0, 1.0);
  CHECK(p.Row(0, c) == 520000.0);
  // GPU x2 as well: the last kernel runs 483-543.
  c.models["a"] = Scales(2.0, 2.0);
  CHECK(p.Row(0, c) == 550000.0);
}

TEST_CASE("measured table: a trace-file member is read from the table's folder",
          "[validation][table]") {
  // The same trace as the zoo's "a" at batch 1, written to a file: the row
  // naming the file predicts what the zoo row does (273 us, see above).
  cotenant::testing::TempDir dir("cotenant_table_trace");
  MeasuredMember a;
  a.model = "a";
  WriteTrace(FakeZoo(a, "fp16", TableGpu()), dir / "a_b1.json");
  const std::string csv = std::string(kHeader) +
                          "test-gpu,fp16,a_b1.json,1,0,300\n"
                          "test-gpu,fp16,a_b1.json+a,1+1,0+0,600\n";
  std::ofstream(dir / "t.csv") << csv;
  const MeasuredTable t = ReadMeasuredTable(dir / "t.csv");
  REQUIRE(t.rows[0].members[0].IsTrace());
  const TablePredictor p(t, TableGpu(), WithTraceFiles(FakeZoo));
  const TableCalibration c = IdentityCalibration(TableGpu());
  CHECK(p.Row(0, c) == 273000.0);
  CHECK(p.Row(1, c) > 273000.0);  // two whole-GPU kernel streams contend
  // A missing trace file names the table's row.
  std::ofstream(dir / "m.csv") << std::string(kHeader) + "test-gpu,fp16,none.json,1,0,300\n";
  const MeasuredTable m = ReadMeasuredTable(dir / "m.csv");
  const std::string err =
      ErrorOf([&] { TablePredictor q(m, TableGpu(), WithTraceFiles(FakeZoo)); });
  CHECK(err.rfind(dir / "m.csv" + ":2: models: none.json: ", 0) == 0);
}

TEST_CASE("least squares: recovers an exponential and flags what the data cannot see",
          "[validation][fit]") {
  // y = 3 exp(0.5 x) at x = 0..9; the third parameter moves nothing.
  std::vector<double> xs, ys;
  for (int i = 0; i < 10; ++i) {
    xs.push_back(i);
    ys.push_back(3.0 * std::exp(0.5 * i));
  }
  const ResidualFn fn = [&](const std::vector<double>& p) {
    std::vector<double> r;
    for (size_t i = 0; i < xs.size(); ++i) r.push_back(p[0] * std::exp(p[1] * xs[i]) / ys[i] - 1.0);
    return r;
  };
  const LsResult res = LeastSquares(
      {{"a", 1.0, 0.0, 10.0, 1e-6}, {"b", 0.1, -2.0, 2.0, 1e-6}, {"ghost", 1.0, 0.0, 2.0, 1e-3}},
      fn);
  CHECK(res.x[0] == Approx(3.0).epsilon(1e-6));
  CHECK(res.x[1] == Approx(0.5).epsilon(1e-6));
  CHECK(res.cost < 1e-12);
  CHECK(res.identified[0]);
  CHECK(res.identified[1]);
  CHECK_FALSE(res.identified[2]);
  CHECK(res.why[2] == "no measurement depends on it");
  CHECK(ErrorOf([] {
          LeastSquares({}, [](const std::vector<double>&) { return std::vector<double>{}; });
        }) == "fit: no measurement to fit");
}

TEST_CASE("table fit: recovers known parameters from a simulated table", "[validation][fit]") {
  const TableCalibration truth = Truth();
  const MeasuredTable t = GeneratedTable(truth);
  const TablePredictor p(t, TableGpu(), FakeZoo);
  TableFitOptions o;
  o.max_iterations = 200;
  const TableFit fit = FitTable(p, IdentityCalibration(TableGpu()), o);
  const TableCalibration& c = fit.calibration;
  CHECK(c.models.at("a").host == Approx(2.0).epsilon(2e-3));
  CHECK(c.models.at("a").gpu == Approx(1.5).epsilon(2e-3));
  CHECK(c.models.at("b").host == Approx(0.5).epsilon(2e-3));
  CHECK(c.models.at("b").gpu == Approx(3.0).epsilon(2e-3));
  CHECK(std::abs(c.harness_ns - 40000) <= 500);
  CHECK(c.contention.host_corun_slowdown == Approx(0.1).epsilon(1e-2));
  // The compute and L2 terms both lengthen b's co-run kernels, and times are
  // whole nanoseconds: this small table separates them to about 10% (the
  // rows themselves are reproduced to 0.5%, below).
  CHECK(c.contention.corun_slowdown == Approx(0.3).epsilon(0.12));
  CHECK(c.contention.l2_corun_traffic == Approx(0.5).epsilon(0.12));
  for (const FittedParameter& fp : fit.parameters) {
    INFO(fp.name << " " << fp.why);
    CHECK(fp.identified);
  }
  // The rows are reproduced.
  for (const RowFit& r : fit.rows) CHECK(r.after_ns == Approx(r.measured_ns).epsilon(5e-3));
}

TEST_CASE("table fit: held-out rows and fixed parameters", "[validation][fit]") {
  const MeasuredTable t = GeneratedTable(Truth());
  const TablePredictor p(t, TableGpu(), FakeZoo);
  TableFitOptions o;
  o.fixed = {"b.*", "corun_slowdown", "l2_corun_traffic"};
  o.train.assign(t.rows.size(), true);
  o.train.back() = false;
  const TableFit fit = FitTable(p, IdentityCalibration(TableGpu()), o);
  CHECK(fit.calibration.models.at("b").host == 1.0);
  CHECK(fit.calibration.models.at("b").gpu == 1.0);
  CHECK(fit.calibration.contention.corun_slowdown == 0.0);
  CHECK_FALSE(fit.rows.back().used);
  CHECK(fit.rows.front().used);
  int fixed = 0;
  for (const FittedParameter& fp : fit.parameters) fixed += !fp.fitted;
  CHECK(fixed == 4);  // b's host and GPU scales (so no batch exponent either), two contention terms
}

TEST_CASE("table validation: baselines and the summary line by hand", "[validation][table]") {
  // Solos a1 = 100 us, b1 = 200 us measured; the pair measured 250 us.
  // No interference predicts 200 us: |200 - 250| / 250 = 20%; serial 300 us: 20%.
  // Measured slowdown 250 / 200 = 1.25; no interference says 1: 20%.
  const MeasuredTable t = ParseMeasuredTable(std::string(kHeader) +
                                                 "test-gpu,fp16,a,1,0,100\n"
                                                 "test-gpu,fp16,b,1,0,200\n"
                                                 "test-gpu,fp16,a+b,1+1,0+0,250\n",
                                             "t.csv");
  const TablePredictor p(t, TableGpu(), FakeZoo);
  const TableCalibration c = IdentityCalibration(TableGpu());
  const TableValidation v = ValidateTable(p, c, 1);
  REQUIRE(v.groups.size() == 1);
  CHECK(v.no_interference_latency.mape == Approx(20.0));
  CHECK(v.serial_latency.mape == Approx(20.0));
  CHECK(v.no_interference_slowdown.mape == Approx(20.0));
  CHECK(v.serial_slowdown.mape == Approx(100.0 * (1.5 - 1.25) / 1.25));
  // The model: a alone 273 us (worked out above), b alone 4 launches of
  // 80 us, the last kernel (5 us) from 323 us: 328 us; the pair by simulation.
  const double pair = p.Row(2, c);
  const GroupComparison& g = v.groups[0];
  CHECK(g.predicted_ns == pair);
  CHECK(*g.predicted_slowdown == Approx(pair / 328000.0));
  CHECK(v.latency.mape == Approx(100.0 * std::fabs(pair - 250000.0) / 250000.0));
  char line[128];
  std::snprintf(line, sizeof(line),
                "1 groups: latency MAPE %.1f%%, slowdown MAPE %.1f%%, worst %.1f%%", v.latency.mape,
                v.slowdown.mape, v.latency.worst);
  CHECK(SummaryLine(v) == line);
  CHECK(v.solo.count == 2);
}

TEST_CASE("table validation: k-fold predicts each combination from the others",
          "[validation][table]") {
  const MeasuredTable t = GeneratedTable(Truth());
  const TablePredictor p(t, TableGpu(), FakeZoo);
  KFoldOptions o;
  o.folds = 2;
  // One combination (a+b) only: two folds cannot be made.
  CHECK(ErrorOf([&] { CrossValidateTable(p, IdentityCalibration(TableGpu()), o); }) ==
        "gen.csv: --kfold 2: expected 2..1 folds (one per model combination at most)");
}

TEST_CASE("calibration file: round trip, refusals and applying it", "[validation][table]") {
  TableCalibration c = Truth();
  c.source = "t.csv";
  c.date = "2026-12-05";
  const TableCalibration back = TableCalibrationFromJson(TableCalibrationToJson(c), "c.json");
  CHECK(back.gpu == "test-gpu");
  CHECK(back.harness_ns == 40000);
  CHECK(back.models.at("b").gpu == 3.0);
  CHECK(back.contention.corun_slowdown == 0.3);
  nlohmann::json j = TableCalibrationToJson(c);
  j["contention"]["corun_slowdwn"] = 1.0;
  CHECK(ErrorOf([&] { TableCalibrationFromJson(j, "c.json"); }) ==
        "c.json: contention.corun_slowdwn: unknown contention parameter; did you mean "
        "\"corun_slowdown\"?");
  j = TableCalibrationToJson(c);
  j["models"]["a"]["host_scale"] = -1;
  CHECK(ErrorOf([&] { TableCalibrationFromJson(j, "c.json"); }) ==
        "c.json: models.a.host_scale: expected a factor in (0, 1000], found -1");
  GpuSpec h100 = FitGpu();
  h100.key = "h100-sxm";
  CHECK(ErrorOf([&] { ApplyContention(h100, c, "c.json", "the workload"); }) ==
        "c.json: gpu: the calibration was fitted on test-gpu, but the workload runs on h100-sxm; "
        "calibrate on that GPU's measurements");
  // Applying: the tenant whose trace says meta.model = "a" is scaled.
  MeasuredMember m;
  m.model = "a";
  Trace ta = FakeZoo(m, "fp16", TableGpu());
  ta.meta["model"] = "a";
  ta.tenant = "first";
  Trace other = ta;
  other.meta["model"] = "zzz";
  other.tenant = "second";
  LoadedWorkload lw = cotenant::testing::Make({{ta}, {other}}, TableGpu());
  const AppliedCalibration a = ApplyTableCalibration(&lw, c, "c.json");
  CHECK(lw.gpu.model.corun_slowdown == 0.3);
  CHECK(lw.traces[0].tasks[0].dur_ns == 120000);  // host x2
  CHECK(lw.traces[0].tasks[1].dur_ns == 45000);   // kernel x1.5
  CHECK(lw.traces[1].tasks[0].dur_ns == 60000);
  REQUIRE(a.lines.size() == 2);
  CHECK(a.lines[0] == "first: a host x2.000, GPU x1.500");
  CHECK(a.lines[1] == "second: not in the calibration, trace unchanged");
  // Scales fitted on synth traces leave a captured trace alone.
  c.models["a"].basis = "synth:pytorch-eager";
  LoadedWorkload captured = cotenant::testing::Make({{ta}}, TableGpu());
  const AppliedCalibration b = ApplyTableCalibration(&captured, c, "c.json");
  CHECK(captured.traces[0].tasks[0].dur_ns == 60000);
  CHECK(b.lines[0] ==
        "first: a scales were fitted on synth:pytorch-eager traces, this one is "
        "trace: trace unchanged");
  ta.meta["synthetic"] = true;
  ta.meta["framework"] = "pytorch-eager";
  CHECK(TraceBasis(ta) == "synth:pytorch-eager");
  // The batch term: gpu * (batch / batch_ref)^exponent, from the trace's meta.batch.
  ModelScales sc;
  sc.gpu = 2.0;
  sc.gpu_batch_exponent = 0.5;
  sc.batch_ref = 4;
  CHECK(sc.GpuFactor(16) == Approx(4.0));
  CHECK(sc.GpuFactor(0) == 2.0);
}

namespace {

/// FakeZoo behind the plain-valued ZooSynthesizer, recording the frameworks
/// it is asked for.
ZooSynthesizer RecordingZoo(std::vector<std::string>* frameworks) {
  ZooSynthesizer zoo;
  zoo.synthesize = [frameworks](const std::string& model, int64_t batch, int64_t seq_len,
                                const std::string& dtype, const std::string& framework,
                                const GpuSpec& spec) {
    frameworks->push_back(framework);
    MeasuredMember m;
    m.model = model;
    m.batch = batch;
    m.seq_len = seq_len;
    return FakeZoo(m, dtype, spec);
  };
  zoo.default_framework = "fake-default";
  return zoo;
}

}  // namespace

TEST_CASE("measured runs: validate and calibrate a table file through a zoo synthesizer",
          "[validation][table]") {
  cotenant::testing::TempDir dir("cotenant_table_run");
  const std::string path = (dir.path / "t.csv").string();
  std::ofstream(path) << kHeader << "h100-sxm,fp16,a,1,0,300\n"
                      << "h100-sxm,fp16,b,2,0,400\n"
                      << "h100-sxm,fp16,a+b,1+2,0+0,500\n";
  std::vector<std::string> frameworks;
  const ZooSynthesizer zoo = RecordingZoo(&frameworks);

  MeasuredValidateOptions vo;
  vo.table = path;
  vo.threads = 1;
  const MeasuredValidation v = ValidateMeasured(vo, zoo);
  // The same as the pieces by hand: "" passed on as it is (synth's default).
  const MeasuredTable t = ReadMeasuredTable(path);
  const TablePredictor p(t, LoadGpuSpec("h100-sxm"), FakeZoo);
  const TableValidation by_hand = ValidateTable(p, IdentityCalibration(p.spec()), 1);
  REQUIRE(v.validation.groups.size() == 1);
  CHECK(v.validation.groups[0].predicted_ns == by_hand.groups[0].predicted_ns);
  CHECK(v.calibration_label == "none");
  CHECK(v.ToJson() == TableValidationToJson(by_hand, t, "none"));
  CHECK(frameworks == std::vector<std::string>{"", ""});

  MeasuredCalibrateOptions co;
  co.table = path;
  co.threads = 1;
  co.max_iterations = 2;
  co.date = "2026-01-02";
  frameworks.clear();
  const MeasuredCalibration c = CalibrateMeasured(co, zoo);
  CHECK(c.spec.key == "h100-sxm");
  CHECK(c.fit.calibration.framework == "fake-default");
  CHECK(c.fit.calibration.models.at("a").basis == "synth:fake-default");
  CHECK(c.fit.calibration.source == path);
  CHECK(c.fit.calibration.date == "2026-01-02");
  CHECK(c.fit.calibration.fit["rows"].size() == 3);
  CHECK(frameworks == std::vector<std::string>{"", ""});

  co.framework = "other";
  frameworks.clear();
  CHECK(CalibrateMeasured(co, zoo).fit.calibration.models.at("b").basis == "synth:other");
  CHECK(frameworks == std::vector<std::string>{"other", "other"});
}

TEST_CASE("measured runs: options are checked", "[validation][table]") {
  std::vector<std::string> frameworks;
  const ZooSynthesizer zoo = RecordingZoo(&frameworks);
  MeasuredValidateOptions vo;
  vo.table = "none.csv";
  vo.kfold = 1;
  CHECK(ErrorOf([&] { ValidateMeasured(vo, zoo); }) ==
        "kfold: expected 0 (none) or 2 to 1000, found 1");
  vo.kfold = 2;
  vo.calibration = "cal.json";
  CHECK(ErrorOf([&] { ValidateMeasured(vo, zoo); }) ==
        "kfold: fits its own calibrations: drop the calibration");
  vo.kfold = 0;
  vo.threads = 0;
  CHECK(ErrorOf([&] { ValidateMeasured(vo, zoo); }) == "threads: expected >= 1, found 0");
  MeasuredCalibrateOptions co;
  co.table = "none.csv";
  co.max_iterations = 0;
  CHECK(ErrorOf([&] { CalibrateMeasured(co, zoo); }) ==
        "max_iterations: expected 1 to 1000, found 0");
  CHECK(frameworks.empty());
}

}  // namespace cotenant::validation
