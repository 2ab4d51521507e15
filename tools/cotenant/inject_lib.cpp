#include "tools/cotenant/inject_lib.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "sim/error.h"

namespace cotenant::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInjectName = "libcotenant_inject.so";

/// The folder this executable lives in ("" when /proc/self/exe is unreadable).
std::string ExecutableDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return exe.parent_path().string();
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

/// A library given by a flag or a variable: it must be a file.
std::string GivenLibrary(const std::string& path, const std::string& what) {
  if (!IsFile(path)) {
    const std::string reason =
        access(path.c_str(), F_OK) == 0 ? "not a regular file" : std::strerror(ENOENT);
    throw InputError(what + ": " + path + ": " + reason);
  }
  return Absolute(path);
}

}  // namespace

std::string FindInjectLibrary(const std::string& flag) {
  if (!flag.empty()) return GivenLibrary(flag, "--inject");
  if (const char* env = std::getenv("COTENANT_INJECT_LIB"); env != nullptr && *env != '\0') {
    return GivenLibrary(env, "COTENANT_INJECT_LIB");
  }
  std::vector<std::string> candidates;
  const std::string dir = ExecutableDir();
  if (!dir.empty()) {
    candidates.push_back(dir + "/" + kInjectName);
    candidates.push_back(dir + "/../lib/" + kInjectName);
  }
#ifdef COTENANT_INSTALL_LIBDIR
  candidates.push_back(std::string(COTENANT_INSTALL_LIBDIR) + "/" + kInjectName);
#endif
  std::string looked;
  for (const std::string& c : candidates) {
    if (IsFile(c)) return Absolute(c);
    looked += (looked.empty() ? "" : ", ") + c;
  }
  throw InputError(std::string(kInjectName) + " not found (looked for " + looked +
                   "); build the cotenant_inject target, or give its path with --inject or "
                   "COTENANT_INJECT_LIB");
}

std::string FindCuptiLibrary() {
  if (const char* env = std::getenv("COTENANT_CUPTI_LIB"); env != nullptr && *env != '\0') {
    return GivenLibrary(env, "COTENANT_CUPTI_LIB");
  }
#ifdef COTENANT_CUPTI_LIBRARY
  if (IsFile(COTENANT_CUPTI_LIBRARY)) return Absolute(COTENANT_CUPTI_LIBRARY);
  throw InputError(std::string("--nvtx: ") + COTENANT_CUPTI_LIBRARY +
                   " (the CUPTI library cotenant was built with) is gone; give the path of "
                   "libcupti.so with COTENANT_CUPTI_LIB");
#else
  throw InputError("--nvtx: the path of libcupti.so is unknown; give it with COTENANT_CUPTI_LIB");
#endif
}

}  // namespace cotenant::cli
