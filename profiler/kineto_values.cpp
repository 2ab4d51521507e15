#include "profiler/kineto_values.h"

#include <cctype>
#include <limits>

#include "sim/json_util.h"

namespace cotenant::profiler::kineto {

using nlohmann::json;

namespace {
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
}  // namespace

std::string Found(const json& v) {
  if (!v.is_string()) return DescribeJson(v);
  const std::string& s = v.get_ref<const std::string&>();
  return "\"" + (s.size() > 40 ? s.substr(0, 37) + "..." : s) + "\"";
}

std::optional<int64_t> IntFromText(const std::string& s) {
  size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.size() - i > 19) return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  const bool neg = s[0] == '-';
  if (v > static_cast<uint64_t>(kInt64Max) + (neg ? 1 : 0)) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

std::optional<int64_t> IdOf(const json& v) {
  if (v.is_number()) return JsonToInt(v);
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (s.rfind("stream ", 0) == 0) s = s.substr(7);
  return IntFromText(s);
}

std::string KeyText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

CopyDir DirOfMemcpy(const std::string& name) {
  struct Kind {
    const char* text;
    CopyDir dir;
  };
  static const Kind kKinds[] = {
      {"PtoP", CopyDir::kP2P}, {"HtoD", CopyDir::kH2D}, {"HtoA", CopyDir::kH2D},
      {"DtoH", CopyDir::kD2H}, {"AtoH", CopyDir::kD2H}, {"DtoD", CopyDir::kD2D},
      {"DtoA", CopyDir::kD2D}, {"AtoD", CopyDir::kD2D}, {"AtoA", CopyDir::kD2D},
      {"HtoH", CopyDir::kH2H},
  };
  for (const Kind& k : kKinds) {
    if (name.find(k.text) != std::string::npos) return k.dir;
  }
  return CopyDir::kNone;
}

UsParse ParseUs(const std::string& text, TimeNs* out) {
  size_t i = 0;
  const size_t n = text.size();
  bool neg = false;
  if (i < n && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  std::string digits;
  int64_t int_digits = 0;
  auto is_digit = [&](size_t k) {
    return k < n && std::isdigit(static_cast<unsigned char>(text[k]));
  };
  while (is_digit(i)) {
    digits += text[i++];
    ++int_digits;
  }
  if (i < n && text[i] == '.') {
    ++i;
    while (is_digit(i)) digits += text[i++];
  }
  if (digits.empty()) return UsParse::kNotNumber;
  int64_t exp10 = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) exp_neg = text[i++] == '-';
    if (!is_digit(i)) return UsParse::kNotNumber;
    while (is_digit(i)) {
      if (exp10 < 100000) exp10 = exp10 * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_neg) exp10 = -exp10;
  }
  if (i != n) return UsParse::kNotNumber;
  // The value in ns is 0.DIGITS x 10^k with k = int_digits + exp10 + 3:
  // the first k digits are the integer part, digit k decides the rounding.
  size_t lead = 0;
  while (lead < digits.size() && digits[lead] == '0') ++lead;
  digits.erase(0, lead);
  int64_t k = int_digits - static_cast<int64_t>(lead) + exp10 + 3;
  if (digits.empty()) {
    *out = 0;
    return UsParse::kOk;
  }
  if (k > 19) return UsParse::kOverflow;
  uint64_t v = 0;
  for (int64_t d = 0; d < k; ++d) {
    const int digit =
        d < static_cast<int64_t>(digits.size()) ? digits[static_cast<size_t>(d)] - '0' : 0;
    v = v * 10 + static_cast<uint64_t>(digit);
  }
  if (k >= 0 && k < static_cast<int64_t>(digits.size()) && digits[static_cast<size_t>(k)] >= '5') {
    ++v;
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return UsParse::kOverflow;
  *out = neg ? -static_cast<TimeNs>(v) : static_cast<TimeNs>(v);
  return UsParse::kOk;
}

}  // namespace cotenant::profiler::kineto
