// Helpers shared by the sim tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "sim/error.h"

namespace cotenant::testing {

/// The fixture folder (tests/data).
inline const std::string kData = COTENANT_TEST_DATA;

/// The InputError message `f` throws, or "<no error>".
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

/// A fresh empty folder under the system temp folder, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "cotenant_test") {
    path = std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace cotenant::testing
