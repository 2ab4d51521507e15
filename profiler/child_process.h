// Running the program that `cotenant profile` profiles: finding it on PATH,
// starting it with fork/execvpe and extra environment variables, forwarding
// the signals sent to cotenant, and describing how it ended. POSIX only.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cotenant::profiler {

/// The file execvp() would run for `program`: `program` itself when it
/// contains a '/', else the first executable regular file of that name in a
/// $PATH folder (an empty $PATH entry is the current folder). Throws
/// InputError when there is none: `PROGRAM: command not found (searched
/// $PATH)`, or `cannot run "PROGRAM": REASON` for a path that does not exist,
/// is a folder or is not executable.
std::string ResolveProgram(const std::string& program);

/// An environment change for the child: set NAME=VALUE, or unset NAME when
/// the value is nullopt. Applied in order on top of cotenant's environment.
using EnvChange = std::pair<std::string, std::optional<std::string>>;

/// How a child process ended.
struct ChildStatus {
  int exit_code = 0;  ///< exit status when it exited; 0 when killed by a signal
  int signal = 0;     ///< the signal that killed it; 0 when it exited

  bool Ok() const { return signal == 0 && exit_code == 0; }
  /// The status a shell would report: exit_code, or 128 + signal.
  int ShellStatus() const { return signal != 0 ? 128 + signal : exit_code; }
  /// "exited with status 3", "was killed by SIGINT", "exited normally".
  std::string Describe() const;
};

/// Name of a signal: "SIGINT", "SIGTERM", ..., "signal 42" for others.
std::string SignalName(int sig);

/// Runs `argv` (argv[0] found on $PATH like execvp) with `env` applied to a
/// copy of cotenant's environment, its stdin/stdout/stderr inherited, and
/// waits for it. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to cotenant alone
/// (kill -INT PID) are forwarded to the child; the ones a terminal sends to
/// the whole foreground process group (Ctrl-C) already reach the child and
/// are not sent twice. cotenant itself keeps running until the child ends.
/// Throws InputError when the program cannot be started (not found, not
/// executable, fork failed), naming argv[0] and the system's reason.
ChildStatus RunChild(const std::vector<std::string>& argv, const std::vector<EnvChange>& env);

}  // namespace cotenant::profiler
