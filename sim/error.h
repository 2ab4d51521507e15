// Errors: bad user input throws InputError; broken invariants abort.
#pragma once

#include <stdexcept>
#include <string>

namespace cotenant {

/// Bad user input (a file, a field, a flag). The message has the form
/// `file: path.to.field: expected X, found Y` and fits on one line.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Prints `cotenant: internal error: FILE:LINE: EXPR MSG` and aborts.
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace cotenant

/// Aborts when an internal invariant does not hold. Never used for user input.
#define COTENANT_CHECK(cond)                                             \
  do {                                                                   \
    if (!(cond)) ::cotenant::CheckFailed(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define COTENANT_CHECK_MSG(cond, msg)                                       \
  do {                                                                      \
    if (!(cond)) ::cotenant::CheckFailed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
