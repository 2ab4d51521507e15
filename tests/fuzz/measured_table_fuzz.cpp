// libFuzzer target: measured co-location tables (CSV, `--measured`) through
// ReadMeasuredTable(path), as `calibrate --measured` and `validate
// --measured` read them, and the calibration file they write
// (`cotenant.model-calibration/1`) through ReadTableCalibration. Checks: a
// table is accepted or refused with an InputError naming the file; an
// accepted small table is predicted (fake zoo traces on a tiny GPU, every
// row, with its baselines) without a crash or a failed internal check; a
// calibration file is accepted or refused naming the file, and an accepted
// one survives TableCalibrationToJson -> TableCalibrationFromJson unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/json_util.h"
#include "tests/fuzz/fuzz_util.h"
#include "tools/validation/measured_table.h"
#include "tools/validation/table_model.h"
#include "tools/validation/table_validate.h"

using namespace cotenant;
using namespace cotenant::validation;

namespace {

GpuSpec FuzzGpu() {
  GpuSpec s;
  s.key = "a100-sxm4-40g";
  s.sm_count = 8;
  return s;
}

/// Any model name: 2 operators whose host and kernel times depend on the
/// name's length and the batch (capped), so rows differ.
Trace FakeZoo(const MeasuredMember& m, const std::string&, const GpuSpec&) {
  Trace t;
  t.tenant = m.model;
  const TimeNs host = 1000 + 100 * static_cast<TimeNs>(m.model.size() % 7);
  const TimeNs kernel = 500 * std::min<int64_t>(m.batch, 64) + 10 * std::min<int64_t>(m.seq_len, 512);
  for (int i = 0; i < 2; ++i) {
    Task l;
    l.id = 2 * i + 1;
    l.kind = TaskKind::kLaunch;
    l.thread = 1;
    l.start_ns = i * host;
    l.dur_ns = host;
    l.correlation = 10 + i;
    Task k;
    k.id = 2 * i + 2;
    k.kind = TaskKind::kKernel;
    k.stream = 7;
    k.start_ns = (i + 1) * host;
    k.dur_ns = kernel;
    k.correlation = 10 + i;
    k.grid = {static_cast<int32_t>(1 + m.batch % 16), 1, 1};
    k.block = {256, 1, 1};
    t.tasks.push_back(l);
    t.tasks.push_back(k);
  }
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::WriteScratch("table.csv", data, size);
  MeasuredTable table;
  if (fuzz::Reads(path, [&] { table = ReadMeasuredTable(path); })) {
    size_t members = 0;
    for (const MeasuredRow& r : table.rows) members += r.members.size();
    if (table.rows.size() <= 16 && members <= 48) {
      // Trace members are files the fuzzer does not provide: refused, naming the table.
      (void)fuzz::Reads(path, [&] {
        const TablePredictor p(table, FuzzGpu(), WithTraceFiles(FakeZoo));
        const TableValidation v = ValidateTable(p, IdentityCalibration(FuzzGpu()), 1);
        (void)SummaryLine(v);
      });
    }
  }
  // The same bytes as a calibration file.
  const std::string cal_path = fuzz::WriteScratch("cal.json", data, size);
  TableCalibration c;
  if (!fuzz::Reads(cal_path, [&] { c = ReadTableCalibration(cal_path); })) return 0;
  std::string first;
  fuzz::MustWork("TableCalibrationToJson", [&] { first = TableCalibrationToJson(c).dump(); });
  fuzz::MustWork("reading the written calibration", [&] {
    fuzz::SameText("calibration", first,
                   TableCalibrationToJson(
                       TableCalibrationFromJson(ParseJsonText(first, cal_path), cal_path))
                       .dump());
  });
  return 0;
}
