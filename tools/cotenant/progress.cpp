#include "tools/cotenant/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cotenant::cli {
namespace {

constexpr double kDelaySeconds = 1.0;  // no bar for work shorter than this
constexpr int kWidth = 30;

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      tty_(isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(double fraction, const std::string& note) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (elapsed < kDelaySeconds) return;
  if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
  last_draw_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %.1fs %s", label_.c_str(), bar.c_str(),
               100.0 * fraction, elapsed, note.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace cotenant::cli
