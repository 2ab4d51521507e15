#include "sim/error.h"

#include <cstdio>
#include <cstdlib>

namespace cotenant {

void CheckFailed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "cotenant: internal error: %s:%d: check failed: %s %s\n", file, line, expr,
               msg.c_str());
  std::abort();
}

}  // namespace cotenant
