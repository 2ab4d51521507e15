#include "tools/validation/measured_table.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::validation {
namespace {

constexpr const char* kDtypes[] = {"fp16", "bf16", "fp32"};

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

/// Shortened for messages.
std::string Shown(const std::string& s) {
  return "'" + (s.size() > 60 ? s.substr(0, 57) + "..." : s) + "'";
}

class LineError {
 public:
  LineError(const std::string& file, int64_t line) : prefix_(file + ":" + std::to_string(line)) {}
  [[noreturn]] void Fail(const std::string& column, const std::string& expected,
                         const std::string& found) const {
    throw InputError(prefix_ + ": " + column + ": expected " + expected + ", found " + found);
  }
  [[noreturn]] void Fail(const std::string& message) const {
    throw InputError(prefix_ + ": " + message);
  }

 private:
  std::string prefix_;
};

/// Splits one CSV line (RFC 4180 quotes: "a,b" and "" inside quotes).
std::vector<std::string> SplitCsv(const std::string& line, const LineError& err) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && Trim(cur).empty()) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (c == ',') {
      out.push_back(was_quoted ? cur : Trim(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) err.Fail("an unterminated quoted field");
  out.push_back(was_quoted ? cur : Trim(cur));
  return out;
}

std::vector<std::string> SplitPlus(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    const size_t p = s.find('+', b);
    out.push_back(Trim(s.substr(b, p == std::string::npos ? std::string::npos : p - b)));
    if (p == std::string::npos) break;
    b = p + 1;
  }
  return out;
}

/// A whole decimal integer in [lo, hi].
bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const int64_t v = std::strtoll(s.c_str(), nullptr, 10);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::string SoloKey(const std::string& gpu, const std::string& dtype, const MeasuredMember& m) {
  return gpu + "|" + dtype + "|" + m.model + "|" + std::to_string(m.batch) + "|" +
         std::to_string(m.seq_len);
}

}  // namespace

std::string MeasuredMember::Label() const {
  std::string s = model + " b" + std::to_string(batch);
  if (seq_len > 0) s += " s" + std::to_string(seq_len);
  return s;
}

bool MeasuredMember::operator<(const MeasuredMember& o) const {
  return std::tie(model, batch, seq_len) < std::tie(o.model, o.batch, o.seq_len);
}

bool MeasuredMember::operator==(const MeasuredMember& o) const {
  return model == o.model && batch == o.batch && seq_len == o.seq_len;
}

std::string MeasuredRow::Label() const {
  std::string s;
  for (size_t i = 0; i < members.size(); ++i) s += (i ? " + " : "") + members[i].Label();
  return s;
}

std::string MeasuredRow::Combination() const {
  std::vector<std::string> names;
  for (const MeasuredMember& m : members) names.push_back(m.model);
  std::sort(names.begin(), names.end());
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? "+" : "") + names[i];
  return s;
}

bool IsTraceMember(const std::string& name) {
  return name.find('/') != std::string::npos || EndsWith(name, ".json") ||
         EndsWith(name, ".json.gz");
}

const double* MeasuredTable::Solo(const std::string& gpu, const std::string& dtype,
                                  const MeasuredMember& m) const {
  const auto it = solo_ns.find(SoloKey(gpu, dtype, m));
  return it == solo_ns.end() ? nullptr : &it->second;
}

void MeasuredTable::IndexSolos() {
  std::map<std::string, std::pair<double, int>> sums;
  for (const MeasuredRow& r : rows) {
    if (!r.IsSolo()) continue;
    auto& s = sums[SoloKey(r.gpu, r.dtype, r.members[0])];
    s.first += r.latency_ns;
    ++s.second;
  }
  solo_ns.clear();
  for (const auto& [k, s] : sums) solo_ns[k] = s.first / s.second;
}

MeasuredTable ParseMeasuredTable(const std::string& text, const std::string& file) {
  MeasuredTable t;
  t.file = file;
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  std::vector<int> column_of(std::size(kMeasuredColumns), -1);
  bool have_header = false;
  size_t width = 0;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (raw.find('\0') != std::string::npos) {
      LineError(file, line_no).Fail("a NUL byte: this is not a CSV text file");
    }
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const LineError err(file, line_no);
    std::vector<std::string> f = SplitCsv(line, err);
    if (!have_header) {
      have_header = true;
      width = f.size();
      std::set<std::string> seen;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i].empty())
          err.Fail("header", "a column name", "an empty name at column " + std::to_string(i + 1));
        if (!seen.insert(f[i]).second) err.Fail("header: column " + Shown(f[i]) + " appears twice");
        bool known = false;
        for (size_t c = 0; c < std::size(kMeasuredColumns); ++c) {
          if (f[i] == kMeasuredColumns[c]) {
            column_of[c] = static_cast<int>(i);
            known = true;
          }
        }
        if (!known) t.ignored_columns.push_back(f[i]);
      }
      for (size_t c = 0; c < std::size(kMeasuredColumns); ++c) {
        if (column_of[c] < 0) {
          err.Fail("header",
                   std::string("a column '") + kMeasuredColumns[c] +
                       "' (columns: gpu,dtype,models,batch,seq_len,latency_us)",
                   Shown(line));
        }
      }
      continue;
    }
    if (f.size() != width) {
      err.Fail("row", std::to_string(width) + " comma-separated fields as in the header",
               std::to_string(f.size()));
    }
    auto col = [&](int c) -> const std::string& { return f[static_cast<size_t>(column_of[c])]; };
    MeasuredRow r;
    r.line = line_no;
    r.gpu = col(0);
    if (r.gpu.empty()) err.Fail("gpu", "a GPU spec key", "an empty field");
    r.dtype = col(1);
    if (std::find(std::begin(kDtypes), std::end(kDtypes), r.dtype) == std::end(kDtypes)) {
      err.Fail("dtype", "fp16, bf16 or fp32", Shown(r.dtype));
    }
    const std::vector<std::string> names = SplitPlus(col(2));
    const std::vector<std::string> batches = SplitPlus(col(3));
    const std::vector<std::string> seqs = SplitPlus(col(4));
    if (names.size() > kMaxGroupMembers) {
      err.Fail("models", "at most " + std::to_string(kMaxGroupMembers) + " members",
               std::to_string(names.size()));
    }
    if (batches.size() != names.size()) {
      err.Fail("batch", std::to_string(names.size()) + " '+'-joined values, one per model",
               std::to_string(batches.size()) + " in " + Shown(col(3)));
    }
    if (seqs.size() != names.size()) {
      err.Fail("seq_len", std::to_string(names.size()) + " '+'-joined values, one per model",
               std::to_string(seqs.size()) + " in " + Shown(col(4)));
    }
    for (size_t i = 0; i < names.size(); ++i) {
      MeasuredMember m;
      m.model = names[i];
      if (m.model.empty()) err.Fail("models", "a model name or trace path", Shown(col(2)));
      if (IsTraceMember(m.model)) {
        m.trace_path = std::filesystem::path(m.model).is_absolute()
                           ? m.model
                           : (folder / m.model).lexically_normal().string();
      }
      if (!ParseInt(batches[i], 1, kMaxMeasuredBatch, &m.batch)) {
        err.Fail("batch", "a whole number in 1.." + std::to_string(kMaxMeasuredBatch),
                 Shown(batches[i]));
      }
      if (!ParseInt(seqs[i], 0, kMaxMeasuredSeq, &m.seq_len)) {
        err.Fail("seq_len", "a whole number in 0.." + std::to_string(kMaxMeasuredSeq),
                 Shown(seqs[i]));
      }
      r.members.push_back(m);
    }
    const std::string& lat = col(5);
    char* endp = nullptr;
    errno = 0;
    const double us = lat.empty() ? 0.0 : std::strtod(lat.c_str(), &endp);
    if (lat.empty() || endp != lat.c_str() + lat.size() || errno != 0 || !std::isfinite(us) ||
        !(us > 0.0) || us > 1e12) {
      err.Fail("latency_us", "a positive number of microseconds", Shown(lat));
    }
    r.latency_ns = us * 1000.0;
    t.rows.push_back(std::move(r));
  }
  if (!have_header) {
    throw InputError(file +
                     ": expected a header line gpu,dtype,models,batch,seq_len,latency_us, "
                     "found an empty table");
  }
  if (t.rows.empty()) throw InputError(file + ": expected at least one row, found none");
  t.IndexSolos();
  return t;
}

MeasuredTable ReadMeasuredTable(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError(
        path + ": expected a measured table (CSV file), found " +
        (std::filesystem::exists(path, ec) ? "something that is not a file" : "no such file"));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && static_cast<int64_t>(size) > kMaxMeasuredTableBytes) {
    throw InputError(path + ": expected a table of at most " +
                     std::to_string(kMaxMeasuredTableBytes >> 20) + " MiB, found " +
                     std::to_string(size >> 20) + " MiB");
  }
  return ParseMeasuredTable(ReadFileText(path), path);
}

}  // namespace cotenant::validation
