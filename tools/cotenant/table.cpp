#include "tools/cotenant/table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "sim/error.h"

namespace cotenant::cli {

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  COTENANT_CHECK_MSG(cells.size() <= columns_.size(), "table row has more cells than columns");
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::AddRule() { rows_.emplace_back(); }

size_t DisplayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Table::Render() const {
  std::vector<size_t> width(columns_.size(), 0);
  for (size_t c = 0; c < columns_.size(); ++c) {
    width[c] = DisplayWidth(columns_[c].header);
    for (const auto& row : rows_) {
      if (!row.empty()) width[c] = std::max(width[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l(static_cast<size_t>(indent_), ' ');
    for (size_t c = 0; c < cells.size(); ++c) {
      const size_t pad = width[c] - DisplayWidth(cells[c]);
      if (c > 0) l += "  ";
      if (columns_[c].align == Align::kRight) l.append(pad, ' ');
      l += cells[c];
      if (columns_[c].align == Align::kLeft) l.append(pad, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  std::vector<std::string> header, rule;
  for (size_t c = 0; c < columns_.size(); ++c) {
    header.push_back(columns_[c].header);
    rule.push_back(std::string(width[c], '-'));
  }
  line(header);
  line(rule);
  for (const auto& row : rows_) line(row.empty() ? rule : row);
  return out;
}

void Table::Print(std::FILE* out) const {
  const std::string s = Render();
  std::fwrite(s.data(), 1, s.size(), out);
}

namespace {

std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

/// `v` with 4 significant figures for 1 <= |v| < 1000.
std::string Sig4(double v) {
  const double a = std::fabs(v);
  if (a >= 99.995) return Printf("%.1f", v);
  if (a >= 9.9995) return Printf("%.2f", v);
  return Printf("%.3f", v);
}

}  // namespace

std::string FormatNs(TimeNs ns) {
  const double a = std::fabs(static_cast<double>(ns));
  const double v = static_cast<double>(ns);
  if (a < 1e3) return std::to_string(ns) + " ns";
  if (a < 999.95e3) return Sig4(v / 1e3) + " µs";
  if (a < 999.95e6) return Sig4(v / 1e6) + " ms";
  return Sig4(v / 1e9) + " s";
}

std::string FormatSignedNs(TimeNs ns) { return (ns > 0 ? "+" : "") + FormatNs(ns); }

std::string FormatPercent(double fraction, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f%%", decimals, fraction * 100.0);
  return buf;
}

std::string FormatChange(double before, double after, int decimals) {
  if (before == 0.0) return after == 0.0 ? FormatPercent(0.0, decimals) : "n/a";
  const double r = (after - before) / before;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%+.*f%%", decimals, r * 100.0);
  return buf;
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string FormatFixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace cotenant::cli
