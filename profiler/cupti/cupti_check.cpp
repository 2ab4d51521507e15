#include "profiler/cupti/cupti_check.h"

#include <cstdio>

namespace cotenant::profiler::cupti {

void ProblemLog::Add(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (counts_[line]++ == 0) order_.push_back(line);
}

std::vector<std::string> ProblemLog::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(order_.size());
  for (const std::string& line : order_) {
    const int64_t n = counts_.at(line);
    out.push_back(n > 1 ? line + " (" + std::to_string(n) + " times)" : line);
  }
  return out;
}

bool ProblemLog::complete() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.empty();
}

void ProblemLog::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  order_.clear();
  counts_.clear();
}

ProblemLog& Problems() {
  // Never destroyed: CUPTI's threads and exit handlers may use it during
  // static destruction.
  static ProblemLog* log = new ProblemLog;
  return *log;
}

void Warn(const std::string& message) noexcept {
  std::fprintf(stderr, "cotenant-inject: %s\n", message.c_str());
  std::fflush(stderr);
}

std::string CuptiResultName(CUptiResult result) noexcept {
  try {
    const char* name = nullptr;
    if (cuptiGetResultString(result, &name) == CUPTI_SUCCESS && name != nullptr) return name;
    return "CUPTI error " + std::to_string(static_cast<int>(result));
  } catch (...) {
    return "CUPTI error";
  }
}

CUptiResult CheckCupti(CUptiResult result, const char* call_text, std::atomic<bool>* reported,
                       std::initializer_list<CUptiResult> expected) noexcept {
  if (result == CUPTI_SUCCESS) return result;
  for (CUptiResult e : expected) {
    if (result == e) return result;
  }
  try {
    const std::string line = std::string(call_text) + " failed: " + CuptiResultName(result);
    if (!reported->exchange(true)) Warn(line);
    Problems().Add(line);
  } catch (...) {
    // Out of memory while reporting: nothing more can be done.
  }
  return result;
}

}  // namespace cotenant::profiler::cupti
