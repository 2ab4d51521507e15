// A progress bar on stderr for work longer than a second or so: drawn only
// when stderr is a terminal, and only once the work has run for a while.
#pragma once

#include <chrono>
#include <string>

namespace cotenant::cli {

class ProgressBar {
 public:
  /// `label` is printed before the bar ("simulate native").
  explicit ProgressBar(std::string label);
  ~ProgressBar();

  /// Redraws at most ~10 times a second; `fraction` in [0, 1]; `note` is
  /// printed after the percentage ("best 12.3 ms").
  void Update(double fraction, const std::string& note = "");
  /// Clears the bar (if drawn).
  void Finish();

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool tty_ = false;
  bool drawn_ = false;
};

}  // namespace cotenant::cli
