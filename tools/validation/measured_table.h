// Measured co-location tables (`--measured`, docs/formats.md "Measured
// table"): CSV, one row per measured group of models that started together,
// with the time until every member finished one request. A one-member row
// is a solo measurement. Published work and users' own benchmarks come in
// this shape, so the model can be calibrated and validated without a GPU.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cotenant::validation {

/// Columns every table has, in the order the format lists them.
inline constexpr const char* kMeasuredColumns[] = {"gpu",   "dtype",   "models",
                                                   "batch", "seq_len", "latency_us"};
/// Largest table file read, bytes (a table of a million groups is ~60 MB).
inline constexpr int64_t kMaxMeasuredTableBytes = int64_t{256} << 20;
/// Largest batch and sequence length accepted in a row.
inline constexpr int64_t kMaxMeasuredBatch = 1 << 20;
inline constexpr int64_t kMaxMeasuredSeq = 1 << 20;
/// Most members in one group.
inline constexpr size_t kMaxGroupMembers = 64;

/// One member of a measured group.
struct MeasuredMember {
  /// A zoo model name ("resnet50", "bert-base") as the table writes it, or,
  /// for a trace member, the path as written in the table.
  std::string model;
  /// Trace members: the path resolved against the table's folder; "" for a
  /// zoo model.
  std::string trace_path;
  int64_t batch = 1;    ///< batch size (> 0)
  int64_t seq_len = 0;  ///< sequence length; 0 where it does not apply

  bool IsTrace() const { return !trace_path.empty(); }
  /// "resnet50 b8" / "bert-base b4 s64": how tables and messages name it.
  std::string Label() const;
  /// Identity of the member's configuration (model, batch, seq_len).
  bool operator<(const MeasuredMember& o) const;
  bool operator==(const MeasuredMember& o) const;
};

/// One measured group.
struct MeasuredRow {
  int64_t line = 0;                     ///< 1-based line in the file
  std::string gpu;                      ///< GPU spec key (configs/gpus/)
  std::string dtype;                    ///< "fp16", "bf16" or "fp32"
  std::vector<MeasuredMember> members;  ///< in the table's order, >= 1
  double latency_ns = 0.0;              ///< common start -> every member finished, ns

  bool IsSolo() const { return members.size() == 1; }
  /// "resnet50 b8 + vgg16 b4": the members' labels joined.
  std::string Label() const;
  /// The model names joined with '+' in a canonical (sorted) order:
  /// "resnet50+vgg16" (cross-validation folds group rows by it).
  std::string Combination() const;
};

struct MeasuredTable {
  std::string file;                          ///< as given
  std::vector<MeasuredRow> rows;             ///< in file order
  std::vector<std::string> ignored_columns;  ///< extra columns, in header order

  /// Measured solo latency of a member (ns), from the table's solo rows with
  /// the same GPU and dtype; the mean where a configuration was measured more
  /// than once. Absent: not in the table.
  const double* Solo(const std::string& gpu, const std::string& dtype,
                     const MeasuredMember& m) const;

  /// Filled by ReadMeasuredTable / IndexSolos.
  std::map<std::string, double> solo_ns;  ///< key: gpu|dtype|model|batch|seq
  /// Rebuilds `solo_ns` from `rows` (call after editing rows).
  void IndexSolos();
};

/// True when a member name is a trace path rather than a zoo model name
/// (contains '/' or ends in .json / .json.gz).
bool IsTraceMember(const std::string& name);

/// Parses a table held in memory; `file` names it in messages and trace
/// members are resolved against its folder. Throws InputError
/// "file:line: column: expected ..., found ..." on a bad header or row.
MeasuredTable ParseMeasuredTable(const std::string& text, const std::string& file);

/// Reads a table file (ParseMeasuredTable); throws InputError when it is
/// missing, unreadable or larger than kMaxMeasuredTableBytes.
MeasuredTable ReadMeasuredTable(const std::string& path);

}  // namespace cotenant::validation
