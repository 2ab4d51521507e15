// Every CUPTI call goes through COTENANT_CUPTI_CALL: a failure is printed to
// stderr once per call site, recorded as a problem and marks the capture
// incomplete. Nothing here aborts or throws: the profiled program must keep
// running whatever CUPTI does.
#pragma once

#include <cupti.h>

#include <atomic>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cotenant::profiler::cupti {

/// Problems met while profiling, shared by the whole process (CUPTI calls,
/// callbacks on CUPTI's threads, the exit handler). Thread-safe.
class ProblemLog {
 public:
  /// Records one line and marks the capture incomplete. A line recorded
  /// again is counted, not repeated.
  void Add(const std::string& line);
  /// The lines in the order first recorded; a line recorded n > 1 times ends
  /// in " (n times)".
  std::vector<std::string> Lines() const;
  /// False once any problem was recorded.
  bool complete() const;
  /// Forgets everything (tests).
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, int64_t> counts_;
};

/// The process's problem log.
ProblemLog& Problems();

/// Prints "cotenant-inject: MESSAGE" on stderr (one line, flushed). Never throws.
void Warn(const std::string& message) noexcept;

/// Checks the result of the CUPTI call written as `call_text`. Returns
/// `result` unchanged. Unless it is CUPTI_SUCCESS or one of `expected`, it
/// prints "cotenant-inject: CALL failed: CUPTI_ERROR_..." the first time
/// `*reported` is false (one flag per call site) and records the problem in
/// Problems(). Never throws.
CUptiResult CheckCupti(CUptiResult result, const char* call_text, std::atomic<bool>* reported,
                       std::initializer_list<CUptiResult> expected) noexcept;

/// "CUPTI_ERROR_NOT_INITIALIZED" (cuptiGetResultString), or "CUPTI error N".
std::string CuptiResultName(CUptiResult result) noexcept;

}  // namespace cotenant::profiler::cupti

/// Calls a CUPTI function and checks its result (see CheckCupti); evaluates
/// to the CUptiResult. Extra arguments list results that are not errors at
/// this call site (e.g. CUPTI_ERROR_MAX_LIMIT_REACHED at the end of a buffer):
///   if (COTENANT_CUPTI_CALL(cuptiActivityEnable(kind)) != CUPTI_SUCCESS) ...
#define COTENANT_CUPTI_CALL(call, ...)                                                      \
  ([&]() -> CUptiResult {                                                                   \
    static std::atomic<bool> cotenant_cupti_reported{false};                                \
    return ::cotenant::profiler::cupti::CheckCupti((call), #call, &cotenant_cupti_reported, \
                                                   {__VA_ARGS__});                          \
  }())
