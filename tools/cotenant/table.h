// A small aligned-table printer for terminal output, shared by the
// subcommands, and the number formats they use in tables. The table only
// aligns: callers format the numbers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant::cli {

enum class Align : uint8_t { kLeft, kRight };

/// Columns with a header and an alignment; rows of preformatted cells.
/// Render() writes the header, an underline of '-' under each header and the
/// rows, columns separated by two spaces, without trailing spaces. Widths are
/// counted in characters (UTF-8 code points, so "µs" is two wide).
class Table {
 public:
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit Table(std::vector<Column> columns);

  /// Adds a row; missing trailing cells are empty, extra cells are an error
  /// (aborts: a programming mistake, not user input).
  void AddRow(std::vector<std::string> cells);
  /// Adds a row of dashes across every column.
  void AddRule();
  /// Indents every line by `spaces`.
  void SetIndent(int spaces) { indent_ = spaces; }

  size_t rows() const { return rows_.size(); }
  std::string Render() const;
  void Print(std::FILE* out = stdout) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;  ///< an empty row is a rule
  int indent_ = 0;
};

/// Display width of UTF-8 text (code points).
size_t DisplayWidth(const std::string& s);

/// A duration with a unit chosen by magnitude and 4 significant figures at
/// most: "850 ns", "12.35 µs", "1.235 ms", "2.500 s". Negative values keep
/// their sign.
std::string FormatNs(TimeNs ns);
/// Like FormatNs with an explicit sign ("+1.200 ms", "-850 ns", "0 ns").
std::string FormatSignedNs(TimeNs ns);
/// A fraction as a percentage: 0.1234 -> "12.3%".
std::string FormatPercent(double fraction, int decimals = 1);
/// A relative change as a signed percentage: (after - before) / before ->
/// "+12.3%", "-4.0%"; "n/a" when before is 0.
std::string FormatChange(double before, double after, int decimals = 1);
/// An integer with thousands separators: 1234567 -> "1,234,567".
std::string FormatCount(int64_t n);
/// A double with `decimals` decimals.
std::string FormatFixed(double v, int decimals);

}  // namespace cotenant::cli
