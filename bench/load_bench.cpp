// Trace loading speed: reads each trace file given, reports MB/s of JSON
// (after decompression for .gz) and tasks per second.
//   build/load_bench FILE [FILE...]
#include <chrono>
#include <cstdio>
#include <string>

#include "sim/json_util.h"
#include "sim/trace.h"

int main(int argc, char** argv) {
  std::printf("%-40s %10s %10s %8s %10s\n", "file", "MB", "tasks", "s", "MB/s");
  for (int i = 1; i < argc; ++i) {
    const std::string path = argv[i];
    const size_t bytes = cotenant::ReadFileText(path).size();  // also warms the page cache
    const auto t0 = std::chrono::steady_clock::now();
    const cotenant::Trace t = cotenant::ReadTrace(path);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-40s %10.1f %10zu %8.3f %10.1f\n", path.c_str(), bytes / 1e6, t.tasks.size(), s,
                bytes / 1e6 / s);
  }
  return 0;
}
